//! The SQLite FTS5 index itself: its tables, how a message's state goes in (and an edit or a
//! deletion replaces it), and the search query. Plain functions over a [`Connection`]; the
//! threads and channels around them are in `mod.rs`.
//!
//! `search_docs` holds one row per indexed message: where it is, who may read it (a DM's two
//! people), its change number, its text and the rest of its state as JSON. `search_fts` is an
//! external-content FTS5 table over `search_docs.text` (the text is stored once; `highlight`
//! reads it back). A row's id (`doc`) is `ts << 20 | slot`, the slot a hash of `(room, id)`:
//! document order is time order, so "newest first" is FTS5 walking its rowids backwards and
//! stopping after a page, and ties in `ts` fall the same way on every node. A deleted message
//! keeps a row without text (its change number stops an older state coming back) and leaves
//! the FTS index.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use crate::protocol::{Conversation, NewMessage, SearchHit};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS search_docs (
    doc   INTEGER PRIMARY KEY,
    room  TEXT    NOT NULL,
    id    INTEGER NOT NULL,
    ts    INTEGER NOT NULL,
    rev   INTEGER NOT NULL,
    low   TEXT,
    high  TEXT,
    text  TEXT    NOT NULL,
    state TEXT    NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS search_docs_by_message ON search_docs (room, id);
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
    text, content = 'search_docs', content_rowid = 'doc',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
CREATE TABLE IF NOT EXISTS search_rooms (
    room     TEXT PRIMARY KEY,
    last_id  INTEGER NOT NULL,
    last_rev INTEGER NOT NULL
) WITHOUT ROWID;
";

/// Bits of a document id below the millisecond.
const SLOT_BITS: u32 = 20;
/// Latest `ts` a document id can hold (year 2248); later ones are clamped.
const MAX_TS: u64 = (1 << (63 - SLOT_BITS)) - 1;

/// Where the index stopped in a room: its newest id and change number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mark {
    pub last_id: u64,
    pub last_rev: u64,
}

/// Opens the index's tables on `conn` (creating them), with deleted text overwritten on disk.
pub fn prepare(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "PRAGMA busy_timeout = 5000; PRAGMA secure_delete = ON; {SCHEMA}"
    ))?;
    // FTS5 removes a deleted text's words from the index at once, instead of leaving them
    // in older segments behind a delete marker until a merge.
    conn.execute(
        "INSERT INTO search_fts (search_fts, rank) VALUES ('secure-delete', 1)",
        [],
    )?;
    Ok(())
}

/// Every room's mark.
pub fn marks(conn: &Connection) -> rusqlite::Result<HashMap<String, Mark>> {
    let mut stmt = conn.prepare("SELECT room, last_id, last_rev FROM search_rooms")?;
    let rows = stmt.query_map([], |row| {
        let mark = Mark {
            last_id: row.get::<_, i64>(1)? as u64,
            last_rev: row.get::<_, i64>(2)? as u64,
        };
        Ok((row.get(0)?, mark))
    })?;
    rows.collect()
}

/// Moves a room's mark forward to `mark` (never back).
pub fn advance(conn: &Connection, room: &str, mark: Mark) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO search_rooms (room, last_id, last_rev) VALUES (?1, ?2, ?3)
         ON CONFLICT (room) DO UPDATE SET last_id = max(last_id, ?2), last_rev = max(last_rev, ?3)",
    )?
    .execute(params![room, mark.last_id as i64, mark.last_rev as i64])?;
    Ok(())
}

