//! The message log: assigns each accepted message its id and time, and keeps recent history
//! per room. Behind the [`MessageLog`] trait so a durable or shared backend can replace the
//! in-memory one without touching the handlers.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;

use crate::protocol::NewMessage;

/// Why the log could not store or read messages. The in-memory log never fails; durable
/// backends add their variants here.
#[derive(Debug, thiserror::Error)]
pub enum LogError {}

/// Where accepted messages go. `append` resolves once the message is committed; only then may
/// it be broadcast or acknowledged.
pub trait MessageLog: Send + Sync + 'static {
    /// Stores a message and returns it with its id (increasing per room) and timestamp.
    fn append<'a>(
        &'a self,
        room: &'a str,
        sender: &'a str,
        text: String,
    ) -> BoxFuture<'a, Result<NewMessage, LogError>>;

    /// Up to `limit` most recent messages of `room`, oldest first.
    fn recent<'a>(
        &'a self,
        room: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, LogError>>;
}

/// Keeps the last `capacity` messages of each room in memory; forgets them on restart.
pub struct MemoryLog {
    capacity: usize,
    rooms: Mutex<HashMap<String, RoomLog>>,
}

#[derive(Default)]
struct RoomLog {
    last_id: u64,
    messages: VecDeque<NewMessage>,
}

impl MemoryLog {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            rooms: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, RoomLog>> {
        // The map stays consistent even if a holder panicked: every update is one insert.
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl MessageLog for MemoryLog {
    fn append<'a>(
        &'a self,
        room: &'a str,
        sender: &'a str,
        text: String,
    ) -> BoxFuture<'a, Result<NewMessage, LogError>> {
        let mut rooms = self.lock();
        let log = rooms.entry(room.to_owned()).or_default();
        log.last_id += 1;
        let message = NewMessage {
            sender: sender.to_owned(),
            message: text,
            room: room.to_owned(),
            id: log.last_id,
            ts: now_ms(),
        };
        if self.capacity > 0 {
            if log.messages.len() == self.capacity {
                log.messages.pop_front();
            }
            log.messages.push_back(message.clone());
        }
        Box::pin(std::future::ready(Ok(message)))
    }

    fn recent<'a>(
        &'a self,
        room: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, LogError>> {
        let rooms = self.lock();
        let recent = rooms
            .get(room)
            .map(|log| {
                let skip = log.messages.len().saturating_sub(limit);
                log.messages.iter().skip(skip).cloned().collect()
            })
            .unwrap_or_default();
        Box::pin(std::future::ready(Ok(recent)))
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ids_increase_per_room() {
        let log = MemoryLog::new(10);
        let a1 = log
            .append("general", "red-fox", "one".into())
            .await
            .unwrap();
        let b1 = log.append("rust", "red-fox", "other".into()).await.unwrap();
        let a2 = log
            .append("general", "blue-owl", "two".into())
            .await
            .unwrap();
        assert_eq!((a1.id, b1.id, a2.id), (1, 1, 2));
        assert!(a2.ts >= a1.ts && a1.ts > 0);
        assert_eq!(a2.sender, "blue-owl");
    }

    #[tokio::test]
    async fn recent_keeps_the_newest_in_order() {
        let log = MemoryLog::new(3);
        for i in 1..=5 {
            log.append("general", "a", format!("m{i}")).await.unwrap();
        }
        let texts: Vec<String> = log
            .recent("general", 2)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.message)
            .collect();
        assert_eq!(texts, ["m4", "m5"]);
        assert_eq!(log.recent("general", 10).await.unwrap().len(), 3);
        assert!(log.recent("empty", 10).await.unwrap().is_empty());
    }
}
