//! The server: configuration, the axum router (pages, static site, Socket.IO on the same
//! port), the chat state and its handlers, and a clean start and stop.

pub mod config;

mod chat;
mod cluster;
mod guard;
mod metrics;
mod names;
mod presence;
mod roster;
mod site;
mod store;

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use axum::serve::ListenerExt;
use futures::future::BoxFuture;
use socketioxide::{SocketIo, SocketIoBuilder};
use tokio::net::TcpListener;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

pub use config::{Config, ConfigError};

use crate::protocol::{DEFAULT_ROOM, MAX_PAYLOAD_BYTES, NewMessage};
use chat::Chat;
use cluster::{FeedReader, RedisProbe, RedisRoster, RedisStore};
use config::{LogFormat, Storage};
use metrics::{Metrics, Probe};
use roster::LocalRoster;
use store::{Directory, MemoryDirectory, MemoryLog, MessageLog, SqliteStore, StoreError};

/// Why the server could not start or keep serving.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "cannot listen on {addr}: {source} (is another server running there? set LEPTOS_SITE_ADDR to another address)"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server stopped: {0}")]
    Serve(std::io::Error),
}

/// Locks a mutex even if a holder panicked. Every critical section in the server is a single
/// map or counter update, so the data stays consistent; serving on beats taking the chat down.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The binary's entry point: load config, listen, serve until SIGINT/SIGTERM.
pub async fn main() -> ExitCode {
    let config = match Config::load() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    init_tracing(config.chat.log_format);
    let result = async {
        let server = Server::bind(config).await?;
        tracing::info!("listening on http://{}", server.local_addr());
        server.serve(shutdown_signal()).await
    };
    match result.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A bound, not yet serving, server. Tests bind to port 0 and read [`Server::local_addr`].
pub struct Server {
    listener: TcpListener,
    router: axum::Router,
    chat: Chat,
    /// Background work (fan-out, member lists, the shared feed, heartbeats), stopped first.
    tasks: Vec<JoinHandle<()>>,
    /// Takes this node out of the shared presence at once (several nodes only).
    roster: Option<Arc<RedisRoster>>,
    /// Closes every socket (the adapter's type is erased here).
    close: Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>,
}

/// The feeds a chat is wired with: new messages to deliver, rooms whose member list changed.
struct Channels {
    messages: (UnboundedSender<NewMessage>, UnboundedReceiver<NewMessage>),
    rooms: (UnboundedSender<String>, UnboundedReceiver<String>),
}

/// Checks that the message store answers, for `/readyz`.
struct StorageProbe(Arc<dyn MessageLog>);

impl Probe for StorageProbe {
    fn name(&self) -> &'static str {
        "storage"
    }
    fn check(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move { self.0.recent(DEFAULT_ROOM, 1).await.map(|_| ()) })
    }
}

fn socket_io(config: &Config, chat: &Chat) -> SocketIoBuilder {
    SocketIo::builder()
        .with_state(chat.clone())
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

impl Server {
    pub async fn bind(config: Config) -> Result<Server, ServerError> {
        let addr = config.leptos.site_addr;
        let listener = listen(addr).map_err(|source| ServerError::Bind { addr, source })?;
        let metrics = Metrics::default();
        let guard = guard::Guard::new(&config.chat);
        let channels = Channels {
            messages: unbounded_channel(),
            rooms: unbounded_channel(),
        };
        let wired = match config.chat.redis() {
            None => single(&config, &guard, &metrics, channels).await?,
            Some(url) => clustered(url, &config, &guard, &metrics, channels).await?,
        };
        let mut tasks = wired.tasks;
        tasks.push(tokio::spawn(return_freed_memory()));
        let router =
            site::router(&config.leptos_options()).merge(metrics::router(metrics, wired.probes));
        let router = (wired.with_socket_io)(router)
            .layer(axum::middleware::from_fn_with_state(guard, guard::guard));
        Ok(Server {
            listener,
            router,
            chat: wired.chat,
            tasks,
            roster: wired.roster,
            close: wired.close,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// Serves until `shutdown` resolves, then closes every socket cleanly and returns.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let Server {
            listener,
            router,
            chat,
            tasks,
            roster,
            close,
        } = self;
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        // Chat frames are small and latency-bound: send them at once, not after Nagle's delay.
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "TCP_NODELAY not set");
            }
        });
        axum::serve(listener, service)
            .with_graceful_shutdown(async move {
                shutdown.await;
                tracing::info!("shutting down: closing every connection");
                // These tasks broadcast through `io`, which must not be used after close.
                for task in tasks {
                    task.abort();
                }
                if let Some(roster) = roster {
                    roster.retire().await;
                }
                close().await;
            })
            .await
            .map_err(ServerError::Serve)?;
        chat.checkpoint().await?;
        tracing::info!("stopped cleanly");
        Ok(())
    }
}

/// Connections waiting to be accepted. tokio's default (1 024) overflows when thousands of
/// people arrive at once (a reconnect after a restart, a join storm): the kernel then drops
/// their SYNs and each waits a second to retry. The kernel caps this at `somaxconn`.
const LISTEN_BACKLOG: u32 = 8192;

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As std's and tokio's bind do: a restarted server may take its port back at once.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// A chat wired to its storage and its Socket.IO server, not yet serving.
struct Wired {
    chat: Chat,
    probes: Vec<Arc<dyn Probe>>,
    tasks: Vec<JoinHandle<()>>,
    roster: Option<Arc<RedisRoster>>,
    close: Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>,
    /// Puts the Socket.IO layer on the router.
    with_socket_io: Box<dyn FnOnce(axum::Router) -> axum::Router + Send>,
}

