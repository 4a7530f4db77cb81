//! Search latency over a large index (BENCHMARKS.md, "search latency"): fills the server's
//! own search index with generated messages in bulk — through the index's API, as catch-up
//! does, not over sockets — then times searches of each kind and prints p50/p99, one human
//! line per kind and one JSON line per placement.
//!
//!     search_bench <messages> <dir> [queries per kind]
//!
//! Two placements, the two the server uses: `single` — the index's tables in the chat's
//! database file, beside a table holding the same messages as the store does; `node` — a
//! node of several's own index file (a replica of the shared store's messages; searches never
//! reach Redis, so Redis is not involved here). Words follow a Zipf distribution (s = 1.07)
//! over 20 000 words, 3 to 20 words a message, in 200 public rooms and 2 000 DMs; the asker
//! has DMs of their own and everyone else's are filtered out, as in the real query.

use std::path::Path;
use std::time::Instant;

use chat::protocol::{NewMessage, dm_room};
use chat::server::search::{Cursor, Place, Query, SearchIndex};

const VOCABULARY: usize = 20_000;
const ROOMS: usize = 200;
const PEOPLE: usize = 1_000;
const SYLLABLES: [&str; 32] = [
    "ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "ve", "da", "gu", "ho", "ja", "ke", "lu", "ma",
    "ni", "or", "pe", "qui", "ro", "sa", "ti", "ul", "va", "we", "xi", "yo", "ze", "bra", "cle",
    "dro",
];

/// A small fast generator (xorshift64*): reproducible runs, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The word of rank `r` (0 is the most frequent).
fn word(rank: usize) -> String {
    let mut r = rank;
    let mut w = String::new();
    loop {
        w.push_str(SYLLABLES[r % SYLLABLES.len()]);
        r /= SYLLABLES.len();
        if r == 0 {
            return w;
        }
    }
}

struct Words {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Words {
    fn new() -> Words {
        let mut total = 0.0;
        let cumulative = (1..=VOCABULARY)
            .map(|r| {
                total += 1.0 / (r as f64).powf(1.07);
                total
            })
            .collect();
        Words {
            words: (0..VOCABULARY).map(word).collect(),
            cumulative,
        }
    }
    fn pick(&self, rng: &mut Rng) -> &str {
        let target = rng.unit() * self.cumulative[VOCABULARY - 1];
        let at = self.cumulative.partition_point(|c| *c < target);
        &self.words[at.min(VOCABULARY - 1)]
    }
}

fn person(i: usize) -> String {
    format!("{:016x}", 0x1000_0000_0000_0000u64 + i as u64)
}

/// `count` messages, oldest first, a few per millisecond.
fn generate(count: usize, words: &Words) -> Vec<NewMessage> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut next_id = std::collections::HashMap::<String, u64>::new();
    let mut ts = 1_700_000_000_000u64;
    (0..count)
        .map(|_| {
            ts += rng.below(3) as u64;
            let room = if rng.below(5) == 0 {
                let a = rng.below(PEOPLE / 10);
                let b = PEOPLE / 10 + rng.below(PEOPLE - PEOPLE / 10);
                dm_room(&person(a), &person(b))
            } else {
                format!("room-{}", rng.below(ROOMS))
            };
            let id = next_id.entry(room.clone()).or_default();
            *id += 1;
            let len = 3 + rng.below(18);
            let text: Vec<&str> = (0..len).map(|_| words.pick(&mut rng)).collect();
            NewMessage {
                sender: "red-fox".into(),
                message: text.join(" "),
                room,
                id: *id,
                ts,
                rev: *id,
                from: person(rng.below(PEOPLE)),
                ..NewMessage::default()
            }
        })
        .collect()
}

