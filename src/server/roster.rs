//! Who is online in each room across every node of the chat.
//!
//! Each node keeps its own connections in [`super::presence::Presence`]; a [`Roster`] is where
//! a node publishes its part of a room's member list and reads the whole. One process needs
//! nothing more than a map ([`LocalRoster`]); several nodes share theirs through Redis
//! ([`super::cluster::RedisRoster`]). Either way, a room whose list changed anywhere is
//! named on the roster's change channel, and each node then sends the new list to its own
//! connections in that room.

use std::collections::HashMap;
use std::sync::Mutex;

use futures::future::{BoxFuture, ready};
use tokio::sync::mpsc::UnboundedSender;

use super::lock;
use super::store::StoreError;
use crate::protocol::Peer;

pub trait Roster: Send + Sync + 'static {
    /// This node's members of `room` are now `members` (in the order they joined); every node
    /// will be told that `room` changed.
    fn publish<'a>(
        &'a self,
        room: &'a str,
        members: Vec<Peer>,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Everyone in `room` on every live node, each person once.
    fn members<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<Vec<Peer>, StoreError>>;
}

/// The roster of a single process: this node's lists are the whole truth.
pub struct LocalRoster {
    rooms: Mutex<HashMap<String, Vec<Peer>>>,
    changed: UnboundedSender<String>,
}

impl LocalRoster {
    /// A roster that names each changed room on `changed`.
    pub fn new(changed: UnboundedSender<String>) -> Self {
        Self {
            rooms: Mutex::new(HashMap::new()),
            changed,
        }
    }
}

impl Roster for LocalRoster {
    fn publish<'a>(
        &'a self,
        room: &'a str,
        members: Vec<Peer>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        {
            let mut rooms = lock(&self.rooms);
            if members.is_empty() {
                rooms.remove(room);
            } else {
                rooms.insert(room.to_owned(), members);
            }
        }
        // The receiver lives as long as the server; after that nobody needs to know.
        let _ = self.changed.send(room.to_owned());
        Box::pin(ready(Ok(())))
    }

    fn members<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<Vec<Peer>, StoreError>> {
        let members = lock(&self.rooms).get(room).cloned().unwrap_or_default();
        Box::pin(ready(Ok(members)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(id: &str) -> Peer {
        Peer {
            id: id.into(),
            name: format!("name-{id}"),
        }
    }

    #[tokio::test]
    async fn a_published_list_is_read_back_and_announced() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let roster = LocalRoster::new(tx);
        roster
            .publish("general", vec![peer("a"), peer("b")])
            .await
            .unwrap();
        assert_eq!(rx.try_recv().unwrap(), "general");
        assert_eq!(
            roster.members("general").await.unwrap(),
            [peer("a"), peer("b")]
        );
        roster.publish("general", vec![]).await.unwrap();
        assert_eq!(rx.try_recv().unwrap(), "general");
        assert!(roster.members("general").await.unwrap().is_empty());
        assert!(roster.members("elsewhere").await.unwrap().is_empty());
    }
}