/// Puts a message's state in the index, unless the index has a newer one. An edit replaces
/// the indexed text; a deletion removes it. A message whose `ts` differs from the one
/// indexed under the same id is in a room that was removed and created again: the old
/// room's entries go first.
pub fn apply(conn: &Connection, message: &NewMessage) -> rusqlite::Result<()> {
    let found = conn
        .prepare_cached("SELECT doc, ts, rev FROM search_docs WHERE room = ?1 AND id = ?2")?
        .query_row(params![message.room, message.id as i64], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)? as u64,
                row.get::<_, i64>(2)? as u64,
            ))
        })
        .optional()?;
    let text = if message.deleted {
        ""
    } else {
        message.message.as_str()
    };
    let state = state_json(message);
    match found {
        Some((_, ts, _)) if ts != message.ts => {
            forget_room(conn, &message.room, u64::MAX)?;
            insert(conn, message, text, &state)
        }
        Some((_, _, rev)) if message.rev <= rev && rev > 0 => Ok(()),
        Some((doc, _, _)) => {
            unindex(conn, doc)?;
            conn.prepare_cached(
                "UPDATE search_docs SET rev = ?2, text = ?3, state = ?4 WHERE doc = ?1",
            )?
            .execute(params![doc, message.rev as i64, text, state])?;
            index_text(conn, doc, text)
        }
        None => insert(conn, message, text, &state),
    }
}

fn insert(
    conn: &Connection,
    message: &NewMessage,
    text: &str,
    state: &str,
) -> rusqlite::Result<()> {
    let doc = free_doc(conn, message)?;
    let parties = Conversation::parse(&message.room);
    let (low, high) = parties
        .as_ref()
        .and_then(Conversation::parties)
        .map_or((None, None), |(l, h)| (Some(l), Some(h)));
    conn.prepare_cached(
        "INSERT INTO search_docs (doc, room, id, ts, rev, low, high, text, state)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        doc,
        message.room,
        message.id as i64,
        message.ts as i64,
        message.rev as i64,
        low,
        high,
        text,
        state
    ])?;
    index_text(conn, doc, text)
}

/// The first free document id from the message's own slot on.
fn free_doc(conn: &Connection, message: &NewMessage) -> rusqlite::Result<i64> {
    let mut doc = doc_id(message.ts, &message.room, message.id);
    let mut taken = conn.prepare_cached("SELECT 1 FROM search_docs WHERE doc = ?1")?;
    while taken.exists(params![doc])? {
        doc += 1;
    }
    Ok(doc)
}

/// `ts << 20 | slot`, the slot an FNV-1a hash of `(room, id)`: the same on every node.
pub fn doc_id(ts: u64, room: &str, id: u64) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in room.bytes().chain([0xff]).chain(id.to_le_bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let slot = hash & ((1 << SLOT_BITS) - 1);
    ((ts.min(MAX_TS) << SLOT_BITS) | slot) as i64
}

/// The first document id of millisecond `ts`.
fn first_doc_of(ts: u64) -> i64 {
    (ts.min(MAX_TS) << SLOT_BITS) as i64
}

fn index_text(conn: &Connection, doc: i64, text: &str) -> rusqlite::Result<()> {
    if !text.is_empty() {
        conn.prepare_cached("INSERT INTO search_fts (rowid, text) VALUES (?1, ?2)")?
            .execute(params![doc, text])?;
    }
    Ok(())
}

/// Takes a document's current text out of the FTS index (external content: FTS5 is told
/// the text it indexed).
fn unindex(conn: &Connection, doc: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO search_fts (search_fts, rowid, text)
         SELECT 'delete', doc, text FROM search_docs WHERE doc = ?1 AND text != ''",
    )?
    .execute(params![doc])?;
    Ok(())
}

/// Removes a room's entries posted before `before_ms` (everything with `u64::MAX`, and then
/// its mark too); how many went.
pub fn forget_room(conn: &Connection, room: &str, before_ms: u64) -> rusqlite::Result<usize> {
    let bound = if before_ms == u64::MAX {
        i64::MAX
    } else {
        first_doc_of(before_ms)
    };
    conn.prepare_cached(
        "INSERT INTO search_fts (search_fts, rowid, text)
         SELECT 'delete', doc, text FROM search_docs WHERE room = ?1 AND doc < ?2 AND text != ''",
    )?
    .execute(params![room, bound])?;
    let gone = conn
        .prepare_cached("DELETE FROM search_docs WHERE room = ?1 AND doc < ?2")?
        .execute(params![room, bound])?;
    if before_ms == u64::MAX {
        conn.prepare_cached("DELETE FROM search_rooms WHERE room = ?1")?
            .execute(params![room])?;
    }
    Ok(gone)
}

