//! Moderation as this page sees it: the room list's changes, my standing (moderator, muted,
//! banned), and the reports that reach a moderator live.

use leptos::prelude::*;

use super::{ChatState, Effect, Env, Status, Timer};
use crate::client::clock;
use crate::protocol::{DEFAULT_ROOM, Report, RoomsChanged, Standing};

/// Live reports kept on a moderator's page (older ones are a `reports` request away).
pub const MAX_LIVE_REPORTS: usize = 50;
/// The longest a timer may be set for (a browser's timers are 32-bit); a longer mute is
/// looked at again then.
const MAX_TIMER_MS: u64 = 1 << 30;

/// How the server's refusal of a banned person starts. The connect error carries only a
/// message (`44{"message": …}`), no code, so this is how a ban is told from a passing
/// refusal ("unavailable; try again shortly").
const BAN_REFUSAL: &str = "A moderator banned you";

/// Whether a connect refusal is a ban.
pub fn is_ban(reason: &str) -> bool {
    reason.starts_with(BAN_REFUSAL)
}

/// What the composer says while I am muted until `until` (ms): the time of day when it ends
/// within a day of `now_ms`, else the date too.
pub fn muted_line(until: u64, now_ms: f64) -> String {
    let (short, full, _) = clock::local_time(until);
    let soon = (until as f64) - now_ms < 24.0 * 3_600_000.0;
    let when = if soon { short } else { full };
    format!("A moderator muted you until {when}")
}

impl ChatState {
    /// Rooms appeared or went: the list follows, and a room that went is no longer followed
    /// (the page moves to `general` if it was on screen).
    pub(super) fn on_rooms_changed(&self, changed: RoomsChanged) -> Vec<Effect> {
        self.rooms.update(|rooms| {
            rooms.retain(|r| !changed.removed.contains(r));
            for room in changed.added {
                if let Err(at) = rooms.binary_search(&room) {
                    rooms.insert(at, room);
                }
            }
        });
        let followed_gone: Vec<String> = self.followed.with_untracked(|f| {
            f.iter()
                .filter(|r| changed.removed.contains(r))
                .cloned()
                .collect()
        });
        if followed_gone.is_empty() {
            return Vec::new();
        }
        for room in &followed_gone {
            self.unfollow(room);
            self.messages
                .update(|list| list.retain(|m| m.room != *room));
            self.show_done(format!("A moderator removed #{room}."));
        }
        self.removed
            .update(|r| r.extend(followed_gone.iter().cloned()));
        if self.active.with_untracked(|a| followed_gone.contains(a)) {
            self.focus(DEFAULT_ROOM);
        }
        vec![Effect::SaveConversations]
    }

    /// My standing changed; a mute ends by itself (a timer), unless a new standing says
    /// otherwise first.
    pub(super) fn on_standing(&self, standing: Standing, env: Env) -> Vec<Effect> {
        if !standing.moderator {
            self.reports.set(Vec::new());
        }
        let until = standing.muted_until;
        self.standing.set(standing);
        until.map_or_else(Vec::new, |until| self.mute_timer(until, env.now_ms))
    }

    /// The mute may be over at `now_ms`: lifted if it is, else looked at again later.
    pub(super) fn on_mute_timer(&self, now_ms: f64) -> Vec<Effect> {
        match self.standing.with_untracked(|s| s.muted_until) {
            Some(until) if (until as f64) <= now_ms => {
                self.standing.update(|s| s.muted_until = None);
                Vec::new()
            }
            Some(until) => self.mute_timer(until, now_ms),
            None => Vec::new(),
        }
    }

    fn mute_timer(&self, until: u64, now_ms: f64) -> Vec<Effect> {
        let left = (until as f64 - now_ms).max(0.0) as u64;
        vec![Effect::Later {
            ms: left.min(MAX_TIMER_MS) as u32,
            timer: Timer::MuteEnds,
        }]
    }

    /// A moderator banned me (the server said so, or refused the connection for it).
    pub fn banned(&self, message: String) {
        self.ban.set(Some(message));
        self.status.set(Status::Banned);
    }

    pub fn is_banned(&self) -> bool {
        self.ban.with_untracked(Option::is_some)
    }

    /// The server's words about my ban, if I am banned.
    pub fn ban(&self) -> ReadSignal<Option<String>> {
        self.ban.read_only()
    }

    /// Whether `room` is a followed room a moderator removed; it then counts as seen (the
    /// page moved away), so a room of that name created later can be opened.
    pub fn take_removed(&self, room: &str) -> bool {
        let gone = self.removed.with(|r| r.iter().any(|g| g == room));
        if gone {
            self.removed.update(|r| r.retain(|g| g != room));
        }
        gone
    }

    pub(super) fn on_reported(&self, report: Report) {
        self.reports.update(|reports| {
            reports.insert(0, report);
            reports.truncate(MAX_LIVE_REPORTS);
        });
    }

    /// Whether I am a moderator.
    pub fn is_moderator(&self) -> Signal<bool> {
        let standing = self.standing;
        Signal::derive(move || standing.with(|s| s.moderator))
    }

    /// Until when I am muted (milliseconds), if I am and it has not ended.
    pub fn muted_until(&self) -> Signal<Option<u64>> {
        let standing = self.standing;
        Signal::derive(move || standing.with(|s| s.muted_until))
    }

