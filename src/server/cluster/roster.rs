//! Presence across nodes, and the feed every node reads (keys: see [`super::keys`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fred::interfaces::{SortedSetsInterface, StreamsInterface};
use fred::types::scripts::Script;
use futures::future::BoxFuture;
use tokio::sync::mpsc::UnboundedSender;

use super::keys::{self, FEED};
use super::{FEED_LEN, unavailable};
use crate::protocol::Peer;
use crate::server::lock;
use crate::server::metrics::Metrics;
use crate::server::roster::Roster;
use crate::server::store::{Committed, StoreError, now_ms};

/// Names and ids per HSET call (Lua's `unpack` has a stack limit).
const HSET_CHUNK: usize = 500;

/// Replaces this node's part of a room's list and names the room on the feed.
const PUBLISH: &str = r"
local node, room, chunk, feed_len = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
redis.call('DEL', KEYS[1])
if #ARGV > 4 then
  local i = 5
  while i <= #ARGV do
    local last = math.min(i + chunk - 1, #ARGV)
    redis.call('HSET', KEYS[1], unpack(ARGV, i, last))
    i = last + 1
  end
  redis.call('SADD', KEYS[2], node)
  redis.call('SADD', KEYS[3], room)
else
  redis.call('SREM', KEYS[2], node)
  redis.call('SREM', KEYS[3], room)
end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', feed_len, '*', 'p', room)
";

/// A room's members on nodes still alive at ARGV[2] (ms), as a flat list of id, name.
const MEMBERS: &str = r"
local out = {}
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local alive = redis.call('ZSCORE', KEYS[2], node)
  if alive and tonumber(alive) > tonumber(ARGV[2]) then
    local members = redis.call('HGETALL', presence_key(ARGV[1], node))
    for i = 1, #members do out[#out + 1] = members[i] end
  end
end
return out
";

/// Removes nodes and their members: ARGV[1] names one (a clean shutdown), or is empty to
/// take every node whose time ran out before ARGV[2]. Each of their rooms is named on the
/// feed. Returns how many nodes went.
const FORGET: &str = r"
local gone
if ARGV[1] ~= '' then
  gone = {ARGV[1]}
else
  gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
end
local count = 0
for _, node in ipairs(gone) do
  redis.call('ZREM', KEYS[1], node)
  local rooms_key = node_rooms_key(node)
  local rooms = redis.call('SMEMBERS', rooms_key)
  for _, room in ipairs(rooms) do
    redis.call('DEL', presence_key(room, node))
    redis.call('SREM', presence_nodes_key(room), node)
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'p', room)
  end
  redis.call('DEL', rooms_key)
  redis.call('DEL', node_names_key(node))
  count = count + 1
end
return count
";

/// This node's presence in Redis, and its heartbeat.
pub struct RedisRoster {
    client: fred::clients::Client,
    node: String,
    ttl: Duration,
    metrics: Metrics,
    publish: Script,
    members: Script,
    forget: Script,
    /// What this node last published per room, to publish again if Redis lost it (a sweep
    /// during an outage that outlasted the TTL).
    published: Mutex<HashMap<String, Vec<Peer>>>,
}

impl RedisRoster {
    pub fn new(client: fred::clients::Client, ttl: Duration, metrics: Metrics) -> Self {
        Self {
            client,
            node: format!("{:016x}", rand::random::<u64>()),
            ttl,
            metrics,
            publish: keys::script(PUBLISH),
            members: keys::script(MEMBERS),
            forget: keys::script(FORGET),
            published: Mutex::new(HashMap::new()),
        }
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    /// Marks this node alive for another TTL and sweeps nodes whose time ran out, every
    /// third of the TTL, until dropped. When this node had been swept itself (Redis was
    /// unreachable for longer than the TTL), it publishes its lists again.
    pub async fn heartbeat(self: std::sync::Arc<Self>) {
        let mut every = tokio::time::interval(self.ttl / 3);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let started = Instant::now();
            let alive_until = now_ms() + self.ttl.as_millis() as u64;
            let added: Result<i64, _> = self
                .client
                .zadd(
                    keys::NODES,
                    None,
                    None,
                    false,
                    false,
                    (alive_until as f64, self.node.as_str()),
                )
                .await;
            match added {
                Ok(added) => {
                    self.metrics.redis_round_trip(started.elapsed());
                    if added == 1 {
                        self.republish().await;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "heartbeat to redis failed");
                    continue;
                }
            }
            match self.run_forget("").await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(nodes = n, "removed nodes that stopped answering"),
                Err(e) => tracing::warn!(error = %e, "sweep of silent nodes failed"),
            }
        }
    }

    async fn republish(&self) {
        let lists: Vec<(String, Vec<Peer>)> = lock(&self.published)
            .iter()
            .map(|(room, peers)| (room.clone(), peers.clone()))
            .collect();
        if !lists.is_empty() {
            tracing::info!(
                rooms = lists.len(),
                "joined the cluster: publishing presence"
            );
        }
        for (room, peers) in lists {
            if let Err(e) = self.publish(&room, peers).await {
                tracing::warn!(%room, error = %e, "presence not republished");
            }
        }
    }

    async fn run_forget(&self, node: &str) -> Result<i64, StoreError> {
        self.forget
            .evalsha_with_reload(
                &self.client,
                vec![keys::NODES, FEED],
                vec![node.to_owned(), now_ms().to_string(), FEED_LEN.to_string()],
            )
            .await
            .map_err(unavailable)
    }

    /// Takes this node and its members out at once (a clean shutdown).
    pub async fn retire(&self) {
        match self.run_forget(&self.node).await {
            Ok(_) => tracing::info!(node = %self.node, "left the cluster"),
            Err(e) => tracing::warn!(error = %e, "could not leave the cluster cleanly"),
        }
    }
}

