//! The public rooms that exist. Other nodes may create rooms too, so the directory is the
//! truth; this cache asks it at most once per [`ROOMS_FRESH_FOR`], so a join storm does not
//! cost a query per connection.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::super::lock;
use super::super::store::{Directory, StoreError};
use crate::protocol::RoomList;

/// How long the list of rooms is served without asking the directory again.
const ROOMS_FRESH_FOR: Duration = Duration::from_secs(1);

pub(super) struct RoomDirectory {
    cache: Mutex<Cache>,
    directory: Arc<dyn Directory>,
}

struct Cache {
    known: BTreeSet<String>,
    read_at: Instant,
}

impl RoomDirectory {
    pub async fn load(directory: Arc<dyn Directory>) -> Result<Self, StoreError> {
        let known = super::with_default_room(directory.rooms().await?);
        Ok(RoomDirectory {
            cache: Mutex::new(Cache {
                known: known.into_iter().collect(),
                read_at: Instant::now(),
            }),
            directory,
        })
    }

    /// Every public room.
    pub async fn list(&self) -> Result<RoomList, StoreError> {
        self.refresh_if_stale().await?;
        Ok(RoomList {
            rooms: lock(&self.cache).known.iter().cloned().collect(),
        })
    }

    /// Asks the directory again when the cache is older than [`ROOMS_FRESH_FOR`].
    async fn refresh_if_stale(&self) -> Result<(), StoreError> {
        let stale = lock(&self.cache).read_at.elapsed() > ROOMS_FRESH_FOR;
        if stale {
            let fresh = self.directory.rooms().await?;
            let mut cache = lock(&self.cache);
            cache.known.extend(fresh);
            cache.read_at = Instant::now();
        }
        Ok(())
    }

    /// Whether the room is known to exist (from the cache, refreshed at most every
    /// [`ROOMS_FRESH_FOR`]).
    pub async fn exists(&self, room: &str) -> Result<bool, StoreError> {
        self.refresh_if_stale().await?;
        Ok(lock(&self.cache).known.contains(room))
    }

    /// Makes a public room exist; true when it is new (then everyone should be told).
    pub async fn create(&self, room: &str) -> Result<bool, StoreError> {
        if lock(&self.cache).known.contains(room) {
            return Ok(false);
        }
        let added = self.directory.add_room(room).await?;
        lock(&self.cache).known.insert(room.to_owned());
        Ok(added)
    }
}
