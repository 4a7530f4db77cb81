//! Who is in which room. Pure bookkeeping, keyed by room, so the transport and the
//! broadcasting policy live elsewhere (and a shared store can replace it for several nodes).

use std::collections::HashMap;
use std::hash::Hash;

/// Members of every room, in the order they joined.
#[derive(Debug)]
pub struct Presence<K> {
    rooms: HashMap<String, Room<K>>,
    next_seq: u64,
}

#[derive(Debug)]
struct Room<K> {
    members: HashMap<K, (u64, String)>,
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
    /// Adds `key` (a connection) to `room` under `name`; true when it was not there yet.
    pub fn join(&mut self, room: &str, key: K, name: String) -> bool {
        self.next_seq += 1;
        let seq = self.next_seq;
        let room = self.rooms.entry(room.to_owned()).or_insert_with(|| Room {
            members: HashMap::new(),
        });
        match room.members.entry(key) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert((seq, name));
                true
            }
        }
    }

    /// Removes `key` from every room; returns the rooms it left.
    pub fn leave_all(&mut self, key: &K) -> Vec<String> {
        let mut left = Vec::new();
        self.rooms.retain(|name, room| {
            if room.members.remove(key).is_some() {
                left.push(name.clone());
            }
            !room.members.is_empty()
        });
        left
    }

    /// The display names in `room`, in join order.
    pub fn names(&self, room: &str) -> Vec<String> {
        let Some(room) = self.rooms.get(room) else {
            return Vec::new();
        };
        let mut members: Vec<&(u64, String)> = room.members.values().collect();
        members.sort_unstable_by_key(|(seq, _)| *seq);
        members.into_iter().map(|(_, name)| name.clone()).collect()
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
        assert!(!p.join("general", 1, "red-fox".into()));
        assert_eq!(p.names("general"), ["red-fox", "blue-owl"]);
        assert_eq!(p.names("rust"), ["teal-cat"]);
        assert_eq!(p.names("nowhere"), Vec::<String>::new());
    }

    #[test]
    fn leaving_removes_from_every_room_and_forgets_empty_rooms() {
        let mut p = Presence::default();
        p.join("general", 1, "red-fox".into());
        p.join("rust", 1, "red-fox".into());
        p.join("general", 2, "blue-owl".into());
        let mut left = p.leave_all(&1);
        left.sort();
        assert_eq!(left, ["general", "rust"]);
        assert_eq!(p.names("general"), ["blue-owl"]);
        assert!(p.names("rust").is_empty());
        assert!(!p.rooms.contains_key("rust"));
        assert!(p.leave_all(&1).is_empty());
    }
}
