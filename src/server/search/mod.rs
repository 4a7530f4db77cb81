//! Full-text search over the messages people may read: one SQLite FTS5 index, fed by the
//! log's commit feed, in both modes.
//!
//! | file | holds |
//! |---|---|
//! | `mod.rs` | [`SearchIndex`], the handle: where the index lives, its writer thread, searching |
//! | `index.rs` | the tables and the SQL: applying a message's state, forgetting, the query |
//! | `query.rs` | what a person types, read into terms and an FTS5 expression |
//! | `sync.rs` | keeping it true: the feed and catch-up at start (removed rooms: `Chat::forget_room`) |
//! | `indexed.rs` | the log wrapper that forgets what the log purges or expires |
//!
//! One process keeps the index in its own tables of the chat's database (or in memory with
//! `storage = "memory"`); with several nodes each node keeps its own copy (`chat.search-index`),
//! a local replica of the shared store's messages, caught up at start from the store and then
//! fed by the feed every node reads. Every node therefore answers searches alone, and the
//! shared store needs no full-text module.

mod index;
mod indexed;
pub mod query;
mod sync;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::config::{ChatSection, Storage};
use super::lock;
use super::store::StoreError;
use crate::protocol::{NewMessage, SEARCH_PAGE, SearchResults};
pub use index::{Cursor, Mark, doc_id};
pub use indexed::IndexedLog;
pub use query::Query;

/// Why a search or an index write failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SearchError {
    #[error("search index failed: {0}")]
    Index(String),
    #[error("search index stopped")]
    Stopped,
}

fn failed(e: impl std::fmt::Display) -> SearchError {
    SearchError::Index(e.to_string())
}

/// Where an index lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    Memory,
    File(PathBuf),
}

impl Place {
    /// Where `chat`'s index lives: `chat.search-index` when set (`memory`, or a path);
    /// otherwise the chat's database in one process (memory with `storage = "memory"`), and
    /// `search-<port>.sqlite3` beside `chat.database` on a node of several (memory on port 0,
    /// a node that keeps nothing).
    pub fn of(chat: &ChatSection, port: u16) -> Place {
        match chat.search_index.trim() {
            "memory" => return Place::Memory,
            "" => {}
            path => return Place::File(PathBuf::from(path)),
        }
        match (chat.redis(), chat.storage) {
            (None, Storage::Sqlite) => Place::File(chat.database.clone()),
            (None, Storage::Memory) => Place::Memory,
            (Some(_), _) if port == 0 => Place::Memory,
            (Some(_), _) => {
                let dir = chat.database.parent().unwrap_or(Path::new(""));
                Place::File(dir.join(format!("search-{port}.sqlite3")))
            }
        }
    }
}

/// The index: cheap to clone. Writes go, in order, to one writer thread that commits what is
/// queued in one transaction; searches read on their own connection (the same one in memory).
#[derive(Clone)]
pub struct SearchIndex(Arc<Inner>);

struct Inner {
    ops: Mutex<Sender<Op>>,
    reader: Arc<Mutex<Connection>>,
    /// Each room's mark when the index was opened: where catch-up starts.
    opened_with: Mutex<Option<HashMap<String, Mark>>>,
    opened_at: u64,
}

/// What the writer thread does, in the order asked.
enum Op {
    /// A state from the feed: the room's mark moves on once the room is caught up.
    Live(NewMessage),
    /// States read from the log while catching up (marks stay).
    CatchUp(Vec<NewMessage>),
    /// A room is caught up to `mark`; from now on its feed moves its mark.
    CaughtUp(String, Mark),
    /// Every room is caught up.
    AllCaughtUp,
    /// Forget a room's entries posted before a time (`u64::MAX`: all, and its mark).
    Forget(
        String,
        u64,
        Option<oneshot::Sender<Result<usize, SearchError>>>,
    ),
    /// Forget every entry posted before a time (retention).
    Expire(u64, Option<oneshot::Sender<Result<usize, SearchError>>>),
    /// Answer once everything asked before is written.
    Flush(oneshot::Sender<()>),
}

