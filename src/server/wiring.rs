//! Wiring a chat to its backend and its Socket.IO server. A [`Backend`] is where messages,
//! names, rooms and member lists live — this process (SQLite or memory) or a shared Redis —
//! plus the background work it needs; [`wire`] builds the chat on it, one generic path for
//! every adapter, and hands back a router and a [`Stopper`].

use std::sync::Arc;

use socketioxide::adapter::{Adapter, Emitter, LocalAdapter};
use socketioxide::{SocketIo, SocketIoBuilder};
use socketioxide_core::adapter::DefinedAdapter;
use socketioxide_redis::drivers::fred::FredDriver;
use socketioxide_redis::{FredAdapter, RedisAdapterCtr};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::ServerError;
use super::chat::{Chat, Parts};
use super::cluster::{self, FeedReader, RedisLedger, RedisProbe, RedisRoster, RedisStore};
use super::config::{Config, Storage};
use super::guard::Guard;
use super::metrics::{Metrics, Probe};
use super::roster::{LocalRoster, Roster};
use super::search::{IndexedLog, Place, SearchIndex};
use super::store::Committed;
use super::store::{
    Directory, Ledger, MemoryDirectory, MemoryLedger, MemoryLog, MessageLog, NameHolds,
    SqliteLedger, SqliteStore, StorageProbe, StoreError,
};
use crate::protocol::{MAX_PAYLOAD_BYTES, PersonRenamed};

/// Where a chat's state lives, and the work that keeps it there.
struct Backend {
    log: Arc<dyn MessageLog>,
    directory: Arc<dyn Directory>,
    holds: Arc<dyn NameHolds>,
    ledger: Arc<dyn Ledger>,
    roster: Arc<dyn Roster>,
    probes: Vec<Arc<dyn Probe>>,
    /// The backend's own background work (the shared feed, heartbeats).
    tasks: Vec<JoinHandle<()>>,
    /// This node in the shared presence, taken out at once on a clean stop.
    node: Option<Arc<RedisRoster>>,
}

/// What a backend feeds the chat: messages to deliver, rooms whose member list changed.
struct Feeds {
    messages: UnboundedReceiver<Committed>,
    rooms: UnboundedReceiver<String>,
    /// Renames on other nodes (one process: none, its handlers apply their own).
    renames: UnboundedReceiver<PersonRenamed>,
}

/// A chat wired to its backend and its Socket.IO layer, not yet serving.
pub(super) struct Wired {
    pub chat: Chat,
    /// The router with the Socket.IO layer on it.
    pub router: axum::Router,
    pub probes: Vec<Arc<dyn Probe>>,
    pub stopper: Stopper,
}

/// Stops the chat's background work and closes every socket, in that order (the tasks
/// broadcast through the Socket.IO server, which must not be used after it closed).
pub(super) struct Stopper {
    stop: oneshot::Sender<()>,
    stopped: JoinHandle<()>,
}

impl Stopper {
    pub async fn stop(self) {
        // The stopping task outlives the server unless it panicked; then there is nothing
        // left to close.
        let _ = self.stop.send(());
        if let Err(e) = self.stopped.await {
            tracing::error!(error = %e, "stopping the chat failed");
        }
    }
}

/// The chat of `config` on its backend, its handlers on a Socket.IO layer over `router`.
pub(super) async fn wire(
    config: &Config,
    router: axum::Router,
    metrics: &Metrics,
    guard: &Guard,
) -> Result<Wired, ServerError> {
    let (messages, fed) = unbounded_channel();
    let (rooms, changed) = unbounded_channel();
    let (renames, renamed) = unbounded_channel();
    let feeds = Feeds {
        messages: fed,
        rooms: changed,
        renames: renamed,
    };
    match config.chat.redis() {
        None => {
            drop(renames);
            let mut backend = single(config, messages, rooms)?;
            let (index, feeds) = searchable(&mut backend, config, feeds)?;
            let chat = chat_on(&mut backend, config, metrics, guard, &index).await?;
            let builder = socket_io(config, &chat, &index);
            serve_on(builder, chat, backend, feeds, router).await
        }
        Some(url) => {
            let senders = (messages, rooms, renames);
            let (mut backend, adapter) = clustered(url, config, metrics, senders).await?;
            let (index, feeds) = searchable(&mut backend, config, feeds)?;
            let chat = chat_on(&mut backend, config, metrics, guard, &index).await?;
            let builder =
                socket_io(config, &chat, &index).with_adapter::<FredAdapter<Emitter>>(adapter);
            serve_on(builder, chat, backend, feeds, router).await
        }
    }
}