impl Roster for RedisRoster {
    fn publish<'a>(
        &'a self,
        room: &'a str,
        members: Vec<Peer>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let started = Instant::now();
            let mut args = vec![
                self.node.clone(),
                room.to_owned(),
                (HSET_CHUNK * 2).to_string(),
                FEED_LEN.to_string(),
            ];
            for peer in &members {
                args.push(peer.id.clone());
                args.push(peer.name.clone());
            }
            let script_keys = vec![
                keys::presence(room, &self.node),
                keys::presence_nodes(room),
                keys::node_rooms(&self.node),
                FEED.to_owned(),
            ];
            let () = self
                .publish
                .evalsha_with_reload(&self.client, script_keys, args)
                .await
                .map_err(unavailable)?;
            self.metrics.redis_round_trip(started.elapsed());
            let mut published = lock(&self.published);
            if members.is_empty() {
                published.remove(room);
            } else {
                published.insert(room.to_owned(), members);
            }
            Ok(())
        })
    }

    fn members<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<Vec<Peer>, StoreError>> {
        Box::pin(async move {
            let started = Instant::now();
            let flat: Vec<String> = self
                .members
                .evalsha_with_reload(
                    &self.client,
                    vec![keys::presence_nodes(room), keys::NODES.to_owned()],
                    vec![room.to_owned(), now_ms().to_string()],
                )
                .await
                .map_err(unavailable)?;
            self.metrics.redis_round_trip(started.elapsed());
            let mut peers: Vec<Peer> = flat
                .chunks_exact(2)
                .map(|pair| Peer {
                    id: pair[0].clone(),
                    name: pair[1].clone(),
                })
                .collect();
            // One person on two nodes is listed once; every node lists in the same order.
            peers.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
            peers.dedup_by(|a, b| a.id == b.id);
            Ok(peers)
        })
    }
}

/// Reads the feed from where it stands when the node starts: each new message goes to
/// `messages` (every node's, in commit order), each room whose member list changed to
/// `rooms`. Rides out Redis outages: it reads on from its last entry when Redis is back.
pub struct FeedReader {
    pub client: fred::clients::Client,
    pub messages: UnboundedSender<Committed>,
    pub rooms: UnboundedSender<String>,
    /// People who chose a new name (on any node).
    pub renames: UnboundedSender<crate::protocol::PersonRenamed>,
}

impl FeedReader {
    /// The feed's newest entry id now (where this node starts reading).
    pub async fn start_id(&self) -> Result<String, StoreError> {
        let newest: Vec<(String, HashMap<String, String>)> = self
            .client
            .xrevrange_values(FEED, "+", "-", Some(1))
            .await
            .map_err(unavailable)?;
        Ok(newest
            .into_iter()
            .next()
            .map_or_else(|| "0-0".to_owned(), |(id, _)| id))
    }

    pub async fn run(self, mut last: String) {
        let mut failing = false;
        loop {
            // A read that waited its full second for nothing answers nil.
            let read = self
                .client
                .xread::<fred::types::Value, _, _>(Some(1024), Some(1000), FEED, last.as_str())
                .await
                .and_then(|value| {
                    if value.is_null() {
                        Ok(HashMap::new())
                    } else {
                        value.into_xread_response::<String, String, String, String>()
                    }
                });
            let batches = match read {
                Ok(batches) => {
                    if failing {
                        tracing::info!("reading the feed again");
                        failing = false;
                    }
                    batches
                }
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "feed unreadable; retrying");
                        failing = true;
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    continue;
                }
            };
            for (id, fields) in batches.into_values().flatten() {
                if let Some(room) = fields.get("p") {
                    let _ = self.rooms.send(room.clone());
                } else if let (Some(id), Some(name)) = (fields.get("n"), fields.get("name")) {
                    let renamed = crate::protocol::PersonRenamed {
                        id: id.clone(),
                        name: name.clone(),
                    };
                    let _ = self.renames.send(renamed);
                } else if let (Some(json), Some(msg_id)) = (fields.get("m"), fields.get("i")) {
                    let rev = fields.get("v").map(String::as_str);
                    match super::log::decode(msg_id, json, rev) {
                        Ok(message) => {
                            let committed = if fields.contains_key("u") {
                                Committed::Updated(message)
                            } else {
                                Committed::New(message)
                            };
                            if self.messages.send(committed).is_err() {
                                return;
                            }
                        }
                        Err(e) => tracing::error!(%id, error = %e, "feed entry unreadable"),
                    }
                }
                last = id;
            }
        }
    }
}
