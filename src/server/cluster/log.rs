//! The shared message log and directory in Redis (keys: see [`super::keys`]).

use fred::interfaces::{
    HashesInterface, KeysInterface, SetsInterface, SortedSetsInterface, StreamsInterface,
};
use fred::types::Expiration;
use fred::types::scripts::Script;
use futures::future::BoxFuture;

use super::keys::{self, FEED};
use super::scripts::{
    ALTER, APPEND, CHANGED, EXPIRE_ROOM, HELD_ANONYMOUSLY, READ, READ_ONE, REMEMBER, RENAME,
};
use super::{FEED_LEN, unavailable};
use crate::protocol::NewMessage;
use crate::server::naming::name_key;
use crate::server::store::{
    Altered, Appended, Change, Directory, Entry, MessageLog, Refusal, StoreError, apply,
};

/// Bytes the readiness probe writes: about what a long message takes.
const PROBE_BYTES: usize = 8 * 1024;

/// How long a retry with the same client id finds the stored message, in seconds.
const RETRY_WINDOW_SECS: u64 = 7 * 24 * 3600;

/// Tries an optimistic change this many times before saying the store is too busy.
const ALTER_ATTEMPTS: usize = 8;

pub struct RedisStore {
    pub(super) client: fred::clients::Client,
    append: Script,
    read: Script,
    alter: Script,
    changed: Script,
    expire_room: Script,
    remember: Script,
    rename: Script,
    /// Anonymous names and last seen times (see `names.rs`).
    pub(super) names: super::names::NameScripts,
    /// This node, whose anonymous connections' names it holds.
    pub(super) node: String,
}

impl RedisStore {
    /// Indexes by public id everyone named before the index existed (a Redis written by an
    /// older version); afterwards every naming adds to it.
    pub async fn index_people(&self) -> Result<(), StoreError> {
        let indexed: bool = self
            .client
            .exists(keys::PEOPLE)
            .await
            .map_err(unavailable)?;
        let users: Vec<String> = if indexed {
            Vec::new()
        } else {
            self.client.hkeys(keys::USERS).await.map_err(unavailable)?
        };
        let keyed: bool = self
            .client
            .exists(keys::NAMES_KEYED)
            .await
            .map_err(unavailable)?;
        if !keyed {
            // Names were kept as written before lookalikes were folded: keep them by key.
            let names: Vec<String> = self.client.hvals(keys::USERS).await.map_err(unavailable)?;
            for chunk in names.chunks(1000) {
                let folded: Vec<String> = chunk.iter().map(|n| name_key(n)).collect();
                let _: u64 = self
                    .client
                    .sadd(keys::NAMES, folded)
                    .await
                    .map_err(unavailable)?;
            }
            let _: () = self
                .client
                .set(keys::NAMES_KEYED, 1, None, None, false)
                .await
                .map_err(unavailable)?;
        }
        let seen_kept: bool = self.client.exists(keys::SEEN).await.map_err(unavailable)?;
        if !seen_kept {
            // Everyone named before last-seen times were kept counts as seen now.
            let all: Vec<String> = self.client.hkeys(keys::USERS).await.map_err(unavailable)?;
            let now = crate::server::store::now_ms() as f64;
            for chunk in all.chunks(1000) {
                let scored: Vec<(f64, String)> = chunk.iter().map(|u| (now, u.clone())).collect();
                let _: u64 = self
                    .client
                    .zadd(keys::SEEN, None, None, false, false, scored)
                    .await
                    .map_err(unavailable)?;
            }
        }
        for chunk in users.chunks(1000) {
            let ids: Vec<String> = chunk
                .iter()
                .map(|user| crate::server::people::public_id(user))
                .collect();
            let _: u64 = self
                .client
                .sadd(keys::PEOPLE, ids)
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }

    pub fn new(client: fred::clients::Client) -> Self {
        Self {
            client,
            append: keys::script(&format!("{READ_ONE}{APPEND}")),
            read: keys::script(READ),
            alter: keys::script(&format!("{READ_ONE}{ALTER}")),
            changed: keys::script(CHANGED),
            expire_room: keys::script(EXPIRE_ROOM),
            remember: keys::script(&format!("{HELD_ANONYMOUSLY}{REMEMBER}")),
            rename: keys::script(&format!("{HELD_ANONYMOUSLY}{RENAME}")),
            names: super::names::NameScripts::new(),
            node: String::new(),
        }
    }

    /// The store as the node `node` uses it (that node's anonymous names are its own).
    pub fn for_node(mut self, node: &str) -> Self {
        node.clone_into(&mut self.node);
        self
    }

    /// The rooms that have a message stream (a purged room's is deleted).
    async fn room_streams(&self) -> Result<Vec<String>, StoreError> {
        use futures::TryStreamExt;
        let streams: Vec<fred::types::Key> = self
            .client
            .scan_buffered(format!("{}*", keys::room("")), Some(500), None)
            .try_collect()
            .await
            .map_err(unavailable)?;
        let prefix = keys::room("");
        Ok(streams
            .iter()
            .filter_map(|key| {
                key.as_str()?
                    .strip_prefix(prefix.as_str())
                    .map(str::to_owned)
            })
            .collect())
    }

    /// Messages `lo..=hi` of `room` (or the last `count`, when not 0), current state.
    async fn read_range(
        &self,
        room: &str,
        lo: u64,
        hi: u64,
        count: usize,
    ) -> Result<Vec<NewMessage>, StoreError> {
        let flat: Vec<String> = self
            .read
            .evalsha_with_reload(
                &self.client,
                vec![
                    keys::room(room),
                    keys::state(room),
                    keys::changes(room),
                    keys::seq(room),
                ],
                vec![lo.to_string(), hi.to_string(), count.to_string()],
            )
            .await
            .map_err(unavailable)?;
        decode_triples(flat)
    }
}

/// The keys every script over one room's messages starts with: its stream, current-state
/// hash and changes set (the order `READ_ONE` expects), then `more`.
fn room_keys(room: &str, more: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut all = vec![keys::room(room), keys::state(room), keys::changes(room)];
    all.extend(more);
    all
}

/// `{id, json, rev, ...}` as a script returns them.
fn decode_triples(flat: Vec<String>) -> Result<Vec<NewMessage>, StoreError> {
    flat.chunks(3)
        .map(|t| match t {
            [id, json, rev] => decode(id, json, Some(rev)),
            _ => Err(unavailable("a script answered an incomplete triple")),
        })
        .collect()
}

/// A stored message from its stream entry: the JSON with the id taken from the entry id (and
/// the change number from its own field, when it has one).
pub(super) fn decode(
    entry_id: &str,
    json: &str,
    rev: Option<&str>,
) -> Result<NewMessage, StoreError> {
    let id = entry_id
        .split('-')
        .next()
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| unavailable(format!("bad entry id {entry_id:?}")))?;
    let mut message: NewMessage = serde_json::from_str(json)
        .map_err(|e| unavailable(format!("bad message {entry_id}: {e}")))?;
    message.id = id;
    if let Some(rev) = rev {
        // Scores come back from Redis as floats' text ("7" or "7.0" depending on version).
        message.rev = rev
            .parse::<f64>()
            .map(|rev| rev as u64)
            .map_err(|e| unavailable(format!("bad change number {rev:?}: {e}")))?;
    }
    Ok(message)
}

