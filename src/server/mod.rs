//! The server: the binary's entry point, binding, serving, and a clean stop.
//!
//! | module | holds |
//! |---|---|
//! | `config` | `Leptos.toml` + environment, one error naming the key |
//! | `wiring` | a chat on its backend (one process, or several nodes on Redis) |
//! | `chat/` | the Socket.IO handlers and the chat's state, one concern per file |
//! | `site`, `precompress` | pages and the static site; brotli twins for assets built without them |
//! | `client_bundle` | the stock `socket.io-client` bundles at `/socket.io/socket.io.js`, as Node serves them |
//! | `rate`, `guard` | rates per connection; per-address caps and the Origin check |
//! | `headers` | every response header: security, the pages' CSP, caching |
//! | `metrics` | `/metrics`, `/healthz`, `/readyz` |
//! | `people` | a person's user key and public id, derived |
//! | `names`, `presence`, `roster` | display names; who is where on this node; and across nodes |
//! | `store/` | the `MessageLog` and `Directory` traits, memory and SQLite, their contract |
//! | `cluster/` | the Redis implementations, the shared feed and heartbeats |

pub mod config;

mod chat;
mod client_bundle;
mod cluster;
mod guard;
pub(crate) mod headers;
mod metrics;
mod moderation;
mod names;
mod naming;
mod operator;
pub mod people;
mod precompress;
mod presence;
pub mod proxy;
mod rate;
mod roster;
pub mod search;
mod site;
mod store;
mod wiring;

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use config::{Config, ConfigError};

use chat::Chat;
use config::LogFormat;
use metrics::Metrics;
use store::StoreError;
use wiring::Stopper;

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
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(done) = operator::run(&args, &config).await {
        return done;
    }
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
    addr: SocketAddr,
    router: axum::Router,
    chat: Chat,
    /// Stops the chat's background work and closes every socket.
    stopper: Stopper,
    /// Hands freed memory back to the system now and then.
    trim: JoinHandle<()>,
}

impl Server {
    pub async fn bind(config: Config) -> Result<Server, ServerError> {
        let want = config.leptos.site_addr;
        let bind_error = |source| ServerError::Bind { addr: want, source };
        let listener = listen(want).map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let metrics = Metrics::default();
        let guard = guard::Guard::new(&config.chat);
        let options = config.leptos_options();
        let pkg_dir =
            std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
        // Development builds change under `cargo leptos watch`; only a release site is worth it.
        if options.env == leptos::config::Env::PROD {
            tokio::task::spawn_blocking(move || precompress::prepare(&pkg_dir))
                .await
                .map_err(|e| ServerError::Serve(std::io::Error::other(e)))?;
        }
        let site = site::router(&options);
        let wired = wiring::wire(&config, site, &metrics, &guard).await?;
        let router = wired
            .router
            .merge(client_bundle::router())
            .merge(metrics::router(metrics, wired.probes))
            .layer(axum::middleware::from_fn_with_state(guard, guard::guard));
        Ok(Server {
            listener,
            addr,
            router,
            chat: wired.chat,
            stopper: wired.stopper,
            trim: tokio::spawn(return_freed_memory()),
        })
    }

    /// Where it listens (the port the system chose, when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
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
            stopper,
            trim,
            ..
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
                trim.abort();
                stopper.stop().await;
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
    let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // A second init (tests start several servers) is harmless; ignore it.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// `RUST_LOG` (default `info`), except that socketioxide and engineioxide stay at `info`
/// unless it names them: at `debug` they log whole packets, and a connect packet carries the
/// person's identity token.
fn log_filter(spec: Option<&str>) -> tracing_subscriber::EnvFilter {
    use tracing_subscriber::EnvFilter;
    let spec = spec.unwrap_or("info");
    let mut filter = EnvFilter::try_new(spec).unwrap_or_else(|_| EnvFilter::new("info"));
    for packet_logger in ["socketioxide", "engineioxide"] {
        if !spec.contains(packet_logger)
            && let Ok(directive) = format!("{packet_logger}=info").parse()
        {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

#[cfg(test)]
mod tests {
    #[test]
    fn packet_logs_stay_quiet_unless_asked_for_by_name() {
        let debug = super::log_filter(Some("debug")).to_string();
        assert!(
            debug.contains("socketioxide=info") && debug.contains("engineioxide=info"),
            "{debug}"
        );
        let asked = super::log_filter(Some("debug,socketioxide=trace")).to_string();
        assert!(
            asked.contains("socketioxide=trace") && !asked.contains("socketioxide=info"),
            "{asked}"
        );
    }

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
