//! More of [`ChatClient`]: people by id (their latest names, the dot colour), choosing my
//! name, mentions of me, and the composer's `@` suggestions (which part of the text is the
//! name being typed, who matches it, and the text once one is picked).

use leptos::prelude::*;

use super::handle::{ChatClient, Command};
use super::state::{Alert, RenameNote};
use crate::protocol::{MAX_NAME_LEN, MIN_NAME_LEN, NewMessage, Rename};

/// Names the `@` suggestions list at most.
pub const MAX_SUGGESTIONS: usize = 8;

impl ChatClient {
    /// The name to show for the person with public id `id`: their latest, else `fallback`
    /// (the name a message was sent under). Tracked.
    pub fn name_for(&self, id: &str, fallback: &str) -> String {
        self.state
            .name_of(id)
            .unwrap_or_else(|| fallback.to_owned())
    }

    /// The latest name of the person with public id `id`, if known. Tracked.
    pub fn latest_name(&self, id: &str) -> Option<String> {
        self.state.name_of(id)
    }

    /// Asks for `name` as my display name; a name of the wrong length is refused here.
    pub fn rename(&self, name: &str) {
        let name = name.trim();
        let len = name.chars().count();
        if !(MIN_NAME_LEN..=MAX_NAME_LEN).contains(&len) {
            self.state.rename.set(Some(RenameNote::Refused(format!(
                "A name has {MIN_NAME_LEN} to {MAX_NAME_LEN} characters."
            ))));
            return;
        }
        self.state.rename_sent();
        self.command(Command::Rename(Rename {
            name: name.to_owned(),
        }));
    }

    pub fn rename_note(&self) -> ReadSignal<Option<RenameNote>> {
        self.state.rename.read_only()
    }

    /// Whether `message` mentions me.
    pub fn mentions_me(&self, message: &NewMessage) -> bool {
        self.state.my_id.track();
        self.state.mentions_me(message)
    }

    /// The unread messages of `room` that mention me.
    pub fn mentions_in(&self, room: &str) -> u32 {
        self.state
            .mentioned
            .with(|m| m.get(room).copied().unwrap_or(0))
    }

    /// Messages that mention me and came while the tab was hidden.
    pub fn unseen_mentions(&self) -> ReadSignal<u32> {
        self.state.unseen_mentions.read_only()
    }

    /// Someone clicked a notification: the conversation and message it leads to.
    pub fn opened_alert(&self) -> ReadSignal<Option<Alert>> {
        self.state.opened.read_only()
    }

    /// The clicked notification's conversation is on screen.
    pub fn alert_opened(&self) {
        self.state.opened.set(None);
    }

    /// The names `@` may complete in `room`: its members, or in a direct conversation the
    /// other person; never me.
    pub fn mentionable(&self, room: &str) -> Vec<String> {
        let me = self.state.my_id.get();
        if let Some(partner) = self.partner(room) {
            return vec![self.name_for(&partner, &self.title(room))];
        }
        self.peers_in(room)
            .into_iter()
            .filter(|p| me.as_deref() != Some(p.id.as_str()))
            .map(|p| p.name)
            .collect()
    }
}

/// The `@name` being typed just before `caret` (a character index): where its `@` is, and
/// what follows it. None when the caret is not in one.
pub fn mention_at(text: &str, caret: usize) -> Option<(usize, String)> {
    let before: Vec<char> = text.chars().take(caret).collect();
    let at = before.iter().rposition(|c| *c == '@')?;
    if at > 0 && before[at - 1].is_alphanumeric() {
        return None;
    }
    let query: String = before[at + 1..].iter().collect();
    // Names may hold one space ("Ann Lee"), never a line or a second word after a space.
    if query.contains('\n') || query.chars().count() > MAX_NAME_LEN || query.contains("  ") {
        return None;
    }
    Some((at, query))
}