/// One self-contained process: SQLite (or memory), presence in this process.
async fn single(
    config: &Config,
    guard: &guard::Guard,
    metrics: &Metrics,
    channels: Channels,
) -> Result<Wired, ServerError> {
    let (feed, fed) = channels.messages;
    let (changes, changed) = channels.rooms;
    let (log, identities): (Arc<dyn MessageLog>, Arc<dyn Directory>) = match config.chat.storage {
        Storage::Sqlite => {
            let store = SqliteStore::open(&config.chat.database, config.chat.fsync, feed)?;
            let store = Arc::new(store);
            (store.clone(), store)
        }
        Storage::Memory => (
            Arc::new(MemoryLog::new(config.chat.history_len, feed)),
            Arc::new(MemoryDirectory::default()),
        ),
    };
    let probes: Vec<Arc<dyn Probe>> = vec![Arc::new(StorageProbe(log.clone()))];
    let roster = Arc::new(LocalRoster::new(changes));
    let chat = Chat::new(
        log,
        identities,
        roster,
        metrics.clone(),
        guard.clone(),
        config.chat.clone(),
    )
    .await?;
    let (layer, io) = socket_io(config, &chat).build_layer();
    Chat::attach(&io);
    let tasks = vec![
        tokio::spawn(chat.clone().sync_peers(io.clone(), changed)),
        tokio::spawn(chat.clone().fan_out(io.clone(), fed)),
    ];
    Ok(Wired {
        chat,
        probes,
        tasks,
        roster: None,
        close: Box::new(move || Box::pin(async move { io.close().await })),
        with_socket_io: Box::new(move |router| router.layer(layer)),
    })
}

/// One node of several sharing the Redis at `url`: messages, names, rooms and presence in
/// Redis, broadcasts through socketioxide's Redis adapter (see [`cluster`]).
async fn clustered(
    url: &str,
    config: &Config,
    guard: &guard::Guard,
    metrics: &Metrics,
    channels: Channels,
) -> Result<Wired, ServerError> {
    use socketioxide_redis::{FredAdapter, RedisAdapterCtr};
    let (feed, fed) = channels.messages;
    let (changes, changed) = channels.rooms;
    let client = cluster::client(url).await?;
    let store = Arc::new(RedisStore::new(client.clone()));
    let roster = Arc::new(RedisRoster::new(
        client.clone(),
        config.chat.node_ttl(),
        metrics.clone(),
    ));
    // Its own connection: a blocking read would hold up every other command on a shared one.
    let reader = FeedReader {
        client: cluster::client(url).await?,
        messages: feed,
        rooms: changes,
    };
    let start = reader.start_id().await?;
    let probes: Vec<Arc<dyn Probe>> = vec![
        Arc::new(StorageProbe(store.clone())),
        Arc::new(RedisProbe {
            client,
            metrics: metrics.clone(),
        }),
    ];
    let chat = Chat::new(
        store.clone(),
        store,
        roster.clone(),
        metrics.clone(),
        guard.clone(),
        config.chat.clone(),
    )
    .await?;
    let adapter = RedisAdapterCtr::new_with_fred(cluster::subscriber(url)?)
        .await
        .map_err(cluster::unavailable)?;
    let (layer, io) = socket_io(config, &chat)
        .with_adapter::<FredAdapter<_>>(adapter)
        .build_layer();
    Chat::attach(&io).await.map_err(cluster::unavailable)?;
    tracing::info!(node = roster.node(), "joined the cluster on {url}");
    let tasks = vec![
        tokio::spawn(reader.run(start)),
        tokio::spawn(roster.clone().heartbeat()),
        tokio::spawn(chat.clone().sync_peers(io.clone(), changed)),
        tokio::spawn(chat.clone().fan_out(io.clone(), fed)),
    ];
    Ok(Wired {
        chat,
        probes,
        tasks,
        roster: Some(roster),
        close: Box::new(move || Box::pin(async move { io.close().await })),
        with_socket_io: Box::new(move |router| router.layer(layer)),
    })
}

/// glibc's allocator keeps memory freed by many threads (a burst of connections that left)
/// in its arenas; trimming now and then hands it back, so memory returns to its baseline.
async fn return_freed_memory() {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(2));
    loop {
        every.tick().await;
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: malloc_trim only walks the allocator's own free lists; it takes no pointers.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Logs to stdout, filtered by `RUST_LOG` (default `info`), as text or one JSON object per line.
fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // A second init (tests start several servers) is harmless; ignore it.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

#[cfg(test)]
mod tests {
    /// socketioxide fixed remote panics and advisories up to these versions; never go below.
    #[test]
    fn dependencies_stay_at_or_above_their_security_floor() {
        let lock: toml::Table = toml::from_str(include_str!("../../Cargo.lock")).unwrap();
        let version_of = |name: &str| -> Vec<u64> {
            let packages = lock["package"].as_array().unwrap();
            let package = packages
                .iter()
                .find(|p| p["name"].as_str() == Some(name))
                .unwrap_or_else(|| panic!("{name} is not in Cargo.lock"));
            package["version"]
                .as_str()
                .unwrap()
                .split('.')
                .map(|n| n.parse().unwrap())
                .collect()
        };
        assert!(version_of("socketioxide") >= vec![0, 18, 9]);
        assert!(version_of("engineioxide") >= vec![0, 17, 9]);
    }
}
