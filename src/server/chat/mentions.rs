//! `@name` in a message: which people it means. A mention is `@` at the start of the text or
//! after a space or punctuation, followed by the display name of someone in the conversation
//! (compared as names are: lookalikes and case folded) and then the end of the text, a space or
//! punctuation; the longest name wins (`@Ann Smith` over `@Ann`). The server resolves them once,
//! when a message is posted or edited, so every client highlights and notifies the same people.

use crate::protocol::{Conversation, Peer};
use crate::server::naming::name_key;

use super::Chat;

/// Mentions looked for in one message, and people it may name.
const MAX_MENTIONS: usize = 20;

impl Chat {
    /// The public ids `text`, written by `me` in `room`, mentions: people in that public room
    /// (on any node). Direct conversations notify their other person anyway.
    pub(super) async fn mentions_in(&self, room: &str, text: &str, me: &str) -> Vec<String> {
        if !text.contains('@')
            || !matches!(Conversation::parse(room), Some(Conversation::Public(_)))
        {
            return Vec::new();
        }
        match self.0.roster.members(room).await {
            Ok(people) => resolve(text, &people, me),
            Err(e) => {
                // The message goes out without them rather than not at all.
                tracing::warn!(%room, error = %e, "members not read; mentions skipped");
                Vec::new()
            }
        }
    }
}

/// The ids of the people `text` mentions, in order of first mention, without `me`.
pub(super) fn resolve(text: &str, people: &[Peer], me: &str) -> Vec<String> {
    let keyed: Vec<(String, usize, &Peer)> = people
        .iter()
        .filter(|p| p.id != me)
        .map(|p| (name_key(&p.name), p.name.chars().count(), p))
        .collect();
    let mut found: Vec<String> = Vec::new();
    let mut previous: Option<char> = None;
    for (at, c) in text.char_indices() {
        let starts = c == '@' && previous.is_none_or(|p| p.is_whitespace() || is_boundary(p));
        previous = Some(c);
        if !starts {
            continue;
        }
        let rest = &text[at + 1..];
        let best = keyed
            .iter()
            .filter(|(key, len, _)| names_at(rest, *len).is_some_and(|n| name_key(n) == *key))
            .max_by_key(|(_, len, _)| *len);
        if let Some((_, _, peer)) = best
            && !found.contains(&peer.id)
        {
            found.push(peer.id.clone());
            if found.len() == MAX_MENTIONS {
                break;
            }
        }
    }
    found
}

/// The first `len` characters of `rest`, when a name may end there.
fn names_at(rest: &str, len: usize) -> Option<&str> {
    let mut chars = rest.char_indices();
    let end = match chars.nth(len.checked_sub(1)?) {
        Some((at, c)) => at + c.len_utf8(),
        None => return None,
    };
    let after = rest[end..].chars().next();
    after
        .is_none_or(|c| c.is_whitespace() || is_boundary(c))
        .then(|| &rest[..end])
}

/// Punctuation that may end a name or come before `@` (not the characters names use).
fn is_boundary(c: char) -> bool {
    c.is_ascii_punctuation() && !matches!(c, '-' | '_' | '.' | '@') || matches!(c, '.' | '…')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(id: &str, name: &str) -> Peer {
        Peer {
            id: id.into(),
            name: name.into(),
        }
    }

    #[test]
    fn mentions_name_people_in_the_room_by_their_names() {
        let people = [
            peer("a", "Ann"),
            peer("b", "Ann Smith"),
            peer("c", "red-fox"),
            peer("me", "Me"),
        ];
        assert_eq!(resolve("hi @Ann, and @red-fox!", &people, "me"), ["a", "c"]);
        assert_eq!(
            resolve("@ann smith: look", &people, "me"),
            ["b"],
            "longest, any case"
        );
        assert_eq!(resolve("@Аnn.", &people, "me"), ["a"], "lookalikes fold");
        assert!(resolve("mail ann@Ann or @Annie", &people, "me").is_empty());
        assert!(resolve("@Me talking to myself", &people, "me").is_empty());
        assert_eq!(resolve("@Ann @Ann @ann", &people, "me"), ["a"], "once each");
        assert!(resolve("no mentions here", &people, "me").is_empty());
        assert!(resolve("@", &people, "me").is_empty());
    }
}