impl MessageLog for RedisStore {
    fn append<'a>(&'a self, entry: Entry<'a>) -> BoxFuture<'a, Result<Appended, StoreError>> {
        Box::pin(async move {
            let (room, author, client_id) = (entry.room, entry.author, entry.client_id);
            // The id is the script's to give; the stored copy carries it in its entry id.
            let message = entry.into_message(0);
            let json = serde_json::to_string(&message).map_err(unavailable)?;
            let dedupe = client_id.map_or(String::new(), |cid| keys::retry(room, author, cid));
            let script_keys = room_keys(room, [keys::seq(room), keys::rev(room), FEED.to_owned()]);
            let args = vec![
                json,
                dedupe,
                room.to_owned(),
                FEED_LEN.to_string(),
                RETRY_WINDOW_SECS.to_string(),
            ];
            let (duplicate, id, json, rev): (i64, String, String, String) = self
                .append
                .evalsha_with_reload(&self.client, script_keys, args)
                .await
                .map_err(unavailable)?;
            Ok(Appended {
                message: decode(&id, &json, Some(&rev))?,
                duplicate: duplicate == 1,
            })
        })
    }

    fn recent<'a>(
        &'a self,
        room: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, StoreError>> {
        Box::pin(async move {
            if limit == 0 {
                return Ok(Vec::new());
            }
            self.read_range(room, 0, 0, limit).await
        })
    }

    fn after<'a>(
        &'a self,
        room: &'a str,
        after: u64,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, StoreError>> {
        Box::pin(async move {
            let hi = after.saturating_add(limit as u64);
            self.read_range(room, after.saturating_add(1), hi, 0).await
        })
    }

    fn older<'a>(
        &'a self,
        room: &'a str,
        before: u64,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, StoreError>> {
        Box::pin(async move {
            let last: Option<u64> = self
                .client
                .get(keys::seq(room))
                .await
                .map_err(unavailable)?;
            let hi = before.saturating_sub(1).min(last.unwrap_or(0));
            if hi == 0 || limit == 0 {
                return Ok(Vec::new());
            }
            let lo = hi.saturating_sub(limit as u64 - 1).max(1);
            self.read_range(room, lo, hi, 0).await
        })
    }

