//! Runtime configuration: `Leptos.toml`, with every key overridable from the environment.
//!
//! Each key `section.some-key` can be set by the variable `SECTION_SOME_KEY` (so
//! `leptos.site-addr` is `LEPTOS_SITE_ADDR`, the same variables cargo-leptos sets when it runs
//! the server, and `chat.max-connections` is `CHAT_MAX_CONNECTIONS`). Precedence: environment,
//! then file, then the defaults below. A bad file or value is one error naming the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use leptos::config::LeptosOptions;
use serde::{Deserialize, Serialize};

/// Where the configuration file is looked for, unless `CHAT_CONFIG` names another.
pub const DEFAULT_PATH: &str = "Leptos.toml";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub leptos: LeptosSection,
    #[serde(default)]
    pub chat: ChatSection,
}

/// What Leptos needs to render the page shell and find the compiled site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct LeptosSection {
    /// Base name of the generated JS/WASM/CSS files.
    pub output_name: String,
    /// Directory the compiled site (pkg/, favicon, …) is served from.
    pub site_root: String,
    /// Sub-directory of the site root holding the JS/WASM/CSS.
    pub site_pkg_dir: String,
    /// Address and port to listen on.
    pub site_addr: SocketAddr,
    /// Port of cargo-leptos' live-reload websocket (`cargo leptos watch`).
    pub reload_port: u32,
    /// Whether file names under site-pkg-dir carry a content hash (then they are cached for a
    /// year); cargo-leptos writes the hashes to `hash.txt` beside the server binary.
    pub hash_files: bool,
    /// `PROD` or `DEV`.
    pub env: String,
}

impl Default for LeptosSection {
    fn default() -> Self {
        Self {
            output_name: "chat".into(),
            site_root: "target/site".into(),
            site_pkg_dir: "pkg".into(),
            site_addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            reload_port: 3001,
            hash_files: false,
            env: "PROD".into(),
        }
    }
}

