//! The shared message log and directory in Redis (keys: see [`super::keys`]).

use fred::interfaces::{HashesInterface, KeysInterface, SetsInterface, StreamsInterface};
use fred::types::Expiration;
use fred::types::scripts::Script;
use futures::future::BoxFuture;

use super::keys::{self, FEED};
use super::{FEED_LEN, unavailable};
use crate::protocol::NewMessage;
use crate::server::store::{Appended, Directory, Entry, MessageLog, StoreError};

/// Bytes the readiness probe writes: about what a long message takes.
const PROBE_BYTES: usize = 8 * 1024;

/// How long a retry with the same client id finds the stored message, in seconds.
const RETRY_WINDOW_SECS: u64 = 7 * 24 * 3600;

/// Next id, room stream and feed in one step; a known (author, client id) returns the
/// stored message instead. Returns `{duplicate (0/1), id, json}`.
const APPEND: &str = r"
local dedupe = ARGV[2]
if dedupe ~= '' then
  local seen = redis.call('GET', dedupe)
  if seen then
    local found = redis.call('XRANGE', KEYS[2], seen .. '-0', seen .. '-0')
    if found[1] then
      return {1, seen, found[1][2][2]}
    end
  end
end
local id = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], id .. '-0', 'm', ARGV[1])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'r', ARGV[3], 'i', id, 'm', ARGV[1])
if dedupe ~= '' then
  redis.call('SET', dedupe, id, 'EX', ARGV[5])
end
return {0, tostring(id), ARGV[1]}
";

/// Gives an identity its name unless it has one or the name is someone else's.
const REMEMBER: &str = r"
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 'had' end
if redis.call('SADD', KEYS[2], ARGV[2]) == 0 then return 'taken' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[3])
return 'ok'
";

pub struct RedisStore {
    client: fred::clients::Client,
    append: Script,
    remember: Script,
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
            append: keys::script(APPEND),
            remember: keys::script(REMEMBER),
        }
    }
}

/// A stored message from its stream entry: the JSON with the id taken from the entry id.
pub(super) fn decode(entry_id: &str, json: &str) -> Result<NewMessage, StoreError> {
    let id = entry_id
        .split('-')
        .next()
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| unavailable(format!("bad entry id {entry_id:?}")))?;
    let mut message: NewMessage = serde_json::from_str(json)
        .map_err(|e| unavailable(format!("bad message {entry_id}: {e}")))?;
    message.id = id;
    Ok(message)
}

fn decode_entries(
    entries: Vec<(String, std::collections::HashMap<String, String>)>,
) -> Result<Vec<NewMessage>, StoreError> {
    entries
        .into_iter()
        .map(|(id, fields)| decode(&id, fields.get("m").map_or("", String::as_str)))
        .collect()
}

impl MessageLog for RedisStore {
    fn append<'a>(&'a self, entry: Entry<'a>) -> BoxFuture<'a, Result<Appended, StoreError>> {
        Box::pin(async move {
            let (room, author, client_id) = (entry.room, entry.author, entry.client_id);
            // The id is the script's to give; the stored copy carries it in its entry id.
            let message = entry.into_message(0);
            let json = serde_json::to_string(&message).map_err(unavailable)?;
            let dedupe = client_id.map_or(String::new(), |cid| keys::retry(room, author, cid));
            let script_keys = vec![keys::seq(room), keys::room(room), FEED.to_owned()];
            let args = vec![
                json,
                dedupe,
                room.to_owned(),
                FEED_LEN.to_string(),
                RETRY_WINDOW_SECS.to_string(),
            ];
            let (duplicate, id, json): (i64, String, String) = self
                .append
                .evalsha_with_reload(&self.client, script_keys, args)
                .await
                .map_err(unavailable)?;
            Ok(Appended {
                message: decode(&id, &json)?,
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
            let entries = self
                .client
                .xrevrange_values(keys::room(room), "+", "-", Some(limit as u64))
                .await
                .map_err(unavailable)?;
            let mut messages = decode_entries(entries)?;
            messages.reverse();
            Ok(messages)
        })
    }

    fn after<'a>(
        &'a self,
        room: &'a str,
        after: u64,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, StoreError>> {
        Box::pin(async move {
            let start = format!("{}-0", after.saturating_add(1));
            let entries = self
                .client
                .xrange_values(keys::room(room), start, "+", Some(limit as u64))
                .await
                .map_err(unavailable)?;
            decode_entries(entries)
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
                    vec![keys::USERS, keys::NAMES, keys::PEOPLE],
                    vec![user, name, &crate::server::people::public_id(user)],
                )
                .await
                .map_err(unavailable)?;
            match outcome.as_str() {
                "ok" => Ok(()),
                _ => Err(StoreError::Taken(name.to_owned())),
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
            Ok(added == 1)
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
        contract::names_are_remembered(&store(&redis, 3).await).await;
        contract::rooms_are_remembered(&store(&redis, 4).await).await;
        // The feed, as every node reads it: through the feed reader.
        let (messages, fed) = tokio::sync::mpsc::unbounded_channel();
        let reader = FeedReader {
            client: client(&redis.url(5)).await.unwrap(),
            messages,
            rooms: tokio::sync::mpsc::unbounded_channel().0,
        };
        let start = reader.start_id().await.unwrap();
        let reading = tokio::spawn(reader.run(start));
        contract::the_feed_carries_new_messages_in_id_order(Arc::new(store(&redis, 5).await), fed)
            .await;
        reading.abort();
    }
}
