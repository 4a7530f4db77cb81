//! The default store: one SQLite file in WAL mode.
//!
//! All writes go through one writer thread that takes whatever is queued, writes it in one
//! transaction and only then answers each caller (group commit: a burst of messages costs one
//! commit). Reads use a second connection, which WAL lets run beside the writer.
//!
//! Durability: `synchronous = NORMAL` in WAL mode means a committed transaction survives the
//! process being killed (kill -9, a panic, an OOM kill): it is in the WAL file, in the OS page
//! cache. Only a power loss or kernel crash can lose the last commits; `chat.fsync = true`
//! selects `synchronous = FULL`, which fsyncs every commit, for that case.

mod ledger;
mod writer;

pub use ledger::SqliteLedger;

use std::path::Path;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::{mpsc, oneshot};

use super::{
    Altered, Appended, Change, Directory, Entry, Feed, MessageLog, NameHolds, StoreError,
    unavailable,
};
use crate::protocol::NewMessage;
use writer::{OwnedEntry, Write, write_loop};

/// The columns [`row_to_message`] reads, in its order.
pub(super) const MESSAGE_COLUMNS: &str = "room, id, ts, sender, text, client_id, sender_id, reply_to, rev, edited, deleted, reactions, \
     mentions";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
    room      TEXT    NOT NULL,
    id        INTEGER NOT NULL,
    ts        INTEGER NOT NULL,
    author    TEXT    NOT NULL,
    sender    TEXT    NOT NULL,
    text      TEXT    NOT NULL,
    client_id TEXT,
    PRIMARY KEY (room, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS messages_by_client
    ON messages (author, client_id) WHERE client_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS users (
    user    TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    created INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rooms (
    name    TEXT PRIMARY KEY,
    created INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS probe (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    filler BLOB    NOT NULL
);
";

/// Schema changes after the first version, applied in order; `user_version` counts them.
const MIGRATIONS: &[&str] = &[
    "ALTER TABLE messages ADD COLUMN sender_id TEXT NOT NULL DEFAULT ''",
    // Filled in by `index_people` for rows written before it existed.
    "ALTER TABLE users ADD COLUMN public_id TEXT NOT NULL DEFAULT '';
     CREATE INDEX users_by_public_id ON users (public_id)",
    // Mutable messages: `rev` is the room's change number at the message's last change (0
    // for messages from before, which never changed); `reactions` is JSON, NULL when none.
    "ALTER TABLE messages ADD COLUMN reply_to INTEGER;
     ALTER TABLE messages ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE messages ADD COLUMN edited INTEGER;
     ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE messages ADD COLUMN reactions TEXT;
     CREATE INDEX messages_by_rev ON messages (room, rev)",
    // When each person was last seen: names are held for a while after (NameHolds).
    "ALTER TABLE users ADD COLUMN seen INTEGER NOT NULL DEFAULT 0;
     UPDATE users SET seen = created;
     CREATE INDEX users_by_seen ON users (seen)",
    // The people a message mentions: their public ids, comma-separated; NULL for none.
    "ALTER TABLE messages ADD COLUMN mentions TEXT",
];

pub struct SqliteStore {
    writes: mpsc::UnboundedSender<Write>,
    reader: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens (creating it and its directory if needed) the database at `path`.
    /// Opens (creating it and its directory if needed) the database at `path`; new messages
    /// go to `feed` once committed.
    pub fn open(path: &Path, fsync: bool, feed: Feed) -> Result<SqliteStore, StoreError> {
        let open_error = |reason: String| StoreError::Open {
            path: path.display().to_string(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_error(e.to_string()))?;
        }
        let writer = Connection::open(path).map_err(|e| open_error(e.to_string()))?;
        let sync = if fsync { "FULL" } else { "NORMAL" };
        writer
            .execute_batch(&format!(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = {sync}; \
                 PRAGMA busy_timeout = 5000; PRAGMA secure_delete = ON; {SCHEMA}"
            ))
            .map_err(|e| open_error(e.to_string()))?;
        migrate(&writer).map_err(|e| open_error(e.to_string()))?;
        let reader = Connection::open(path).map_err(|e| open_error(e.to_string()))?;
        reader
            .execute_batch("PRAGMA busy_timeout = 5000; PRAGMA query_only = ON;")
            .map_err(|e| open_error(e.to_string()))?;

        let (writes, queue) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || write_loop(writer, queue, feed))
            .map_err(|e| open_error(e.to_string()))?;
        Ok(SqliteStore {
            writes,
            reader: Arc::new(Mutex::new(reader)),
        })
    }

    async fn write<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Write,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.writes
            .send(make(reply))
            .map_err(|_| unavailable("the writer has stopped"))?;
        answer
            .await
            .map_err(|_| unavailable("the writer stopped before answering"))?
    }

    async fn read<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let reader = self.reader.clone();
        tokio::task::spawn_blocking(move || {
            let conn = crate::server::lock(&reader);
            query(&conn).map_err(unavailable)
        })
        .await
        .map_err(unavailable)?
    }
}

fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let done: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let done = usize::try_from(done).unwrap_or(0);
    for (n, step) in MIGRATIONS.iter().enumerate().skip(done) {
        conn.execute_batch(&format!(
            "BEGIN; {step}; PRAGMA user_version = {}; COMMIT;",
            n + 1
        ))?;
    }
    index_people(conn)
}

/// Gives every person stored without a public id theirs (derived in Rust: SQL has no hash).
fn index_people(conn: &Connection) -> rusqlite::Result<()> {
    let users: Vec<String> = conn
        .prepare("SELECT user FROM users WHERE public_id = ''")?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut update = conn.prepare("UPDATE users SET public_id = ?2 WHERE user = ?1")?;
    for user in users {
        update.execute(params![user, crate::server::people::public_id(&user)])?;
    }
    Ok(())
}

impl MessageLog for SqliteStore {
    fn append<'a>(&'a self, entry: Entry<'a>) -> BoxFuture<'a, Result<Appended, StoreError>> {
        let entry = OwnedEntry {
            author: entry.author.to_owned(),
            message: entry.into_message(0),
        };
        Box::pin(self.write(move |reply| Write::Append { entry, reply }))
    }

    fn recent<'a>(
        &'a self,
        room: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, StoreError>> {
        let room = room.to_owned();
        Box::pin(self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE room = ?1 ORDER BY id DESC LIMIT ?2"
            ))?;
            let mut found = stmt
                .query_map(params![room, limit as i64], row_to_message)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            found.reverse();
            Ok(found)
        }))
    }

    fn after<'a>(
        &'a self,
        room: &'a str,
        after: u64,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, StoreError>> {
        let room = room.to_owned();
        Box::pin(self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE room = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
            ))?;
            stmt.query_map(params![room, after as i64, limit as i64], row_to_message)?
                .collect()
        }))
    }

    fn older<'a>(
        &'a self,
        room: &'a str,
        before: u64,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, StoreError>> {
        let room = room.to_owned();
        Box::pin(self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE room = ?1 AND id < ?2
                 ORDER BY id DESC LIMIT ?3"
            ))?;
            let mut found = stmt
                .query_map(
                    params![room, before.min(i64::MAX as u64) as i64, limit as i64],
                    row_to_message,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            found.reverse();
            Ok(found)
        }))
    }

    fn get<'a>(
        &'a self,
        room: &'a str,
        id: u64,
    ) -> BoxFuture<'a, Result<Option<NewMessage>, StoreError>> {
        let room = room.to_owned();
        Box::pin(self.read(move |conn| find(conn, &room, id)))
    }

    fn alter<'a>(
        &'a self,
        room: &'a str,
        id: u64,
        by: &'a str,
        change: Change,
    ) -> BoxFuture<'a, Result<Altered, StoreError>> {
        Box::pin(self.write(move |reply| Write::Alter {
            room: room.to_owned(),
            id,
            by: by.to_owned(),
            change,
            reply,
        }))
    }

    fn changed<'a>(
        &'a self,
        room: &'a str,
        since: u64,
        up_to: u64,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, StoreError>> {
        let room = room.to_owned();
        Box::pin(self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE room = ?1 AND rev > ?2 AND id <= ?3
                 ORDER BY rev LIMIT ?4"
            ))?;
            stmt.query_map(
                params![
                    room,
                    since.min(i64::MAX as u64) as i64,
                    up_to.min(i64::MAX as u64) as i64,
                    limit as i64
                ],
                row_to_message,
            )?
            .collect()
        }))
    }

    fn rooms_with_messages(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(self.read(|conn| {
            conn.prepare("SELECT DISTINCT room FROM messages")?
                .query_map([], |row| row.get(0))?
                .collect()
        }))
    }

    fn expire(&self, before_ms: u64) -> BoxFuture<'_, Result<usize, StoreError>> {
        Box::pin(self.write(move |reply| Write::Expire { before_ms, reply }))
    }

    fn purge<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        let room = room.to_owned();
        Box::pin(self.write(move |reply| Write::Purge { room, reply }))
    }

    fn checkpoint(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.write(|reply| Write::Checkpoint { reply }))
    }

    fn probe_write(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.write(|reply| Write::Probe { reply }))
    }
}

