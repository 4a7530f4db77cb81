//! Moderation as this page sees it: the room list's changes, my standing (moderator, muted),
//! and the reports that reach a moderator live.

use leptos::prelude::*;

use super::{ChatState, Effect};
use crate::protocol::{DEFAULT_ROOM, Report, RoomsChanged, Standing};

/// Live reports kept on a moderator's page (older ones are a `reports` request away).
pub const MAX_LIVE_REPORTS: usize = 50;

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
        }
        if self.active.with_untracked(|a| followed_gone.contains(a)) {
            self.focus(DEFAULT_ROOM);
        }
        vec![Effect::SaveConversations]
    }

    pub(super) fn on_standing(&self, standing: Standing) {
        if !standing.moderator {
            self.reports.set(Vec::new());
        }
        self.standing.set(standing);
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

    /// Until when I am muted (milliseconds), if I am.
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
        assert!(!chat.followed.get_untracked().contains(&"spam".to_owned()));
        assert_eq!(effects, [Effect::SaveConversations]);
    }

    #[test]
    fn standing_shows_and_a_former_moderator_drops_the_reports() {
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
    }
}
