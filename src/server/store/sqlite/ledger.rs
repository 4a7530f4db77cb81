//! The moderation ledger in the chat's SQLite file, on a connection of its own: its writes are
//! rare, so they take SQLite's lock directly instead of queueing behind messages, and the
//! command line (`chat moderator add`) opens the same file beside a running server.

use std::path::Path;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use rusqlite::{Connection, params};

use super::super::ledger::{BOOK_LEN, Book, Kind, Ledger, Restriction, Standing};
use super::super::{StoreError, unavailable};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS moderators (
    id TEXT PRIMARY KEY
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS restrictions (
    kind   TEXT    NOT NULL,
    target TEXT    NOT NULL,
    until  INTEGER NOT NULL,
    cause  TEXT,
    with_address INTEGER,
    PRIMARY KEY (kind, target)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records (
    book TEXT    NOT NULL,
    id   INTEGER NOT NULL,
    body TEXT    NOT NULL,
    PRIMARY KEY (book, id)
) WITHOUT ROWID;
";

pub struct SqliteLedger(Arc<Mutex<Connection>>);

impl SqliteLedger {
    /// Opens the ledger's tables in the database at `path` (creating them when missing).
    pub fn open(path: &Path) -> Result<SqliteLedger, StoreError> {
        let open_error = |e: rusqlite::Error| StoreError::Open {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        let conn = Connection::open(path).map_err(open_error)?;
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; {SCHEMA}"
        ))
        .map_err(open_error)?;
        Ok(SqliteLedger(Arc::new(Mutex::new(conn))))
    }

    fn run<'a, T: Send + 'static>(
        &self,
        query: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> BoxFuture<'a, Result<T, StoreError>> {
        let conn = self.0.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut conn = crate::server::lock(&conn);
                query(&mut conn).map_err(unavailable)
            })
            .await
            .map_err(unavailable)?
        })
    }
}

/// SQLite integers are signed: "for good" is stored as the largest one.
fn to_sql(until: u64) -> i64 {
    i64::try_from(until).unwrap_or(i64::MAX)
}

fn from_sql(until: i64) -> u64 {
    if until == i64::MAX {
        u64::MAX
    } else {
        u64::try_from(until).unwrap_or(0)
    }
}

impl Ledger for SqliteLedger {
    fn standing(&self, now: u64) -> BoxFuture<'_, Result<Standing, StoreError>> {
        self.run(move |conn| {
            let moderators = conn
                .prepare_cached("SELECT id FROM moderators")?
                .query_map([], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut standing = Standing {
                moderators,
                ..Standing::default()
            };
            let mut stmt = conn.prepare_cached(
                "SELECT kind, target, until, cause, with_address FROM restrictions WHERE until > ?1",
            )?;
            let rows = stmt.query_map([to_sql(now)], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, Option<String>>(3)?,
                    row.get::<_, Option<i64>>(4)?,
                ))
            })?;
            for row in rows {
                let (kind, target, until, cause, with_address) = row?;
                // A kind this build does not know (written by a newer one) is not enforced.
                let Some(kind) = Kind::parse(&kind) else {
                    continue;
                };
                let r = Restriction {
                    kind,
                    target: target.clone(),
                    until: from_sql(until),
                    cause,
                    with_address: with_address.map(from_sql),
                };
                standing.restrictions.insert((kind, target), r);
            }
            Ok(standing)
        })
    }

    fn set_moderator<'a>(
        &'a self,
        id: &'a str,
        on: bool,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let id = id.to_owned();
        self.run(move |conn| {
            let sql = if on {
                "INSERT OR IGNORE INTO moderators (id) VALUES (?1)"
            } else {
                "DELETE FROM moderators WHERE id = ?1"
            };
            Ok(conn.execute(sql, [id])? > 0)
        })
    }

    fn restrict<'a>(&'a self, r: &'a Restriction) -> BoxFuture<'a, Result<(), StoreError>> {
        let r = r.clone();
        self.run(move |conn| {
            conn.execute(
                "INSERT OR REPLACE INTO restrictions (kind, target, until, cause, with_address) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    r.kind.as_str(),
                    r.target,
                    to_sql(r.until),
                    r.cause,
                    r.with_address.map(to_sql)
                ],
            )?;
            // Ended restrictions are of no use; they go whenever one is written.
            conn.execute(
                "DELETE FROM restrictions WHERE until <= ?1",
                [to_sql(super::super::now_ms())],
            )?;
            Ok(())
        })
    }

    fn lift<'a>(&'a self, kind: Kind, target: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        let target = target.to_owned();
        self.run(move |conn| {
            let tx = conn.transaction()?;
            let had = tx.execute(
                "DELETE FROM restrictions WHERE kind = ?1 AND target = ?2",
                params![kind.as_str(), target],
            )? > 0;
            if kind == Kind::Ban {
                tx.execute("DELETE FROM restrictions WHERE cause = ?1", [&target])?;
            }
            tx.commit()?;
            Ok(had)
        })
    }

    fn file<'a>(&'a self, book: Book, record: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        let record = record.to_owned();
        self.run(move |conn| {
            let tx = conn.transaction()?;
            let id: i64 = tx.query_row(
                "INSERT INTO records (book, id, body) \
                 SELECT ?1, COALESCE(MAX(id), 0) + 1, ?2 FROM records WHERE book = ?1 \
                 RETURNING id",
                params![book.as_str(), record],
                |row| row.get(0),
            )?;
            tx.execute(
                "DELETE FROM records WHERE book = ?1 AND id <= ?2",
                params![book.as_str(), id - BOOK_LEN as i64],
            )?;
            tx.commit()?;
            Ok(u64::try_from(id).unwrap_or(0))
        })
    }

    fn read(
        &self,
        book: Book,
        before: Option<u64>,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<(u64, String)>, StoreError>> {
        self.run(move |conn| {
            conn.prepare_cached(
                "SELECT id, body FROM records WHERE book = ?1 AND id < ?2 \
                 ORDER BY id DESC LIMIT ?3",
            )?
            .query_map(
                params![
                    book.as_str(),
                    to_sql(before.unwrap_or(u64::MAX)),
                    limit as i64
                ],
                |row| {
                    Ok((
                        u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0),
                        row.get(1)?,
                    ))
                },
            )?
            .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_sqlite_ledger_keeps_the_contract_and_survives_reopening() {
        let dir = std::env::temp_dir().join(format!("chat-ledger-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ledger.sqlite3");
        let _ = std::fs::remove_file(&path);
        super::super::super::ledger::contract(&SqliteLedger::open(&path).unwrap()).await;
        // A second opener (the command line beside a running server) sees the same ledger.
        let other = SqliteLedger::open(&path).unwrap();
        assert!(other.set_moderator("dddddddddddddddd", true).await.unwrap());
        let first = SqliteLedger::open(&path).unwrap();
        let standing = first.standing(0).await.unwrap();
        assert!(standing.moderators.contains("dddddddddddddddd"));
        assert_eq!(first.read(Book::Audit, None, 100).await.unwrap().len(), 5);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
