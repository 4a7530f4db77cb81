//! Keeping every client's member lists true. A room whose membership changed on this node is
//! marked dirty; one task publishes dirty rooms to the [`Roster`](super::super::roster::Roster)
//! and sends what changed in the rooms that changed anywhere to this node's readers, at most
//! one round per `peer-update-interval` and fewer when a round sent a lot (paced by bytes), so
//! N joins in one interval cost one message per member instead of N.
//!
//! Each kind of reader gets its own form: the tutorial's `update-peers` (names in `general`,
//! whole), `room-peers` (ids and names, every room, whole) or, for clients that keep the list
//! themselves (our own), one `room-peers` when they join a room and then only `peers-changed`
//! (who joined, left or was renamed). A list names at most `peer-list-limit` people; beyond
//! that only the `total` moves, and a change of the total alone is sent at most once a second.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use socketioxide::adapter::Adapter;
use socketioxide::operators::BroadcastOperators;
use socketioxide::socket::Sid;
use socketioxide::{SendError, SocketError, SocketIo};
use tokio::sync::Notify;
use tokio::sync::mpsc::UnboundedReceiver;

use super::super::lock;
use super::super::store::StoreError;
use super::Chat;
use super::delivery::{broadcast, queue_full};
use super::identity::Member;
use crate::protocol::{
    DEFAULT_ROOM, Notice, Peer, PeersChanged, RoomPeers, UpdatePeers, WireEvent,
};

/// Socket rooms by which member list a connection reads.
pub(super) const READS_NAMES: &str = "reads:update-peers";
pub(super) const READS_ROOM_PEERS: &str = "reads:room-peers";
pub(super) const READS_CHANGES: &str = "reads:peers-changed";
/// Member lists sent per second at most, in bytes (all rooms, all of this node's clients):
/// when a round sent more, the next one waits longer than `peer-update-interval`. Whole lists
/// lose nothing in fewer rounds, and changes are computed against what was sent, so they
/// merge too; in a join storm of N people this keeps the cost from growing with N² per
/// interval.
const STATE_BYTES_PER_SEC: f64 = 256.0 * 1024.0 * 1024.0;
/// A room's total alone (its list unchanged: everyone beyond the limit) is sent at most this
/// often.
const TOTAL_EVERY: Duration = Duration::from_secs(1);

/// Rooms whose member list changed on this node, connections waiting for a whole list, and
/// the bell that wakes the sync task.
#[derive(Default)]
pub(super) struct PeerSync {
    dirty: Mutex<HashSet<String>>,
    /// By room: connections that joined it and get its whole list in the next round.
    newcomers: Mutex<HashMap<String, Vec<Sid>>>,
    changed: Notify,
}

/// What this node last sent of a room's list (kept by the sync task; changes are computed
/// against it).
struct Sent {
    peers: Vec<Peer>,
    total: usize,
    /// When the total last changed in what was sent.
    total_at: Option<Instant>,
}

impl Chat {
    /// Marks a room's member list on this node as changed; [`Chat::sync_peers`] publishes it.
    pub(super) fn touch(&self, room: &str) {
        lock(&self.0.peer_sync.dirty).insert(room.to_owned());
        self.0.peer_sync.changed.notify_one();
    }

    /// A connection entered `room`: it gets the room's whole list in the next round when it
    /// keeps lists itself, or when its arrival changed nothing (another tab of someone listed),
    /// so no round would send it one.
    pub(super) fn list_for_newcomer(&self, room: &str, member: &Member, sid: Sid, arrived: bool) {
        if self.0.config.peer_list_limit == 0 || (arrived && !member.peer_changes) {
            return;
        }
        lock(&self.0.peer_sync.newcomers)
            .entry(room.to_owned())
            .or_default()
            .push(sid);
        self.0.peer_sync.changed.notify_one();
    }