/// Puts the search index of `config` on the backend: the log wrapped so that what it purges
/// or expires leaves the index too, the feed passing through the index on its way to the
/// fan-out, and the catch-up started (rooms removed elsewhere reach it through the chat).
fn searchable(
    backend: &mut Backend,
    config: &Config,
    feeds: Feeds,
) -> Result<(SearchIndex, Feeds), ServerError> {
    let place = Place::of(&config.chat, config.leptos.site_addr.port());
    let index = SearchIndex::open(&place)?;
    let (passed, fed) = unbounded_channel();
    let tasks = [
        tokio::spawn(index.clone().tee(feeds.messages, passed)),
        tokio::spawn(index.clone().catch_up(backend.log.clone())),
    ];
    backend.tasks.extend(tasks);
    backend.log = Arc::new(IndexedLog::new(backend.log.clone(), index.clone()));
    let feeds = Feeds {
        messages: fed,
        rooms: feeds.rooms,
        renames: feeds.renames,
    };
    Ok((index, feeds))
}

async fn chat_on(
    backend: &mut Backend,
    config: &Config,
    metrics: &Metrics,
    guard: &Guard,
    index: &SearchIndex,
) -> Result<Chat, StoreError> {
    if config.chat.retention_days > 0.0 {
        // Once before serving, so nothing past retention is ever shown; then hourly.
        super::store::expire_older_than(backend.log.as_ref(), config.chat.retention_days).await;
        let retain = super::store::retain(backend.log.clone(), config.chat.retention_days);
        backend.tasks.push(tokio::spawn(retain));
    }
    Chat::new(Parts {
        log: backend.log.clone(),
        directory: backend.directory.clone(),
        holds: backend.holds.clone(),
        ledger: backend.ledger.clone(),
        search: index.clone(),
        roster: backend.roster.clone(),
        metrics: metrics.clone(),
        guard: guard.clone(),
        config: config.chat.clone(),
    })
    .await
}

/// A single process's stores: messages, directory, name holds, moderation ledger.
type Stores = (
    Arc<dyn MessageLog>,
    Arc<dyn Directory>,
    Arc<dyn NameHolds>,
    Arc<dyn Ledger>,
);

/// One self-contained process: SQLite (or memory), presence in this process.
fn single(
    config: &Config,
    messages: UnboundedSender<Committed>,
    rooms: UnboundedSender<String>,
) -> Result<Backend, ServerError> {
    let stores: Stores = match config.chat.storage {
        Storage::Sqlite => {
            let store = SqliteStore::open(&config.chat.database, config.chat.fsync, messages)?;
            let store = Arc::new(store);
            let ledger = Arc::new(SqliteLedger::open(&config.chat.database)?);
            (store.clone(), store.clone(), store, ledger)
        }
        Storage::Memory => {
            let directory = Arc::new(MemoryDirectory::default());
            (
                Arc::new(MemoryLog::new(config.chat.history_len, messages)),
                directory.clone(),
                directory,
                Arc::new(MemoryLedger::default()),
            )
        }
    };
    let (log, directory, holds, ledger) = stores;
    Ok(Backend {
        probes: vec![Arc::new(StorageProbe(log.clone()))],
        log,
        directory,
        holds,
        ledger,
        roster: Arc::new(LocalRoster::new(rooms)),
        tasks: Vec::new(),
        node: None,
    })
}

/// Where the shared feed puts what it reads.
type FeedSenders = (
    UnboundedSender<Committed>,
    UnboundedSender<String>,
    UnboundedSender<PersonRenamed>,
);

