//! The in-memory store: nothing survives a restart. For tests and benchmarks
//! (`chat.storage = "memory"`).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use futures::future::{BoxFuture, ready};

use super::{
    Altered, Appended, Change, Committed, Directory, Entry, Feed, MessageLog, Refusal, StoreError,
    apply,
};
use crate::protocol::NewMessage;
use crate::server::lock;

/// Keeps the last `capacity` messages of each room.
pub struct MemoryLog {
    capacity: usize,
    rooms: Mutex<HashMap<String, RoomLog>>,
    feed: Feed,
}

#[derive(Default)]
struct RoomLog {
    last_id: u64,
    /// The room's last change number.
    last_rev: u64,
    /// Consecutive ids, oldest first.
    messages: VecDeque<(String, NewMessage)>,
}

impl RoomLog {
    fn position(&self, id: u64) -> Option<usize> {
        let first = self.messages.front()?.1.id;
        let at = usize::try_from(id.checked_sub(first)?).ok()?;
        (at < self.messages.len()).then_some(at)
    }

    fn read(&self, range: impl Iterator<Item = usize>) -> Vec<NewMessage> {
        range
            .filter_map(|at| self.messages.get(at))
            .map(|(_, m)| m.clone())
            .collect()
    }
}

impl MemoryLog {
    pub fn new(capacity: usize, feed: Feed) -> Self {
        Self {
            capacity: capacity.max(1),
            rooms: Mutex::new(HashMap::new()),
            feed,
        }
    }
}

impl MemoryLog {
    /// Reads one room (nothing, for a room never written to).
    fn read<T: Default + Send + 'static>(
        &self,
        room: &str,
        read: impl FnOnce(&RoomLog) -> T,
    ) -> BoxFuture<'static, Result<T, StoreError>> {
        let found = lock(&self.rooms).get(room).map(read).unwrap_or_default();
        Box::pin(ready(Ok(found)))
    }
}

impl MessageLog for MemoryLog {
    fn append<'a>(&'a self, entry: Entry<'a>) -> BoxFuture<'a, Result<Appended, StoreError>> {
        let mut rooms = lock(&self.rooms);
        let log = rooms.entry(entry.room.to_owned()).or_default();
        if let Some(cid) = entry.client_id {
            let earlier = log
                .messages
                .iter()
                .find(|(author, m)| author == entry.author && m.client_id.as_deref() == Some(cid));
            if let Some((_, message)) = earlier {
                return Box::pin(ready(Ok(Appended {
                    message: message.clone(),
                    duplicate: true,
                })));
            }
        }
        log.last_id += 1;
        log.last_rev += 1;
        let author = entry.author.to_owned();
        let mut message = entry.into_message(log.last_id);
        message.rev = log.last_rev;
        if log.messages.len() == self.capacity {
            log.messages.pop_front();
        }
        log.messages.push_back((author, message.clone()));
        // Still under the lock, so the feed sees ids in order. Nobody listening (tests) is fine.
        let _ = self.feed.send(Committed::New(message.clone()));
        Box::pin(ready(Ok(Appended {
            message,
            duplicate: false,
        })))
    }

    fn recent<'a>(
        &'a self,
        room: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, StoreError>> {
        self.read(room, |log| {
            let len = log.messages.len();
            log.read(len.saturating_sub(limit)..len)
        })
    }

    fn after<'a>(
        &'a self,
        room: &'a str,
        after: u64,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, StoreError>> {
        self.read(room, |log| {
            log.messages
                .iter()
                .map(|(_, m)| m)
                .filter(|m| m.id > after)
                .take(limit)
                .cloned()
                .collect()
        })
    }

    fn older<'a>(
        &'a self,
        room: &'a str,
        before: u64,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, StoreError>> {
        self.read(room, |log| {
            let end = match log.position(before) {
                Some(at) => at,
                None if log.messages.front().is_some_and(|(_, m)| before <= m.id) => 0,
                None => log.messages.len(),
            };
            log.read(end.saturating_sub(limit)..end)
        })
    }

