//! Several nodes serving one chat, sharing a Redis (only when `chat.redis-url` is set).
//!
//! - Broadcasts of presence notices, typing and the room list go through socketioxide's Redis
//!   adapter (`socketioxide-redis`, fred driver), so `io.to(room).emit(..)` reaches every
//!   node's clients.
//! - Messages are stored in Redis, which is the one authority for ids and history: a Lua
//!   script gives each message the next id of its room, appends it to the room's stream
//!   (`chat:room:{room}`, entry id `{id}-0`) and to one global feed stream (`chat:feed`), in
//!   one atomic step. Every node reads the feed and delivers each message to its own clients.
//!   The feed is a stream, not pub/sub, for two reasons: every node sees every room's
//!   messages in id order (pub/sub from several publishers interleaves), and a node cut off
//!   from Redis reads on from where it stopped when Redis is back, so nothing is lost in the
//!   window.
//! - Presence: each node writes its own part of each room's member list (a hash per room and
//!   node) and refreshes a heartbeat; a node silent for `chat.node-ttl-ms` (killed, cut off)
//!   stops counting at once and is swept by the next live node, which names its rooms on the
//!   feed so every node sends the corrected lists. See [`RedisRoster`].
//!
//! One standalone Redis (7 or later: the adapter uses sharded pub/sub and RESP3) with AOF
//! persistence: history lives there.

mod keys;
mod ledger;
mod log;
mod names;
mod roster;
mod scripts;

use std::time::{Duration, Instant};

use fred::prelude::{Builder, ClientLike, Config, ReconnectPolicy};
use fred::types::RespVersion;
use futures::future::BoxFuture;

pub use ledger::RedisLedger;
pub use log::RedisStore;
pub use roster::{FeedReader, RedisRoster};

use super::metrics::{Metrics, Probe};
use super::store::StoreError;

/// Entries kept in the feed; a node further behind than this after an outage misses some
/// messages live (its clients see the gap and catch up from history).
const FEED_LEN: u64 = 100_000;
/// A command that gets no answer in this time fails (Redis down or unreachable) instead of
/// holding its caller.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause between reconnection attempts while Redis is away.
const RECONNECT_DELAY_MS: u32 = 250;

pub(crate) fn unavailable(e: impl std::fmt::Display) -> StoreError {
    super::store::unavailable(format_args!("redis: {e}"))
}

fn config(url: &str) -> Result<Config, StoreError> {
    let mut config = Config::from_url(url).map_err(|e| StoreError::Open {
        path: url.to_owned(),
        reason: e.to_string(),
    })?;
    // fred does not read `protocol=resp3` from the URL; the adapter needs RESP3.
    config.version = RespVersion::RESP3;
    Ok(config)
}

fn builder(url: &str) -> Result<Builder, StoreError> {
    let mut builder = Builder::from_config(config(url)?);
    builder
        .with_performance_config(|p| p.default_command_timeout = COMMAND_TIMEOUT)
        .with_connection_config(|c| {
            c.connection_timeout = COMMAND_TIMEOUT;
            c.internal_command_timeout = COMMAND_TIMEOUT;
            c.max_command_attempts = 1;
        })
        // Reconnect for ever: Redis coming back must not need a restart of the node.
        .set_policy(ReconnectPolicy::new_constant(0, RECONNECT_DELAY_MS));
    Ok(builder)
}

/// A connected command client (fails when Redis cannot be reached now).
pub async fn client(url: &str) -> Result<fred::clients::Client, StoreError> {
    let client = builder(url)?.build().map_err(unavailable)?;
    client.init().await.map_err(unavailable)?;
    Ok(client)
}

/// A pub/sub client for the Socket.IO adapter (which connects it), re-subscribing after
/// each reconnection: without that, cross-node broadcasts would stop for good after Redis
/// restarts.
pub fn subscriber(url: &str) -> Result<fred::clients::SubscriberClient, StoreError> {
    let client = builder(url)?
        .build_subscriber_client()
        .map_err(unavailable)?;
    tokio::spawn(resubscribe_after_reconnects(client.clone()));
    Ok(client)
}

/// fred's own `manage_subscriptions` does not do it for the adapter: its `resubscribe_all`
/// first sends `SUBSCRIBE` with no channel (the adapter only uses sharded channels), which
/// Redis refuses, and returns before `SSUBSCRIBE`. So the shard channels are renewed here.
async fn resubscribe_after_reconnects(client: fred::clients::SubscriberClient) {
    use fred::interfaces::{EventInterface, PubsubInterface};
    use tokio::sync::broadcast::error::RecvError;
    let mut reconnects = client.reconnect_rx();
    loop {
        match reconnects.recv().await {
            Ok(_) | Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
        let channels = client.tracked_shard_channels();
        for channel in &channels {
            if let Err(e) = client.ssubscribe(channel.to_string()).await {
                tracing::warn!(%channel, error = %e, "re-subscription failed");
            }
        }
        if !channels.is_empty() {
            tracing::info!(
                channels = channels.len(),
                "redis is back: re-subscribed to the other nodes"
            );
        }
    }
}

/// `/readyz`'s Redis check; also records the round trip.
pub struct RedisProbe {
    pub client: fred::clients::Client,
    pub metrics: Metrics,
}

impl Probe for RedisProbe {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn check(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let started = Instant::now();
            self.client.ping::<()>(None).await.map_err(unavailable)?;
            self.metrics.redis_round_trip(started.elapsed());
            Ok(())
        })
    }
}

/// A throwaway redis-server for unit tests (Debian's, installed by `scripts/setup.sh`), on a
/// free loopback port, gone when dropped.
#[cfg(test)]
pub(crate) mod test_redis {
    use std::process::{Child, Command, Stdio};

    pub struct RedisServer {
        port: u16,
        child: Child,
    }

    impl RedisServer {
        pub fn start() -> RedisServer {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .stdout(Stdio::null())
                .spawn()
                .expect("redis-server starts (scripts/setup.sh installs it)");
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(std::time::Instant::now() < deadline, "redis did not listen");
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            RedisServer { port, child }
        }

        /// The URL of database `db` (0 to 15).
        pub fn url(&self, db: u8) -> String {
            format!("redis://127.0.0.1:{}/{db}", self.port)
        }
    }

    impl Drop for RedisServer {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
