//! "blue-fish joined" / "left": queued per room for the next member-list round, a departure
//! held back for [`LEFT_GRACE`] (a reload or a network blip announces neither the leaving nor
//! the coming back), and many at once summarised ("12 people joined").

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::super::lock;
use super::Chat;
use super::identity::Member;
use crate::protocol::{Notice, NoticeKind};

/// More arrivals (or departures) than this in one sync round are announced as one summary:
/// a join storm must not cost a notice per person per member.
const NOTICES_PER_ROUND: usize = 3;
/// How long a departure waits to be announced, in case the person comes right back.
const LEFT_GRACE: Duration = Duration::from_secs(3);

#[derive(Default)]
pub(super) struct Notices(Mutex<State>);

#[derive(Default)]
struct State {
    /// When someone's last connection left a room (room, public id).
    recently_left: HashMap<(String, Arc<str>), Instant>,
    /// Arrivals and departures waiting for the next sync round, per room.
    pending: HashMap<String, Vec<Notice>>,
}

impl Notices {
    /// The room's notices for this round, summarised when there are many.
    pub fn take(&self, room: &str) -> Vec<Notice> {
        lock(&self.0)
            .pending
            .remove(room)
            .map(summarize)
            .unwrap_or_default()
    }

    /// Whether `id` left `room` within the grace period (and forgets that it did).
    fn returned(&self, room: &str, id: &Arc<str>) -> bool {
        lock(&self.0)
            .recently_left
            .remove(&(room.to_owned(), id.clone()))
            .is_some_and(|left| left.elapsed() < LEFT_GRACE)
    }
}

impl Chat {
    /// Someone's first connection entered `room`: announce it unless they were there moments ago.
    pub(super) fn arrived(&self, room: &str, member: &Member) {
        if !self.0.notices.returned(room, &member.id) {
            self.announce(notice(room, member, NoticeKind::Joined));
        }
    }

    /// Someone's last connection left `room`: tell the room after [`LEFT_GRACE`], unless they
    /// came back by then.
    pub(super) fn departed(&self, room: &str, member: &Member) {
        let key = (room.to_owned(), member.id.clone());
        let left_at = Instant::now();
        lock(&self.0.notices.0)
            .recently_left
            .insert(key.clone(), left_at);
        let notice = notice(room, member, NoticeKind::Left);
        let chat = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(LEFT_GRACE).await;
            let still_gone = !lock(&chat.0.presence).contains(&key.0, &key.1);
            let mut state = lock(&chat.0.notices.0);
            let ours = state.recently_left.get(&key) == Some(&left_at);
            if still_gone && ours {
                state.recently_left.remove(&key);
                drop(state);
                chat.announce(notice);
            }
        });
    }

    /// Queues a notice for the room's next sync round.
    fn announce(&self, notice: Notice) {
        let room = notice.room.clone();
        lock(&self.0.notices.0)
            .pending
            .entry(room.clone())
            .or_default()
            .push(notice);
        self.touch(&room);
    }
}

fn notice(room: &str, member: &Member, kind: NoticeKind) -> Notice {
    Notice {
        room: room.to_owned(),
        kind,
        id: member.id.to_string(),
        name: member.name.to_string(),
        ts: super::super::store::now_ms(),
    }
}

/// A round's notices as sent: each one when there are few, else one summary per kind.
fn summarize(notices: Vec<Notice>) -> Vec<Notice> {
    if notices.len() <= NOTICES_PER_ROUND {
        return notices;
    }
    let mut summaries = Vec::new();
    for kind in [NoticeKind::Joined, NoticeKind::Left] {
        let of_kind: Vec<&Notice> = notices.iter().filter(|n| n.kind == kind).collect();
        if let Some(last) = of_kind.last() {
            summaries.push(Notice {
                name: format!("{} people", of_kind.len()),
                id: String::new(),
                kind,
                ..(*last).clone()
            });
        }
    }
    summaries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(name: &str) -> Notice {
        Notice {
            room: "general".into(),
            kind: NoticeKind::Joined,
            id: format!("id-{name}"),
            name: name.into(),
            ts: 1,
        }
    }

    #[test]
    fn a_few_notices_go_out_one_by_one_and_many_as_a_summary_per_kind() {
        let few = vec![joined("a"), joined("b"), joined("c")];
        assert_eq!(summarize(few.clone()), few);
        let mut many: Vec<Notice> = (0..5).map(|i| joined(&i.to_string())).collect();
        many.push(Notice {
            kind: NoticeKind::Left,
            ..joined("x")
        });
        let sent = summarize(many);
        let kinds: Vec<NoticeKind> = sent.iter().map(|n| n.kind).collect();
        assert_eq!(kinds, [NoticeKind::Joined, NoticeKind::Left]);
        assert_eq!(sent[0].name, "5 people");
        assert!(
            sent.iter().all(|n| n.id.is_empty()),
            "a summary names nobody"
        );
    }
}
