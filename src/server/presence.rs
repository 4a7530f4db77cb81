//! Who is in which room. Pure bookkeeping, keyed by room, so the transport and the
//! broadcasting policy live elsewhere (and a shared store can replace it for several nodes).

use std::collections::HashMap;
use std::hash::Hash;

/// Members of every room, in the order they joined. A member may be connected several times
/// (tabs, devices) and is listed once, until the last of those connections leaves.
#[derive(Debug)]
pub struct Presence<K> {
    rooms: HashMap<String, Room<K>>,
    next_seq: u64,
}

#[derive(Debug)]
struct Room<K> {
    members: HashMap<K, Member>,
}

#[derive(Debug)]
struct Member {
    seq: u64,
    name: String,
    connections: usize,
}

impl<K> Default for Presence<K> {
    fn default() -> Self {
        Self {
            rooms: HashMap::new(),
            next_seq: 0,
        }
    }
}

impl<K: Hash + Eq + Clone> Presence<K> {
    /// Counts one more connection of `key` in `room`; true when `key` was not listed before.
    pub fn join(&mut self, room: &str, key: K, name: String) -> bool {
        self.next_seq += 1;
        let seq = self.next_seq;
        let room = self.rooms.entry(room.to_owned()).or_insert_with(|| Room {
            members: HashMap::new(),
        });
        let member = room.members.entry(key).or_insert(Member {
            seq,
            name,
            connections: 0,
        });
        member.connections += 1;
        member.connections == 1
    }

    /// Counts one connection of `key` out of `room`; true when that was its last one.
    pub fn leave(&mut self, room_name: &str, key: &K) -> bool {
        let Some(room) = self.rooms.get_mut(room_name) else {
            return false;
        };
        let Some(member) = room.members.get_mut(key) else {
            return false;
        };
        member.connections -= 1;
        if member.connections > 0 {
            return false;
        }
        room.members.remove(key);
        if room.members.is_empty() {
            self.rooms.remove(room_name);
        }
        true
    }

    /// The members of `room` and their display names, in join order.
    pub fn members(&self, room: &str) -> Vec<(K, String)> {
        let Some(room) = self.rooms.get(room) else {
            return Vec::new();
        };
        let mut members: Vec<(&K, &Member)> = room.members.iter().collect();
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
        assert!(p.join("general", 1, "red-fox".into()));
        assert!(p.join("general", 2, "blue-owl".into()));
        assert!(p.join("rust", 3, "teal-cat".into()));
        assert_eq!(p.names("general"), ["red-fox", "blue-owl"]);
        assert_eq!(p.names("rust"), ["teal-cat"]);
        assert_eq!(p.names("nowhere"), Vec::<String>::new());
    }

    #[test]
    fn two_tabs_of_one_person_are_one_entry_until_both_leave() {
        let mut p = Presence::default();
        assert!(p.join("general", 1, "red-fox".into()));
        assert!(!p.join("general", 1, "red-fox".into()));
        assert!(p.join("general", 2, "blue-owl".into()));
        assert_eq!(p.names("general"), ["red-fox", "blue-owl"]);
        assert!(!p.leave("general", &1));
        assert_eq!(p.names("general"), ["red-fox", "blue-owl"]);
        assert!(p.leave("general", &1));
        assert_eq!(p.names("general"), ["blue-owl"]);
    }

    #[test]
    fn leaving_twice_or_elsewhere_changes_nothing_and_empty_rooms_go() {
        let mut p = Presence::default();
        p.join("general", 1, "red-fox".into());
        assert!(!p.leave("rust", &1));
        assert!(!p.leave("general", &2));
        assert!(p.leave("general", &1));
        assert!(!p.leave("general", &1));
        assert!(p.rooms.is_empty());
    }
}
