//! What the connection reports to [`ChatState`]: its status, the server accepting or refusing
//! it, timers coming due, and the answers to my messages.

use leptos::prelude::*;

use super::{BACK_ONLINE_MS, ChatState, Effect, Log, Status, Timer};
use crate::client::outbox::Outgoing;
use crate::client::session::Cursor;
use crate::protocol::{ChatError, DEFAULT_ROOM, ErrorCode};

impl ChatState {
    pub fn set_status(&self, status: Status) {
        self.status.set(status);
    }

    pub fn set_polling(&self, polling: bool) {
        self.polling.set(polling);
    }

    /// The page cannot connect at all, for `reason`.
    pub fn unavailable(&self, reason: String) {
        self.error.set(Some(reason));
        self.status.set(Status::Unavailable);
    }

    /// The server accepted the connection (`was_lost`: after losing an earlier one): back in
    /// every conversation followed, each from where this page stands.
    pub fn on_joined(&self, was_lost: bool) -> Vec<Effect> {
        let mut effects = Vec::new();
        if was_lost {
            self.back_online.set(true);
            effects.push(Effect::Later {
                ms: BACK_ONLINE_MS,
                timer: Timer::HideBackOnline,
            });
        }
        self.status.set(Status::Online);
        // The answers to requests of the connection before will never come.
        self.older_all_failed();
        self.records_failed(Log::Reports);
        self.records_failed(Log::Audit);
        for room in self.followed.get_untracked() {
            if room != DEFAULT_ROOM {
                let after = self.position(&room);
                effects.push(Effect::Join { room, after });
            }
        }
        effects
    }

    /// The server refused the connection: for a ban, the page stops trying (see
    /// [`ChatState::is_banned`]).
    pub fn refused(&self, reason: &str) {
        if super::is_ban(reason) {
            return self.banned(reason.to_owned());
        }
        self.show_error(format!("The server refused the connection: {reason}"));
    }

    /// A timer came due; it may ask for another.
    pub fn on_timer(&self, timer: Timer, now_ms: f64) -> Vec<Effect> {
        match timer {
            Timer::ExpireTypists => self.typists.update(|t| t.expire(now_ms)),
            Timer::HideBackOnline => self.back_online.set(false),
            Timer::MuteEnds => return self.on_mute_timer(now_ms),
        }
        Vec::new()
    }

    /// Whether to go on connecting after a connection ended (not once banned).
    pub fn may_reconnect(&self) -> bool {
        !self.is_banned()
    }

    /// The id up to which this page holds every message of `room`.
    pub fn position(&self, room: &str) -> Option<u64> {
        self.cursors
            .with_value(|c| c.get(room).and_then(Cursor::position))
    }

    /// `room` was left: a later join starts afresh.
    pub fn forget_position(&self, room: &str) {
        self.cursors.update_value(|c| {
            c.remove(room);
        });
    }

    /// The first of my messages waiting to go (refused ones wait for a retry).
    pub fn next_outgoing(&self) -> Option<Outgoing> {
        self.outgoing
            .with_untracked(|list| list.iter().find(|o| o.failed.is_none()).cloned())
    }

    /// Records the server's answer to one of my messages: gone when stored; when refused,
    /// kept with the reason (shown next to it and the composer) until retried or discarded.
    pub fn settle(&self, client_id: &str, result: Result<(), ChatError>) {
        let Err(e) = result else {
            return self.discard(client_id);
        };
        let reason = if e.code == ErrorCode::Unavailable {
            format!("{} (not sent)", e.message)
        } else {
            e.message
        };
        self.show_error(reason.clone());
        self.outgoing.update(|list| {
            if let Some(item) = list.iter_mut().find(|o| o.client_id == client_id) {
                item.failed = Some(reason);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_online_after_a_loss_then_back_in_every_conversation_from_where_i_was() {
        Owner::new().with(|| {
            let state = ChatState::new();
            state.focus("rust");
            state.focus("book-club");
            state.with_cursor("rust", |c| c.on_history(0, [1, 2]));
            let effects = state.on_joined(true);
            assert_eq!(state.status.get_untracked(), Status::Online);
            assert!(state.back_online.get_untracked());
            let join = |room: &str, after| Effect::Join {
                room: room.into(),
                after,
            };
            let hide = Effect::Later {
                ms: BACK_ONLINE_MS,
                timer: Timer::HideBackOnline,
            };
            assert_eq!(
                effects,
                [hide, join("rust", Some(2)), join("book-club", None)]
            );
            state.on_timer(Timer::HideBackOnline, 0.0);
            assert!(!state.back_online.get_untracked());

            state.forget_position("rust");
            assert_eq!(
                state.position("rust"),
                None,
                "left: a later join starts afresh"
            );
        });
    }

    #[test]
    fn the_first_connection_is_not_a_comeback() {
        Owner::new().with(|| {
            let state = ChatState::new();
            assert!(state.on_joined(false).is_empty());
            assert!(!state.back_online.get_untracked());
        });
    }

    #[test]
    fn a_page_that_cannot_connect_says_so() {
        Owner::new().with(|| {
            let state = ChatState::new();
            state.unavailable("no randomness".into());
            assert_eq!(state.status.get_untracked(), Status::Unavailable);
            assert_eq!(
                state.error.get_untracked().as_deref(),
                Some("no randomness")
            );
            assert_eq!(Status::Unavailable.label(), "Cannot connect");
        });
    }

    #[test]
    fn the_status_says_when_the_next_attempt_is() {
        let waiting = Status::Reconnecting {
            attempt: 2,
            delay_ms: 1500,
        };
        assert_eq!(waiting.label(), "Offline, retrying in 2 s…");
        assert_eq!(Status::Online.label(), "Online");
    }
}