/// The chat server's own settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ChatSection {
    /// Milliseconds between the server's heartbeats.
    pub ping_interval_ms: u64,
    /// Milliseconds the server waits for a heartbeat answer before dropping the client.
    pub ping_timeout_ms: u64,
    /// Milliseconds a new connection has to join the namespace.
    pub connect_timeout_ms: u64,
    /// Packets queued per client before it counts as a slow reader and is disconnected.
    pub max_buffer_size: usize,
    /// Shortest gap, in milliseconds, between two `update-peers` broadcasts to one room:
    /// changes in between are merged, so a join storm costs O(N) per interval, not O(N²).
    pub peer_update_interval_ms: u64,
    /// Most people one member list names (`update-peers`, `room-peers`, `peers-changed`: the
    /// first to arrive; `total` counts everyone); 0 sends no member lists at all. Clients
    /// that keep lists themselves get one list per room they join and then changes; the
    /// tutorial's get the whole list per change, so a room of N costs N lists of up to this
    /// many names each time.
    pub peer_list_limit: usize,
    /// Most recent messages kept in memory per room.
    pub history_len: usize,
    /// Recent messages a client receives when it connects.
    pub history_on_connect: usize,
    /// Where messages and names are kept: `sqlite` (durable) or `memory` (lost on restart).
    pub storage: Storage,
    /// The SQLite file (its directory is created when missing).
    pub database: PathBuf,
    /// Where the search index lives: empty for the default (the chat's database in one
    /// process, memory with `storage = "memory"`, `search-<port>.sqlite3` beside `database`
    /// on a node of several), `memory`, or a file.
    pub search_index: String,
    /// Fsync every commit (survives power loss); without it a commit survives the process
    /// being killed but not the machine losing power.
    pub fsync: bool,
    /// Days messages are kept (fractions allowed); older ones are deleted at start and every
    /// hour, in both modes. 0 keeps everything.
    pub retention_days: f64,
    /// Events a connection may send per second, on average…
    pub rate_per_second: f64,
    /// …and in one burst.
    pub rate_burst: u32,
    /// Refusals in a row (rate limit or invalid input) after which a connection is dropped.
    pub abuse_strikes: u32,
    /// Socket.IO connections open at once from one IP address.
    pub max_connections_per_ip: usize,
    /// New Engine.IO sessions (handshakes) per minute from one IP address.
    pub handshakes_per_minute_per_ip: u32,
    /// New public rooms one person may create per hour (0: no limit).
    pub rooms_per_person_per_hour: u32,
    /// New public rooms one address (an IPv6 /64) may create per day (0: no limit).
    pub rooms_per_address_per_day: u32,
    /// Reverse proxies in front of the server (`["127.0.0.1/32", "10.0.0.0/8"]`): only from
    /// these peers is the client's address read from `Forwarded` / `X-Forwarded-For`.
    pub trusted_proxies: Vec<super::proxy::Cidr>,
    /// Public ids of the people who moderate (`["0123456789abcdef"]`, shown in each person's
    /// settings); more can be added while the server runs with `chat moderator add <id>`.
    #[serde(deserialize_with = "public_ids")]
    pub moderators: Vec<String>,
    /// Days a person's name stays theirs after their last visit (fractions allowed); then
    /// it is free for others and they are named afresh if they return. 0 holds names forever.
    pub name_hold_days: f64,
    /// Days after which a public room nobody is in and nobody wrote in (fractions allowed)
    /// is removed; checked hourly. 0 keeps rooms forever.
    pub room_idle_days: f64,
    /// Origins allowed to open the chat besides the page's own (`https://chat.example`).
    /// Requests without an Origin header (non-browser clients) are always allowed.
    pub allowed_origins: Vec<String>,
    /// Redis shared by several nodes of one chat (`redis://127.0.0.1:6379`); empty runs one
    /// self-contained process. When set, messages, names, rooms and presence live in Redis
    /// (SQLite is not used) and broadcasts reach every node. Redis must persist (AOF).
    pub redis_url: String,
    /// Milliseconds after its last heartbeat that a node (killed, cut off) counts as gone and
    /// its people leave everyone's member lists. Only with `redis-url`.
    pub node_ttl_ms: u64,
    /// `text` (for people) or `json` (one object per line, for log collectors).
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    Sqlite,
    Memory,
}

impl Default for ChatSection {
    fn default() -> Self {
        Self {
            ping_interval_ms: 25_000,
            ping_timeout_ms: 20_000,
            connect_timeout_ms: 10_000,
            max_buffer_size: 256,
            peer_update_interval_ms: 50,
            peer_list_limit: 500,
            history_len: 200,
            history_on_connect: 50,
            storage: Storage::Sqlite,
            database: PathBuf::from("data/chat.sqlite3"),
            search_index: String::new(),
            fsync: false,
            retention_days: 0.0,
            rate_per_second: 5.0,
            rate_burst: 10,
            abuse_strikes: 50,
            max_connections_per_ip: 50,
            handshakes_per_minute_per_ip: 120,
            rooms_per_person_per_hour: 10,
            rooms_per_address_per_day: 50,
            trusted_proxies: Vec::new(),
            moderators: Vec::new(),
            room_idle_days: 30.0,
            name_hold_days: 90.0,
            allowed_origins: Vec::new(),
            redis_url: String::new(),
            node_ttl_ms: 5_000,
            log_format: LogFormat::Text,
        }
    }
}

impl ChatSection {
    pub fn ping_interval(&self) -> Duration {
        Duration::from_millis(self.ping_interval_ms)
    }
    pub fn ping_timeout(&self) -> Duration {
        Duration::from_millis(self.ping_timeout_ms)
    }
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }
    pub fn peer_update_interval(&self) -> Duration {
        Duration::from_millis(self.peer_update_interval_ms)
    }
    pub fn node_ttl(&self) -> Duration {
        Duration::from_millis(self.node_ttl_ms)
    }
    /// The Redis URL when several nodes share one chat.
    pub fn redis(&self) -> Option<&str> {
        Some(self.redis_url.trim()).filter(|url| !url.is_empty())
    }
}