    fn get<'a>(
        &'a self,
        room: &'a str,
        id: u64,
    ) -> BoxFuture<'a, Result<Option<NewMessage>, StoreError>> {
        self.read(room, |log| {
            log.position(id).map(|at| log.messages[at].1.clone())
        })
    }

    fn alter<'a>(
        &'a self,
        room: &'a str,
        id: u64,
        by: &'a str,
        change: Change,
    ) -> BoxFuture<'a, Result<Altered, StoreError>> {
        let mut rooms = lock(&self.rooms);
        let outcome = match rooms.get_mut(room) {
            Some(log) => match log.position(id) {
                Some(at) => {
                    let mut message = log.messages[at].1.clone();
                    match apply(&mut message, &change, by) {
                        Ok(true) => {
                            log.last_rev += 1;
                            message.rev = log.last_rev;
                            log.messages[at].1 = message.clone();
                            let _ = self.feed.send(Committed::Updated(message.clone()));
                            Ok(message)
                        }
                        Ok(false) => Ok(message),
                        Err(refusal) => Err(refusal),
                    }
                }
                None => Err(Refusal::NotFound),
            },
            None => Err(Refusal::NotFound),
        };
        Box::pin(ready(Ok(outcome)))
    }

    fn changed<'a>(
        &'a self,
        room: &'a str,
        since: u64,
        up_to: u64,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, StoreError>> {
        self.read(room, |log| {
            let mut found: Vec<NewMessage> = log
                .messages
                .iter()
                .map(|(_, m)| m)
                .filter(|m| m.id <= up_to && m.rev > since)
                .cloned()
                .collect();
            found.sort_by_key(|m| m.rev);
            found.truncate(limit);
            found
        })
    }

    fn rooms_with_messages(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        let rooms = lock(&self.rooms)
            .iter()
            .filter(|(_, log)| !log.messages.is_empty())
            .map(|(room, _)| room.clone())
            .collect();
        Box::pin(ready(Ok(rooms)))
    }

    fn expire(&self, before_ms: u64) -> BoxFuture<'_, Result<usize, StoreError>> {
        let mut gone = 0;
        for log in lock(&self.rooms).values_mut() {
            while log.messages.len() > 1 && log.messages[0].1.ts < before_ms {
                log.messages.pop_front();
                gone += 1;
            }
            if let Some((_, newest)) = log.messages.front_mut()
                && newest.ts < before_ms
                && !newest.deleted
            {
                newest.erase();
                gone += 1;
            }
        }
        Box::pin(ready(Ok(gone)))
    }

    fn purge<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        let gone = lock(&self.rooms)
            .remove(room)
            .map_or(0, |log| log.messages.len());
        Box::pin(ready(Ok(gone)))
    }

    fn checkpoint(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(ready(Ok(())))
    }

    fn probe_write(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(ready(Ok(())))
    }
}

/// Names by identity, and rooms, in memory.
#[derive(Default)]
pub struct MemoryDirectory {
    pub(super) names: Mutex<HashMap<String, String>>,
    /// Public ids of everyone named.
    pub(super) people: Mutex<std::collections::HashSet<String>>,
    /// When each token holder was last seen.
    pub(super) seen: Mutex<HashMap<String, u64>>,
    /// Rooms and when they were created.
    rooms: Mutex<std::collections::BTreeMap<String, u64>>,
}

impl Directory for MemoryDirectory {
    fn name_of<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        Box::pin(ready(Ok(lock(&self.names).get(user).cloned())))
    }

    fn remember<'a>(
        &'a self,
        user: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        lock(&self.names).insert(user.to_owned(), name.to_owned());
        lock(&self.people).insert(crate::server::people::public_id(user));
        lock(&self.seen).insert(user.to_owned(), super::now_ms());
        Box::pin(ready(Ok(())))
    }

    fn knows<'a>(&'a self, public_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(ready(Ok(lock(&self.people).contains(public_id))))
    }

    fn all_names(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(ready(Ok(lock(&self.names).values().cloned().collect())))
    }

    fn rooms(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(ready(Ok(lock(&self.rooms).keys().cloned().collect())))
    }

    fn add_room<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        let mut rooms = lock(&self.rooms);
        let added = !rooms.contains_key(room);
        rooms.entry(room.to_owned()).or_insert_with(super::now_ms);
        Box::pin(ready(Ok(added)))
    }

    fn remove_room<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(ready(Ok(lock(&self.rooms).remove(room).is_some())))
    }

    fn room_created<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<Option<u64>, StoreError>> {
        Box::pin(ready(Ok(lock(&self.rooms).get(room).copied())))
    }
}

#[cfg(test)]
mod tests {
    use super::super::contract;
    use super::*;

    fn log(capacity: usize) -> MemoryLog {
        MemoryLog::new(capacity, tokio::sync::mpsc::unbounded_channel().0)
    }

    #[tokio::test]
    async fn memory_log_keeps_the_contract() {
        contract::ids_increase_by_one_per_room(&log(10)).await;
        contract::a_retry_with_the_same_client_id_is_stored_once(&log(10)).await;
        contract::recent_and_after_read_in_order(&log(10)).await;
        contract::a_purged_room_is_empty(&log(10)).await;
        contract::mentions_are_kept(&log(10)).await;
        contract::rooms_with_messages_are_listed(&log(10)).await;
        contract::older_pages_reach_the_first_message(&log(10)).await;
        contract::old_messages_expire_and_ids_go_on(&log(10)).await;
        let (feed, fed) = tokio::sync::mpsc::unbounded_channel();
        contract::changes_follow_the_rules_and_are_numbered(&MemoryLog::new(100, feed), fed).await;
        let (feed, fed) = tokio::sync::mpsc::unbounded_channel();
        contract::the_feed_carries_new_messages_in_id_order(
            std::sync::Arc::new(MemoryLog::new(1000, feed)),
            fed,
        )
        .await;
        contract::names_are_remembered(&MemoryDirectory::default()).await;
        contract::rooms_are_remembered(&MemoryDirectory::default()).await;
    }

    #[tokio::test]
    async fn only_the_newest_messages_are_kept() {
        let log = log(3);
        for i in 0..5 {
            log.append(contract::entry("general", "u", &format!("m{i}"), None))
                .await
                .unwrap();
        }
        assert_eq!(log.recent("general", 10).await.unwrap().len(), 3);
    }
}
