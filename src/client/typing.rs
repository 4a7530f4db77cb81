//! Who is typing: the people shown per conversation (each until a while after their last
//! signal) and the sentence naming them; and the throttle on my own signals.

use std::collections::HashMap;

use crate::protocol::{TYPING_EVERY_MS, TYPING_SHOWN_MS};

/// Someone typing (public id and display name), until when (ms since the epoch).
#[derive(Debug, Clone, PartialEq)]
pub struct Typist {
    pub id: String,
    pub name: String,
    pub until: f64,
}

/// Who is typing, per conversation (never me).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Typists(HashMap<String, Vec<Typist>>);

impl Typists {
    /// `id` (shown as `name`) typed in `room` at `now`: shown for [`TYPING_SHOWN_MS`].
    pub fn typed(&mut self, room: String, id: String, name: String, now: f64) {
        let list = self.0.entry(room).or_default();
        list.retain(|t| t.id != id);
        list.push(Typist {
            id,
            name,
            until: now + TYPING_SHOWN_MS as f64,
        });
    }

    /// `id` sent a message in `room`: they have stopped typing it.
    pub fn stopped(&mut self, room: &str, id: &str) {
        if let Some(list) = self.0.get_mut(room) {
            list.retain(|t| t.id != id);
        }
    }

    /// Forgets everyone whose time is up at `now`.
    pub fn expire(&mut self, now: f64) {
        self.0
            .values_mut()
            .for_each(|l| l.retain(|t| t.until > now));
        self.0.retain(|_, l| !l.is_empty());
    }

    /// Who is typing in `room`, as a sentence, or `None`.
    pub fn line(&self, room: &str) -> Option<String> {
        match self.0.get(room).map(Vec::as_slice).unwrap_or_default() {
            [] => None,
            [one] => Some(format!("{} is typing…", one.name)),
            many => Some(format!("{} people are typing…", many.len())),
        }
    }
}

/// My own typing signals: at most one per conversation per [`TYPING_EVERY_MS`] (the server
/// relays no more than that either).
#[derive(Debug, Default)]
pub struct TypingThrottle {
    last: HashMap<String, f64>,
}

impl TypingThrottle {
    /// Whether a signal for `room` may go out at `now`; if so, it counts as sent.
    pub fn allow(&mut self, room: &str, now: f64) -> bool {
        let due = self
            .last
            .get(room)
            .is_none_or(|t| now - t >= TYPING_EVERY_MS as f64);
        if due {
            self.last.insert(room.to_owned(), now);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(t: &mut Typists, name: &str, now: f64) {
        t.typed("general".into(), format!("{name}-id"), name.into(), now);
    }

    #[test]
    fn the_line_names_one_typist_or_counts_several() {
        let mut t = Typists::default();
        assert_eq!(t.line("general"), None);
        typed(&mut t, "blue-fish", 0.0);
        assert_eq!(t.line("general").as_deref(), Some("blue-fish is typing…"));
        typed(&mut t, "red-fox", 0.0);
        typed(&mut t, "blue-fish", 10.0);
        assert_eq!(t.line("general").as_deref(), Some("2 people are typing…"));
        assert_eq!(t.line("rust"), None, "typing is per conversation");
    }

    #[test]
    fn a_typist_goes_away_after_the_shown_time_or_once_they_send() {
        let mut t = Typists::default();
        typed(&mut t, "blue-fish", 1000.0);
        typed(&mut t, "red-fox", 2000.0);
        t.expire(1000.0 + TYPING_SHOWN_MS as f64 - 1.0);
        assert_eq!(t.line("general").as_deref(), Some("2 people are typing…"));
        t.expire(1000.0 + TYPING_SHOWN_MS as f64);
        assert_eq!(t.line("general").as_deref(), Some("red-fox is typing…"));
        t.stopped("general", "red-fox-id");
        assert_eq!(t.line("general"), None);
        typed(&mut t, "blue-fish", 5000.0);
        t.expire(1e12);
        assert_eq!(t, Typists::default(), "nothing is left behind");
    }

    #[test]
    fn a_typing_signal_goes_out_at_most_once_per_interval_per_conversation() {
        let mut throttle = TypingThrottle::default();
        assert!(throttle.allow("general", 0.0));
        assert!(!throttle.allow("general", TYPING_EVERY_MS as f64 - 1.0));
        assert!(
            throttle.allow("rust", 1.0),
            "another conversation has its own"
        );
        assert!(throttle.allow("general", TYPING_EVERY_MS as f64));
        assert!(!throttle.allow("general", TYPING_EVERY_MS as f64 + 1.0));
    }
}