/// Most operations one transaction takes.
const BATCH: usize = 512;

impl SearchIndex {
    /// Opens (creating it) the index at `place`.
    pub fn open(place: &Place) -> Result<SearchIndex, StoreError> {
        let where_ = match place {
            Place::Memory => "memory".to_owned(),
            Place::File(path) => path.display().to_string(),
        };
        let open_error = |e: &dyn std::fmt::Display| StoreError::Open {
            path: where_.clone(),
            reason: format!("search index: {e}"),
        };
        let connect = || -> rusqlite::Result<Connection> {
            let conn = match place {
                Place::Memory => Connection::open_in_memory()?,
                Place::File(path) => Connection::open(path)?,
            };
            Ok(conn)
        };
        if let Place::File(path) = place
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| open_error(&e))?;
        }
        let writer = connect().map_err(|e| open_error(&e))?;
        if matches!(place, Place::File(_)) {
            writer
                .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
                .map_err(|e| open_error(&e))?;
        }
        index::prepare(&writer).map_err(|e| open_error(&e))?;
        let marks = index::marks(&writer).map_err(|e| open_error(&e))?;
        let writer = Arc::new(Mutex::new(writer));
        let reader = match place {
            Place::Memory => writer.clone(),
            Place::File(_) => {
                let reader = connect().map_err(|e| open_error(&e))?;
                reader
                    .execute_batch("PRAGMA busy_timeout = 5000; PRAGMA query_only = ON;")
                    .map_err(|e| open_error(&e))?;
                Arc::new(Mutex::new(reader))
            }
        };
        let (ops, queue) = channel();
        std::thread::Builder::new()
            .name("search-writer".into())
            .spawn(move || write_loop(&writer, queue))
            .map_err(|e| open_error(&e))?;
        Ok(SearchIndex(Arc::new(Inner {
            ops: Mutex::new(ops),
            reader,
            opened_with: Mutex::new(Some(marks)),
            opened_at: super::store::now_ms(),
        })))
    }

    fn send(&self, op: Op) -> Result<(), SearchError> {
        lock(&self.0.ops).send(op).map_err(|_| SearchError::Stopped)
    }

    /// Indexes a message's state from the feed (queued: returns at once).
    pub fn record(&self, message: NewMessage) {
        if self.send(Op::Live(message)).is_err() {
            tracing::error!("search index stopped; a message was not indexed");
        }
    }

    /// Indexes states read from the log (in bulk: catch-up, benchmarks), without moving
    /// marks; resolves once written.
    pub async fn load(&self, messages: Vec<NewMessage>) -> Result<(), SearchError> {
        self.send(Op::CatchUp(messages))?;
        self.flush().await
    }

    /// Resolves once everything asked before is written.
    pub async fn flush(&self) -> Result<(), SearchError> {
        let (reply, done) = oneshot::channel();
        self.send(Op::Flush(reply))?;
        done.await.map_err(|_| SearchError::Stopped)
    }

    /// Forgets every entry of `room` (a removed room); how many went.
    pub async fn forget_room(&self, room: &str) -> Result<usize, SearchError> {
        let (reply, done) = oneshot::channel();
        self.send(Op::Forget(room.to_owned(), u64::MAX, Some(reply)))?;
        done.await.map_err(|_| SearchError::Stopped)?
    }

    /// Forgets every entry posted before `before_ms` (retention); how many went.
    pub async fn expire(&self, before_ms: u64) -> Result<usize, SearchError> {
        let (reply, done) = oneshot::channel();
        self.send(Op::Expire(before_ms, Some(reply)))?;
        done.await.map_err(|_| SearchError::Stopped)?
    }

    /// One page of what `asker` (a public id) may read that matches `query`, newest first:
    /// public rooms and the asker's own DMs, or `room` only (the caller checked the asker
    /// may read it).
    pub async fn search(
        &self,
        asker: &str,
        query: &Query,
        room: Option<&str>,
        cursor: Cursor,
    ) -> Result<SearchResults, SearchError> {
        let lookup = index::Lookup {
            expression: query.to_match(),
            asker: asker.to_owned(),
            room: room.map(str::to_owned),
            cursor,
            // One more than a page: whether there are older ones.
            limit: SEARCH_PAGE + 1,
        };
        let reader = self.0.reader.clone();
        let mut results = tokio::task::spawn_blocking(move || {
            index::search(&lock(&reader), &lookup).map_err(failed)
        })
        .await
        .map_err(failed)??;
        let more = results.len() > SEARCH_PAGE;
        results.truncate(SEARCH_PAGE);
        Ok(SearchResults { results, more })
    }

    /// The marks the index was opened with, once (for catch-up).
    fn take_marks(&self) -> HashMap<String, Mark> {
        lock(&self.0.opened_with).take().unwrap_or_default()
    }
}