/// One node of several sharing the Redis at `url`: messages, names, rooms and presence in
/// Redis, broadcasts through socketioxide's Redis adapter (see [`cluster`]).
async fn clustered(
    url: &str,
    config: &Config,
    metrics: &Metrics,
    (messages, rooms, renames): FeedSenders,
) -> Result<(Backend, RedisAdapterCtr<FredDriver>), ServerError> {
    let client = cluster::client(url).await?;
    let node = Arc::new(RedisRoster::new(
        client.clone(),
        config.chat.node_ttl(),
        metrics.clone(),
    ));
    let store = Arc::new(RedisStore::new(client.clone()).for_node(node.node()));
    store.index_people().await?;
    // Its own connection: a blocking read would hold up every other command on a shared one.
    let reader = FeedReader {
        client: cluster::client(url).await?,
        messages,
        rooms,
        renames,
    };
    let start = reader.start_id().await?;
    let adapter = RedisAdapterCtr::new_with_fred(cluster::subscriber(url)?)
        .await
        .map_err(cluster::unavailable)?;
    tracing::info!(node = node.node(), "joined the cluster on {url}");
    let backend = Backend {
        log: store.clone(),
        directory: store.clone(),
        holds: store.clone(),
        ledger: Arc::new(RedisLedger::new(client.clone())),
        roster: node.clone(),
        probes: vec![
            Arc::new(StorageProbe(store)),
            Arc::new(RedisProbe {
                client,
                metrics: metrics.clone(),
            }),
        ],
        tasks: vec![
            tokio::spawn(reader.run(start)),
            tokio::spawn(node.clone().heartbeat()),
        ],
        node: Some(node),
    };
    Ok((backend, adapter))
}

/// How the chat's handlers get on an adapter's namespace: at once in one process, after
/// subscribing to the other nodes with Redis.
trait Attach: Adapter + DefinedAdapter + Sized {
    async fn attach(io: &SocketIo<Self>) -> Result<(), StoreError>;
}

impl Attach for LocalAdapter {
    async fn attach(io: &SocketIo<Self>) -> Result<(), StoreError> {
        Chat::attach(io);
        Ok(())
    }
}

impl Attach for FredAdapter<Emitter> {
    async fn attach(io: &SocketIo<Self>) -> Result<(), StoreError> {
        Chat::attach(io).await.map_err(cluster::unavailable)
    }
}

/// The one generic path: builds the Socket.IO layer, attaches the handlers, starts the
/// chat's tasks and the task that stops them.
async fn serve_on<A: Attach>(
    builder: SocketIoBuilder<A>,
    chat: Chat,
    backend: Backend,
    feeds: Feeds,
    router: axum::Router,
) -> Result<Wired, ServerError> {
    let (layer, io) = builder.build_layer();
    A::attach(&io).await?;
    let mut tasks = backend.tasks;
    tasks.push(tokio::spawn(
        chat.clone().sync_peers(io.clone(), feeds.rooms),
    ));
    tasks.push(tokio::spawn(
        chat.clone().fan_out(io.clone(), feeds.messages),
    ));
    tasks.push(tokio::spawn(chat.clone().watch_moderation(io.clone())));
    tasks.push(tokio::spawn(chat.clone().forget_unseen_regularly()));
    tasks.push(tokio::spawn(
        chat.clone().apply_renames(io.clone(), feeds.renames),
    ));
    if let Some(days) = chat.room_idle_days() {
        tasks.push(tokio::spawn(
            chat.clone().expire_rooms_regularly(io.clone(), days),
        ));
    }
    let (stop, stopping) = oneshot::channel::<()>();
    let node = backend.node;
    let stopped = tokio::spawn(async move {
        // A dropped sender (the server gone without a clean stop) stops too.
        let _ = stopping.await;
        for task in tasks {
            task.abort();
        }
        if let Some(node) = node {
            node.retire().await;
        }
        io.close().await;
    });
    Ok(Wired {
        chat,
        router: router.layer(layer),
        probes: backend.probes,
        stopper: Stopper { stop, stopped },
    })
}

/// The Socket.IO settings every backend shares.
fn socket_io(config: &Config, chat: &Chat, index: &SearchIndex) -> SocketIoBuilder {
    SocketIo::builder()
        .with_state(chat.clone())
        .with_state(index.clone())
        .ping_interval(config.chat.ping_interval())
        .ping_timeout(config.chat.ping_timeout())
        .connect_timeout(config.chat.connect_timeout())
        .max_buffer_size(config.chat.max_buffer_size)
        .max_payload(MAX_PAYLOAD_BYTES)
        .ws_max_message_size(MAX_PAYLOAD_BYTES as usize)
        .ws_max_frame_size(MAX_PAYLOAD_BYTES as usize)
        // Read WebSocket frames 1 KiB at a time (default 4 KiB): most chat frames are far
        // smaller, and this buffer lives as long as each connection (heaptrack: 4 KiB of an
        // idle connection's ~40 KiB).
        .ws_read_buffer_size(1024)
}
