//! Strangers misbehave while honest people chat: the server stays up, panics never, and the
//! honest lose nothing. Then a thousand connections drop at once, several times: presence
//! converges to the truth and memory returns to where it was.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::support::{Client, Process, temp_dir};
use chat::server::{Config, Server};
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// Counts panics anywhere in this process (server tasks included).
fn count_panics() -> Arc<AtomicUsize> {
    let panics = Arc::new(AtomicUsize::new(0));
    let seen = panics.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        seen.fetch_add(1, Ordering::SeqCst);
        previous(info);
    }));
    panics
}

/// The server with its real per-connection limits; per-IP limits are raised because every
/// client here, honest or not, comes from 127.0.0.1.
async fn start_hardened_server() -> SocketAddr {
    let mut config = Config::default();
    config.leptos.site_addr = "127.0.0.1:0".parse().unwrap();
    config.leptos.hash_files = false;
    config.chat.storage = chat::server::config::Storage::Memory;
    config.chat.max_connections_per_ip = 100_000;
    config.chat.handshakes_per_minute_per_ip = 1_000_000;
    config.chat.peer_update_interval_ms = 20;
    let server = Server::bind(config).await.unwrap();
    let addr = server.local_addr();
    tokio::spawn(server.serve(std::future::pending()));
    addr
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

async fn raw_socket(addr: SocketAddr, join: bool) -> Option<Ws> {
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.ok()?;
    ws.next().await?.ok()?; // the open packet
    if join {
        ws.send(Message::Text("40".into())).await.ok()?;
    }
    Some(ws)
}

/// One kind of abuse: frames to send on a connection (joined to the namespace or not).
struct Abuse {
    name: &'static str,
    join: bool,
    frames: fn(usize) -> Vec<Message>,
}

fn text(s: impl Into<String>) -> Message {
    Message::Text(s.into().into())
}

fn abuses() -> Vec<Abuse> {
    vec![
        Abuse {
            name: "bad JSON",
            join: true,
            frames: |_| vec![text(r#"42["message","#)],
        },
        Abuse {
            name: "wrong payload type",
            join: true,
            frames: |i| vec![text(format!(r#"42["message",{i}]"#))],
        },
        Abuse {
            name: "wrong shape object",
            join: true,
            frames: |_| vec![text(r#"42["message",{"text":["x"],"clientId":7}]"#)],
        },
        Abuse {
            name: "unknown Engine.IO packet",
            join: true,
            frames: |_| vec![text("9hello")],
        },
        Abuse {
            name: "unknown Socket.IO packet",
            join: true,
            frames: |_| vec![text("47[]")],
        },
        Abuse {
            name: "unknown event",
            join: true,
            frames: |i| vec![text(format!(r#"42["launch-{i}",{{}}]"#))],
        },
        Abuse {
            name: "deeply nested payload",
            join: true,
            frames: |_| {
                vec![text(format!(
                    r#"42["message",{}{}]"#,
                    "[".repeat(5000),
                    "]".repeat(5000)
                ))]
            },
        },
        Abuse {
            name: "huge payload",
            join: true,
            frames: |_| {
                vec![text(format!(
                    r#"42["message","{}"]"#,
                    "x".repeat(64 * 1024)
                ))]
            },
        },
        Abuse {
            name: "oversize frame (1 MiB)",
            join: true,
            frames: |_| vec![text("4".repeat(1 << 20))],
        },
        Abuse {
            name: "truncated UTF-8 (binary)",
            join: true,
            frames: |_| vec![Message::Binary(vec![0x34, 0x32, 0xe2, 0x82].into())],
        },
        Abuse {
            name: "binary frame",
            join: true,
            frames: |_| vec![Message::Binary(vec![0u8; 64].into())],
        },
        Abuse {
            name: "attachment placeholder",
            join: true,
            frames: |_| vec![text(r#"451-["message",{"_placeholder":true,"num":0}]"#)],
        },
        Abuse {
            name: "duplicate connect",
            join: true,
            frames: |_| vec![text("40"), text("40")],
        },
        Abuse {
            name: "event before connect",
            join: false,
            frames: |_| vec![text(r#"42["message","early"]"#)],
        },
        Abuse {
            name: "other namespace",
            join: false,
            frames: |_| vec![text("40/admin,")],
        },
        Abuse {
            name: "ping flood",
            join: true,
            frames: |_| (0..50).map(|_| text("2")).collect(),
        },
        Abuse {
            name: "message flood",
            join: true,
            frames: |i| {
                (0..40)
                    .map(|n| text(format!(r#"42["message","flood {i}-{n}"]"#)))
                    .collect()
            },
        },
        Abuse {
            name: "empty and over-long messages",
            join: true,
            frames: |_| {
                vec![
                    text(r#"42["message","   "]"#),
                    text(format!(r#"42["message","{}"]"#, "y".repeat(1001))),
                ]
            },
        },
        Abuse {
            name: "typing flood",
            join: true,
            frames: |_| {
                (0..40)
                    .map(|_| text(r#"42["typing",{"room":"general"}]"#))
                    .collect()
            },
        },
        Abuse {
            name: "internal rooms as targets",
            join: true,
            frames: |i| {
                vec![
                    text(format!(
                        r#"42["message",{{"text":"x{i}","room":"reads:update-peers"}}]"#
                    )),
                    text(r#"42["typing",{"room":"reads:room-peers"}]"#),
                ]
            },
        },
        Abuse {
            name: "someone else's conversation",
            join: true,
            frames: |_| {
                vec![
                    text(
                        r#"42["resync",{"room":"dm:0123456789abcdef:fedcba9876543210","after":0}]"#,
                    ),
                    text(r#"42["join",{"room":"../../etc"}]"#),
                ]
            },
        },
        Abuse {
            name: "changing others' messages",
            join: true,
            frames: |i| {
                let id = i % 50 + 1;
                vec![
                    text(format!(
                        r#"42["edit",{{"room":"general","id":{id},"text":"pwned"}}]"#
                    )),
                    text(format!(r#"42["delete",{{"room":"general","id":{id}}}]"#)),
                ]
            },
        },
        Abuse {
            name: "bad lifecycle requests",
            join: true,
            frames: |i| {
                vec![
                    text(format!(
                        r#"42["react",{{"room":"general","id":{i},"emoji":"<img src=x onerror=alert(1)>"}}]"#
                    )),
                    text(
                        r#"42["older",{"room":"general","before":18446744073709551615,"limit":100000}]"#,
                    ),
                    text(format!(
                        r#"42["message",{{"text":"r{i}","replyTo":999999999}}]"#
                    )),
                    text(r#"42["edit",{"room":"general","id":"1","text":7}]"#),
                ]
            },
        },
        Abuse {
            name: "moderation without being a moderator",
            join: true,
            frames: |i| {
                // Aimed at the honest people's own ids would need them; any id is refused
                // before it is looked at.
                vec![
                    text(format!(r#"42["ban",{{"id":"{i:016x}","address":true}}]"#)),
                    text(format!(
                        r#"42["mute",{{"id":"{i:016x}","minutes":525600}}]"#
                    )),
                    text(r#"42["remove-room",{"room":"general"}]"#),
                    text(r#"42["unban",{"id":"0000000000000000"}]"#),
                    text(r#"42["audit",{"limit":100}]"#),
                    text(r#"42["reports",null]"#),
                    text(format!(r#"42["delete",{{"room":"general","id":{i}}}]"#)),
                ]
            },
        },
        Abuse {
            name: "bad and flooding reports",
            join: true,
            frames: |i| {
                vec![
                    text(format!(
                        r#"42["report",{{"room":"general","id":{i},"reason":"{}"}}]"#,
                        "x".repeat(5000)
                    )),
                    text(r#"42["report",{"room":"dm:0:1","id":1}]"#),
                    text(r#"42["report",{"room":"general","id":-1}]"#),
                    text(format!(
                        r#"42["report",{{"room":"general","id":{}}}]"#,
                        i + 1
                    )),
                ]
            },
        },
        Abuse {
            name: "older-page flood",
            join: true,
            frames: |_| {
                (0..40)
                    .map(|_| text(r#"42["older",{"room":"general","before":1000000,"limit":100}]"#))
                    .collect()
            },
        },
    ]
}

/// Honest chatter: send every `every`, record ack latency, until told to stop.
async fn chat_honestly(
    mut client: Client,
    tag: usize,
    stop: Arc<AtomicBool>,
    hostile: Arc<AtomicBool>,
) -> (Client, BTreeMap<String, u64>, Vec<Duration>, Vec<Duration>) {
    let mut acked = BTreeMap::new();
    let (mut calm, mut under_attack) = (Vec::new(), Vec::new());
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let cid = format!("honest-{tag}-{n}");
        let attack = hostile.load(Ordering::SeqCst);
        let started = Instant::now();
        let id = client
            .say_with_id(&format!("honest {tag} #{n}"), &cid)
            .await
            .expect("honest client stays connected")
            .expect("honest message accepted");
        let took = started.elapsed();
        if attack { &mut under_attack } else { &mut calm }.push(took);
        acked.insert(cid, id);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    (client, acked, calm, under_attack)
}

fn p99(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples
        .get((samples.len() * 99 / 100).min(samples.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honest_people_lose_nothing_while_others_send_garbage() {
    let panics = count_panics();
    let addr = start_hardened_server().await;
    let stop = Arc::new(AtomicBool::new(false));
    let hostile = Arc::new(AtomicBool::new(false));
    let mut honest = Vec::new();
    for tag in 0..20 {
        let client = Client::connect(addr).await;
        honest.push(tokio::spawn(chat_honestly(
            client,
            tag,
            stop.clone(),
            hostile.clone(),
        )));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    hostile.store(true, Ordering::SeqCst);
    const PER_KIND: usize = 200;
    let mut sent = BTreeMap::new();
    for abuse in abuses() {
        let mut ws: Option<Ws> = None;
        let mut count = 0;
        for i in 0..PER_KIND {
            if ws.is_none() {
                ws = raw_socket(addr, abuse.join).await;
            }
            let Some(socket) = ws.as_mut() else {
                panic!("the server refused a new connection during {}", abuse.name)
            };
            let mut dead = false;
            for frame in (abuse.frames)(i) {
                if socket.send(frame).await.is_err() {
                    dead = true;
                    break;
                }
                count += 1;
            }
            // Read what the server answered, without waiting long; a closed socket is
            // replaced by a new one.
            while let Ok(next) = tokio::time::timeout(Duration::from_millis(2), socket.next()).await
            {
                match next {
                    Some(Ok(_)) => {}
                    _ => {
                        dead = true;
                        break;
                    }
                }
            }
            if dead {
                ws = None;
            }
        }
        sent.insert(abuse.name, count);
    }
    // Polling garbage too: unknown sessions and malformed bodies.
    let mut polling = 0;
    for i in 0..PER_KIND {
        let body = if i % 2 == 0 {
            "42[\"message\""
        } else {
            "\u{1e}\u{1e}9"
        };
        let status = http(
            addr,
            "POST",
            &format!("/socket.io/?EIO=4&transport=polling&sid=nope{i}"),
            body,
        )
        .await;
        assert!(status >= 400, "bogus session accepted: {status}");
        polling += 1;
    }
    sent.insert("polling with bogus sessions and bodies", polling);
    hostile.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::SeqCst);

    let mut all_acked = BTreeMap::new();
    let mut clients = Vec::new();
    let (mut calm, mut under_attack) = (Vec::new(), Vec::new());
    for task in honest {
        let (client, acked, c, u) = task.await.expect("honest task");
        all_acked.extend(acked);
        calm.extend(c);
        under_attack.extend(u);
        clients.push(client);
    }
    let expected: BTreeSet<(String, u64)> = all_acked.clone().into_iter().collect();
    for client in &mut clients {
        client
            .until(|c| {
                let got: BTreeSet<(String, u64)> = c
                    .view
                    .values()
                    .filter_map(|m| m.client_id.clone().map(|cid| (cid, m.id)))
                    .filter(|(cid, _)| cid.starts_with("honest-"))
                    .collect();
                got == expected
            })
            .await;
    }
    for client in &clients {
        for m in client.view.values() {
            assert!(
                !m.deleted && m.edited.is_none(),
                "message {} was changed by someone else: {m:?}",
                m.id
            );
        }
    }
    assert_eq!(panics.load(Ordering::SeqCst), 0, "the server panicked");
    assert!(sent.len() >= 16, "{} kinds", sent.len());
    println!(
        "hostile: {} kinds, {} frames sent ({sent:?}); honest: {} messages, 0 lost, \
         ack p99 calm {:?}, under attack {:?}",
        sent.len(),
        sent.values().sum::<usize>(),
        all_acked.len(),
        p99(&mut calm),
        p99(&mut under_attack),
    );
}

async fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_abrupt_disconnects_converge_and_memory_returns() {
    let dir = temp_dir("storm");
    let addr = Process::free_port();
    let server = Process::start_with(
        addr,
        &dir.join("chat.sqlite3"),
        &[
            ("CHAT_MAX_CONNECTIONS_PER_IP", "100000"),
            ("CHAT_HANDSHAKES_PER_MINUTE_PER_IP", "1000000"),
        ],
    )
    .await;
    let mut observer = Client::connect(addr).await;
    let alone: BTreeSet<String> = [observer.name.clone()].into();
    observer.until(|c| c.peer_set() == alone).await;
    // Warm up once so allocator pools exist before the baseline is read.
    let warm_up = storm_connect(addr, 200).await;
    observer.until(|c| c.peers.len() == 201).await;
    drop(warm_up);
    observer.until(|c| c.peer_set() == alone).await;
    let baseline = rss_kib(server.pid());

    let mut after = Vec::new();
    for round in 0..3 {
        let sockets = storm_connect(addr, 1000).await;
        observer
            .until_for(Duration::from_secs(20), |c| c.peers.len() == 1001)
            .await;
        let dropped = Instant::now();
        drop(sockets); // no close handshake: the TCP connections just go away
        observer
            .until_for(Duration::from_secs(20), |c| c.peer_set() == alone)
            .await;
        let converged = dropped.elapsed();
        // Freed memory goes back to the system within a few seconds.
        let settled = Instant::now();
        while rss_kib(server.pid()) > bound(baseline) && settled.elapsed() < Duration::from_secs(8)
        {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        after.push(rss_kib(server.pid()));
        println!("storm round {round}: 1000 dropped, peer list back to 1 in {converged:?}");
    }
    println!("storm: RSS baseline {baseline} KiB, after each round {after:?} KiB");
    assert!(
        after.iter().all(|rss| *rss <= bound(baseline)),
        "memory did not come back: baseline {baseline} KiB, after {after:?} KiB"
    );
}

/// Back to baseline, give or take allocator bookkeeping: +50 % or +16 MiB.
fn bound(baseline: u64) -> u64 {
    baseline + (baseline / 2).max(16 * 1024)
}

/// `n` joined connections that read everything and answer pings, as browsers would, until
/// dropped: then their TCP connections just vanish, with no close handshake.
struct Crowd(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Crowd {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

async fn storm_connect(addr: SocketAddr, n: usize) -> Crowd {
    let mut tasks = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
        let opened = futures::future::join_all(chunk.iter().map(|_| raw_socket(addr, true))).await;
        for ws in opened {
            let mut ws = ws.expect("storm connection opens");
            tasks.push(tokio::spawn(async move {
                while let Some(Ok(frame)) = ws.next().await {
                    if matches!(&frame, Message::Text(t) if t.as_str() == "2")
                        && ws.send(Message::Text("3".into())).await.is_err()
                    {
                        return;
                    }
                }
            }));
        }
    }
    Crowd(tasks)
}

/// A client that stops reading cannot make the server buffer without bound: its queue is
/// bounded, and with a full queue the next heartbeat cannot go out, which drops it (it would
/// resync on return); everyone else gets every message. Heartbeats are fast here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_and_nobody_else_notices() {
    let addr = support::start_server_with(|config| {
        config.chat.ping_interval_ms = 1000;
        config.chat.ping_timeout_ms = 1000;
    })
    .await;
    let mut reader = Client::connect(addr).await;
    let mut writer = Client::connect(addr).await;
    // Joins, then never reads again: its TCP window and then its server queue fill up.
    let stalled = raw_socket(addr, true).await.expect("connects");
    reader.until(|c| c.peers.len() == 3).await;

    let mut sent = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while reader.peers.len() == 3 {
        assert!(
            Instant::now() < deadline,
            "the stalled client was never dropped"
        );
        for _ in 0..200 {
            let text = format!("{sent:06} {}", "x".repeat(900));
            writer.say(&text).await.expect("accepted");
            sent += 1;
        }
        reader.until(|c| c.texts().len() >= sent).await;
    }
    // Everyone who reads got everything, in order.
    for client in [&mut reader, &mut writer] {
        client.until(|c| c.texts().len() >= sent).await;
        let numbers: Vec<usize> = client
            .texts()
            .iter()
            .map(|t| t[..6].parse().unwrap())
            .collect();
        assert_eq!(numbers, (0..sent).collect::<Vec<_>>());
    }
    println!("slow reader: dropped after {sent} messages of ~1 KB; readers missed none");
    // (Without reading, it could not answer the heartbeat either; the point is that the
    // server let go of it while the others chatted on, losing nothing.)
    drop(stalled);
}

/// Typing signals count against the connection's rate like every other event: a flood is
/// refused (`rate-limited`) and, kept up, dropped — before, typing skipped the rate check and
/// a client could send it without limit (#16's finding).
#[tokio::test]
async fn a_typing_flood_is_rate_limited_like_any_event() {
    let addr = start_hardened_server().await;
    let mut ws = raw_socket(addr, true).await.expect("connects");
    // Events sent before the server confirmed the connection are not handled at all.
    while let Some(Ok(frame)) = ws.next().await {
        if matches!(&frame, Message::Text(text) if text.starts_with("40")) {
            break;
        }
    }
    for _ in 0..40 {
        ws.send(text(r#"42["typing",{"room":"general"}]"#))
            .await
            .unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    let mut refused = false;
    while !refused {
        let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, ws.next()).await else {
            break;
        };
        if let Message::Text(text) = frame {
            refused = text.starts_with(r#"42["chat-error""#) && text.contains("rate-limited");
        }
    }
    assert!(refused, "40 typing signals at once were never refused");
}

/// 200 connection attempts at once from one address, with a cap of 50: at most 50 are
/// admitted. Each handshake takes its slot when it is accepted, not when the client joins
/// (before, 120 of 200 got in: every attempt passed the check before any was counted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_attempts_from_one_address_never_exceed_its_cap() {
    let mut config = Config::default();
    config.leptos.site_addr = "127.0.0.1:0".parse().unwrap();
    config.leptos.hash_files = false;
    config.chat.storage = chat::server::config::Storage::Memory;
    config.chat.max_connections_per_ip = 50;
    config.chat.handshakes_per_minute_per_ip = 1_000_000;
    let server = Server::bind(config).await.unwrap();
    let addr = server.local_addr();
    tokio::spawn(server.serve(std::future::pending()));

    let attempts = (0..200).map(|_| {
        tokio::spawn(async move {
            let mut ws = raw_socket(addr, true).await?;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            loop {
                let frame = tokio::time::timeout_at(deadline, ws.next())
                    .await
                    .ok()??
                    .ok()?;
                if let Message::Text(text) = frame
                    && text.starts_with("40")
                {
                    return Some(ws);
                }
            }
        })
    });
    let admitted: Vec<Ws> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .filter_map(|joined| joined.ok().flatten())
        .collect();
    assert!(
        admitted.len() <= 50,
        "{} of 200 admitted with a cap of 50",
        admitted.len()
    );
    assert!(admitted.len() >= 40, "only {} admitted", admitted.len());
}

/// Opens a WebSocket session that says it comes through a proxy for `client`; whether the
/// server accepted the handshake.
async fn ws_forwarded_for(addr: SocketAddr, client: &str) -> bool {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("x-forwarded-for", client.parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => {
            // Held open for the rest of the test, so the slot stays taken.
            std::mem::forget(ws);
            true
        }
        Err(_) => false,
    }
}

/// Behind a reverse proxy every client arrives from the proxy's address: with
/// `chat.trusted-proxies` the per-address caps count the address the proxy recorded, and
/// from any other peer the header is ignored (a client cannot pick the address its limits
/// are counted under).
#[tokio::test]
async fn behind_a_trusted_proxy_limits_count_the_forwarded_address() {
    let start = |trusted: Vec<&str>| {
        let mut config = Config::default();
        config.leptos.site_addr = "127.0.0.1:0".parse().unwrap();
        config.leptos.hash_files = false;
        config.chat.storage = chat::server::config::Storage::Memory;
        config.chat.max_connections_per_ip = 2;
        config.chat.handshakes_per_minute_per_ip = 1_000;
        config.chat.trusted_proxies = trusted.into_iter().map(|n| n.parse().unwrap()).collect();
        async move {
            let server = Server::bind(config).await.unwrap();
            let addr = server.local_addr();
            tokio::spawn(server.serve(std::future::pending()));
            addr
        }
    };
    let proxied = start(vec!["127.0.0.1/32"]).await;
    assert!(ws_forwarded_for(proxied, "198.51.100.1").await);
    assert!(ws_forwarded_for(proxied, "198.51.100.1").await);
    assert!(
        !ws_forwarded_for(proxied, "198.51.100.1").await,
        "a third from one client address is over the cap"
    );
    assert!(
        ws_forwarded_for(proxied, "198.51.100.2").await,
        "another client behind the same proxy has its own cap"
    );

    let direct = start(Vec::new()).await;
    assert!(ws_forwarded_for(direct, "198.51.100.1").await);
    assert!(ws_forwarded_for(direct, "198.51.100.2").await);
    assert!(
        !ws_forwarded_for(direct, "198.51.100.3").await,
        "without trusted proxies the header is ignored: all three are 127.0.0.1"
    );
}