/// Which rooms' feeds move their marks.
#[derive(Default)]
struct Progress {
    caught_up: HashSet<String>,
    all: bool,
}

/// The writer thread: takes what is queued (up to [`BATCH`]), writes it in one transaction,
/// then answers; ends when every handle is gone.
fn write_loop(conn: &Mutex<Connection>, queue: Receiver<Op>) {
    let mut progress = Progress::default();
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match queue.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let conn = lock(conn);
        let mut answers = Vec::new();
        let written = write_batch(&conn, &mut progress, &mut batch, &mut answers);
        drop(conn);
        if let Err(e) = &written {
            tracing::error!(error = %e, ops = batch.len(), "search index write failed");
        }
        for (answer, gone) in answers {
            let outcome = written.clone().map_err(failed).map(|()| gone);
            let _ = answer.send(outcome);
        }
        for op in batch {
            match op {
                Op::Flush(reply) => {
                    let _ = reply.send(());
                }
                // Not reached: the transaction failed before them.
                Op::Forget(_, _, Some(reply)) | Op::Expire(_, Some(reply)) => {
                    let _ = reply.send(written.clone().map_err(failed).map(|()| 0));
                }
                _ => {}
            }
        }
    }
}

type Answer = (oneshot::Sender<Result<usize, SearchError>>, usize);

fn write_batch(
    conn: &Connection,
    progress: &mut Progress,
    batch: &mut [Op],
    answers: &mut Vec<Answer>,
) -> Result<(), String> {
    // IMMEDIATE: in one process the chat's store writes to the same file (see its writer).
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)
        .map_err(|e| e.to_string())?;
    for op in batch.iter_mut() {
        write_op(&tx, progress, op, answers).map_err(|e| e.to_string())?;
    }
    tx.commit().map_err(|e| e.to_string())
}

fn write_op(
    conn: &Connection,
    progress: &mut Progress,
    op: &mut Op,
    answers: &mut Vec<Answer>,
) -> rusqlite::Result<()> {
    match op {
        Op::Live(message) => {
            index::apply(conn, message)?;
            if progress.all || progress.caught_up.contains(&message.room) {
                let mark = Mark {
                    last_id: message.id,
                    last_rev: message.rev,
                };
                index::advance(conn, &message.room, mark)?;
            }
        }
        Op::CatchUp(messages) => {
            for message in messages.iter() {
                index::apply(conn, message)?;
            }
        }
        Op::CaughtUp(room, mark) => {
            index::advance(conn, room, *mark)?;
            progress.caught_up.insert(std::mem::take(room));
        }
        Op::AllCaughtUp => progress.all = true,
        Op::Forget(room, before_ms, reply) => {
            let gone = index::forget_room(conn, room, *before_ms)?;
            if let Some(reply) = reply.take() {
                answers.push((reply, gone));
            }
        }
        Op::Expire(before_ms, reply) => {
            let gone = index::expire(conn, *before_ms)?;
            if let Some(reply) = reply.take() {
                answers.push((reply, gone));
            }
        }
        Op::Flush(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests;
