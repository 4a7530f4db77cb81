//! Limits on what clients may send, checked by the browser before sending and by the server
//! before accepting. One definition, so the two can never disagree.

use super::events::{ChatError, ErrorCode};

/// Longest message, in characters (Unicode scalar values) after cleaning and trimming.
pub const MAX_MESSAGE_CHARS: usize = 1000;

/// Largest Engine.IO payload the server accepts, in bytes: room for a maximal message of
/// four-byte characters with JSON escaping and the frame around it, and not much more.
pub const MAX_PAYLOAD_BYTES: u64 = 16 * 1024;

/// The room everyone is in unless they chose another.
pub const DEFAULT_ROOM: &str = "general";

/// A client says "typing" at most once per this many milliseconds per conversation, and the
/// others show it for [`TYPING_SHOWN_MS`] after the last signal.
pub const TYPING_EVERY_MS: u64 = 2000;

/// How long someone counts as typing after their last signal: a little more than the gap
/// between two signals, so a steady typist never flickers.
pub const TYPING_SHOWN_MS: u64 = TYPING_EVERY_MS + 1000;

/// The server relays at most one typing signal per connection per this many milliseconds:
/// half the client's interval, so an honest client's signals are never dropped for timer
/// jitter while a flood costs one relay per gap.
pub const TYPING_RELAY_GAP_MS: u64 = TYPING_EVERY_MS / 2;

/// Messages in one page of older history: at most, and when the client names no limit.
pub const MAX_PAGE: usize = 100;
pub const DEFAULT_PAGE: usize = 50;

/// Kinds of emoji one message may carry (each may be put there by any number of people).
pub const MAX_REACTIONS: usize = 20;

/// Longest reaction, in bytes: the longest emoji sequences (families, flags of regions) fit.
const MAX_EMOJI_BYTES: usize = 48;

/// Checks that a reaction is exactly one emoji: a pictograph (optionally with a variation
/// selector, a skin tone, a keycap mark or tag characters), several of those joined by zero
/// width joiners, or a flag (two regional indicators). Text, spaces, two emoji side by side
/// and markup are refused.
pub fn check_emoji(emoji: &str) -> Result<(), ChatError> {
    if is_one_emoji(emoji) {
        Ok(())
    } else {
        Err(ChatError::new(
            ErrorCode::NotEmoji,
            "A reaction must be exactly one emoji.",
        ))
    }
}

fn is_one_emoji(text: &str) -> bool {
    if text.is_empty() || text.len() > MAX_EMOJI_BYTES {
        return false;
    }
    let chars: Vec<char> = text.chars().collect();
    let regional = |c: char| ('\u{1F1E6}'..='\u{1F1FF}').contains(&c);
    if chars.len() == 2 && chars.iter().all(|c| regional(*c)) {
        return true;
    }
    // Keycaps: a digit, `#` or `*`, an optional variation selector, then U+20E3.
    if let [base, rest @ ..] = chars.as_slice()
        && (base.is_ascii_digit() || *base == '#' || *base == '*')
    {
        return matches!(rest, ['\u{20E3}'] | ['\u{FE0F}', '\u{20E3}']);
    }
    chars.split(|c| *c == '\u{200D}').all(|part| match part {
        [base, marks @ ..] => {
            is_pictograph(*base)
                && marks.iter().all(|m| {
                    matches!(m, '\u{FE0F}' | '\u{20E3}')
                        || ('\u{1F3FB}'..='\u{1F3FF}').contains(m)
                        || ('\u{E0020}'..='\u{E007F}').contains(m)
                })
        }
        [] => false,
    })
}

/// Characters that are emoji by themselves (the Extended_Pictographic blocks, roughly; a
/// lone regional indicator is half a flag, not an emoji).
fn is_pictograph(c: char) -> bool {
    !('\u{1F1E6}'..='\u{1F1FF}').contains(&c)
        && matches!(c as u32,
        0x00A9 | 0x00AE | 0x203C | 0x2049 | 0x2122 | 0x2139 | 0x2194..=0x21AA
        | 0x231A..=0x23FF | 0x24C2 | 0x25AA..=0x25FE | 0x2600..=0x27BF | 0x2934 | 0x2935
        | 0x2B05..=0x2B55 | 0x3030 | 0x303D | 0x3297 | 0x3299 | 0x1F000..=0x1FAFF)
}