/// A configuration problem, phrased for the person starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source} (set CHAT_CONFIG to another file)")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("configuration key `{key}` (file {path}, or env {env}): {message}")]
    Key {
        key: String,
        env: String,
        path: PathBuf,
        message: String,
    },
    #[error("configuration file {path}: unknown key `{key}`")]
    Unknown { path: PathBuf, key: String },
}

impl Config {
    /// Reads the file named by `CHAT_CONFIG` (default `Leptos.toml`) and the environment.
    pub fn load() -> Result<Config, ConfigError> {
        let path = std::env::var_os("CHAT_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_PATH));
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        Config::from_sources(&path, &text, |name| std::env::var(name).ok())
    }

    /// Layers `text` (the file at `path`) and the variables `env` finds over the defaults.
    pub fn from_sources(
        path: &Path,
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let file: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_owned(),
            message: e.message().to_owned(),
        })?;
        let defaults = defaults_table();
        let mut merged = defaults.clone();
        for (section, values) in file {
            let (Some(known), toml::Value::Table(values)) = (defaults.get(&section), values) else {
                return Err(ConfigError::Unknown {
                    path: path.to_owned(),
                    key: section,
                });
            };
            let known = known.as_table().cloned().unwrap_or_default();
            for (key, value) in values {
                if !known.contains_key(&key) {
                    return Err(ConfigError::Unknown {
                        path: path.to_owned(),
                        key: format!("{section}.{key}"),
                    });
                }
                set(&mut merged, &section, &key, value);
            }
        }
        for (section, keys) in &defaults {
            for (key, default) in keys.as_table().into_iter().flatten() {
                if let Some(raw) = env(&env_name(section, key)) {
                    set(&mut merged, section, key, from_env(&raw, default));
                }
            }
        }
        // Deserialise key by key, so an error names the key that caused it.
        for (section, keys) in &merged {
            for (key, value) in keys.as_table().into_iter().flatten() {
                check_key(path, section, key, value)?;
            }
        }
        toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Syntax {
                path: path.to_owned(),
                message: e.message().to_owned(),
            })
    }

    /// The options Leptos renders the shell with.
    pub fn leptos_options(&self) -> LeptosOptions {
        let l = &self.leptos;
        LeptosOptions::builder()
            .output_name(l.output_name.as_str())
            .site_root(l.site_root.as_str())
            .site_pkg_dir(l.site_pkg_dir.as_str())
            .site_addr(l.site_addr)
            .reload_port(l.reload_port)
            .hash_files(l.hash_files)
            .env(if l.env.eq_ignore_ascii_case("dev") {
                leptos::config::Env::DEV
            } else {
                leptos::config::Env::PROD
            })
            .build()
    }
}

/// A list of public ids, each checked.
fn public_ids<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let ids = Vec::<String>::deserialize(d)?;
    match ids.iter().find(|id| !crate::protocol::is_public_id(id)) {
        Some(bad) => Err(serde::de::Error::custom(format!(
            "{bad:?} is not a public id (16 lowercase hex digits)"
        ))),
        None => Ok(ids),
    }
}

fn defaults_table() -> toml::Table {
    match toml::Value::try_from(Config::default()) {
        Ok(toml::Value::Table(t)) => t,
        _ => toml::Table::new(),
    }
}

fn set(table: &mut toml::Table, section: &str, key: &str, value: toml::Value) {
    if let Some(toml::Value::Table(t)) = table.get_mut(section) {
        t.insert(key.to_owned(), value);
    }
}

/// `leptos` + `site-addr` → `LEPTOS_SITE_ADDR`.
pub fn env_name(section: &str, key: &str) -> String {
    format!("{section}_{key}").replace('-', "_").to_uppercase()
}

