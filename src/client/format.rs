//! The safe Markdown subset messages are shown with: **bold**, *italic* (or _italic_),
//! ~~strikethrough~~, `inline code`, fenced code blocks, `>` quotes, and `http(s)` links (bare
//! URLs and `[text](https://…)`). The wire carries plain text; this turns it into a small tree
//! the UI renders as elements, never as HTML: whatever is not in the subset (HTML tags,
//! `javascript:` or `data:` links, images) stays text. Pure and allocation-light, because it
//! runs for every message shown and ships in the first load.

/// A block of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Lines of text (`Inline::Break` between them).
    Text(Vec<Inline>),
    /// Lines that started with `>`.
    Quote(Vec<Inline>),
    /// A fenced code block's lines, verbatim.
    Code(String),
}

/// A piece of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    Text(String),
    Bold(Vec<Inline>),
    Italic(Vec<Inline>),
    Strike(Vec<Inline>),
    Code(String),
    /// An `http(s)` link: where it goes, and what it shows.
    Link {
        href: String,
        text: String,
    },
    Break,
}

/// The blocks of a message's text.
pub fn parse(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().peekable();
    let mut plain: Vec<&str> = Vec::new();
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with("```") {
            flush(&mut blocks, &mut plain);
            let mut code = Vec::new();
            for inner in lines.by_ref() {
                if inner.trim_start().starts_with("```") {
                    break;
                }
                code.push(inner);
            }
            blocks.push(Block::Code(code.join("\n")));
        } else if let Some(quoted) = line.strip_prefix('>') {
            flush(&mut blocks, &mut plain);
            let mut quote = vec![quoted.strip_prefix(' ').unwrap_or(quoted)];
            while let Some(next) = lines.peek().and_then(|l| l.strip_prefix('>')) {
                quote.push(next.strip_prefix(' ').unwrap_or(next));
                lines.next();
            }
            blocks.push(Block::Quote(lines_inline(&quote)));
        } else {
            plain.push(line);
        }
    }
    flush(&mut blocks, &mut plain);
    blocks
}

fn flush(blocks: &mut Vec<Block>, plain: &mut Vec<&str>) {
    if !plain.is_empty() {
        blocks.push(Block::Text(lines_inline(plain)));
        plain.clear();
    }
}

fn lines_inline(lines: &[&str]) -> Vec<Inline> {
    let mut out = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        if n > 0 {
            out.push(Inline::Break);
        }
        inline(line, &mut out);
    }
    out
}

/// Makes an emphasis element of its children.
type Wrap = fn(Vec<Inline>) -> Inline;

/// Emphasis delimiters, longest first; each wraps what is between an opening and the next
/// closing one.
const MARKS: &[(&str, Wrap)] = &[
    ("**", Inline::Bold),
    ("__", Inline::Bold),
    ("~~", Inline::Strike),
    ("*", Inline::Italic),
    ("_", Inline::Italic),
];

