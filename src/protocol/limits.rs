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