    fn get<'a>(
        &'a self,
        room: &'a str,
        id: u64,
    ) -> BoxFuture<'a, Result<Option<NewMessage>, StoreError>> {
        Box::pin(async move {
            if id == 0 {
                return Ok(None);
            }
            Ok(self.read_range(room, id, id, 0).await?.pop())
        })
    }

    fn alter<'a>(
        &'a self,
        room: &'a str,
        id: u64,
        by: &'a str,
        change: Change,
    ) -> BoxFuture<'a, Result<Altered, StoreError>> {
        Box::pin(async move {
            // Optimistic: read, apply the rules here, store if nobody changed it meanwhile.
            for _ in 0..ALTER_ATTEMPTS {
                let Some(mut message) = self.get(room, id).await? else {
                    return Ok(Err(Refusal::NotFound));
                };
                let read_rev = message.rev;
                match apply(&mut message, &change, by) {
                    Err(refusal) => return Ok(Err(refusal)),
                    Ok(false) => return Ok(Ok(message)),
                    Ok(true) => {}
                }
                // Stored without its change number: the sorted set holds it.
                message.rev = 0;
                let json = serde_json::to_string(&message).map_err(unavailable)?;
                let rev: i64 = self
                    .alter
                    .evalsha_with_reload(
                        &self.client,
                        room_keys(room, [keys::rev(room), FEED.to_owned()]),
                        vec![
                            id.to_string(),
                            read_rev.to_string(),
                            json,
                            room.to_owned(),
                            FEED_LEN.to_string(),
                            u8::from(message.deleted).to_string(),
                        ],
                    )
                    .await
                    .map_err(unavailable)?;
                match rev {
                    -2 => return Ok(Err(Refusal::NotFound)),
                    -1 => continue,
                    rev => {
                        message.rev = rev as u64;
                        return Ok(Ok(message));
                    }
                }
            }
            Err(unavailable("the message kept changing; try again"))
        })
    }

    fn changed<'a>(
        &'a self,
        room: &'a str,
        since: u64,
        up_to: u64,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, StoreError>> {
        Box::pin(async move {
            let flat: Vec<String> = self
                .changed
                .evalsha_with_reload(
                    &self.client,
                    vec![keys::state(room), keys::changes(room)],
                    vec![since.to_string(), up_to.to_string(), limit.to_string()],
                )
                .await
                .map_err(unavailable)?;
            decode_triples(flat)
        })
    }

    fn rooms_with_messages(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(self.room_streams())
    }

    fn expire(&self, before_ms: u64) -> BoxFuture<'_, Result<usize, StoreError>> {
        Box::pin(async move {
            let mut gone = 0;
            for room in self.room_streams().await? {
                let room = room.as_str();
                let expired: u64 = self
                    .expire_room
                    .evalsha_with_reload(
                        &self.client,
                        room_keys(room, [keys::seq(room)]),
                        vec![before_ms.to_string()],
                    )
                    .await
                    .map_err(unavailable)?;
                gone += expired as usize;
            }
            Ok(gone)
        })
    }

    fn purge<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        Box::pin(async move {
            let gone: u64 = self
                .client
                .xlen(keys::room(room))
                .await
                .map_err(unavailable)?;
            let all = room_keys(room, [keys::seq(room), keys::rev(room)]);
            let _: u64 = self.client.del(all).await.map_err(unavailable)?;
            Ok(gone as usize)
        })
    }

    /// Redis persists on its own (AOF); nothing to do here.
    fn checkpoint(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }

    fn probe_write(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let filler = "0".repeat(PROBE_BYTES);
            let () = self
                .client
                .set(keys::PROBE, filler, Some(Expiration::EX(60)), None, false)
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }
}

