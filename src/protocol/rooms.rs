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

/// A conversation as the wire names it: a public room, or the direct conversation of two
/// people. [`Conversation::parse`] is the one place that reads a conversation key; anything
/// else a client names (`user:…`, `reads:…`, a DM key with its ids out of order, a room name
/// that is not normalised) is no conversation at all.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Conversation {
    /// A public room, by its normalised name.
    Public(String),
    /// Two people's conversation; `low < high`, so it is one key whichever of them asks.
    Direct { low: String, high: String },
}

impl Conversation {
    /// The conversation between `me` and `other` (public ids); `None` when either is not a
    /// public id or they are the same person.
    pub fn direct(me: &str, other: &str) -> Option<Self> {
        if !is_public_id(me) || !is_public_id(other) || me == other {
            return None;
        }
        let (low, high) = if me < other { (me, other) } else { (other, me) };
        Some(Conversation::Direct {
            low: low.to_owned(),
            high: high.to_owned(),
        })
    }

    /// Reads a conversation key exactly as [`Conversation::key`] writes it.
    pub fn parse(key: &str) -> Option<Self> {
        if let Some(ids) = key.strip_prefix(DM_PREFIX) {
            let (low, high) = ids.split_once(':')?;
            return (is_public_id(low) && is_public_id(high) && low < high).then(|| {
                Conversation::Direct {
                    low: low.to_owned(),
                    high: high.to_owned(),
                }
            });
        }
        normalize_room(key)
            .ok()
            .filter(|room| room == key)
            .map(Conversation::Public)
    }

    /// The key on the wire: the room name, or `dm:<low id>:<high id>`.
    pub fn key(&self) -> String {
        match self {
            Conversation::Public(room) => room.clone(),
            Conversation::Direct { low, high } => format!("{DM_PREFIX}{low}:{high}"),
        }
    }

    pub fn is_direct(&self) -> bool {
        matches!(self, Conversation::Direct { .. })
    }

    /// The two people of a direct conversation.
    pub fn parties(&self) -> Option<(&str, &str)> {
        match self {
            Conversation::Public(_) => None,
            Conversation::Direct { low, high } => Some((low, high)),
        }
    }

    /// The other person of a direct conversation `me` is part of.
    pub fn partner(&self, me: &str) -> Option<&str> {
        match self.parties()? {
            (low, high) if low == me => Some(high),
            (low, high) if high == me => Some(low),
            _ => None,
        }
    }
}

impl std::fmt::Display for Conversation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.key())
    }
}

/// Whether a conversation key names a direct conversation (well-formed or not: a key that
/// looks direct is never a public room).
pub fn is_direct_key(key: &str) -> bool {
    key.starts_with(DM_PREFIX)
}

/// The key of the conversation between two people, the same whichever of them asks.
/// Callers have checked both ids (see [`Conversation::direct`]).
pub fn dm_room(a: &str, b: &str) -> String {
    let (first, second) = if a <= b { (a, b) } else { (b, a) };
    format!("{DM_PREFIX}{first}:{second}")
}

/// The two people of a direct-message conversation key, or `None` for anything else.
pub fn dm_parties(room: &str) -> Option<(&str, &str)> {
    let (a, b) = room.strip_prefix(DM_PREFIX)?.split_once(':')?;
    (is_public_id(a) && is_public_id(b) && a < b).then_some((a, b))
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
        let reversed = format!("dm:{b}:{a}");
        assert_eq!(dm_parties(&reversed), None, "ids out of order name nothing");
    }

    #[test]
    fn a_conversation_key_reads_back_as_itself_and_nothing_else_is_one() {
        let (a, b) = ("0123456789abcdef", "fedcba9876543210");
        let direct = Conversation::direct(b, a).unwrap();
        assert_eq!(direct.key(), dm_room(a, b));
        assert_eq!(Conversation::parse(&direct.key()), Some(direct.clone()));
        assert_eq!(direct.partner(a), Some(b));
        assert_eq!(direct.partner("1111111111111111"), None);
        assert!(direct.is_direct() && is_direct_key(&direct.key()));
        let public = Conversation::parse("rust-talk").unwrap();
        assert_eq!(public, Conversation::Public("rust-talk".into()));
        assert_eq!((public.parties(), public.key()), (None, "rust-talk".into()));
        for internal in [
            format!("user:{a}"),
            "reads:update-peers".to_owned(),
            format!("dm:{b}:{a}"),
            format!("dm:{a}:{a}"),
            "Rust Talk".to_owned(),
            String::new(),
        ] {
            assert_eq!(Conversation::parse(&internal), None, "{internal:?}");
        }
        assert_eq!(
            Conversation::direct(a, a),
            None,
            "nobody talks to themselves here"
        );
        assert_eq!(Conversation::direct(a, "not-an-id"), None);
    }
}
