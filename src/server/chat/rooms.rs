//! The public rooms that exist, and their end: removed by a moderator, or expired when empty
//! and unused for `chat.room-idle-days`. Other nodes may create and remove rooms too, so the
//! directory is the truth; this cache asks it at most once per [`ROOMS_FRESH_FOR`], so a join
//! storm does not cost a query per connection. Everyone is sent the whole list once, on
//! arrival, then only what changed (`rooms-changed`).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;

use super::super::lock;
use super::super::store::{Directory, StoreError, now_ms};
use super::Chat;
use super::delivery::broadcast;
use super::identity::Member;
use crate::protocol::{DEFAULT_ROOM, RoomList, RoomsChanged};

/// How long the list of rooms is served without asking the directory again.
const ROOMS_FRESH_FOR: Duration = Duration::from_secs(1);

pub(super) struct RoomDirectory {
    cache: Mutex<Cache>,
    directory: Arc<dyn Directory>,
}

struct Cache {
    known: BTreeSet<String>,
    read_at: Instant,
    /// Rooms found gone from the directory (removed on another node) and not yet forgotten
    /// here: whichever read found them, [`Chat::watch_moderation`] forgets them.
    gone: BTreeSet<String>,
}

impl RoomDirectory {
    pub async fn load(directory: Arc<dyn Directory>) -> Result<Self, StoreError> {
        let known = super::with_default_room(directory.rooms().await?);
        Ok(RoomDirectory {
            cache: Mutex::new(Cache {
                known: known.into_iter().collect(),
                read_at: Instant::now(),
                gone: BTreeSet::new(),
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
            self.refresh().await?;
        }
        Ok(())
    }

    /// Reads the directory again, noting the rooms that went since the last read (removed on
    /// another node) for [`RoomDirectory::take_gone`].
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let fresh: BTreeSet<String> = super::with_default_room(self.directory.rooms().await?)
            .into_iter()
            .collect();
        let mut cache = lock(&self.cache);
        let gone: Vec<String> = cache.known.difference(&fresh).cloned().collect();
        cache.gone.extend(gone);
        cache.known = fresh;
        cache.read_at = Instant::now();
        Ok(())
    }

    /// The rooms found gone since the last call.
    pub fn take_gone(&self) -> Vec<String> {
        std::mem::take(&mut lock(&self.cache).gone)
            .into_iter()
            .collect()
    }

    /// Every room but `general`, as last read.
    fn removable(&self) -> Vec<String> {
        let cache = lock(&self.cache);
        cache
            .known
            .iter()
            .filter(|r| *r != DEFAULT_ROOM)
            .cloned()
            .collect()
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

    async fn created(&self, room: &str) -> Result<Option<u64>, StoreError> {
        self.directory.room_created(room).await
    }

    /// Makes a room cease to exist; true when it did exist.
    async fn remove(&self, room: &str) -> Result<bool, StoreError> {
        let removed = self.directory.remove_room(room).await?;
        lock(&self.cache).known.remove(room);
        Ok(removed)
    }
}

impl Chat {
    /// Makes a public room exist; tells everyone when it is new.
    pub(super) async fn create_room<A: Adapter>(
        &self,
        io: &SocketIo<A>,
        room: &str,
    ) -> Result<(), StoreError> {
        if self.0.rooms.create(room).await? {
            let added = RoomsChanged {
                added: vec![room.to_owned()],
                removed: Vec::new(),
            };
            broadcast(io, &self.0.metrics, Vec::new(), &added).await;
        }
        Ok(())
    }

    /// Removes a public room and its messages: everyone is told, every member leaves it (on
    /// this node now; other nodes when they next read the directory). True when it existed.
    pub(super) async fn remove_room<A: Adapter>(
        &self,
        io: &SocketIo<A>,
        room: &str,
    ) -> Result<bool, StoreError> {
        if !self.0.rooms.remove(room).await? {
            return Ok(false);
        }
        let gone = self.0.log.purge(room).await?;
        tracing::info!(%room, messages = gone, "room removed");
        let removed = RoomsChanged {
            added: Vec::new(),
            removed: vec![room.to_owned()],
        };
        broadcast(io, &self.0.metrics, Vec::new(), &removed).await;
        self.forget_room(io, room).await;
        Ok(true)
    }

    /// This node's connections leave a room that no longer exists, and this node's search
    /// index forgets its messages.
    pub(super) async fn forget_room<A: Adapter>(&self, io: &SocketIo<A>, room: &str) {
        if let Err(e) = self.0.search.forget_room(room).await {
            tracing::warn!(%room, error = %e, "search: removed room not forgotten");
        }
        let mut left = false;
        for s in io.local().to(room.to_owned()).sockets() {
            s.leave(room.to_owned());
            if let Some(member) = s.extensions.get::<Member>() {
                left |= lock(&self.0.presence).leave(room, &member.id, &s.id);
            }
        }
        if left {
            self.touch(room);
        }
    }

    /// Removes every public room that nobody is in and nobody wrote in (or, without messages,
    /// that was created) for `idle_days`; how many went.
    pub(super) async fn expire_rooms<A: Adapter>(
        &self,
        io: &SocketIo<A>,
        idle_days: f64,
    ) -> Result<usize, StoreError> {
        let cutoff = now_ms().saturating_sub((idle_days * 86_400_000.0) as u64);
        let mut gone = 0;
        for room in self.0.rooms.removable() {
            if lock(&self.0.presence).count(&room) > 0
                || !self.0.roster.members(&room).await?.is_empty()
            {
                continue;
            }
            let last_used = match self.0.log.recent(&room, 1).await?.pop() {
                Some(newest) => newest.edited.unwrap_or(newest.ts).max(newest.ts),
                None => self.0.rooms.created(&room).await?.unwrap_or(0),
            };
            if last_used < cutoff && self.remove_room(io, &room).await? {
                gone += 1;
            }
        }
        Ok(gone)
    }

    /// [`Chat::expire_rooms`] hourly, or twice per idle time when that is shorter, for as long
    /// as it runs (a server task). With several nodes each runs it; the first to remove a room
    /// tells everyone.
    pub async fn expire_rooms_regularly<A: Adapter>(self, io: SocketIo<A>, idle_days: f64) {
        let half_idle = Duration::from_secs_f64(idle_days * 86_400.0 / 2.0);
        let period = half_idle
            .min(super::super::store::RETENTION_EVERY)
            .max(Duration::from_millis(100));
        let mut every = tokio::time::interval(period);
        loop {
            every.tick().await;
            match self.expire_rooms(&io, idle_days).await {
                Ok(0) => {}
                Ok(gone) => tracing::info!(gone, idle_days, "idle empty rooms removed"),
                Err(e) => tracing::warn!(error = %e, "room expiry failed; trying again later"),
            }
        }
    }
}