/// The names that start with (or else contain) `query`, ignoring case.
pub fn suggestions(names: &[String], query: &str) -> Vec<String> {
    let query = query.to_lowercase();
    let mut starting: Vec<String> = Vec::new();
    let mut containing: Vec<String> = Vec::new();
    for name in names {
        let lower = name.to_lowercase();
        if lower.starts_with(&query) {
            starting.push(name.clone());
        } else if lower.contains(&query) {
            containing.push(name.clone());
        }
    }
    starting.sort();
    starting.dedup();
    containing.sort();
    starting.extend(containing);
    starting.truncate(MAX_SUGGESTIONS);
    starting
}

/// `text` with the `@…` at character `at` up to `caret` replaced by `@name `, and where the
/// caret goes then.
pub fn complete(text: &str, at: usize, caret: usize, name: &str) -> (String, usize) {
    let head: String = text.chars().take(at).collect();
    let tail: String = text.chars().skip(caret).collect();
    let inserted = format!("@{name} ");
    let caret = at + inserted.chars().count();
    ([head, inserted, tail].concat(), caret)
}

/// Splits `text` into plain parts (false) and `@name` parts (true), where a name is one of
/// `names` (longest first, ignoring case) or else a word of letters, digits, `-`, `_`, `.`.
pub fn split_mentions<'a>(text: &'a str, names: &[String]) -> Vec<(bool, &'a str)> {
    let mut out = Vec::new();
    let mut plain_from = 0;
    let mut i = 0;
    while let Some(offset) = text[i..].find('@') {
        let at = i + offset;
        let boundary = text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let rest = &text[at + 1..];
        let len = if boundary { name_len(rest, names) } else { 0 };
        if len == 0 {
            i = at + 1;
            continue;
        }
        if plain_from < at {
            out.push((false, &text[plain_from..at]));
        }
        let end = at + 1 + len;
        out.push((true, &text[at..end]));
        plain_from = end;
        i = end;
    }
    if plain_from < text.len() {
        out.push((false, &text[plain_from..]));
    }
    out
}

fn name_len(rest: &str, names: &[String]) -> usize {
    let known = names
        .iter()
        .filter(|n| {
            rest.get(..n.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(n))
        })
        .map(String::len)
        .max();
    known.unwrap_or_else(|| {
        rest.char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .map_or(rest.len(), |(n, _)| n)
            .min(rest.trim_end_matches('.').len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn typing_at_suggests_the_names_that_match_what_follows_it() {
        assert_eq!(mention_at("hi @bl", 6), Some((3, "bl".into())));
        assert_eq!(mention_at("@", 1), Some((0, String::new())));
        assert_eq!(mention_at("mail me@home", 12), None, "inside a word");
        assert_eq!(mention_at("no at here", 10), None);
        let people = names(&["blue-ann", "Bob", "navy-blue", "red-fox"]);
        assert_eq!(suggestions(&people, "B"), ["Bob", "blue-ann", "navy-blue"]);
        assert_eq!(suggestions(&people, "fox"), ["red-fox"]);
        assert!(suggestions(&people, "zed").is_empty());
    }

    #[test]
    fn picking_a_name_replaces_what_was_typed_and_puts_the_caret_after_it() {
        assert_eq!(
            complete("hi @bl and", 3, 6, "blue-ann"),
            ("hi @blue-ann  and".into(), 13)
        );
        assert_eq!(complete("@", 0, 1, "Ann Lee"), ("@Ann Lee ".into(), 9));
    }

    #[test]
    fn at_names_are_split_out_of_the_text_known_names_whole() {
        let known = names(&["Ann Lee"]);
        assert_eq!(
            split_mentions("hi @ann lee, and @red-fox.", &known),
            [
                (false, "hi "),
                (true, "@ann lee"),
                (false, ", and "),
                (true, "@red-fox"),
                (false, ".")
            ]
        );
        assert_eq!(split_mentions("a@b.c @ x", &known), [(false, "a@b.c @ x")]);
        assert_eq!(split_mentions("", &known), []);
    }
}