/// Parses one line's inline markup onto `out`.
fn inline(text: &str, out: &mut Vec<Inline>) {
    let mut rest = text;
    let mut plain = String::new();
    while let Some(c) = rest.chars().next() {
        if let Some((piece, after)) = special(rest, plain.chars().last()) {
            if !plain.is_empty() {
                out.push(Inline::Text(std::mem::take(&mut plain)));
            }
            out.push(piece);
            rest = after;
        } else {
            plain.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    if !plain.is_empty() {
        out.push(Inline::Text(plain));
    }
}

/// The markup that starts `rest`, if any, and what follows it. `before` is the character
/// just before (an `_` inside a word is no emphasis, `snake_case` stays).
fn special(rest: &str, before: Option<char>) -> Option<(Inline, &str)> {
    if let Some(inner) = rest.strip_prefix('`') {
        let end = inner.find('`')?;
        return (end > 0).then(|| (Inline::Code(inner[..end].to_owned()), &inner[end + 1..]));
    }
    if rest.starts_with('[')
        && let Some(found) = labelled_link(rest)
    {
        return Some(found);
    }
    if rest.starts_with("http://") || rest.starts_with("https://") {
        return bare_link(rest);
    }
    for (mark, wrap) in MARKS {
        let Some(inner) = rest.strip_prefix(mark) else {
            continue;
        };
        let word_inside = before.is_some_and(char::is_alphanumeric);
        if mark.starts_with('_') && word_inside {
            return None;
        }
        if inner.starts_with(char::is_whitespace) {
            continue;
        }
        let end = closing(inner, mark)?;
        let mut children = Vec::new();
        inline(&inner[..end], &mut children);
        return Some((wrap(children), &inner[end + mark.len()..]));
    }
    None
}

/// Where `mark` closes in `inner`: not after a space, not empty, and for `_` not inside a word.
fn closing(inner: &str, mark: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = inner[from..].find(mark).map(|i| i + from) {
        let before = inner[..at].chars().last();
        let after = inner[at + mark.len()..].chars().next();
        let doubled = mark.len() == 1 && inner[at + 1..].starts_with(mark);
        let inside_word = mark.starts_with('_') && after.is_some_and(char::is_alphanumeric);
        if at > 0 && !before.is_some_and(char::is_whitespace) && !doubled && !inside_word {
            return Some(at);
        }
        from = at + mark.len() + usize::from(doubled);
    }
    None
}

/// `[text](https://…)`: only `http(s)` targets; anything else is not a link.
fn labelled_link(rest: &str) -> Option<(Inline, &str)> {
    let close = rest.find("](")?;
    let text = &rest[1..close];
    let target = &rest[close + 2..];
    let end = target.find(')')?;
    let href = &target[..end];
    (is_web(href) && !text.is_empty() && !href.contains(char::is_whitespace)).then(|| {
        let link = Inline::Link {
            href: href.to_owned(),
            text: text.to_owned(),
        };
        (link, &target[end + 1..])
    })
}

/// A bare URL: up to a space, without trailing punctuation (a `)` only when unbalanced).
fn bare_link(rest: &str) -> Option<(Inline, &str)> {
    let mut end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    loop {
        let url = &rest[..end];
        let last = url.chars().last()?;
        let unbalanced = last == ')' && url.matches('(').count() < url.matches(')').count();
        if matches!(
            last,
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '"' | '>' | '<'
        ) || unbalanced
        {
            end -= last.len_utf8();
        } else {
            break;
        }
    }
    let url = &rest[..end];
    is_web(url).then(|| {
        let link = Inline::Link {
            href: url.to_owned(),
            text: url.to_owned(),
        };
        (link, &rest[end..])
    })
}

/// Whether a link target is a web address with something after the scheme.
fn is_web(href: &str) -> bool {
    ["http://", "https://"].iter().any(|scheme| {
        href.len() > scheme.len() && href[..scheme.len()].eq_ignore_ascii_case(scheme)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Inline {
        Inline::Text(s.into())
    }

    fn line(s: &str) -> Vec<Inline> {
        match parse(s).as_slice() {
            [Block::Text(inline)] => inline.clone(),
            other => panic!("one text block expected: {other:?}"),
        }
    }

    #[test]
    fn emphasis_code_and_strikethrough_nest() {
        assert_eq!(
            line("a **bold *and* more** b"),
            [
                text("a "),
                Inline::Bold(vec![
                    text("bold "),
                    Inline::Italic(vec![text("and")]),
                    text(" more")
                ]),
                text(" b")
            ]
        );
        assert_eq!(
            line("~~gone~~ `x**y`"),
            [
                Inline::Strike(vec![text("gone")]),
                text(" "),
                Inline::Code("x**y".into())
            ]
        );
        assert_eq!(line("_it_"), [Inline::Italic(vec![text("it")])]);
    }

    #[test]
    fn what_is_not_markup_stays_as_written() {
        for plain in [
            "snake_case_name",
            "2 * 3 * 4",
            "a ** b",
            "**",
            "`",
            "*open",
            "x_",
        ] {
            assert_eq!(line(plain), [text(plain)], "{plain}");
        }
    }

    #[test]
    fn only_web_links_become_links() {
        assert_eq!(
            line("see https://example.com/a_(b), ok"),
            [
                text("see "),
                Inline::Link {
                    href: "https://example.com/a_(b)".into(),
                    text: "https://example.com/a_(b)".into()
                },
                text(", ok")
            ]
        );
        assert_eq!(
            line("[docs](https://docs.rs)"),
            [Inline::Link {
                href: "https://docs.rs".into(),
                text: "docs".into()
            }]
        );
        for inert in [
            "[x](javascript:alert(1))",
            "[x](data:text/html,<b>)",
            "<img src=x onerror=alert(1)>",
            "javascript:alert(1)",
            "http://",
        ] {
            let all_text = line(inert).iter().all(|i| matches!(i, Inline::Text(_)));
            assert!(all_text, "{inert}: {:?}", line(inert));
        }
    }

    #[test]
    fn quotes_and_code_blocks_are_blocks() {
        let blocks = parse("> said\n> twice\nreply\n```\nlet x = **1**;\n```\nafter");
        assert_eq!(
            blocks,
            [
                Block::Quote(vec![text("said"), Inline::Break, text("twice")]),
                Block::Text(vec![text("reply")]),
                Block::Code("let x = **1**;".into()),
                Block::Text(vec![text("after")]),
            ]
        );
        assert_eq!(parse("```\nunclosed"), [Block::Code("unclosed".into())]);
    }
}
