//! Conversation names: public rooms (`general`, `rust-talk`, …) and direct-message
//! conversations between two people (`dm:<id>:<id>`, ids in order).

use super::events::{ChatError, ErrorCode};

/// Longest room name, in characters.
pub const MAX_ROOM_LEN: usize = 32;

/// Public ids of people (for direct messages) are this many lowercase hex digits.
pub const PUBLIC_ID_LEN: usize = 16;

const DM_PREFIX: &str = "dm:";

/// Turns what someone typed into a room name: trimmed, lower case, spaces and underscores as
/// single dashes; then only `a-z`, `0-9` and inner dashes, 1 to [`MAX_ROOM_LEN`] long.
pub fn normalize_room(raw: &str) -> Result<String, ChatError> {
    let mut name = String::with_capacity(raw.len());
    for c in raw.trim().chars() {
        let c = c.to_ascii_lowercase();
        if c.is_whitespace() || c == '_' || c == '-' {
            if !name.is_empty() && !name.ends_with('-') {
                name.push('-');
            }
        } else {
            name.push(c);
        }
    }
    let name = name.trim_end_matches('-').to_owned();
    let valid = !name.is_empty()
        && name.chars().count() <= MAX_ROOM_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if valid {
        Ok(name)
    } else {
        Err(ChatError::new(
            ErrorCode::BadPayload,
            format!(
                "Room names are 1 to {MAX_ROOM_LEN} letters, digits or dashes (\"rust-talk\")."
            ),
        ))
    }
}

/// Whether `id` looks like a person's public id.
pub fn is_public_id(id: &str) -> bool {
    id.len() == PUBLIC_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The conversation between two people, the same whichever of them asks.
pub fn dm_room(a: &str, b: &str) -> String {
    let (first, second) = if a <= b { (a, b) } else { (b, a) };
    format!("{DM_PREFIX}{first}:{second}")
}

/// The two people of a direct-message conversation, or `None` for a public room.
pub fn dm_parties(room: &str) -> Option<(&str, &str)> {
    let (a, b) = room.strip_prefix(DM_PREFIX)?.split_once(':')?;
    (is_public_id(a) && is_public_id(b)).then_some((a, b))
}

/// The other person of a direct-message conversation `me` is part of.
pub fn dm_partner<'a>(room: &'a str, me: &str) -> Option<&'a str> {
    match dm_parties(room)? {
        (a, b) if a == me => Some(b),
        (a, b) if b == me => Some(a),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names_are_normalised() {
        assert_eq!(normalize_room("  Rust Talk ").unwrap(), "rust-talk");
        assert_eq!(normalize_room("a__b--c").unwrap(), "a-b-c");
        assert_eq!(normalize_room("general").unwrap(), "general");
        assert_eq!(normalize_room("-x-").unwrap(), "x");
    }

    #[test]
    fn bad_room_names_are_refused() {
        for bad in [
            "",
            "   ",
            "---",
            "dm:a:b",
            "café",
            "a/b",
            &"x".repeat(MAX_ROOM_LEN + 1),
        ] {
            assert!(normalize_room(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_dm_room_is_the_same_from_both_sides_and_only_theirs() {
        let a = "0123456789abcdef";
        let b = "fedcba9876543210";
        let room = dm_room(b, a);
        assert_eq!(room, dm_room(a, b));
        assert_eq!(dm_parties(&room), Some((a, b)));
        assert_eq!(dm_partner(&room, a), Some(b));
        assert_eq!(dm_partner(&room, b), Some(a));
        assert_eq!(dm_partner(&room, "1111111111111111"), None);
        assert_eq!(dm_parties("general"), None);
        assert_eq!(dm_parties("dm:short:ids"), None);
        assert!(
            normalize_room(&room).is_err(),
            "a DM is never a public room name"
        );
    }
}
