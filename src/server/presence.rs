//! Who is in which room. Pure bookkeeping, keyed by room, so the transport and the
//! broadcasting policy live elsewhere (and a shared store can replace it for several nodes).

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

/// Members of every room, in the order they joined. A member (`K`, a person) may be
/// connected several times (`C`, tabs, devices) and is listed once, until the last of those
/// connections leaves. Joining and leaving are idempotent per connection, so a connection
/// whose disconnect was handled before its connect cannot leave a ghost behind.
///
/// Presence also remembers which rooms each connection is in, so a connection's departure
/// never depends on the transport still knowing its rooms (socketioxide may forget them
/// before the disconnect handler runs: see [`Presence::leave_everywhere`]).
#[derive(Debug)]
pub struct Presence<K, C> {
    rooms: HashMap<String, Room<K, C>>,
    /// Each connection's rooms, and whose connection it is.
    connections: HashMap<C, (K, HashSet<String>)>,
    next_seq: u64,
}

#[derive(Debug)]
struct Room<K, C> {
    members: HashMap<K, Member<C>>,
}

#[derive(Debug)]
struct Member<C> {
    seq: u64,
    name: String,
    connections: HashSet<C>,
}

impl<K, C> Default for Presence<K, C> {
    fn default() -> Self {
        Self {
            rooms: HashMap::new(),
            connections: HashMap::new(),
            next_seq: 0,
        }
    }
}

impl<K: Hash + Eq + Clone, C: Hash + Eq + Clone> Presence<K, C> {
    /// Adds connection `conn` of `key` to `room`; true when `key` was not listed before.
    pub fn join(&mut self, room_name: &str, key: K, conn: C, name: String) -> bool {
        self.next_seq += 1;
        let seq = self.next_seq;
        let room = self
            .rooms
            .entry(room_name.to_owned())
            .or_insert_with(|| Room {
                members: HashMap::new(),
            });
        let member = room.members.entry(key.clone()).or_insert(Member {
            seq,
            name,
            connections: HashSet::new(),
        });
        member.connections.insert(conn.clone());
        let first = member.connections.len() == 1;
        self.connections
            .entry(conn)
            .or_insert_with(|| (key, HashSet::new()))
            .1
            .insert(room_name.to_owned());
        first
    }

    /// Takes connection `conn` of `key` out of `room`; true when that was its last one.
    pub fn leave(&mut self, room_name: &str, key: &K, conn: &C) -> bool {
        if let Some((_, rooms)) = self.connections.get_mut(conn) {
            rooms.remove(room_name);
            if rooms.is_empty() {
                self.connections.remove(conn);
            }
        }
        let Some(room) = self.rooms.get_mut(room_name) else {
            return false;
        };
        let Some(member) = room.members.get_mut(key) else {
            return false;
        };
        if !member.connections.remove(conn) || !member.connections.is_empty() {
            return false;
        }
        room.members.remove(key);
        if room.members.is_empty() {
            self.rooms.remove(room_name);
        }
        true
    }

    /// Takes connection `conn` out of every room it is in; the rooms where it was its
    /// person's last connection (who therefore left them), in no particular order.
    pub fn leave_everywhere(&mut self, conn: &C) -> Vec<String> {
        let Some((key, rooms)) = self.connections.remove(conn) else {
            return Vec::new();
        };
        rooms
            .into_iter()
            .filter(|room| self.leave(room, &key, conn))
            .collect()
    }

