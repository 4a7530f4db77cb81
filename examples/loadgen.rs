//! Load generator for the benchmark (`make bench`): WebSocket clients speaking Engine.IO v4
//! / Socket.IO v5 with the tutorial's events only, so it drives our server and the Node
//! tutorial server alike. Each mode prints one JSON line of results.
//!
//!     loadgen broadcast <urls> <clients> <senders> <messages/s in total> <seconds>
//!         S of N clients send `message` with a send time in the text; every client measures
//!         the latency of each `newMessage` it receives.
//!     loadgen idle <urls> <clients> <seconds>
//!         N clients connect and only answer heartbeats; prints once all are connected, then
//!         holds them for <seconds> (the caller reads the server's memory meanwhile).
//!     loadgen storm <urls> <clients> <timeout seconds>
//!         N clients connect at once; measures until every client's last `update-peers` lists
//!         exactly the N names the server gave out.
//!
//!     loadgen members <urls> <clients> <list limit> <timeout seconds>
//!         (ours only) N clients that keep member lists themselves (`roomPeers`,
//!         `peerChanges`: one `room-peers`, then `peers-changed`) connect at once; measures
//!         until every client's view of `general` counts N people and names the same
//!         min(N, limit) of the ids the server gave out.
//!
//!     loadgen history <url> <messages> <pages>
//!         (ours only) one client fills a fresh room with <messages> messages, then asks for
//!         <pages> pages of older history (`older`, 50 each) before random ids, one at a time;
//!         measures each page's round trip.
//!
//! <urls> is one `http://host:port`, or several separated by commas: clients are spread over
//! them in turn (several nodes of one chat).
//!
//! Meant to run pinned to its own core (`taskset -c 1`); it reports its own CPU time so a
//! saturated generator is visible beside the server's figures.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

/// Messages carry `b:<microseconds since start>`; receivers find it without parsing JSON.
const MARK: &str = "b:";

struct Totals {
    delivered: AtomicU64,
    latencies: Mutex<Vec<u32>>,
}

