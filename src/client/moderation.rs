//! More of [`ChatClient`]: reporting a message (anyone), the moderators' acts (mute, ban,
//! remove a room) and their records (reports, audit log), and the reads of my standing.
//! Who may do what is the server's to say; a refusal shows like any other.

use leptos::prelude::*;

use super::handle::{ChatClient, Command};
use super::state::{Log, Pages, merged};
use crate::protocol::{
    AuditEntry, Ban, ChatError, DEFAULT_ROOM, ErrorCode, MAX_REASON_LEN, Mute, RemoveRoom, Report,
    ReportMessage,
};

/// What a person sees once their report is in.
pub const REPORTED: &str = "Reported — the moderators will look at it.";

/// A report's reason as sent: trimmed, none when empty, refused when longer than
/// [`MAX_REASON_LEN`] characters.
pub fn check_reason(reason: &str) -> Result<Option<String>, ChatError> {
    let reason = reason.trim();
    if reason.chars().count() > MAX_REASON_LEN {
        return Err(ChatError::new(
            ErrorCode::TooLong,
            format!("A reason can be at most {MAX_REASON_LEN} characters."),
        ));
    }
    Ok((!reason.is_empty()).then(|| reason.to_owned()))
}

impl ChatClient {
    /// Tells the moderators about message `id` of `room`, with an optional reason.
    pub fn report(&self, room: &str, id: u64, reason: &str) -> Result<(), ChatError> {
        let reason = check_reason(reason).inspect_err(|e| self.show_error(e.message.clone()))?;
        self.command(Command::Report(ReportMessage {
            room: room.to_owned(),
            id,
            reason,
        }));
        Ok(())
    }

    /// Moderators: mutes the person with public id `id` for `minutes`.
    pub fn mute(&self, id: &str, minutes: u64) {
        self.command(Command::Mute(Mute {
            id: id.to_owned(),
            minutes: Some(minutes),
        }));
    }

    /// Moderators: bans the person with public id `id` for `minutes` (for good when `None`),
    /// and with `address`, the addresses they are connected from.
    pub fn ban(&self, id: &str, minutes: Option<u64>, address: bool) {
        self.command(Command::Ban(Ban {
            id: id.to_owned(),
            minutes,
            address,
        }));
    }

    /// Moderators: removes public room `room` (never `general`).
    pub fn remove_room(&self, room: &str) {
        if room != DEFAULT_ROOM {
            self.command(Command::RemoveRoom(RemoveRoom {
                room: room.to_owned(),
            }));
        }
    }

    /// Moderators: loads the newest page of `log` (`older` false), or the one before the
    /// oldest held.
    pub fn load_records(&self, log: Log, older: bool) {
        if let Some(page) = self.state.records_request(log, older) {
            self.command(Command::Records(log, page));
        }
    }

    /// The reports that came in live and those loaded, newest first.
    pub fn reports(&self) -> Vec<Report> {
        self.state.reports.with(|live| {
            self.state
                .report_pages
                .with(|pages| merged(live, &pages.items))
        })
    }

    pub fn report_pages(&self) -> Signal<Pages<Report>> {
        self.state.report_pages.into()
    }

    pub fn audit_pages(&self) -> Signal<Pages<AuditEntry>> {
        self.state.audit_pages.into()
    }

    pub fn is_moderator(&self) -> Signal<bool> {
        self.state.is_moderator()
    }

    /// Until when I am muted (milliseconds since the epoch), while I am.
    pub fn muted_until(&self) -> Signal<Option<u64>> {
        self.state.muted_until()
    }

    /// The server's words about my ban, once banned.
    pub fn ban_notice(&self) -> ReadSignal<Option<String>> {
        self.state.ban()
    }

    /// What the last request that says so did ("Reported — …").
    pub fn done(&self) -> ReadSignal<Option<String>> {
        self.state.done.read_only()
    }

    /// Forgets the last problem and the last "done": a dialog that shows them opens afresh.
    pub fn clear_notes(&self) {
        self.state.error.set(None);
        self.state.done.set(None);
    }

    /// Whether `room` is a room of mine a moderator just removed (the page is to move away).
    pub fn take_removed(&self, room: &str) -> bool {
        self.state.take_removed(room)
    }
}

#[cfg(test)]
mod tests {
    use super::super::handle::tests::{connected, drain};
    use super::*;
    use crate::protocol::RecordsPage;

    #[test]
    fn a_reason_is_optional_and_at_most_200_characters() {
        assert_eq!(check_reason("  "), Ok(None));
        assert_eq!(check_reason(" spam "), Ok(Some("spam".into())));
        let longest = "é".repeat(MAX_REASON_LEN);
        assert_eq!(check_reason(&longest), Ok(Some(longest.clone())));
        let over = check_reason(&"x".repeat(MAX_REASON_LEN + 1)).unwrap_err();
        assert_eq!(over.message, "A reason can be at most 200 characters.");
    }

    #[test]
    fn a_report_with_a_reason_too_long_is_not_sent_and_says_why() {
        Owner::new().with(|| {
            let (chat, mut commands) = connected();
            assert!(chat.report("general", 3, &"x".repeat(201)).is_err());
            assert!(chat.error().get_untracked().is_some());
            assert_eq!(drain(&mut commands), []);
            chat.report("general", 3, "").unwrap();
            let report = ReportMessage {
                room: "general".into(),
                id: 3,
                reason: None,
            };
            assert_eq!(drain(&mut commands), [Command::Report(report)]);
        });
    }

    #[test]
    fn moderators_acts_go_as_asked_and_general_is_never_removed() {
        Owner::new().with(|| {
            let (chat, mut commands) = connected();
            chat.mute("ann", 10);
            chat.ban("ann", None, true);
            chat.remove_room("general");
            chat.remove_room("spam");
            chat.load_records(Log::Audit, false);
            chat.load_records(Log::Audit, false);
            assert_eq!(
                drain(&mut commands),
                [
                    Command::Mute(Mute {
                        id: "ann".into(),
                        minutes: Some(10)
                    }),
                    Command::Ban(Ban {
                        id: "ann".into(),
                        minutes: None,
                        address: true
                    }),
                    Command::RemoveRoom(RemoveRoom {
                        room: "spam".into()
                    }),
                    Command::Records(Log::Audit, RecordsPage::default()),
                ],
                "the second page waits for the first"
            );
        });
    }
}