impl Directory for RedisStore {
    fn name_of<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        Box::pin(async move {
            self.client
                .hget(keys::USERS, user)
                .await
                .map_err(unavailable)
        })
    }

    fn remember<'a>(
        &'a self,
        user: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let outcome: String = self
                .remember
                .evalsha_with_reload(
                    &self.client,
                    vec![
                        keys::USERS,
                        keys::NAMES,
                        keys::PEOPLE,
                        keys::NODES,
                        keys::SEEN,
                    ],
                    vec![
                        user,
                        name,
                        &crate::server::people::public_id(user),
                        &crate::server::store::now_ms().to_string(),
                        &name_key(name),
                    ],
                )
                .await
                .map_err(unavailable)?;
            match outcome.as_str() {
                "ok" => Ok(()),
                _ => Err(StoreError::Taken(name.to_owned())),
            }
        })
    }

    fn rename<'a>(
        &'a self,
        user: &'a str,
        old: &'a str,
        new: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let outcome: String = self
                .rename
                .evalsha_with_reload(
                    &self.client,
                    vec![keys::USERS, keys::NAMES, keys::NODES, FEED],
                    vec![
                        user.to_owned(),
                        new.to_owned(),
                        name_key(new),
                        name_key(old),
                        crate::server::store::now_ms().to_string(),
                        crate::server::people::public_id(user),
                        FEED_LEN.to_string(),
                    ],
                )
                .await
                .map_err(unavailable)?;
            match outcome.as_str() {
                "ok" => Ok(()),
                _ => Err(StoreError::Taken(new.to_owned())),
            }
        })
    }

    fn knows<'a>(&'a self, public_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            self.client
                .sismember(keys::PEOPLE, public_id)
                .await
                .map_err(unavailable)
        })
    }

    fn all_names(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move { self.client.smembers(keys::NAMES).await.map_err(unavailable) })
    }

    fn rooms(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move { self.client.smembers(keys::ROOMS).await.map_err(unavailable) })
    }

    fn add_room<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let added: u64 = self
                .client
                .sadd(keys::ROOMS, room)
                .await
                .map_err(unavailable)?;
            let _: bool = self
                .client
                .hsetnx(keys::ROOM_CREATED, room, crate::server::store::now_ms())
                .await
                .map_err(unavailable)?;
            Ok(added == 1)
        })
    }

    fn remove_room<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let removed: u64 = self
                .client
                .srem(keys::ROOMS, room)
                .await
                .map_err(unavailable)?;
            let _: u64 = self
                .client
                .hdel(keys::ROOM_CREATED, room)
                .await
                .map_err(unavailable)?;
            Ok(removed == 1)
        })
    }

    /// Rooms from before creation times were kept count as created when first asked.
    fn room_created<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<Option<u64>, StoreError>> {
        Box::pin(async move {
            let exists: bool = self
                .client
                .sismember(keys::ROOMS, room)
                .await
                .map_err(unavailable)?;
            if !exists {
                return Ok(None);
            }
            let now = crate::server::store::now_ms();
            let _: bool = self
                .client
                .hsetnx(keys::ROOM_CREATED, room, now)
                .await
                .map_err(unavailable)?;
            self.client
                .hget(keys::ROOM_CREATED, room)
                .await
                .map_err(unavailable)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::test_redis::RedisServer;
    use super::super::{FeedReader, client};
    use super::*;
    use crate::server::store::contract;

    /// A store on database `db` of `redis` (each contract step gets an empty one).
    async fn store(redis: &RedisServer, db: u8) -> RedisStore {
        RedisStore::new(client(&redis.url(db)).await.expect("redis answers"))
    }

    #[tokio::test]
    async fn redis_store_keeps_the_contract() {
        let redis = RedisServer::start();
        contract::ids_increase_by_one_per_room(&store(&redis, 0).await).await;
        contract::a_retry_with_the_same_client_id_is_stored_once(&store(&redis, 1).await).await;
        contract::recent_and_after_read_in_order(&store(&redis, 2).await).await;
        contract::a_purged_room_is_empty(&store(&redis, 10).await).await;
        contract::mentions_are_kept(&store(&redis, 12).await).await;
        contract::rooms_with_messages_are_listed(&store(&redis, 13).await).await;
        contract::older_pages_reach_the_first_message(&store(&redis, 6).await).await;
        contract::old_messages_expire_and_ids_go_on(&store(&redis, 8).await).await;
        contract::names_are_remembered(&store(&redis, 3).await).await;
        crate::server::store::holds_contract(&store(&redis, 11).await).await;
        contract::rooms_are_remembered(&store(&redis, 4).await).await;
        // The feed, as every node reads it: through the feed reader.
        let (fed, reading) = feed_of(&redis, 5).await;
        contract::the_feed_carries_new_messages_in_id_order(Arc::new(store(&redis, 5).await), fed)
            .await;
        reading.abort();
        let (fed, reading) = feed_of(&redis, 7).await;
        contract::changes_follow_the_rules_and_are_numbered(&store(&redis, 7).await, fed).await;
        reading.abort();
    }

    /// What a node reads from the feed of database `db`, from now on.
    async fn feed_of(
        redis: &RedisServer,
        db: u8,
    ) -> (
        tokio::sync::mpsc::UnboundedReceiver<crate::server::store::Committed>,
        tokio::task::JoinHandle<()>,
    ) {
        let (messages, fed) = tokio::sync::mpsc::unbounded_channel();
        let reader = FeedReader {
            client: client(&redis.url(db)).await.unwrap(),
            messages,
            rooms: tokio::sync::mpsc::unbounded_channel().0,
            renames: tokio::sync::mpsc::unbounded_channel().0,
        };
        let start = reader.start_id().await.unwrap();
        (fed, tokio::spawn(reader.run(start)))
    }
}
