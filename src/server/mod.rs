//! The server: configuration, the axum router (pages, static site, Socket.IO on the same
//! port), the chat state and its handlers, and a clean start and stop.

pub mod config;

mod chat;
mod guard;
mod names;
mod presence;
mod site;
mod store;

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use axum::serve::ListenerExt;
use socketioxide::SocketIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use config::{Config, ConfigError};

use crate::protocol::MAX_PAYLOAD_BYTES;
use chat::Chat;
use config::Storage;
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
    init_tracing();
    let result = async {
        let server = Server::bind(Config::load()?).await?;
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
    io: SocketIo,
    chat: Chat,
    peer_sync: JoinHandle<()>,
    fan_out: JoinHandle<()>,
}

impl Server {
    pub async fn bind(config: Config) -> Result<Server, ServerError> {
        let addr = config.leptos.site_addr;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;

        let (feed, fed) = tokio::sync::mpsc::unbounded_channel();
        let (log, identities): (Arc<dyn MessageLog>, Arc<dyn Directory>) = match config.chat.storage
        {
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
        let guard = guard::Guard::new(&config.chat);
        let chat = Chat::new(log, identities, guard.clone(), config.chat.clone()).await?;
        let (layer, io) = SocketIo::builder()
            .with_state(chat.clone())
            .ping_interval(config.chat.ping_interval())
            .ping_timeout(config.chat.ping_timeout())
            .connect_timeout(config.chat.connect_timeout())
            .max_buffer_size(config.chat.max_buffer_size)
            .max_payload(MAX_PAYLOAD_BYTES)
            .ws_max_message_size(MAX_PAYLOAD_BYTES as usize)
            .ws_max_frame_size(MAX_PAYLOAD_BYTES as usize)
            .build_layer();
        Chat::attach(&io);
        let peer_sync = tokio::spawn(chat.clone().sync_peers(io.clone()));
        tokio::spawn(return_freed_memory());
        let fan_out = tokio::spawn(chat.clone().fan_out(io.clone(), fed));

        let router = site::router(&config.leptos_options())
            .layer(layer)
            .layer(axum::middleware::from_fn_with_state(guard, guard::guard));
        Ok(Server {
            listener,
            router,
            io,
            chat,
            peer_sync,
            fan_out,
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
            io,
            chat,
            peer_sync,
            fan_out,
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
                peer_sync.abort();
                fan_out.abort();
                io.close().await;
            })
            .await
            .map_err(ServerError::Serve)?;
        chat.checkpoint().await?;
        tracing::info!("stopped cleanly");
        Ok(())
    }
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

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A second init (tests start several servers) is harmless; ignore it.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
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