const USAGE: &str = "usage: loadgen broadcast <urls> <clients> <senders> <msgs/s> <seconds>
       loadgen idle <urls> <clients> <seconds>
       loadgen storm <urls> <clients> <timeout seconds>
       loadgen members <urls> <clients> <list limit> <timeout seconds>
       loadgen history <url> <messages> <pages>";

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let parse = |i: usize| -> u64 {
        args.get(i).and_then(|a| a.parse().ok()).unwrap_or_else(|| {
            eprintln!("{USAGE}");
            std::process::exit(2)
        })
    };
    let urls: Vec<String> = args
        .get(2)
        .map(String::as_str)
        .unwrap_or_default()
        .split(',')
        .filter(|u| !u.is_empty())
        .map(|u| u.replacen("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket")
        .collect();
    match (args.get(1).map(String::as_str), args.len()) {
        (Some("broadcast"), 7) => broadcast(&urls, parse(3), parse(4), parse(5), parse(6)).await,
        (Some("idle"), 5) => idle(&urls, parse(3), parse(4)).await,
        (Some("storm"), 5) => storm(&urls, parse(3), parse(4)).await,
        (Some("members"), 6) => members(&urls, parse(3), parse(4), parse(5)).await,
        (Some("history"), 5) => history(&urls[0], parse(3), parse(4)).await,
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}

/// Holds `clients` idle connections for `seconds`, answering heartbeats. Each one reads from
/// the moment it is connected, so none looks like a slow reader to the server.
async fn idle(urls: &[String], clients: u64, seconds: u64) {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for chunk in (0..clients).collect::<Vec<_>>().chunks(100) {
        let opened = futures::future::join_all(chunk.iter().map(|i| async move {
            let raw = Raw::connect(&urls[*i as usize % urls.len()]).await?;
            Ok::<_, std::io::Error>(tokio::spawn(raw.idle()))
        }))
        .await;
        for task in opened {
            match task {
                Ok(task) => tasks.push(task),
                Err(e) => {
                    eprintln!("a client could not connect: {e}");
                    std::process::exit(1);
                }
            }
        }
    }
    let connected_in = start.elapsed();
    println!(
        "{{\"clients\":{clients},\"connected_ms\":{},\"loadgen_cpu_ms\":{}}}",
        connected_in.as_millis(),
        own_cpu_ms()
    );
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let still_open = tasks.iter().filter(|t| !t.is_finished()).count();
    if still_open as u64 != clients {
        eprintln!(
            "{} of {clients} connections were closed while idle",
            clients - still_open as u64
        );
        std::process::exit(1);
    }
    for task in tasks {
        task.abort();
    }
}

/// What the storm's clients have seen: the names given out and each client's last list.
#[derive(Default)]
struct Storm {
    /// Every name given out (the tutorial's server may give one name twice).
    names: Vec<String>,
    /// Per client: a hash of the bytes of its last `update-peers` list (0: none yet).
    lists: Vec<u64>,
    /// One copy of each distinct list seen, by hash, to check against `names` (once).
    samples: std::collections::HashMap<u64, bytes::Bytes>,
    connected: u64,
}

fn bytes_hash(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// Whether a list (the JSON array's bytes) holds exactly `names`, in any order.
fn same_names(list: &[u8], names: &[String]) -> bool {
    let Ok(mut listed) = serde_json::from_slice::<Vec<String>>(list) else {
        return false;
    };
    let mut names = names.to_vec();
    listed.sort_unstable();
    names.sort_unstable();
    listed == names
}

/// All clients connect at once; done when every client's last `update-peers` is the full,
/// exact list of names given out (compared sorted, duplicates included).
async fn storm(urls: &[String], clients: u64, timeout: u64) {
    let start = Instant::now();
    let state = Arc::new(std::sync::Mutex::new(Storm {
        lists: vec![0; clients as usize],
        ..Storm::default()
    }));
    for i in 0..clients as usize {
        let url = urls[i % urls.len()].clone();
        let state = state.clone();
        tokio::spawn(async move {
            let mut raw = match Raw::connect(&url).await {
                Ok(raw) => raw,
                Err(e) => {
                    eprintln!("a client could not connect: {e}");
                    return;
                }
            };
            state.lock().unwrap().connected += 1;
            loop {
                // Only the newest list of what arrived together counts. Lists are hashed as
                // bytes (every client gets the same bytes for the same list); each distinct
                // list is parsed and checked once, by the monitor below.
                let mut newest = None;
                let mut pong = false;
                while let Some(text) = raw.next_text() {
                    if text.as_ref() == b"2" {
                        pong = true;
                    } else if let Some(payload) = text.strip_prefix(b"42[\"name-generated\",") {
                        let payload = payload.strip_suffix(b"]").unwrap_or(payload);
                        if let Ok(name) = serde_json::from_slice::<String>(payload) {
                            state.lock().unwrap().names.push(name);
                        }
                    } else if text.starts_with(b"42[\"update-peers\",") {
                        newest = Some(text);
                    }
                }
                if let Some(text) = newest {
                    let list = text.slice(b"42[\"update-peers\",".len()..text.len() - 1);
                    let hash = bytes_hash(&list);
                    let mut state = state.lock().unwrap();
                    state.lists[i] = hash;
                    state.samples.entry(hash).or_insert(list);
                }
                if pong && raw.send(b"3").await.is_err() {
                    return;
                }
                if !matches!(raw.read().await, Ok(true)) {
                    return;
                }
            }
        });
    }
    let mut connected_ms = None;
    let deadline = start + Duration::from_secs(timeout);
    let (complete_ms, correct) = loop {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let state = state.lock().unwrap();
        if state.connected == clients && connected_ms.is_none() {
            connected_ms = Some(start.elapsed().as_millis());
        }
        let everyone_named = state.names.len() as u64 == clients;
        let first = state.lists[0];
        if everyone_named && first != 0 && state.lists.iter().all(|l| *l == first) {
            let right = state
                .samples
                .get(&first)
                .is_some_and(|list| same_names(list, &state.names));
            if right {
                break (Some(start.elapsed().as_millis()), clients);
            }
        }
        if Instant::now() > deadline {
            let right: std::collections::HashSet<u64> = state
                .samples
                .iter()
                .filter(|(_, list)| same_names(list, &state.names))
                .map(|(hash, _)| *hash)
                .collect();
            let correct = state.lists.iter().filter(|l| right.contains(l)).count() as u64;
            break (None, correct);
        }
    };
    let ms = |v: Option<u128>| v.map_or("null".to_owned(), |v| v.to_string());
    println!(
        "{{\"clients\":{clients},\"connected_ms\":{},\"complete_ms\":{},\"correct_lists\":{correct},\"loadgen_cpu_ms\":{}}}",
        ms(connected_ms),
        ms(complete_ms),
        own_cpu_ms()
    );
    std::process::exit(0);
}

/// What the members storm's clients hold: ids interned to numbers, and per client the set of
/// listed ids (with an order-free hash of it) and the last total.
#[derive(Default)]
struct Members {
    ids: std::collections::HashMap<String, u32>,
    welcomed: Vec<bool>,
    views: Vec<std::collections::HashSet<u32>>,
    hashes: Vec<u64>,
    totals: Vec<u64>,
    connected: u64,
}

impl Members {
    fn intern(&mut self, id: &str) -> u32 {
        if let Some(n) = self.ids.get(id) {
            return *n;
        }
        let n = self.ids.len() as u32;
        self.ids.insert(id.to_owned(), n);
        self.welcomed.push(false);
        n
    }

    fn add(&mut self, client: usize, id: &str) {
        let n = self.intern(id);
        if self.views[client].insert(n) {
            self.hashes[client] ^= bytes_hash(&n.to_le_bytes());
        }
    }

    fn remove(&mut self, client: usize, id: &str) {
        let n = self.intern(id);
        if self.views[client].remove(&n) {
            self.hashes[client] ^= bytes_hash(&n.to_le_bytes());
        }
    }

    /// Applies one `room-peers` or `peers-changed` (of `general`) to a client's view.
    fn apply(&mut self, client: usize, text: &[u8]) {
        #[derive(serde::Deserialize)]
        struct Peer {
            id: String,
        }
        #[derive(serde::Deserialize)]
        struct List {
            room: String,
            #[serde(default)]
            peers: Vec<Peer>,
            #[serde(default)]
            joined: Vec<Peer>,
            #[serde(default)]
            left: Vec<String>,
            total: u64,
        }
        let (whole, payload) = if let Some(p) = text.strip_prefix(b"42[\"room-peers\",") {
            (true, p)
        } else if let Some(p) = text.strip_prefix(b"42[\"peers-changed\",") {
            (false, p)
        } else {
            return;
        };
        let payload = payload.strip_suffix(b"]").unwrap_or(payload);
        let Ok(list) = serde_json::from_slice::<List>(payload) else {
            return;
        };
        if list.room != "general" {
            return;
        }
        if whole {
            self.views[client].clear();
            self.hashes[client] = 0;
            for p in &list.peers {
                self.add(client, &p.id);
            }
        } else {
            for id in &list.left {
                self.remove(client, id);
            }
            for p in &list.joined {
                self.add(client, &p.id);
            }
        }
        self.totals[client] = list.total;
    }
}

/// All clients connect at once, keeping lists as our page does; done when every client's
/// total is N and every view is the same set of min(N, limit) ids the server gave out.
async fn members(urls: &[String], clients: u64, limit: u64, timeout: u64) {
    let start = Instant::now();
    let n = clients as usize;
    let state = Arc::new(std::sync::Mutex::new(Members {
        views: vec![Default::default(); n],
        hashes: vec![0; n],
        totals: vec![0; n],
        ..Members::default()
    }));
    for i in 0..n {
        let url = urls[i % urls.len()].clone();
        let state = state.clone();
        tokio::spawn(async move {
            let connect = br#"40{"roomPeers":true,"peerChanges":true}"#;
            let mut raw = match Raw::connect_with(&url, connect).await {
                Ok(raw) => raw,
                Err(e) => {
                    eprintln!("a client could not connect: {e}");
                    return;
                }
            };
            state.lock().unwrap().connected += 1;
            loop {
                let mut pong = false;
                while let Some(text) = raw.next_text() {
                    if text.as_ref() == b"2" {
                        pong = true;
                    } else if let Some(p) = text.strip_prefix(b"42[\"welcome\",") {
                        #[derive(serde::Deserialize)]
                        struct Welcome {
                            id: String,
                        }
                        let p = p.strip_suffix(b"]").unwrap_or(p);
                        if let Ok(w) = serde_json::from_slice::<Welcome>(p) {
                            let mut state = state.lock().unwrap();
                            let id = state.intern(&w.id) as usize;
                            state.welcomed[id] = true;
                        }
                    } else {
                        state.lock().unwrap().apply(i, &text);
                    }
                }
                if pong && raw.send(b"3").await.is_err() {
                    return;
                }
                if !matches!(raw.read().await, Ok(true)) {
                    return;
                }
            }
        });
    }
    let want = clients.min(limit) as usize;
    let mut connected_ms = None;
    let deadline = start + Duration::from_secs(timeout);
    let right = |state: &Members, i: usize| {
        state.totals[i] == clients
            && state.views[i].len() == want
            && state.hashes[i] == state.hashes[0]
    };
    let (complete_ms, correct) = loop {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let state = state.lock().unwrap();
        if state.connected == clients && connected_ms.is_none() {
            connected_ms = Some(start.elapsed().as_millis());
        }
        let all_welcomed = state.welcomed.iter().filter(|w| **w).count() == n;
        if all_welcomed && (0..n).all(|i| right(&state, i)) {
            let known = state.views[0].iter().all(|id| state.welcomed[*id as usize]);
            if known {
                break (Some(start.elapsed().as_millis()), clients);
            }
        }
        if Instant::now() > deadline {
            break (None, (0..n).filter(|i| right(&state, *i)).count() as u64);
        }
    };
    let ms = |v: Option<u128>| v.map_or("null".to_owned(), |v| v.to_string());
    println!(
        "{{\"clients\":{clients},\"connected_ms\":{},\"complete_ms\":{},\"correct_lists\":{correct},\"loadgen_cpu_ms\":{}}}",
        ms(connected_ms),
        ms(complete_ms),
        own_cpu_ms()
    );
    std::process::exit(0);
}

async fn broadcast(urls: &[String], clients: u64, senders: u64, rate: u64, seconds: u64) {
    let start = Instant::now();
    let totals = Arc::new(Totals {
        delivered: AtomicU64::new(0),
        latencies: Mutex::new(Vec::new()),
    });
    let mut sockets = Vec::new();
    for chunk in (0..clients).collect::<Vec<_>>().chunks(100) {
        let opened = futures::future::join_all(
            chunk
                .iter()
                .map(|i| Raw::connect(&urls[*i as usize % urls.len()])),
        )
        .await;
        for raw in opened {
            match raw {
                Ok(raw) => sockets.push(raw),
                Err(e) => {
                    eprintln!("a client could not connect: {e}");
                    std::process::exit(1);
                }
            }
        }
    }
    let connected_in = start.elapsed();

    let run_for = Duration::from_secs(seconds);
    let per_sender = if senders == 0 {
        0.0
    } else {
        rate as f64 / senders as f64
    };
    let sent = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    let begin = tokio::time::Instant::now();
    for (i, mut raw) in sockets.into_iter().enumerate() {
        let totals = totals.clone();
        let sent = sent.clone();
        let sends = (i as u64) < senders && per_sender > 0.0;
        tasks.push(tokio::spawn(async move {
            // Senders take turns (sender i starts i/S of a period late), so the total rate is
            // steady rather than S messages at once every period.
            let gap = Duration::from_secs_f64(if sends { 1.0 / per_sender } else { 3600.0 });
            let offset = gap.mul_f64(i as f64 / senders.max(1) as f64);
            let mut tick = tokio::time::interval_at(begin + offset, gap);
            let stop_sending = begin + run_for;
            let drain_until = begin + run_for + Duration::from_secs(2);
            let mut local = Vec::new();
            loop {
                tokio::select! {
                    read = raw.read() => match read {
                        Ok(true) => {}
                        _ => break,
                    },
                    _ = tick.tick(), if sends && tokio::time::Instant::now() < stop_sending => {
                        let micros = start.elapsed().as_micros();
                        let frame = format!("42[\"message\",\"{MARK}{micros}\"]");
                        if raw.send(frame.as_bytes()).await.is_err() {
                            break;
                        }
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                    () = tokio::time::sleep_until(drain_until) => break,
                }
                let mut pong = false;
                while let Some(text) = raw.next_text() {
                    if text.as_ref() == b"2" {
                        pong = true;
                    } else if text.starts_with(b"42[\"newMessage\"")
                        && let Some(at) =
                            text.windows(MARK.len()).position(|w| w == MARK.as_bytes())
                    {
                        let digits = text[at + MARK.len()..]
                            .iter()
                            .take_while(|b| b.is_ascii_digit())
                            .fold(0u128, |n, d| n * 10 + u128::from(d - b'0'));
                        let now = start.elapsed().as_micros();
                        local.push(now.saturating_sub(digits).min(u32::MAX as u128) as u32);
                    }
                }
                if pong && raw.send(b"3").await.is_err() {
                    break;
                }
            }
            totals
                .delivered
                .fetch_add(local.len() as u64, Ordering::Relaxed);
            totals.latencies.lock().await.extend(local);
        }));
    }
    for task in tasks {
        let _ = task.await;
    }

    let mut latencies = std::mem::take(&mut *totals.latencies.lock().await);
    latencies.sort_unstable();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 * p) as usize).min(latencies.len() - 1);
        f64::from(latencies[i]) / 1000.0
    };
    let sent = sent.load(Ordering::Relaxed);
    let delivered = totals.delivered.load(Ordering::Relaxed);
    let expected = sent * clients;
    println!(
        "{{\"clients\":{clients},\"senders\":{senders},\"rate\":{rate},\"seconds\":{seconds},\
         \"connected_ms\":{},\"sent\":{sent},\"expected\":{expected},\"delivered\":{delivered},\
         \"delivery_ratio\":{:.5},\"deliveries_per_s\":{:.0},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\
         \"p999_ms\":{:.2},\"loadgen_cpu_ms\":{}}}",
        connected_in.as_millis(),
        if expected == 0 {
            1.0
        } else {
            delivered as f64 / expected as f64
        },
        delivered as f64 / seconds as f64,
        pct(0.50),
        pct(0.99),
        pct(0.999),
        own_cpu_ms(),
    );
}