/// Reads an environment value with the type of the key's default, so `CHAT_HISTORY_LEN=50` is
/// a number and `LEPTOS_SITE_ADDR=0.0.0.0:80` stays a string.
fn from_env(raw: &str, default: &toml::Value) -> toml::Value {
    let parsed = match default {
        toml::Value::Integer(_) => raw.trim().parse().ok().map(toml::Value::Integer),
        toml::Value::Float(_) => raw.trim().parse().ok().map(toml::Value::Float),
        toml::Value::Boolean(_) => raw.trim().parse().ok().map(toml::Value::Boolean),
        // Lists are comma-separated: `CHAT_ALLOWED_ORIGINS=https://a.example,https://b.example`.
        toml::Value::Array(_) => Some(toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| toml::Value::String(item.to_owned()))
                .collect(),
        )),
        _ => None,
    };
    parsed.unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

fn check_key(
    path: &Path,
    section: &str,
    key: &str,
    value: &toml::Value,
) -> Result<(), ConfigError> {
    let mut probe = defaults_table();
    set(&mut probe, section, key, value.clone());
    toml::Value::Table(probe)
        .try_into::<Config>()
        .map(|_| ())
        .map_err(|e| ConfigError::Key {
            key: format!("{section}.{key}"),
            env: env_name(section, key),
            path: path.to_owned(),
            message: e.message().to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_sources(Path::new("Leptos.toml"), text, |k| env.get(k).cloned())
    }

    #[test]
    fn the_shipped_file_parses_and_listens_on_3000() {
        let text = include_str!("../../Leptos.toml");
        let config = load(text, &[]).unwrap();
        assert_eq!(config.leptos.site_addr, "127.0.0.1:3000".parse().unwrap());
    }

    #[test]
    fn missing_keys_take_defaults() {
        assert_eq!(load("", &[]).unwrap(), Config::default());
    }

    #[test]
    fn environment_overrides_file() {
        let config = load(
            "[leptos]\nsite-addr = \"127.0.0.1:4000\"\n[chat]\nhistory-len = 10\n",
            &[
                ("LEPTOS_SITE_ADDR", "127.0.0.1:0"),
                ("CHAT_HISTORY_LEN", "7"),
            ],
        )
        .unwrap();
        assert_eq!(config.leptos.site_addr.port(), 0);
        assert_eq!(config.chat.history_len, 7);
    }

    #[test]
    fn a_bad_value_names_its_key_and_variable() {
        let err = load("", &[("CHAT_HISTORY_LEN", "lots")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`chat.history-len`"), "{err}");
        assert!(err.contains("CHAT_HISTORY_LEN"), "{err}");

        let err = load("[leptos]\nsite-addr = \"nowhere\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`leptos.site-addr`"), "{err}");
    }

    #[test]
    fn lists_come_from_the_environment_comma_separated() {
        let config = load(
            "",
            &[(
                "CHAT_ALLOWED_ORIGINS",
                "https://a.example, https://b.example",
            )],
        )
        .unwrap();
        assert_eq!(
            config.chat.allowed_origins,
            ["https://a.example", "https://b.example"]
        );
    }

    #[test]
    fn moderators_are_public_ids_from_the_file_or_the_environment() {
        let env = [("CHAT_MODERATORS", "0123456789abcdef,fedcba9876543210")];
        let config = load("", &env).unwrap();
        assert_eq!(
            config.chat.moderators,
            ["0123456789abcdef", "fedcba9876543210"]
        );
        let err = load("[chat]\nmoderators = [\"alice\"]\n", &[]).unwrap_err();
        assert!(err.to_string().contains("`chat.moderators`"), "{err}");
        assert!(err.to_string().contains("not a public id"), "{err}");
    }

    #[test]
    fn unknown_keys_and_bad_syntax_are_refused() {
        let err = load("[chat]\nhistory-lenght = 3\n", &[]).unwrap_err();
        assert!(err.to_string().contains("`chat.history-lenght`"), "{err}");
        let err = load("[nope]\n", &[]).unwrap_err();
        assert!(err.to_string().contains("`nope`"), "{err}");
        assert!(matches!(
            load("[chat", &[]),
            Err(ConfigError::Syntax { .. })
        ));
    }
}