/// The queries of each kind, from the generated text so phrases exist.
fn queries(messages: &[NewMessage], per_kind: usize) -> Vec<(&'static str, Vec<String>)> {
    let mut rng = Rng(42);
    let sample = |rng: &mut Rng| &messages[rng.below(messages.len())].message;
    let ranked = |rng: &mut Rng, lo: usize, hi: usize| word(lo + rng.below(hi - lo));
    let mut kinds: Vec<(&'static str, Vec<String>)> = vec![
        ("common word (rank < 50)", Vec::new()),
        ("rare word (rank 5 000-20 000)", Vec::new()),
        ("two words", Vec::new()),
        ("prefix, 2 letters", Vec::new()),
        ("prefix, 4+ letters", Vec::new()),
        ("phrase of two words", Vec::new()),
    ];
    for _ in 0..per_kind {
        kinds[0].1.push(ranked(&mut rng, 0, 50));
        kinds[1].1.push(ranked(&mut rng, 5_000, VOCABULARY));
        kinds[2].1.push(format!(
            "{} {}",
            ranked(&mut rng, 0, 500),
            ranked(&mut rng, 0, 500)
        ));
        let w = ranked(&mut rng, 32, 2_000);
        kinds[3].1.push(format!("{}*", &w[..2]));
        kinds[4].1.push(format!("{}*", &w[..w.len().min(4)]));
        let text = sample(&mut rng);
        let pair: Vec<&str> = text.split(' ').take(2).collect();
        kinds[5].1.push(format!("\"{}\"", pair.join(" ")));
    }
    kinds
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// Fills the index at `place`, then times every query; prints and returns the figures.
async fn run(label: &str, place: &Place, messages: &[NewMessage], per_kind: usize) {
    let index = SearchIndex::open(place).expect("the index opens");
    let started = Instant::now();
    for batch in messages.chunks(500) {
        index.load(batch.to_vec()).await.expect("indexed");
    }
    let fill_s = started.elapsed().as_secs_f64();
    let rate = messages.len() as f64 / fill_s;
    println!(
        "{label}: {} messages indexed in {fill_s:.1} s ({rate:.0}/s)",
        messages.len()
    );
    let asker = person(3);
    let mut json = Vec::new();
    for (kind, list) in queries(messages, per_kind) {
        let mut took = Vec::new();
        let mut results = 0;
        for text in &list {
            let query = Query::parse(text).expect("a query");
            let at = Instant::now();
            let page = index
                .search(&asker, &query, None, Cursor::default())
                .await
                .expect("search answers");
            took.push(at.elapsed().as_secs_f64() * 1000.0);
            results += page.results.len();
        }
        took.sort_by(f64::total_cmp);
        let (p50, p99) = (percentile(&took, 0.5), percentile(&took, 0.99));
        println!(
            "  {kind:32} p50 {p50:7.2} ms  p99 {p99:7.2} ms  ({} queries, {:.1} results each)",
            list.len(),
            results as f64 / list.len() as f64
        );
        json.push(format!(
            "{{\"kind\":{kind:?},\"p50_ms\":{p50:.3},\"p99_ms\":{p99:.3}}}"
        ));
    }
    println!(
        "{{\"placement\":{label:?},\"messages\":{},\"fill_per_s\":{rate:.0},\"kinds\":[{}]}}",
        messages.len(),
        json.join(",")
    );
}

/// A table shaped like the store's `messages`, holding the same messages, in `path`: the
/// file one process's index shares.
fn store_beside(path: &Path, messages: &[NewMessage]) -> rusqlite::Result<()> {
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE IF NOT EXISTS messages (room TEXT NOT NULL, id INTEGER NOT NULL,
           ts INTEGER NOT NULL, author TEXT NOT NULL, sender TEXT NOT NULL, text TEXT NOT NULL,
           sender_id TEXT NOT NULL, rev INTEGER NOT NULL, PRIMARY KEY (room, id)) WITHOUT ROWID;",
    )?;
    let tx = conn.unchecked_transaction()?;
    {
        let mut insert =
            tx.prepare("INSERT INTO messages VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?;
        for m in messages {
            insert.execute(rusqlite::params![
                m.room,
                m.id as i64,
                m.ts as i64,
                m.from,
                m.sender,
                m.message,
                m.from,
                m.rev as i64
            ])?;
        }
    }
    tx.commit()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(count), Some(dir)) = (args.first().and_then(|n| n.parse().ok()), args.get(1)) else {
        eprintln!("usage: search_bench <messages> <dir> [queries per kind]");
        std::process::exit(2);
    };
    let per_kind = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(200);
    let dir = Path::new(dir);
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("the bench directory is writable");
    let started = Instant::now();
    let words = Words::new();
    let messages = generate(count, &words);
    println!(
        "{count} messages generated in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let database = dir.join("chat.sqlite3");
    store_beside(&database, &messages).expect("the store's table is filled");
    run("single", &Place::File(database), &messages, per_kind).await;
    run(
        "node",
        &Place::File(dir.join("search-3000.sqlite3")),
        &messages,
        per_kind,
    )
    .await;
}
