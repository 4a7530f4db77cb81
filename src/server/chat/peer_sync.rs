//! Keeping every client's member lists true. A room whose membership changed on this node is
//! marked dirty; one task publishes dirty rooms to the [`Roster`](super::super::roster::Roster)
//! and sends the lists of rooms that changed anywhere to this node's readers, at most one round
//! per `peer-update-interval` and fewer when a round sent a lot (lists are paced by bytes), so
//! N joins in one interval cost one list per member instead of N.
//!
//! Each list goes only to the clients that read it: the tutorial's `update-peers` (names in
//! `general`) or our `room-peers` (ids and names, every room).

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;
use socketioxide::{SendError, SocketError, SocketIo};
use tokio::sync::Notify;
use tokio::sync::mpsc::UnboundedReceiver;

use super::super::lock;
use super::super::store::StoreError;
use super::Chat;
use super::delivery::{broadcast, emit, queue_full};
use super::identity::Member;
use crate::protocol::{DEFAULT_ROOM, Notice, Peer, RoomPeers, UpdatePeers, WireEvent};

/// Socket rooms by which member list a connection reads.
pub(super) const READS_NAMES: &str = "reads:update-peers";
pub(super) const READS_ROOM_PEERS: &str = "reads:room-peers";
/// Member lists sent per second at most, in bytes (all rooms, all of this node's clients):
/// when a round sent more, the next one waits longer than `peer-update-interval`. Lists are
/// whole states, so fewer rounds lose nothing; in a join storm of N people this keeps the
/// cost from growing with N² per interval.
const STATE_BYTES_PER_SEC: f64 = 256.0 * 1024.0 * 1024.0;

/// Rooms whose member list changed on this node, and the bell that wakes the sync task.
#[derive(Default)]
pub(super) struct PeerSync {
    dirty: Mutex<HashSet<String>>,
    changed: Notify,
}

impl Chat {
    /// Marks a room's member list on this node as changed; [`Chat::sync_peers`] publishes it.
    pub(super) fn touch(&self, room: &str) {
        lock(&self.0.peer_sync.dirty).insert(room.to_owned());
        self.0.peer_sync.changed.notify_one();
    }

    /// Runs the member-list rounds until dropped: publishes this node's changed rooms, sends
    /// the lists of rooms that changed anywhere (`changed`, from the roster) to this node's
    /// clients, then the round's notices. What fails (Redis away) is tried again next round.
    /// Must be stopped before `SocketIo::close`.
    pub async fn sync_peers<A: Adapter>(
        self,
        io: SocketIo<A>,
        mut changed: UnboundedReceiver<String>,
    ) {
        let mut stale: HashSet<String> = HashSet::new();
        loop {
            let idle = stale.is_empty() && lock(&self.0.peer_sync.dirty).is_empty();
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
            let sent_bytes = self.send_lists(&io, &mut stale).await;
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

    /// Sends the lists of `stale` rooms to their readers here; rooms whose list could not be
    /// read stay in `stale`. Returns roughly how many bytes went out.
    async fn send_lists<A: Adapter>(&self, io: &SocketIo<A>, stale: &mut HashSet<String>) -> usize {
        if self.0.config.peer_list_limit == 0 {
            stale.clear();
            return 0;
        }
        let mut sent_bytes = 0;
        for room in std::mem::take(stale) {
            match self.listed_members(&room).await {
                Ok(peers) => {
                    let readers = lock(&self.0.presence).count(&room);
                    sent_bytes += readers * list_bytes(&peers);
                    let (names, peers) = peer_lists(&room, peers);
                    if let Some(names) = names {
                        self.send_state(io, &room, READS_ROOM_PEERS, &names).await;
                    }
                    self.send_state(io, &room, READS_NAMES, &peers).await;
                }
                Err(e) => {
                    tracing::warn!(%room, error = %e, "member list not read; will retry");
                    stale.insert(room);
                }
            }
        }
        sent_bytes
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

    /// A room's member list as sent: everyone on every node, at most `peer-list-limit`.
    async fn listed_members(&self, room: &str) -> Result<Vec<Peer>, StoreError> {
        let mut peers = self.0.roster.members(room).await?;
        peers.truncate(self.0.config.peer_list_limit);
        Ok(peers)
    }

    /// Sends one socket the member list of a room it joined while already listed there.
    pub(super) async fn send_peers_to<A: Adapter>(
        &self,
        s: &SocketRef<A>,
        member: &Member,
        room: &str,
    ) {
        if self.0.config.peer_list_limit == 0 {
            return;
        }
        match self.listed_members(room).await {
            Ok(peers) => match peer_lists(room, peers) {
                (_, peers) if member.room_peers => emit(s, &peers),
                (Some(names), _) => emit(s, &names),
                (None, _) => {}
            },
            // The next sync round of the room sends it.
            Err(e) => tracing::warn!(sid = %s.id, error = %e, "member list not read"),
        }
    }

    /// Sends a whole-state event (a member list) to this node's members of a room except
    /// those in socket room `except`. Being the whole state, it may be sent again: when some
    /// clients' queues were full, every member gets it individually, and a client whose queue
    /// is still full is asked to disconnect. (socketioxide refuses that while the queue is
    /// full; such a client is dropped at its next heartbeat, which cannot be queued either,
    /// and comes back to a fresh state rather than keep a stale one.)
    async fn send_state<E: WireEvent, A: Adapter>(
        &self,
        io: &SocketIo<A>,
        room: &str,
        except: &str,
        state: &E,
    ) {
        let readers = || io.local().to(room.to_owned()).except(except.to_owned());
        let Err(e) = readers().emit(E::NAME, state).await else {
            return;
        };
        self.0.metrics.broadcast_failed(&e);
        if !queue_full(&e) {
            tracing::debug!(room, error = %e, "state broadcast incomplete");
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

/// A room's member lists as sent: `room-peers` always, and the tutorial's `update-peers`
/// (names only) for `general`.
fn peer_lists(room: &str, peers: Vec<Peer>) -> (Option<UpdatePeers>, RoomPeers) {
    let names =
        (room == DEFAULT_ROOM).then(|| UpdatePeers(peers.iter().map(|p| p.name.clone()).collect()));
    let peers = RoomPeers {
        room: room.to_owned(),
        peers,
    };
    (names, peers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_general_has_a_tutorial_list_and_it_names_the_same_people() {
        let peers = vec![
            Peer {
                id: "a".into(),
                name: "red-fox".into(),
            },
            Peer {
                id: "b".into(),
                name: "blue-owl".into(),
            },
        ];
        let (names, rich) = peer_lists(DEFAULT_ROOM, peers.clone());
        assert_eq!(
            names,
            Some(UpdatePeers(vec!["red-fox".into(), "blue-owl".into()]))
        );
        assert_eq!(rich.peers, peers);
        assert_eq!(peer_lists("rust", peers).0, None);
    }
}