/// Longest client-chosen message id (`clientId`).
pub const MAX_CLIENT_ID_LEN: usize = 64;

/// Shortest and longest identity token a browser may present.
pub const TOKEN_LEN: std::ops::RangeInclusive<usize> = 16..=128;

/// Client ids and tokens are short ASCII words: letters, digits, `-` and `_`.
pub fn is_id_text(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks a `clientId`.
pub fn check_client_id(id: &str) -> Result<(), ChatError> {
    if !id.is_empty() && id.len() <= MAX_CLIENT_ID_LEN && is_id_text(id) {
        Ok(())
    } else {
        Err(ChatError::new(
            ErrorCode::BadPayload,
            format!("clientId must be 1 to {MAX_CLIENT_ID_LEN} letters, digits, - or _."),
        ))
    }
}

/// Checks an identity token.
pub fn check_token(token: &str) -> Result<(), ChatError> {
    if TOKEN_LEN.contains(&token.len()) && is_id_text(token) {
        Ok(())
    } else {
        Err(ChatError::new(
            ErrorCode::BadPayload,
            format!(
                "token must be {} to {} letters, digits, - or _.",
                TOKEN_LEN.start(),
                TOKEN_LEN.end()
            ),
        ))
    }
}

/// Cleans a message the way the server will store it: drops control characters (except line
/// breaks and tabs) and bidirectional overrides, then trims. Refuses empty and over-long text.
pub fn clean_message(text: &str) -> Result<String, ChatError> {
    let cleaned: String = text.chars().filter(|c| !is_forbidden(*c)).collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() {
        return Err(ChatError::new(ErrorCode::Empty, "Message is empty."));
    }
    let chars = trimmed.chars().count();
    if chars > MAX_MESSAGE_CHARS {
        return Err(ChatError::new(
            ErrorCode::TooLong,
            format!("Message is too long ({chars} characters; the limit is {MAX_MESSAGE_CHARS})."),
        ));
    }
    Ok(trimmed.to_owned())
}

fn is_forbidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_keeps_ordinary_text() {
        assert_eq!(clean_message("  hello there \n").unwrap(), "hello there");
        assert_eq!(
            clean_message("line one\nline two").unwrap(),
            "line one\nline two"
        );
        assert_eq!(clean_message("<b>bold</b> 🦊").unwrap(), "<b>bold</b> 🦊");
    }

    #[test]
    fn empty_and_blank_are_refused() {
        for text in ["", "   ", "\n\t", "\u{0007}\u{202E}"] {
            assert_eq!(
                clean_message(text).unwrap_err().code,
                ErrorCode::Empty,
                "{text:?}"
            );
        }
    }

    #[test]
    fn length_limit_counts_characters_not_bytes() {
        let at_limit = "é".repeat(MAX_MESSAGE_CHARS);
        assert_eq!(clean_message(&at_limit).unwrap(), at_limit);
        let over = "a".repeat(MAX_MESSAGE_CHARS + 1);
        assert_eq!(clean_message(&over).unwrap_err().code, ErrorCode::TooLong);
    }

    #[test]
    fn control_and_bidi_characters_are_stripped() {
        assert_eq!(
            clean_message("a\u{0000}b\u{202E}c\u{2066}d\u{001B}[31m").unwrap(),
            "abcd[31m"
        );
    }

    #[test]
    fn client_ids_and_tokens_are_short_ascii_words() {
        assert!(check_client_id("c-1_A").is_ok());
        assert!(check_client_id("").is_err());
        assert!(check_client_id(&"a".repeat(MAX_CLIENT_ID_LEN + 1)).is_err());
        assert!(check_client_id("a b").is_err());
        assert!(check_client_id("é").is_err());
        assert!(check_token(&"t".repeat(32)).is_ok());
        assert!(check_token("short").is_err());
        assert!(check_token(&format!("{}!", "t".repeat(20))).is_err());
    }

    #[test]
    fn the_largest_message_fits_the_payload_limit() {
        let worst = "\u{1F98A}".repeat(MAX_MESSAGE_CHARS);
        let frame = format!(
            "4299[\"message\",{}]",
            serde_json::to_string(&worst).unwrap()
        );
        assert!(frame.len() as u64 <= MAX_PAYLOAD_BYTES);
    }
}
