//! Moderation on the wire: what moderators ask for (`mute`, `ban`, `remove-room`, …), what
//! anyone may do (`report`), and what the server tells people about their standing, reports
//! and the room list's changes. Who may do what is the server's business (`server::moderation`).

use serde::{Deserialize, Serialize};

/// Longest reason a report may give, in characters.
pub const MAX_REASON_LEN: usize = 200;
/// A mute without `minutes` lasts an hour.
pub const DEFAULT_MUTE_MINUTES: u64 = 60;
/// A ban of someone's addresses without `minutes` lasts a day (addresses change hands, so an
/// address is never banned for good).
pub const DEFAULT_ADDRESS_BAN_MINUTES: u64 = 24 * 60;
/// The longest a timed restriction may be asked for: a year.
pub const MAX_MINUTES: u64 = 366 * 24 * 60;
/// Most reports or audit entries one page carries.
pub const MAX_RECORDS_PAGE: usize = 100;

/// Mute a person (by public id) for `minutes` ([`DEFAULT_MUTE_MINUTES`] when absent): they
/// still read, but cannot post, edit, react or create rooms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mute {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u64>,
}

/// Lift a person's mute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unmute {
    pub id: String,
}

/// Ban a person: their connections are closed and new ones refused, for `minutes` or, when
/// absent, until `unban`. With `address`, the addresses they are connected from are refused
/// too, for `minutes` or [`DEFAULT_ADDRESS_BAN_MINUTES`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ban {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub address: bool,
}

/// Lift a person's ban (and the address bans that came with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unban {
    pub id: String,
}

/// Tell the moderators about a message (anyone may, in a conversation they may read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportMessage {
    pub room: String,
    pub id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Remove a public room (never `general`): its messages go, everyone leaves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveRoom {
    pub room: String,
}

/// A page of reports or of the audit log, newest first: the ones before `before` (a record
/// id), at most `limit` ([`MAX_RECORDS_PAGE`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordsPage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// `reports` asks for the reports page ([`RecordsPage`]; no payload: the newest).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ListReports(pub Option<RecordsPage>);

/// `audit` asks for the audit log page ([`RecordsPage`]; no payload: the newest).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ListAudit(pub Option<RecordsPage>);

/// A report as moderators see it: the message as it was when reported, and who reported it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The report's own number (newest is highest).
    pub id: u64,
    pub ts: u64,
    pub room: String,
    /// The reported message's id in `room`.
    pub message: u64,
    /// Its author's public id and name, and its text when it was reported.
    pub from: String,
    pub sender: String,
    pub text: String,
    /// Who reported it.
    pub by: String,
    #[serde(rename = "byName")]
    pub by_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What a moderator (or the operator) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Delete,
    Mute,
    Unmute,
    Ban,
    Unban,
    RemoveRoom,
    ModeratorAdd,
    ModeratorRemove,
}

/// One line of the audit log: who did what to whom, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: u64,
    pub ts: u64,
    /// The moderator's public id and name (`operator` for the command line).
    pub by: String,
    #[serde(rename = "byName")]
    pub by_name: String,
    pub action: Action,
    /// A person's public id, or a room.
    pub target: String,
    /// The conversation and message id, for a deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<u64>,
    /// When a mute or ban ends (milliseconds since the epoch); absent when it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<u64>,
    /// A ban that covers the person's addresses too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub address: bool,
}

impl AuditEntry {
    /// An act on `target`, its number, time and author to be filled in.
    pub fn of(action: Action, target: &str) -> Self {
        AuditEntry {
            id: 0,
            ts: 0,
            by: String::new(),
            by_name: String::new(),
            action,
            target: target.to_owned(),
            room: None,
            message: None,
            until: None,
            address: false,
        }
    }
}

/// The answer to `reports`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reports {
    pub reports: Vec<Report>,
    pub more: bool,
}

/// The answer to `audit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    pub entries: Vec<AuditEntry>,
    pub more: bool,
}

/// Where you stand: sent after connecting when it is not plain (a moderator, or muted), and
/// whenever it changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standing {
    #[serde(default)]
    pub moderator: bool,
    /// Muted until then (milliseconds since the epoch).
    #[serde(
        default,
        rename = "mutedUntil",
        skip_serializing_if = "Option::is_none"
    )]
    pub muted_until: Option<u64>,
}

/// The public rooms that appeared or went since the last `rooms` / `rooms-changed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomsChanged {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
}

/// Minutes asked for, checked: 1 to [`MAX_MINUTES`], or `default` when absent.
pub fn check_minutes(minutes: Option<u64>, default: Option<u64>) -> Result<Option<u64>, String> {
    match minutes.or(default) {
        Some(0) => Err("minutes must be at least 1".into()),
        Some(m) if m > MAX_MINUTES => Err(format!("minutes must be at most {MAX_MINUTES}")),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_read_their_documented_shapes_and_nothing_else() {
        let ban: Ban = serde_json::from_value(json!({"id": "ab", "minutes": 5})).unwrap();
        assert_eq!((ban.minutes, ban.address), (Some(5), false));
        assert!(serde_json::from_value::<Mute>(json!({"id": "ab", "hours": 1})).is_err());
        assert!(serde_json::from_value::<Ban>(json!({"id": 7})).is_err());
        let page: ListReports = serde_json::from_value(json!({"before": 9})).unwrap();
        assert_eq!(page.0.unwrap().before, Some(9));
        let newest: ListAudit = serde_json::from_value(serde_json::Value::Null).unwrap();
        assert_eq!(newest, ListAudit(None));
        assert!(serde_json::from_value::<ListAudit>(json!("newest")).is_err());
    }

    #[test]
    fn standing_and_room_changes_leave_out_what_is_plain() {
        assert_eq!(
            serde_json::to_value(Standing::default()).unwrap(),
            json!({"moderator": false})
        );
        let changed = RoomsChanged {
            removed: vec!["spam".into()],
            ..RoomsChanged::default()
        };
        assert_eq!(
            serde_json::to_value(changed).unwrap(),
            json!({"removed": ["spam"]})
        );
    }

    #[test]
    fn minutes_are_checked_and_defaulted() {
        assert_eq!(check_minutes(None, Some(60)), Ok(Some(60)));
        assert_eq!(check_minutes(None, None), Ok(None));
        assert!(check_minutes(Some(0), None).is_err());
        assert!(check_minutes(Some(MAX_MINUTES + 1), None).is_err());
        assert_eq!(check_minutes(Some(3), Some(60)), Ok(Some(3)));
    }
}