/// Fills a room, then times older-history pages before random ids (see the usage).
async fn history(url: &str, messages: u64, pages: u64) {
    let mut raw = Raw::connect(url).await.unwrap_or_else(|e| {
        eprintln!("could not connect: {e}");
        std::process::exit(1)
    });
    let room = format!("history-{}", std::process::id());
    raw.send(format!("421[\"join\",{{\"room\":\"{room}\"}}]").as_bytes())
        .await
        .expect("join sent");
    raw.wait_for(b"431[").await.expect("joined");
    // Seeding: a window of acks in flight, as a fast bot would.
    let seeding = Instant::now();
    let (mut sent, mut acked) = (0u64, 0u64);
    while acked < messages {
        while sent < messages && sent - acked < 32 {
            sent += 1;
            let frame = format!(
                "42{}[\"message\",{{\"text\":\"history message {sent}\",\"room\":\"{room}\"}}]",
                sent + 10
            );
            raw.send(frame.as_bytes()).await.expect("message sent");
        }
        acked += raw.count_acks().await;
    }
    let seeded_in = seeding.elapsed();
    // Pages before ids spread over the whole room, from a fixed seed so runs compare.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut latencies = Vec::with_capacity(pages as usize);
    for n in 0..pages {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let before = 2 + state % messages;
        let ack = messages + 100 + n;
        let frame =
            format!("42{ack}[\"older\",{{\"room\":\"{room}\",\"before\":{before},\"limit\":50}}]");
        let asked = Instant::now();
        raw.send(frame.as_bytes()).await.expect("older sent");
        raw.wait_for(format!("43{ack}[{{\"ok\":true").as_bytes())
            .await
            .expect("a page");
        latencies.push(asked.elapsed().as_micros() as u32);
    }
    latencies.sort_unstable();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1));
        f64::from(latencies.get(i).copied().unwrap_or(0)) / 1000.0
    };
    println!(
        "{{\"messages\":{messages},\"pages\":{pages},\"seeded_ms\":{},\"p50_ms\":{:.2},\
         \"p99_ms\":{:.2},\"max_ms\":{:.2}}}",
        seeded_in.as_millis(),
        pct(0.50),
        pct(0.99),
        pct(1.0),
    );
}

