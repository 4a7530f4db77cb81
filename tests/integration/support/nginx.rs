//! Debian's nginx (installed by `scripts/setup.sh`) in front of two chat nodes, running
//! `deploy/nginx.conf` — the file README quotes — with only its addresses changed, unprivileged
//! paths around it, on a loopback port of its own.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::net::TcpStream;

use super::{Process, TempDir, WAIT, temp_dir};

/// The committed configuration, as README quotes it.
pub const CONFIG: &str = include_str!("../../../deploy/nginx.conf");

/// Where Debian puts the binary (`/usr/sbin` is not on every user's PATH).
const DEBIAN_NGINX: &str = "/usr/sbin/nginx";

pub struct Nginx {
    pub addr: SocketAddr,
    _dir: TempDir,
    child: Option<Child>,
}

/// `CONFIG` with its example addresses replaced: the two nodes, and a listening address.
pub fn render(nodes: [SocketAddr; 2], listen: SocketAddr) -> String {
    let mut config = CONFIG.to_owned();
    for (example, real) in [
        ("server 127.0.0.1:3000;", format!("server {};", nodes[0])),
        ("server 127.0.0.1:3001;", format!("server {};", nodes[1])),
        ("listen 80;", format!("listen {listen};")),
    ] {
        assert_eq!(
            config.matches(example).count(),
            1,
            "deploy/nginx.conf should have `{example}` once (tests/integration/support/nginx.rs replaces it)"
        );
        config = config.replace(example, &real);
    }
    config
}

/// What runs `deploy/nginx.conf` here: one worker, logs on stderr, no access log, and every
/// path nginx writes inside `dir` (Debian's defaults are under /var, for root only). As root,
/// nginx runs its worker as `nobody`; it makes the temporary directories that user's, and
/// `dir` (0755) lets it reach them.
fn main_config(dir: &Path) -> String {
    let dir = dir.display();
    format!(
        "daemon off;\n\
         pid {dir}/nginx.pid;\n\
         error_log stderr;\n\
         worker_processes 1;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n\
         access_log off;\n\
         client_body_temp_path {dir}/body;\n\
         proxy_temp_path {dir}/proxy;\n\
         fastcgi_temp_path {dir}/fastcgi;\n\
         uwsgi_temp_path {dir}/uwsgi;\n\
         scgi_temp_path {dir}/scgi;\n\
         include {dir}/chat.conf;\n\
         }}\n"
    )
}

impl Nginx {
    /// Starts nginx in front of `nodes` and waits until it listens.
    pub async fn start(nodes: [SocketAddr; 2]) -> Nginx {
        let addr = Process::free_port();
        let dir = temp_dir("nginx");
        std::fs::write(dir.join("chat.conf"), render(nodes, addr)).expect("writes chat.conf");
        std::fs::write(dir.join("nginx.conf"), main_config(&dir)).expect("writes nginx.conf");
        let binary = if Path::new(DEBIAN_NGINX).exists() {
            DEBIAN_NGINX
        } else {
            "nginx"
        };
        let child = Command::new(binary)
            .arg("-e")
            .arg("stderr")
            .arg("-p")
            .arg(&*dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("nginx does not start ({e}): scripts/setup.sh installs Debian's nginx")
            });
        let mut nginx = Nginx {
            addr,
            _dir: dir,
            child: Some(child),
        };
        nginx.wait_until_listening().await;
        nginx
    }

    async fn wait_until_listening(&mut self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while TcpStream::connect(self.addr).await.is_err() {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("nginx exited at start ({status}); its reasons are on stderr above");
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "nginx did not listen"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Nginx {
    /// SIGTERM, so the master stops its worker too (after SIGKILL the worker would go on
    /// listening); SIGKILL if that takes longer than a few seconds.
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        for _ in 0..150 {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}