impl Directory for SqliteStore {
    fn name_of<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        let user = user.to_owned();
        Box::pin(self.read(move |conn| {
            conn.prepare_cached("SELECT name FROM users WHERE user = ?1")?
                .query_row([user], |row| row.get(0))
                .optional()
        }))
    }

    fn remember<'a>(
        &'a self,
        user: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.write(move |reply| Write::Remember {
            user: user.to_owned(),
            name: name.to_owned(),
            reply,
        }))
    }

    fn knows<'a>(&'a self, public_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        let public_id = public_id.to_owned();
        Box::pin(self.read(move |conn| {
            conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM users WHERE public_id = ?1)")?
                .query_row([public_id], |row| row.get(0))
        }))
    }

    fn all_names(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(self.read(|conn| {
            conn.prepare("SELECT name FROM users")?
                .query_map([], |row| row.get(0))?
                .collect()
        }))
    }

    fn rooms(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(self.read(|conn| {
            conn.prepare("SELECT name FROM rooms ORDER BY name")?
                .query_map([], |row| row.get(0))?
                .collect()
        }))
    }

    fn add_room<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(self.write(move |reply| Write::AddRoom {
            room: room.to_owned(),
            reply,
        }))
    }

    fn remove_room<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        let room = room.to_owned();
        Box::pin(self.write(move |reply| Write::RemoveRoom { room, reply }))
    }

    fn room_created<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<Option<u64>, StoreError>> {
        let room = room.to_owned();
        Box::pin(self.read(move |conn| {
            conn.prepare_cached("SELECT created FROM rooms WHERE name = ?1")?
                .query_row([room], |row| row.get::<_, i64>(0))
                .optional()
                .map(|created| created.map(|c| u64::try_from(c).unwrap_or(0)))
        }))
    }
}

/// One process: this node's registry decides anonymous names; last seen times are a column.
impl NameHolds for SqliteStore {
    fn hold<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async { Ok(true) })
    }

    fn unhold<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }

    fn seen<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        let user = user.to_owned();
        Box::pin(self.write(move |reply| Write::Seen { user, reply }))
    }

    fn forget_unseen(&self, before_ms: u64) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(self.write(move |reply| Write::ForgetUnseen { before_ms, reply }))
    }
}

/// One message by room and id.
pub(super) fn find(conn: &Connection, room: &str, id: u64) -> rusqlite::Result<Option<NewMessage>> {
    conn.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE room = ?1 AND id = ?2"
    ))?
    .query_row(
        params![room, id.min(i64::MAX as u64) as i64],
        row_to_message,
    )
    .optional()
}

