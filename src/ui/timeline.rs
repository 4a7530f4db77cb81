//! The stream of one conversation as lines: messages and arrivals/departures interleaved by
//! time, a separator per local day, consecutive messages of one sender grouped, and a "New
//! messages" divider where the unread ones start.

use crate::client::clock;
use crate::protocol::{NewMessage, Notice};

/// Messages from one sender closer together than this are shown as one group.
const GROUP_GAP_MS: u64 = 5 * 60 * 1000;

/// One line of the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Day(String),
    /// Where the messages that arrived while the conversation was not on screen start.
    Unread,
    Notice(Notice),
    Message {
        message: NewMessage,
        /// Same sender as the line before, shortly before: the sender is not repeated.
        grouped: bool,
        mine: bool,
    },
}

impl Line {
    pub fn key(&self) -> String {
        match self {
            Line::Day(day) => format!("d:{day}"),
            Line::Unread => "unread".to_owned(),
            Line::Notice(n) => format!("n:{}:{}:{:?}", n.ts, n.id, n.kind),
            Line::Message {
                message,
                grouped,
                mine,
            } => {
                // With its change number: an edited, deleted or reacted-to message is drawn
                // again.
                format!("m:{}:{}:{grouped}:{mine}", message.id, message.rev)
            }
        }
    }
}

/// Interleaves a conversation's messages and notices by time, with a separator per local day
/// and the "New messages" divider before the message `unread_from` (if it is there).
pub fn timeline(
    messages: &[NewMessage],
    notices: &[Notice],
    me: Option<&str>,
    unread_from: Option<u64>,
) -> Vec<Line> {
    // Messages keep their id order; notices (oldest first) slot in by time, after a message
    // of the same millisecond. A merge, not a sort: no sorting code in the WASM.
    let mut items: Vec<(u64, Option<&NewMessage>, Option<&Notice>)> =
        Vec::with_capacity(messages.len() + notices.len());
    let mut notices = notices.iter().peekable();
    for message in messages {
        while let Some(notice) = notices.next_if(|n| n.ts < message.ts) {
            items.push((notice.ts, None, Some(notice)));
        }
        items.push((message.ts, Some(message), None));
    }
    items.extend(notices.map(|n| (n.ts, None, Some(n))));

    let mut lines = Vec::with_capacity(items.len() + 4);
    let mut day = String::new();
    let mut previous: Option<&NewMessage> = None;
    for (ts, message, notice) in items {
        let (_, _, this_day) = clock::local_time(ts);
        if this_day != day {
            day = this_day.clone();
            lines.push(Line::Day(this_day));
            previous = None;
        }
        if let Some(notice) = notice {
            lines.push(Line::Notice(notice.clone()));
            previous = None;
        } else if let Some(message) = message {
            if unread_from == Some(message.id) {
                lines.push(Line::Unread);
                previous = None;
            }
            let grouped = previous.is_some_and(|p| {
                p.sender == message.sender && message.ts.saturating_sub(p.ts) < GROUP_GAP_MS
            });
            let mine = me.is_some_and(|me| me == message.from);
            lines.push(Line::Message {
                message: message.clone(),
                grouped,
                mine,
            });
            previous = Some(message);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::NoticeKind;

    const DAY: u64 = 86_400_000;

    fn msg(id: u64, sender: &str, ts: u64) -> NewMessage {
        NewMessage {
            sender: sender.into(),
            message: format!("m{id}"),
            room: "general".into(),
            id,
            ts,
            client_id: None,
            from: format!("{sender}-id"),
            ..Default::default()
        }
    }

    fn notice(name: &str, ts: u64) -> Notice {
        Notice {
            room: "general".into(),
            kind: NoticeKind::Joined,
            id: format!("{name}-id"),
            name: name.into(),
            ts,
        }
    }

    fn shape(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| match l {
                Line::Day(_) => "day".to_owned(),
                Line::Unread => "new messages".to_owned(),
                Line::Notice(n) => format!("{} joined", n.name),
                Line::Message {
                    message,
                    grouped,
                    mine,
                } => format!(
                    "{}{}{}",
                    message.message,
                    if *grouped { " grouped" } else { "" },
                    if *mine { " mine" } else { "" }
                ),
            })
            .collect()
    }

    #[test]
    fn consecutive_messages_of_one_sender_are_grouped_and_mine_are_marked() {
        let t = 10 * DAY;
        let messages = [
            msg(1, "ann", t),
            msg(2, "ann", t + 1000),
            msg(3, "bob", t + 2000),
            msg(4, "ann", t + 3000),
            msg(5, "ann", t + 3000 + GROUP_GAP_MS),
        ];
        let lines = timeline(&messages, &[], Some("bob-id"), None);
        assert_eq!(
            shape(&lines),
            ["day", "m1", "m2 grouped", "m3 mine", "m4", "m5"]
        );
    }

    #[test]
    fn notices_interleave_by_time_and_break_groups_and_days_get_separators() {
        let t = 10 * DAY;
        let messages = [
            msg(1, "ann", t),
            msg(2, "ann", t + 2000),
            msg(3, "ann", t + DAY),
        ];
        let notices = [notice("bob", t + 1000)];
        let lines = timeline(&messages, &notices, None, None);
        assert_eq!(
            shape(&lines),
            ["day", "m1", "bob joined", "m2", "day", "m3"]
        );
    }

    #[test]
    fn the_new_messages_divider_comes_before_the_first_unread_and_breaks_its_group() {
        let t = 10 * DAY;
        let messages = [
            msg(1, "ann", t),
            msg(2, "ann", t + 1000),
            msg(3, "ann", t + 2000),
        ];
        let lines = timeline(&messages, &[], None, Some(2));
        assert_eq!(
            shape(&lines),
            ["day", "m1", "new messages", "m2", "m3 grouped"]
        );
        let gone = timeline(&messages, &[], None, Some(99));
        assert!(
            !gone.contains(&Line::Unread),
            "no divider for a message not shown"
        );
    }
}
