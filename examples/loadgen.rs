//! Load generator for the benchmark (`make bench`): N WebSocket clients speaking Engine.IO v4
//! / Socket.IO v5 (the tutorial's events, so it drives our server and the Node tutorial server
//! alike), S of them sending `message` with a send time in the text; every client measures the
//! latency of each `newMessage` it receives. Prints one JSON line of results.
//!
//!     loadgen <http://host:port> <clients> <senders> <messages/s in total> <seconds>
//!
//! Meant to run pinned to its own core (`taskset -c 1`); it reports its own CPU time so a
//! saturated generator is visible beside the server's figures.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

/// Messages carry `b:<microseconds since start>`; receivers find it without parsing JSON.
const MARK: &str = "b:";

struct Totals {
    delivered: AtomicU64,
    latencies: Mutex<Vec<u32>>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 {
        eprintln!("usage: loadgen <http://host:port> <clients> <senders> <msgs/s> <seconds>");
        std::process::exit(2);
    }
    let url = args[1].replacen("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket";
    let parse = |i: usize| -> u64 {
        args[i].parse().unwrap_or_else(|_| {
            eprintln!("argument {i} must be a number");
            std::process::exit(2)
        })
    };
    let (clients, senders, rate, seconds) = (parse(2), parse(3), parse(4), parse(5));
    let start = Instant::now();
    let totals = Arc::new(Totals {
        delivered: AtomicU64::new(0),
        latencies: Mutex::new(Vec::new()),
    });

    let mut sockets = Vec::new();
    for chunk in (0..clients).collect::<Vec<_>>().chunks(100) {
        let opened = futures::future::join_all(chunk.iter().map(|_| connect(&url))).await;
        for ws in opened {
            match ws {
                Some(ws) => sockets.push(ws),
                None => {
                    eprintln!("a client could not connect");
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
    for (i, ws) in sockets.into_iter().enumerate() {
        let totals = totals.clone();
        let sent = sent.clone();
        let sends = (i as u64) < senders && per_sender > 0.0;
        tasks.push(tokio::spawn(async move {
            let (write, mut read) = ws.split();
            let write = Arc::new(Mutex::new(write));
            let sender = sends.then(|| {
                let write = write.clone();
                tokio::spawn(async move {
                    let gap = Duration::from_secs_f64(1.0 / per_sender);
                    let mut tick = tokio::time::interval(gap);
                    let until = start.elapsed() + run_for;
                    while start.elapsed() < until {
                        tick.tick().await;
                        let micros = start.elapsed().as_micros();
                        let frame = format!("42[\"message\",\"{MARK}{micros}\"]");
                        if write
                            .lock()
                            .await
                            .send(Message::Text(frame.into()))
                            .await
                            .is_err()
                        {
                            return;
                        }
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                })
            });
            let mut local = Vec::new();
            let drain_until = run_for + Duration::from_secs(2);
            while let Ok(Some(Ok(frame))) =
                tokio::time::timeout(drain_until.saturating_sub(start.elapsed()), read.next()).await
            {
                let Message::Text(text) = frame else { continue };
                if text.as_str() == "2" {
                    let _ = write.lock().await.send(Message::Text("3".into())).await;
                } else if let Some(at) = text
                    .starts_with("42[\"newMessage\"")
                    .then(|| text.find(MARK))
                    .flatten()
                {
                    let digits: String = text[at + MARK.len()..]
                        .chars()
                        .take_while(char::is_ascii_digit)
                        .collect();
                    if let Ok(sent_at) = digits.parse::<u128>() {
                        let now = start.elapsed().as_micros();
                        local.push(now.saturating_sub(sent_at).min(u32::MAX as u128) as u32);
                    }
                }
            }
            if let Some(sender) = sender {
                sender.abort();
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

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a socket and joins the main namespace.
async fn connect(url: &str) -> Option<Ws> {
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
        .await
        .ok()?;
    loop {
        match ws.next().await?.ok()? {
            Message::Text(t) if t.starts_with('0') => break,
            _ => {}
        }
    }
    ws.send(Message::Text("40".into())).await.ok()?;
    loop {
        match ws.next().await?.ok()? {
            Message::Text(t) if t.starts_with("40") => return Some(ws),
            Message::Text(t) if t.starts_with("44") => return None,
            _ => {}
        }
    }
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