/// Removes every entry posted before `before_ms` (retention); how many went.
pub fn expire(conn: &Connection, before_ms: u64) -> rusqlite::Result<usize> {
    let bound = first_doc_of(before_ms);
    conn.prepare_cached(
        "INSERT INTO search_fts (search_fts, rowid, text)
         SELECT 'delete', doc, text FROM search_docs WHERE doc < ?1 AND text != ''",
    )?
    .execute(params![bound])?;
    conn.prepare_cached("DELETE FROM search_docs WHERE doc < ?1")?
        .execute(params![bound])
}

/// The state a result is rebuilt from: the message without its text (kept in `text`).
fn state_json(message: &NewMessage) -> String {
    let bare = NewMessage {
        message: String::new(),
        ..message.clone()
    };
    serde_json::to_string(&bare).unwrap_or_default()
}

/// What to search: a MATCH expression, for whom, where, and below which document.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    pub expression: String,
    /// The asker's public id: DMs of others are never read.
    pub asker: String,
    pub room: Option<String>,
    pub cursor: Cursor,
    pub limit: usize,
}

/// Where a page starts: before a result (its `ts`, and its room and id when known).
#[derive(Debug, Clone, Default)]
pub struct Cursor {
    pub before: Option<u64>,
    pub after_message: Option<(String, u64)>,
}

/// Markers `highlight` puts around matched words (control characters, which stored
/// messages never contain).
const OPEN: char = '\u{1}';
const CLOSE: char = '\u{2}';

/// Up to `limit` results, newest first.
pub fn search(conn: &Connection, lookup: &Lookup) -> rusqlite::Result<Vec<SearchHit>> {
    let bound = upper_bound(conn, &lookup.cursor)?;
    let mut stmt = conn.prepare_cached(
        "SELECT d.state, d.text, highlight(search_fts, 0, char(1), char(2))
         FROM search_fts JOIN search_docs d ON d.doc = search_fts.rowid
         WHERE search_fts MATCH ?1 AND search_fts.rowid < ?2
           AND (d.low IS NULL OR d.low = ?3 OR d.high = ?3)
           AND (?4 IS NULL OR d.room = ?4)
         ORDER BY search_fts.rowid DESC LIMIT ?5",
    )?;
    let rows = stmt.query_map(
        params![
            lookup.expression,
            bound,
            lookup.asker,
            lookup.room,
            lookup.limit as i64
        ],
        |row| {
            let state: String = row.get(0)?;
            let text: String = row.get(1)?;
            let marked: String = row.get(2)?;
            Ok((state, text, marked))
        },
    )?;
    let mut hits = Vec::new();
    for row in rows {
        let (state, text, marked) = row?;
        let Ok(mut message) = serde_json::from_str::<NewMessage>(&state) else {
            tracing::warn!("an indexed message's state does not read; skipped");
            continue;
        };
        message.message = text;
        hits.push(SearchHit {
            message,
            matches: ranges(&marked),
        });
    }
    Ok(hits)
}

/// The exclusive upper document id of a page.
fn upper_bound(conn: &Connection, cursor: &Cursor) -> rusqlite::Result<i64> {
    let Some(before) = cursor.before else {
        return Ok(i64::MAX);
    };
    if let Some((room, id)) = &cursor.after_message {
        let doc: Option<i64> = conn
            .prepare_cached("SELECT doc FROM search_docs WHERE room = ?1 AND id = ?2 AND ts = ?3")?
            .query_row(params![room, *id as i64, before as i64], |row| row.get(0))
            .optional()?;
        if let Some(doc) = doc {
            return Ok(doc);
        }
    }
    Ok(first_doc_of(before))
}

/// The `[start, end)` UTF-16 ranges between the markers of a highlighted text.
pub fn ranges(marked: &str) -> Vec<[u32; 2]> {
    let mut found = Vec::new();
    let mut at = 0u32;
    let mut open = None;
    for c in marked.chars() {
        match c {
            OPEN => open = Some(at),
            CLOSE => {
                if let Some(start) = open.take() {
                    found.push([start, at]);
                }
            }
            c => at += c.len_utf16() as u32,
        }
    }
    found
}
