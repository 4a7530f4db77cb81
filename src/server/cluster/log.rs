//! The shared message log and directory in Redis.
//!
//! Keys: `chat:seq:{room}` (last id), `chat:room:{room}` (stream; entry `{id}-0`, field `m` =
//! the message as JSON with its id left 0, the entry id being the truth), `chat:cid:{room}:
//! {author}:{client id}` (the id a retry resolves to, kept a week), `chat:users` (identity →
//! name), `chat:names` (every given name), `chat:rooms` (public rooms).

use fred::interfaces::{HashesInterface, SetsInterface, StreamsInterface};
use fred::types::scripts::Script;
use futures::future::BoxFuture;

use super::{FEED, FEED_LEN, unavailable};
use crate::protocol::NewMessage;
use crate::server::store::{Appended, Directory, Entry, MessageLog, StoreError, now_ms};

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
return 'ok'
";

pub struct RedisStore {
    client: fred::clients::Client,
    append: Script,
    remember: Script,
}

impl RedisStore {
    pub fn new(client: fred::clients::Client) -> Self {
        Self {
            client,
            append: Script::from_lua(APPEND),
            remember: Script::from_lua(REMEMBER),
        }
    }
}

fn room_key(room: &str) -> String {
    format!("chat:room:{room}")
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
            let message = NewMessage {
                sender: entry.sender.to_owned(),
                message: entry.text,
                room: entry.room.to_owned(),
                id: 0,
                ts: now_ms(),
                client_id: entry.client_id.map(str::to_owned),
                from: entry.from.to_owned(),
            };
            let json = serde_json::to_string(&message).map_err(unavailable)?;
            let dedupe = entry.client_id.map_or(String::new(), |cid| {
                format!("chat:cid:{}:{}:{cid}", entry.room, entry.author)
            });
            let keys = vec![
                format!("chat:seq:{}", entry.room),
                room_key(entry.room),
                FEED.to_owned(),
            ];
            let args = vec![
                json,
                dedupe,
                entry.room.to_owned(),
                FEED_LEN.to_string(),
                RETRY_WINDOW_SECS.to_string(),
            ];
            let (duplicate, id, json): (i64, String, String) = self
                .append
                .evalsha_with_reload(&self.client, keys, args)
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
                .xrevrange_values(room_key(room), "+", "-", Some(limit as u64))
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
                .xrange_values(room_key(room), start, "+", Some(limit as u64))
                .await
                .map_err(unavailable)?;
            decode_entries(entries)
        })
    }

    /// Redis persists on its own (AOF); nothing to do here.
    fn checkpoint(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }
}

impl Directory for RedisStore {
    fn name_of<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        Box::pin(async move {
            self.client
                .hget("chat:users", user)
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
                    vec!["chat:users", "chat:names"],
                    vec![user, name],
                )
                .await
                .map_err(unavailable)?;
            match outcome.as_str() {
                "ok" => Ok(()),
                _ => Err(StoreError::Taken(name.to_owned())),
            }
        })
    }

    fn all_names(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            self.client
                .smembers("chat:names")
                .await
                .map_err(unavailable)
        })
    }

    fn rooms(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            self.client
                .smembers("chat:rooms")
                .await
                .map_err(unavailable)
        })
    }

    fn add_room<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let added: u64 = self
                .client
                .sadd("chat:rooms", room)
                .await
                .map_err(unavailable)?;
            Ok(added == 1)
        })
    }
}