    /// Runs the member-list rounds until dropped: publishes this node's changed rooms, sends
    /// what changed in rooms that changed anywhere (`changed`, from the roster) to this node's
    /// clients and whole lists to newcomers, then the round's notices. What fails (Redis
    /// away) is tried again next round. Must be stopped before `SocketIo::close`.
    pub async fn sync_peers<A: Adapter>(
        self,
        io: SocketIo<A>,
        mut changed: UnboundedReceiver<String>,
    ) {
        let mut stale: HashSet<String> = HashSet::new();
        let mut sent: HashMap<String, Sent> = HashMap::new();
        loop {
            let idle = stale.is_empty()
                && lock(&self.0.peer_sync.dirty).is_empty()
                && lock(&self.0.peer_sync.newcomers).is_empty();
            if idle {
                tokio::select! {
                    () = self.0.peer_sync.changed.notified() => {}
                    room = changed.recv() => match room {
                        Some(room) => { stale.insert(room); }
                        None => return,
                    },
                }
            }
            let notices = self.publish_dirty().await;
            while let Ok(room) = changed.try_recv() {
                stale.insert(room);
            }
            let sent_bytes = self.send_lists(&io, &mut stale, &mut sent).await;
            for notice in notices {
                let room = notice.room.clone();
                broadcast(&io, &self.0.metrics, vec![room], &notice).await;
            }
            let paced = Duration::from_secs_f64(sent_bytes as f64 / STATE_BYTES_PER_SEC);
            tokio::time::sleep(paced.max(self.0.config.peer_update_interval())).await;
        }
    }

    /// Publishes this node's part of every dirty room; the published rooms' notices.
    async fn publish_dirty(&self) -> Vec<Notice> {
        let mut notices = Vec::new();
        let rooms: Vec<String> = lock(&self.0.peer_sync.dirty).drain().collect();
        for room in rooms {
            let members = self.local_members(&room);
            if let Err(e) = self.0.roster.publish(&room, members).await {
                tracing::warn!(%room, error = %e, "member list not published; will retry");
                lock(&self.0.peer_sync.dirty).insert(room);
                continue;
            }
            notices.extend(self.0.notices.take(&room));
        }
        notices
    }

    /// Sends this node's readers what changed in the `stale` rooms and newcomers their rooms'
    /// whole lists; rooms whose list could not be read, or whose total is not due yet, stay in
    /// `stale`. Returns roughly how many bytes went out.
    async fn send_lists<A: Adapter>(
        &self,
        io: &SocketIo<A>,
        stale: &mut HashSet<String>,
        sent: &mut HashMap<String, Sent>,
    ) -> usize {
        let mut newcomers = std::mem::take(&mut *lock(&self.0.peer_sync.newcomers));
        if self.0.config.peer_list_limit == 0 {
            stale.clear();
            return 0;
        }
        let rooms: HashSet<String> = stale.drain().chain(newcomers.keys().cloned()).collect();
        let mut sent_bytes = 0;
        for room in rooms {
            let fresh = newcomers.remove(&room).unwrap_or_default();
            let (peers, total) = match self.listed_members(&room).await {
                Ok(listed) => listed,
                Err(e) => {
                    tracing::warn!(%room, error = %e, "member list not read; will retry");
                    if !fresh.is_empty() {
                        lock(&self.0.peer_sync.newcomers)
                            .entry(room.clone())
                            .or_default()
                            .extend(fresh);
                    }
                    stale.insert(room);
                    continue;
                }
            };
            let (before, total_before, total_at) = match sent.get(&room) {
                Some(s) => (s.peers.as_slice(), s.total, s.total_at),
                None => (&[][..], 0, None),
            };
            let change = PeersChanged::between(&room, before, &peers, total);
            let total_due =
                total != total_before && total_at.is_none_or(|t| t.elapsed() >= TOTAL_EVERY);
            if change.lists_anything() || total_due {
                let readers = lock(&self.0.presence).count(&room);
                sent_bytes += readers * list_bytes(&peers);
                self.send_change(io, &room, &change, &peers).await;
                let total_at = if total != total_before {
                    Some(Instant::now())
                } else {
                    total_at
                };
                sent.insert(
                    room.clone(),
                    Sent {
                        peers: peers.clone(),
                        total,
                        total_at,
                    },
                );
            } else if total != total_before {
                stale.insert(room.clone());
            }
            if !fresh.is_empty() {
                sent_bytes += fresh.len() * list_bytes(&peers);
                self.send_whole(io, &room, fresh, peers, total).await;
            }
            if total == 0 {
                sent.remove(&room);
            }
        }
        sent_bytes
    }

    /// Sends each kind of reader of `room` here its form of a change: the whole lists to
    /// those who read whole lists, `peers-changed` to those who keep the list themselves.
    async fn send_change<A: Adapter>(
        &self,
        io: &SocketIo<A>,
        room: &str,
        change: &PeersChanged,
        peers: &[Peer],
    ) {
        let readers = |except: [&'static str; 2]| {
            let room = room.to_owned();
            move || io.local().to(room.clone()).except(except)
        };
        if change.lists_anything() && room == DEFAULT_ROOM {
            let names = UpdatePeers(peers.iter().map(|p| p.name.clone()).collect());
            self.send_state(readers([READS_ROOM_PEERS, READS_CHANGES]), &names)
                .await;
        }
        let whole = RoomPeers {
            room: room.to_owned(),
            peers: peers.to_vec(),
            total: change.total,
        };
        self.send_state(readers([READS_NAMES, READS_CHANGES]), &whole)
            .await;
        self.send_state(readers([READS_NAMES, READS_ROOM_PEERS]), change)
            .await;
    }