/// CPU time (user + system) of this process so far, from /proc.
fn own_cpu_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name.
    (ticks(11) + ticks(12)) * 10
}

/// A lean WebSocket client for every mode: its own handshake and frame parsing over
/// a plain TcpStream, reading in large chunks, so the generator spends its core on the
/// clients and not on per-frame overhead (with tungstenite it saturated at ~100 000
/// deliveries/s and inflated the latencies it measured).
struct Raw {
    tcp: tokio::net::TcpStream,
    buf: bytes::BytesMut,
}

impl Raw {
    async fn connect(url: &str) -> std::io::Result<Raw> {
        let mut raw = Raw::connect_ws(url).await?;
        // Engine.IO open, then join the main namespace.
        raw.wait_for(b"0").await?;
        raw.send(b"40").await?;
        raw.wait_for(b"40").await?;
        Ok(raw)
    }

    /// Opens the WebSocket (the Engine.IO open packet is the first frame to read).
    async fn connect_ws(url: &str) -> std::io::Result<Raw> {
        use tokio::io::AsyncWriteExt;
        let rest = url.trim_start_matches("ws://");
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let tcp = tokio::net::TcpStream::connect(host).await?;
        tcp.set_nodelay(true)?;
        let mut raw = Raw {
            tcp,
            buf: bytes::BytesMut::with_capacity(64 * 1024),
        };
        let request = format!(
            "GET /{path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        raw.tcp.write_all(request.as_bytes()).await?;
        let end = loop {
            if let Some(end) = raw.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            if !raw.read().await? {
                return Err(std::io::Error::other("closed during the handshake"));
            }
        };
        if !raw.buf.starts_with(b"HTTP/1.1 101") {
            return Err(std::io::Error::other("upgrade refused"));
        }
        let _ = raw.buf.split_to(end);
        Ok(raw)
    }

    /// Like [`Raw::connect`], joining the namespace with a connect payload of ours.
    async fn connect_with(url: &str, connect: &[u8]) -> std::io::Result<Raw> {
        let mut raw = Raw::connect_ws(url).await?;
        raw.wait_for(b"0").await?;
        raw.send(connect).await?;
        raw.wait_for(b"40").await?;
        Ok(raw)
    }

    async fn wait_for(&mut self, prefix: &[u8]) -> std::io::Result<()> {
        loop {
            while let Some(text) = self.next_text() {
                if text.starts_with(b"44") {
                    return Err(std::io::Error::other("connection refused by the server"));
                }
                if text.starts_with(prefix) {
                    return Ok(());
                }
            }
            if !self.read().await? {
                return Err(std::io::Error::other("closed"));
            }
        }
    }

    /// Reads once and counts the acks (`43…`) that arrived, answering heartbeats; panics on a
    /// refused one (a benchmark that silently measured refusals would lie).
    async fn count_acks(&mut self) -> u64 {
        let mut acks = 0;
        let mut ping = false;
        while let Some(text) = self.next_text() {
            ping |= text.as_ref() == b"2";
            if text.starts_with(b"43") {
                assert!(
                    text.windows(9).any(|w| w == b"\"ok\":true"),
                    "refused: {}",
                    String::from_utf8_lossy(&text)
                );
                acks += 1;
            }
        }
        if ping {
            self.send(b"3").await.expect("pong");
        }
        if acks == 0 {
            assert!(self.read().await.expect("reads"), "closed while seeding");
        }
        acks
    }

    /// Reads until the server closes, answering its heartbeats and nothing else.
    async fn idle(mut self) {
        loop {
            let mut ping = false;
            while let Some(text) = self.next_text() {
                ping |= text.as_ref() == b"2";
            }
            if ping && self.send(b"3").await.is_err() {
                return;
            }
            if !matches!(self.read().await, Ok(true)) {
                return;
            }
        }
    }

    /// Reads what is there; false when the peer closed.
    async fn read(&mut self) -> std::io::Result<bool> {
        use tokio::io::AsyncReadExt;
        self.buf.reserve(16 * 1024);
        Ok(self.tcp.read_buf(&mut self.buf).await? > 0)
    }

    /// The next complete text frame's payload (server frames are not masked).
    fn next_text(&mut self) -> Option<bytes::Bytes> {
        loop {
            let b = &self.buf;
            if b.len() < 2 {
                return None;
            }
            let opcode = b[0] & 0x0f;
            let (len, header) = match b[1] & 0x7f {
                126 if b.len() >= 4 => (u16::from_be_bytes([b[2], b[3]]) as usize, 4),
                127 if b.len() >= 10 => {
                    (u64::from_be_bytes(b[2..10].try_into().ok()?) as usize, 10)
                }
                126 | 127 => return None,
                n => (n as usize, 2),
            };
            if b.len() < header + len {
                return None;
            }
            let mut frame = self.buf.split_to(header + len);
            let payload = frame.split_off(header).freeze();
            if opcode == 1 {
                return Some(payload);
            }
        }
    }

    /// Sends a text frame (masked, as clients must; the zero key leaves the bytes as they are).
    async fn send(&mut self, text: &[u8]) -> std::io::Result<()> {
        use tokio::io::AsyncWriteExt;
        let mut frame = Vec::with_capacity(text.len() + 8);
        frame.push(0x81);
        if text.len() < 126 {
            frame.push(0x80 | text.len() as u8);
        } else {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(text.len() as u16).to_be_bytes());
        }
        frame.extend_from_slice(&[0, 0, 0, 0]);
        frame.extend_from_slice(text);
        self.tcp.write_all(&frame).await
    }
}