pub(super) fn row_to_message(row: &rusqlite::Row<'_>) -> rusqlite::Result<NewMessage> {
    let reactions = match row.get::<_, Option<String>>(11)? {
        Some(json) => serde_json::from_str(&json).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(11, rusqlite::types::Type::Text, e.into())
        })?,
        None => Vec::new(),
    };
    Ok(NewMessage {
        room: row.get(0)?,
        id: row.get::<_, i64>(1)? as u64,
        ts: row.get::<_, i64>(2)? as u64,
        sender: row.get(3)?,
        message: row.get(4)?,
        client_id: row.get(5)?,
        from: row.get(6)?,
        reply_to: row.get::<_, Option<i64>>(7)?.map(|id| id as u64),
        rev: row.get::<_, i64>(8)? as u64,
        edited: row.get::<_, Option<i64>>(9)?.map(|ts| ts as u64),
        deleted: row.get(10)?,
        reactions,
        mentions: row
            .get::<_, Option<String>>(12)?
            .map(|ids| ids.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::contract;
    use super::*;
    use crate::server::store::now_ms;

    fn no_feed() -> Feed {
        mpsc::unbounded_channel().0
    }

    fn temp_db(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "chat-test-{}-{name}-{}",
            std::process::id(),
            now_ms()
        ));
        dir.join("chat.sqlite3")
    }

    #[tokio::test]
    async fn sqlite_store_keeps_the_contract() {
        let open = |n| SqliteStore::open(&temp_db(n), false, no_feed()).unwrap();
        contract::ids_increase_by_one_per_room(&open("ids")).await;
        contract::a_retry_with_the_same_client_id_is_stored_once(&open("retry")).await;
        contract::recent_and_after_read_in_order(&open("read")).await;
        contract::a_purged_room_is_empty(&open("purge")).await;
        contract::mentions_are_kept(&open("mentions")).await;
        contract::rooms_with_messages_are_listed(&open("listed")).await;
        contract::older_pages_reach_the_first_message(&open("older")).await;
        contract::old_messages_expire_and_ids_go_on(&open("expire")).await;
        let (feed, fed) = tokio::sync::mpsc::unbounded_channel();
        let changes = SqliteStore::open(&temp_db("changes"), false, feed).unwrap();
        contract::changes_follow_the_rules_and_are_numbered(&changes, fed).await;
        contract::names_are_remembered(&open("names")).await;
        super::super::holds::contract(&open("holds")).await;
        contract::rooms_are_remembered(&open("rooms")).await;
        let (feed, fed) = tokio::sync::mpsc::unbounded_channel();
        let store = SqliteStore::open(&temp_db("feed"), false, feed).unwrap();
        contract::the_feed_carries_new_messages_in_id_order(Arc::new(store), fed).await;
    }

    #[tokio::test]
    async fn messages_and_names_survive_reopening_and_ids_continue() {
        let path = temp_db("reopen");
        {
            let store = SqliteStore::open(&path, false, no_feed()).unwrap();
            for text in ["one", "two"] {
                store
                    .append(contract::entry("general", "u1", text, None))
                    .await
                    .unwrap();
            }
            store.remember("u1", "red-fox").await.unwrap();
            store.checkpoint().await.unwrap();
        }
        let store = SqliteStore::open(&path, false, no_feed()).unwrap();
        let texts: Vec<String> = store
            .recent("general", 10)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.message)
            .collect();
        assert_eq!(texts, ["one", "two"]);
        assert_eq!(
            store.name_of("u1").await.unwrap().as_deref(),
            Some("red-fox")
        );
        let next = store
            .append(contract::entry("general", "u1", "three", None))
            .await
            .unwrap();
        assert_eq!(next.message.id, 3);
    }

    /// A database the previous version wrote (`tests/fixtures/chat-v2.sqlite3`: schema
    /// version 2, written by the release build of 2026-12-01 through socket.io-client: three
    /// messages in general, one in rust, one direct, two named people) opens, keeps its
    /// history and names, and takes edits, reactions and new messages.
    #[tokio::test]
    async fn a_database_from_the_previous_version_migrates_and_keeps_its_history() {
        let path = temp_db("v2");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let fixture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/chat-v2.sqlite3"
        );
        std::fs::copy(fixture, &path).unwrap();
        let (feed, mut fed) = mpsc::unbounded_channel();
        let store = SqliteStore::open(&path, false, feed).unwrap();
        let general = store.recent("general", 10).await.unwrap();
        let texts: Vec<&str> = general.iter().map(|m| m.message.as_str()).collect();
        assert_eq!(
            texts,
            [
                "first, from before the migration",
                "second <b>still text</b>",
                "reply from bravo"
            ]
        );
        assert!(
            general
                .iter()
                .all(|m| m.rev == 0 && m.reactions.is_empty() && !m.deleted)
        );
        assert_eq!(
            store.recent("rust", 10).await.unwrap()[0].message,
            "in rust"
        );
        let alpha = crate::server::people::user_key("fixture-token-alpha-0001");
        assert!(store.name_of(&alpha).await.unwrap().is_some());
        let author = general[0].from.clone();
        assert!(store.knows(&author).await.unwrap());
        // The same retry still resolves to the stored message.
        let again = store
            .append(Entry {
                client_id: Some("fx1"),
                ..contract::entry("general", &alpha, "first, from before the migration", None)
            })
            .await
            .unwrap();
        assert!(again.duplicate && again.message.id == 1);

        let edited = store
            .alter(
                "general",
                1,
                &author,
                Change::Edit("first, edited".into(), Vec::new()),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(edited.rev, 1);
        let next = store
            .append(contract::entry("general", &alpha, "after", None))
            .await
            .unwrap();
        assert_eq!((next.message.id, next.message.rev), (4, 2));
        assert!(matches!(
            fed.recv().await,
            Some(super::super::Committed::Updated(_))
        ));
        drop(store);
        let reopened = SqliteStore::open(&path, false, no_feed()).unwrap();
        let version: i64 = reopened
            .read(|conn| conn.query_row("PRAGMA user_version", [], |row| row.get(0)))
            .await
            .unwrap();
        assert_eq!(version as usize, MIGRATIONS.len());
        assert_eq!(
            reopened.get("general", 1).await.unwrap().unwrap().message,
            "first, edited"
        );
    }

    #[tokio::test]
    async fn a_deleted_text_leaves_the_database_file() {
        let path = temp_db("erase");
        let store = SqliteStore::open(&path, false, no_feed()).unwrap();
        let secret = "the launch code is 0000-unique-marker";
        let stored = store
            .append(contract::entry("general", "u1", secret, None))
            .await
            .unwrap();
        store
            .alter(
                "general",
                stored.message.id,
                &stored.message.from,
                Change::Delete,
            )
            .await
            .unwrap()
            .unwrap();
        store.checkpoint().await.unwrap();
        drop(store);
        let mut bytes = std::fs::read(&path).unwrap();
        if let Ok(wal) = std::fs::read(path.with_extension("sqlite3-wal")) {
            bytes.extend(wal);
        }
        let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found, "the deleted text is still in the database file");
    }

    #[tokio::test]
    async fn concurrent_appends_get_distinct_consecutive_ids() {
        let store = Arc::new(SqliteStore::open(&temp_db("burst"), false, no_feed()).unwrap());
        let tasks = (0..200).map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .append(contract::entry("general", "u", &format!("m{i}"), None))
                    .await
                    .unwrap()
                    .message
                    .id
            })
        });
        let mut ids: Vec<u64> = futures::future::join_all(tasks)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        ids.sort_unstable();
        assert_eq!(ids, (1..=200).collect::<Vec<u64>>());
    }

    #[test]
    fn an_unusable_path_is_a_clear_error() {
        let err = SqliteStore::open(
            Path::new("/proc/no/such/dir/chat.sqlite3"),
            false,
            no_feed(),
        )
        .err()
        .expect("cannot open");
        assert!(err.to_string().contains("/proc/no/such/dir"), "{err}");
    }
}