    /// Sends newcomers still in `room` its whole list, in their form, through a socket room
    /// of their own (so the list is encoded once).
    async fn send_whole<A: Adapter>(
        &self,
        io: &SocketIo<A>,
        room: &str,
        fresh: Vec<Sid>,
        peers: Vec<Peer>,
        total: usize,
    ) {
        let fresh_room = format!("fresh:{room}");
        for sid in fresh {
            if let Some(s) = io.get_socket(sid)
                && s.rooms().iter().any(|r| r == room)
            {
                s.join(fresh_room.clone());
            }
        }
        let newcomers = |except: &'static [&'static str]| {
            let fresh_room = fresh_room.clone();
            move || io.local().to(fresh_room.clone()).except(except)
        };
        if room == DEFAULT_ROOM {
            let names = UpdatePeers(peers.iter().map(|p| p.name.clone()).collect());
            self.send_state(newcomers(&[READS_ROOM_PEERS, READS_CHANGES]), &names)
                .await;
        }
        let whole = RoomPeers {
            room: room.to_owned(),
            peers,
            total,
        };
        self.send_state(newcomers(&[READS_NAMES]), &whole).await;
        if let Err(e) = io.local().to(fresh_room.clone()).leave(fresh_room).await {
            tracing::warn!(room, error = %e, "newcomers not taken out of their socket room");
        }
    }

    /// This node's members of `room`, in the order they joined.
    fn local_members(&self, room: &str) -> Vec<Peer> {
        lock(&self.0.presence)
            .members(room)
            .into_iter()
            .map(|(id, name)| Peer {
                id: id.to_string(),
                name,
            })
            .collect()
    }

    /// A room's member list as sent (everyone on every node, at most `peer-list-limit`) and
    /// how many people are in it.
    async fn listed_members(&self, room: &str) -> Result<(Vec<Peer>, usize), StoreError> {
        let mut peers = self.0.roster.members(room).await?;
        let total = peers.len();
        peers.truncate(self.0.config.peer_list_limit);
        Ok((peers, total))
    }

    /// Sends an event (a whole list, or a change, which applied twice changes nothing more)
    /// to the sockets `readers` selects. When some clients' queues were full, every reader
    /// gets it individually, and a client whose queue is still full is asked to disconnect.
    /// (socketioxide refuses that while the queue is full; such a client is dropped at its
    /// next heartbeat, which cannot be queued either, and comes back to a fresh list rather
    /// than keep a stale one.)
    async fn send_state<E: WireEvent, A: Adapter>(
        &self,
        readers: impl Fn() -> BroadcastOperators<A>,
        state: &E,
    ) {
        let Err(e) = readers().emit(E::NAME, state).await else {
            return;
        };
        self.0.metrics.broadcast_failed(&e);
        if !queue_full(&e) {
            tracing::debug!(event = E::NAME, error = %e, "member list broadcast incomplete");
            return;
        }
        for s in readers().sockets() {
            if let Err(SendError::Socket(SocketError::InternalChannelFull)) = s.emit(E::NAME, state)
            {
                tracing::warn!(sid = %s.id, "slow reader disconnected");
                if let Err(e) = s.disconnect() {
                    tracing::debug!(error = %e, "disconnect of a slow reader failed");
                }
            }
        }
    }
}

/// Roughly what one copy of a room's member list costs on the wire.
fn list_bytes(peers: &[Peer]) -> usize {
    peers.iter().map(|p| p.name.len() + p.id.len() + 20).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(id: &str, name: &str) -> Peer {
        Peer {
            id: id.into(),
            name: name.into(),
        }
    }

    #[test]
    fn a_list_costs_about_its_encoded_size() {
        let peers = vec![
            peer("0123456789abcdef", "red-fox"),
            peer("fedcba9876543210", "blue-owl"),
        ];
        let encoded = serde_json::to_string(&peers).unwrap().len();
        let estimate = list_bytes(&peers);
        assert!(
            estimate * 2 > encoded && estimate < encoded * 2,
            "{estimate} vs {encoded}"
        );
    }
}