    /// The rooms connection `conn` is in.
    #[cfg(test)]
    fn rooms_of(&self, conn: &C) -> Vec<String> {
        self.connections
            .get(conn)
            .map(|(_, rooms)| rooms.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Gives `key` the display name `name` in every room it is in; the rooms where it changed.
    pub fn rename(&mut self, key: &K, name: &str) -> Vec<String> {
        self.rooms
            .iter_mut()
            .filter_map(|(room, r)| {
                let member = r.members.get_mut(key).filter(|m| m.name != name)?;
                name.clone_into(&mut member.name);
                Some(room.clone())
            })
            .collect()
    }

    /// Whether `key` has a connection in `room`.
    pub fn contains(&self, room: &str, key: &K) -> bool {
        self.rooms
            .get(room)
            .is_some_and(|r| r.members.contains_key(key))
    }

    /// How many people are in `room`.
    pub fn count(&self, room: &str) -> usize {
        self.rooms.get(room).map_or(0, |r| r.members.len())
    }

    /// The members of `room` and their display names, in join order.
    pub fn members(&self, room: &str) -> Vec<(K, String)> {
        let Some(room) = self.rooms.get(room) else {
            return Vec::new();
        };
        let mut members: Vec<(&K, &Member<C>)> = room.members.iter().collect();
        members.sort_unstable_by_key(|(_, m)| m.seq);
        members
            .into_iter()
            .map(|(k, m)| (k.clone(), m.name.clone()))
            .collect()
    }

    /// The display names in `room`, in join order.
    #[cfg(test)]
    fn names(&self, room: &str) -> Vec<String> {
        self.members(room).into_iter().map(|(_, n)| n).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_back_in_join_order_per_room() {
        let mut p = Presence::default();
        assert!(p.join("general", 1, 10, "red-fox".into()));
        assert!(p.join("general", 2, 20, "blue-owl".into()));
        assert!(p.join("rust", 3, 30, "teal-cat".into()));
        assert_eq!(p.names("general"), ["red-fox", "blue-owl"]);
        assert_eq!(
            (p.count("general"), p.count("rust"), p.count("nowhere")),
            (2, 1, 0)
        );
        assert_eq!(p.names("rust"), ["teal-cat"]);
        assert_eq!(p.names("nowhere"), Vec::<String>::new());
    }

    #[test]
    fn a_rename_shows_in_every_room_of_the_person_in_place() {
        let mut p: Presence<&str, u32> = Presence::default();
        p.join("general", "ann", 1, "red-fox".into());
        p.join("general", "bob", 2, "blue-owl".into());
        p.join("rust", "ann", 1, "red-fox".into());
        let mut changed = p.rename(&"ann", "Ann");
        changed.sort();
        assert_eq!(changed, ["general", "rust"]);
        assert_eq!(p.names("general"), ["Ann", "blue-owl"], "keeps its place");
        assert!(p.rename(&"ann", "Ann").is_empty(), "no change, no rooms");
    }

    #[test]
    fn two_tabs_of_one_person_are_one_entry_until_both_leave() {
        let mut p = Presence::default();
        assert!(p.join("general", 1, 10, "red-fox".into()));
        assert!(!p.join("general", 1, 11, "red-fox".into()));
        assert!(p.join("general", 2, 20, "blue-owl".into()));
        assert_eq!(p.names("general"), ["red-fox", "blue-owl"]);
        assert!(!p.leave("general", &1, &10));
        assert_eq!(p.names("general"), ["red-fox", "blue-owl"]);
        assert!(p.leave("general", &1, &11));
        assert_eq!(p.names("general"), ["blue-owl"]);
    }

    #[test]
    fn leaving_twice_or_elsewhere_changes_nothing_and_empty_rooms_go() {
        let mut p = Presence::default();
        p.join("general", 1, 10, "red-fox".into());
        p.join("general", 1, 11, "red-fox".into());
        assert!(!p.leave("rust", &1, &10));
        assert!(!p.leave("general", &2, &10));
        assert!(!p.leave("general", &1, &10));
        assert!(
            !p.leave("general", &1, &10),
            "a second leave of one tab is nothing"
        );
        assert_eq!(
            p.names("general"),
            ["red-fox"],
            "the other tab keeps it listed"
        );
        assert!(p.leave("general", &1, &11));
        assert!(p.rooms.is_empty());
        assert!(
            p.connections.is_empty(),
            "nothing is remembered of gone connections"
        );
    }

    #[test]
    fn a_closed_connection_leaves_every_room_it_was_in_without_being_told_which() {
        let mut p = Presence::default();
        p.join("general", 1, 10, "red-fox".into());
        p.join("rust", 1, 10, "red-fox".into());
        p.join("rust", 1, 11, "red-fox".into());
        p.join("general", 2, 20, "blue-owl".into());
        let mut rooms = p.rooms_of(&10);
        rooms.sort();
        assert_eq!(rooms, ["general", "rust"]);
        assert_eq!(
            p.leave_everywhere(&10),
            ["general"],
            "still in rust through another tab"
        );
        assert_eq!(p.names("general"), ["blue-owl"]);
        assert_eq!(p.names("rust"), ["red-fox"]);
        assert!(
            p.leave_everywhere(&10).is_empty(),
            "a second close is nothing"
        );
        assert_eq!(p.leave_everywhere(&11), ["rust"]);
        assert_eq!(p.leave_everywhere(&20), ["general"]);
        assert!(p.rooms.is_empty() && p.connections.is_empty());
    }
}
