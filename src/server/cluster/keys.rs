//! Every Redis key the chat uses, named once. Scripts that must compute keys inside Lua (a
//! node's rooms while sweeping it) get them from [`lua_keys`], generated from the same
//! prefixes, so a renamed key changes Rust and Lua together.
//!
//! | key | type | holds |
//! |---|---|---|
//! | `chat:feed` | stream | every new message (`r`, `i`, `v`, `m`), changed message (the same and `u`) and changed member list (`p`) |
//! | `chat:seq:{room}` | string | the room's last message id |
//! | `chat:rev:{room}` | string | the room's last change number |
//! | `chat:room:{room}` | stream | the room's messages as posted: entry `{id}-0`, fields `m` = JSON (id 0), `v` = change number; a deleted message's entry is removed |
//! | `chat:state:{room}` | hash | id → JSON of the current state of each message changed since it was posted (wins over the stream) |
//! | `chat:changes:{room}` | sorted set | id scored by its last change number: what a returning client missed |
//! | `chat:cid:{room}:{author}:{client id}` | string | the id a retry resolves to (a week) |
//! | `chat:users` / `chat:names` / `chat:rooms` | hash / set / set | user key → name, keys of the names given (`naming::name_key`), public rooms |
//! | `chat:names:keyed` | string | set once `chat:names` holds keys |
//! | `chat:people` | set | public ids of everyone named (whom a DM may go to) |
//! | `chat:probe` | string | the readiness probe's write (expires) |
//! | `chat:nodes` | sorted set | node → the time (ms) until which it counts as alive |
//! | `chat:presence:{room}:{node}` | hash | public id → name: that node's members of the room |
//! | `chat:presence:{room}` | set | nodes with members in the room |
//! | `chat:node:{node}:rooms` | set | rooms a node has members in, for sweeping it |
//! | `chat:node:{node}:names` | set | names of that node's anonymous connections (free when it goes) |
//! | `chat:seen` | sorted set | user key scored by when it was last seen (names are held for a while after) |
//! | `chat:room-created` | hash | public room → when it was created (ms), for expiring empty ones |
//! | `chat:mod:moderators` | set | moderators added at run time (public ids) |
//! | `chat:mod:restrictions` | hash | `{kind}\|{target}` → `{until}\|{cause}`: bans, mutes, banned addresses |
//! | `chat:mod:{book}` / `chat:mod:{book}:n` | sorted set / string | reports or audit records (JSON) scored by number; the last number |

pub const FEED: &str = "chat:feed";
pub const USERS: &str = "chat:users";
pub const NAMES: &str = "chat:names";
pub const ROOMS: &str = "chat:rooms";
pub const PEOPLE: &str = "chat:people";
pub const NODES: &str = "chat:nodes";
pub const ROOM_CREATED: &str = "chat:room-created";
pub const SEEN: &str = "chat:seen";
/// Set once `chat:names` holds name keys (lookalikes folded), not names as written.
pub const NAMES_KEYED: &str = "chat:names:keyed";
pub const MODERATORS: &str = "chat:mod:moderators";
pub const RESTRICTIONS: &str = "chat:mod:restrictions";

/// A moderation book's records and its last number.
pub fn book(book: &str) -> (String, String) {
    (format!("chat:mod:{book}"), format!("chat:mod:{book}:n"))
}
/// What the readiness probe writes (and lets expire).
pub const PROBE: &str = "chat:probe";

const PRESENCE: &str = "chat:presence:";
const NODE: &str = "chat:node:";
const NODE_ROOMS: &str = ":rooms";
const NODE_NAMES: &str = ":names";

pub fn seq(room: &str) -> String {
    format!("chat:seq:{room}")
}

pub fn room(room: &str) -> String {
    format!("chat:room:{room}")
}

pub fn rev(room: &str) -> String {
    format!("chat:rev:{room}")
}

pub fn state(room: &str) -> String {
    format!("chat:state:{room}")
}

pub fn changes(room: &str) -> String {
    format!("chat:changes:{room}")
}

pub fn retry(room: &str, author: &str, client_id: &str) -> String {
    format!("chat:cid:{room}:{author}:{client_id}")
}

pub fn presence(room: &str, node: &str) -> String {
    format!("{PRESENCE}{room}:{node}")
}

pub fn presence_nodes(room: &str) -> String {
    format!("{PRESENCE}{room}")
}

pub fn node_rooms(node: &str) -> String {
    format!("{NODE}{node}{NODE_ROOMS}")
}

pub fn node_names(node: &str) -> String {
    format!("{NODE}{node}{NODE_NAMES}")
}

/// Lua functions computing the keys above that scripts need to derive, prepended to them.
pub fn lua_keys() -> String {
    format!(
        "local function presence_key(room, node) return '{PRESENCE}' .. room .. ':' .. node end\n\
         local function presence_nodes_key(room) return '{PRESENCE}' .. room end\n\
         local function node_rooms_key(node) return '{NODE}' .. node .. '{NODE_ROOMS}' end\n\
         local function node_names_key(node) return '{NODE}' .. node .. '{NODE_NAMES}' end\n"
    )
}

/// A script with the key functions in scope.
pub fn script(body: &str) -> fred::types::scripts::Script {
    fred::types::scripts::Script::from_lua(format!("{}{body}", lua_keys()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lua_key_functions_spell_keys_as_rust_does() {
        let lua = lua_keys();
        let (room, node) = ("rust", "n1");
        // Each Lua function is the Rust one with its arguments concatenated in order.
        let lua_presence = format!("{PRESENCE}{room}:{node}");
        assert_eq!(presence(room, node), lua_presence);
        assert!(lua.contains(&format!("'{PRESENCE}' .. room .. ':' .. node")));
        assert_eq!(node_rooms(node), format!("{NODE}{node}{NODE_ROOMS}"));
        assert!(lua.contains(&format!("'{NODE}' .. node .. '{NODE_ROOMS}'")));
        assert_eq!(node_names(node), format!("{NODE}{node}{NODE_NAMES}"));
        assert!(lua.contains(&format!("'{NODE}' .. node .. '{NODE_NAMES}'")));
        assert_eq!(presence_nodes(room), format!("{PRESENCE}{room}"));
    }
}