    /// The reports that came in while this page was open, newest first.
    pub fn live_reports(&self) -> Signal<Vec<Report>> {
        self.reports.into()
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::protocol::{RoomList, ServerEvent};

    #[test]
    fn the_room_list_follows_its_changes_and_a_removed_room_is_left() {
        Owner::new().with(|| {
            let (chat, env) = (welcomed(), AT);
            chat.apply(
                ServerEvent::Rooms(RoomList {
                    rooms: vec!["general".into(), "spam".into()],
                }),
                env,
            );
            chat.focus("spam");
            let effects = chat.apply(
                ServerEvent::RoomsChanged(RoomsChanged {
                    added: vec!["art".into()],
                    removed: vec!["spam".into()],
                }),
                env,
            );
            assert_eq!(chat.rooms.get_untracked(), ["art", "general"]);
            assert_eq!(chat.active.get_untracked(), "general");
            assert_eq!(
                chat.done.get_untracked().as_deref(),
                Some("A moderator removed #spam.")
            );
            assert!(chat.take_removed("spam"), "the page is to move away");
            assert!(!chat.take_removed("spam"), "once");
            assert!(!chat.followed.get_untracked().contains(&"spam".to_owned()));
            assert_eq!(effects, [Effect::SaveConversations]);
        });
    }

    #[test]
    fn standing_shows_and_a_former_moderator_drops_the_reports() {
        Owner::new().with(|| {
            let (chat, env) = (welcomed(), AT);
            let moderator = Standing {
                moderator: true,
                muted_until: None,
            };
            chat.apply(ServerEvent::Standing(moderator), env);
            chat.apply(ServerEvent::Reported(Report::default()), env);
            assert!(chat.is_moderator().get_untracked());
            assert_eq!(chat.live_reports().get_untracked().len(), 1);
            chat.apply(ServerEvent::Standing(Standing::default()), env);
            assert!(!chat.is_moderator().get_untracked());
            assert!(chat.live_reports().get_untracked().is_empty());
        });
    }

    #[test]
    fn a_mute_disables_until_its_end_then_lifts_by_itself() {
        Owner::new().with(|| {
            let chat = welcomed();
            let until = AT.now_ms as u64 + 600_000;
            let muted = Standing {
                moderator: false,
                muted_until: Some(until),
            };
            let effects = chat.apply(ServerEvent::Standing(muted), AT);
            let timer = Effect::Later {
                ms: 600_000,
                timer: Timer::MuteEnds,
            };
            assert_eq!(effects, [timer]);
            assert_eq!(chat.muted_until().get_untracked(), Some(until));
            // Early (a timer can fire a little early, or a longer mute came meanwhile): not yet.
            let again = chat.on_timer(Timer::MuteEnds, until as f64 - 5.0);
            assert_eq!(
                again,
                [Effect::Later {
                    ms: 5,
                    timer: Timer::MuteEnds
                }]
            );
            assert_eq!(chat.muted_until().get_untracked(), Some(until));
            assert_eq!(chat.on_timer(Timer::MuteEnds, until as f64), NOTHING);
            assert_eq!(chat.muted_until().get_untracked(), None);
        });
    }

    #[test]
    fn a_new_standing_lifts_a_mute_at_once() {
        Owner::new().with(|| {
            let chat = welcomed();
            let muted = Standing {
                moderator: false,
                muted_until: Some(u64::MAX / 2),
            };
            let effects = chat.apply(ServerEvent::Standing(muted), AT);
            assert!(
                matches!(effects[..], [Effect::Later { ms, .. }] if u64::from(ms) == MAX_TIMER_MS),
                "a year-long mute is looked at again within a browser's timer range: {effects:?}"
            );
            chat.apply(ServerEvent::Standing(Standing::default()), AT);
            assert_eq!(chat.muted_until().get_untracked(), None);
            assert_eq!(chat.on_timer(Timer::MuteEnds, AT.now_ms), NOTHING);
        });
    }

    #[test]
    fn the_muted_line_names_the_time_of_day_or_the_date_when_later() {
        Owner::new().with(|| {
            // Native builds format in UTC: 1 000 000 ms + 10 min is 00:26.
            assert_eq!(
                muted_line(1_600_000, 1_000_000.0),
                "A moderator muted you until 00:26"
            );
            let in_two_days = 1_000_000 + 2 * 86_400_000;
            assert_eq!(
                muted_line(in_two_days, 1_000_000.0),
                "A moderator muted you until day 2, 00:16 UTC"
            );
        });
    }

    #[test]
    fn a_ban_stops_the_page_and_says_why() {
        Owner::new().with(|| {
            let chat = welcomed();
            assert!(is_ban("A moderator banned you from this chat."));
            assert!(is_ban(
                "A moderator banned you from this chat for another 3 min."
            ));
            assert!(!is_ban("The chat is unavailable; try again shortly."));
            chat.apply(
                ServerEvent::ChatError(crate::protocol::ChatError::new(
                    crate::protocol::ErrorCode::Banned,
                    "A moderator banned you from this chat.",
                )),
                AT,
            );
            assert!(chat.is_banned());
            assert_eq!(chat.status.get_untracked(), Status::Banned);
            assert_eq!(Status::Banned.label(), "Banned");
            assert_eq!(
                chat.ban().get_untracked().as_deref(),
                Some("A moderator banned you from this chat.")
            );
        });
    }
}
