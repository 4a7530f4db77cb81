//! Reading what someone typed into a search box, and turning it into an FTS5 `MATCH`
//! expression that cannot say anything else.
//!
//! The language: bare words (every one must match), `word*` (a prefix, at least
//! [`MIN_PREFIX_CHARS`] long; a shorter one is the word itself) and `"a phrase"` (the words
//! in that order; an unclosed quote runs to the end). Everything else — FTS5's `OR`, `NOT`,
//! `NEAR(…)`, `col:x`, `-x`, `^x`, parentheses, a `*` alone — is plain text: every term is
//! written as a quoted FTS5 string, so the tokenizer splits it like message text and no
//! operator survives. Terms without a letter or digit (punctuation, emoji) match nothing
//! and are left out.

use crate::protocol::{ChatError, ErrorCode, MAX_QUERY_TERMS, check_query};

/// Shortest prefix searched as a prefix (the index keeps prefixes of 2 and 3 characters).
pub const MIN_PREFIX_CHARS: usize = 2;

/// One thing every result must contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    Word(String),
    Prefix(String),
    Phrase(String),
}

/// A checked query: 1 to [`MAX_QUERY_TERMS`] terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    terms: Vec<Term>,
}

impl Query {
    /// Reads a query as typed; refused when it is empty, too long, has no word to look for
    /// or too many.
    pub fn parse(raw: &str) -> Result<Query, ChatError> {
        let text = check_query(raw)?;
        let terms: Vec<Term> = split(text).into_iter().filter_map(term).collect();
        if terms.is_empty() {
            return Err(ChatError::new(
                ErrorCode::BadPayload,
                "Search for words or numbers (punctuation and emoji are not searched).",
            ));
        }
        if terms.len() > MAX_QUERY_TERMS {
            return Err(ChatError::new(
                ErrorCode::BadPayload,
                format!(
                    "A search takes at most {MAX_QUERY_TERMS} words or phrases ({} given).",
                    terms.len()
                ),
            ));
        }
        Ok(Query { terms })
    }

    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// The FTS5 expression: every term a quoted string (a prefix followed by `*`), joined by
    /// spaces, which FTS5 reads as AND.
    pub fn to_match(&self) -> String {
        let quoted: Vec<String> = self
            .terms
            .iter()
            .map(|term| match term {
                Term::Word(w) | Term::Phrase(w) => quote(w),
                Term::Prefix(p) => format!("{}*", quote(p)),
            })
            .collect();
        quoted.join(" ")
    }
}

/// A piece of the query before it is judged: a bare token or a quoted phrase.
enum Piece<'a> {
    Bare(&'a str),
    Quoted(&'a str),
}

/// Splits on whitespace outside quotes; `"…"` is one piece (to the end when unclosed).
fn split(text: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return pieces;
        }
        if let Some(inner) = rest.strip_prefix('"') {
            let end = inner.find('"').unwrap_or(inner.len());
            pieces.push(Piece::Quoted(&inner[..end]));
            rest = inner.get(end + 1..).unwrap_or("");
            continue;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '"')
            .unwrap_or(rest.len());
        pieces.push(Piece::Bare(&rest[..end]));
        rest = &rest[end..];
    }
}

fn term(piece: Piece<'_>) -> Option<Term> {
    match piece {
        Piece::Quoted(phrase) => {
            let words: Vec<&str> = phrase.split_whitespace().collect();
            searchable(phrase).then(|| Term::Phrase(words.join(" ")))
        }
        Piece::Bare(token) => {
            let stem = token.trim_end_matches('*');
            if !searchable(stem) {
                return None;
            }
            let prefix = stem.len() < token.len()
                && stem.chars().filter(|c| c.is_alphanumeric()).count() >= MIN_PREFIX_CHARS;
            Some(if prefix {
                Term::Prefix(stem.to_owned())
            } else {
                Term::Word(stem.to_owned())
            })
        }
    }
}

/// Whether the tokenizer will find a word in it (a letter or a digit).
fn searchable(text: &str) -> bool {
    text.chars().any(char::is_alphanumeric)
}

/// An FTS5 string: in double quotes, inner quotes doubled.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matching(raw: &str) -> String {
        Query::parse(raw).expect("a query").to_match()
    }

    #[test]
    fn words_prefixes_and_phrases() {
        assert_eq!(matching("hello world"), r#""hello" "world""#);
        assert_eq!(matching("  deploy*  "), r#""deploy"*"#);
        assert_eq!(
            matching(r#"rust "borrow   checker" is*"#),
            r#""rust" "borrow checker" "is"*"#
        );
        assert_eq!(
            Query::parse("a* x").unwrap().terms(),
            &[Term::Word("a".into()), Term::Word("x".into())],
            "a one-letter prefix is the word"
        );
    }

    #[test]
    fn fts5_syntax_is_plain_text() {
        assert_eq!(matching("cats OR dogs"), r#""cats" "OR" "dogs""#);
        assert_eq!(matching("NOT x"), r#""NOT" "x""#);
        assert_eq!(matching("NEAR(a b, 3)"), r#""NEAR(a" "b," "3)""#);
        assert_eq!(matching("text:secret"), r#""text:secret""#);
        assert_eq!(matching("-spam ^start (x)"), r#""-spam" "^start" "(x)""#);
        assert_eq!(matching("a*b"), r#""a*b""#, "an inner star is text");
        assert_eq!(matching("x AND"), r#""x" "AND""#);
    }

    #[test]
    fn quotes_never_escape_their_string() {
        assert_eq!(matching(r#""unclosed phrase"#), r#""unclosed phrase""#);
        assert_eq!(matching(r#"say"hi"there"#), r#""say" "hi" "there""#);
        assert_eq!(matching(r#""" x"#), r#""x""#, "an empty phrase is left out");
        assert_eq!(matching(r#"""""a"""#), r#""a""#);
        for raw in [r#"a"b"c"d"#, r#""x" OR "y""#, r#"'"; DROP TABLE x; --"#] {
            let expression = matching(raw);
            let quotes = expression.matches('"').count();
            assert_eq!(quotes % 2, 0, "{raw} → {expression}");
            assert!(!expression.contains("\"\""), "{raw} → {expression}");
        }
    }

    #[test]
    fn nothing_to_search_for_is_refused() {
        for raw in ["*", "***", "😀", "🎉 👍", "\"\"", "-- ()", "   ", ""] {
            let refused = Query::parse(raw).expect_err(raw);
            assert!(
                matches!(refused.code, ErrorCode::BadPayload | ErrorCode::Empty),
                "{raw}: {refused:?}"
            );
        }
        assert_eq!(matching("café 😀 naïve"), r#""café" "naïve""#);
        assert_eq!(matching("日本語"), r#""日本語""#);
    }

    #[test]
    fn length_and_term_limits() {
        let eight = "a b c d e f g h";
        assert_eq!(Query::parse(eight).unwrap().terms().len(), MAX_QUERY_TERMS);
        let nine = Query::parse("a b c d e f g h i").unwrap_err();
        assert_eq!(nine.code, ErrorCode::BadPayload);
        let long = "x".repeat(crate::protocol::MAX_QUERY_CHARS + 1);
        assert_eq!(Query::parse(&long).unwrap_err().code, ErrorCode::TooLong);
    }
}
