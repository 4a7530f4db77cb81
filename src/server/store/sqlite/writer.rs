//! The writer thread: takes whatever is queued, writes it in one transaction and only then
//! answers each caller (group commit: a burst of messages costs one commit), and puts newly
//! committed messages on the feed in id order.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use tokio::sync::{mpsc, oneshot};

use super::{MESSAGE_COLUMNS, row_to_message};
use crate::protocol::NewMessage;
use crate::server::store::{Appended, Feed, StoreError, now_ms, unavailable};

/// Most writes taken into one transaction.
const MAX_BATCH: usize = 512;

/// Bytes the readiness probe writes: about what a long message needs, so a disk too full
/// for messages is too full for the probe.
const PROBE_BYTES: i64 = 8 * 1024;

pub(super) enum Write {
    Append {
        entry: OwnedEntry,
        reply: oneshot::Sender<Result<Appended, StoreError>>,
    },
    Remember {
        user: String,
        name: String,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    AddRoom {
        room: String,
        reply: oneshot::Sender<Result<bool, StoreError>>,
    },
    Checkpoint {
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    /// A write as costly as a message, for readiness: does the disk still take writes?
    Probe {
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
}

/// An [`Entry`] sent to the writer thread: its author, and the message it will be once the
/// writer gives it the room's next id.
pub(super) struct OwnedEntry {
    pub author: String,
    pub message: NewMessage,
}

/// An answer to send once the batch's transaction has committed.
enum Answer {
    Appended(oneshot::Sender<Result<Appended, StoreError>>, Appended),
    Added(oneshot::Sender<Result<bool, StoreError>>, bool),
    Done(oneshot::Sender<Result<(), StoreError>>),
}

pub(super) fn write_loop(
    mut conn: Connection,
    mut queue: mpsc::UnboundedReceiver<Write>,
    feed: Feed,
) {
    // Next id per room, read from the table the first time a room is written.
    let mut last_ids: HashMap<String, u64> = HashMap::new();
    while let Some(first) = queue.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(write) => batch.push(write),
                Err(_) => break,
            }
        }
        let mut checkpoints = Vec::new();
        let mut answers = Vec::with_capacity(batch.len());
        let committed = conn.transaction().and_then(|tx| {
            for write in batch {
                match write {
                    Write::Checkpoint { reply } => checkpoints.push(reply),
                    write => answers.push(apply(&tx, &mut last_ids, write)?),
                }
            }
            tx.commit()
        });
        settle(committed, answers, &feed, &mut last_ids);
        for reply in checkpoints {
            let result = conn
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                .map_err(unavailable);
            let _ = reply.send(result);
        }
    }
}

/// One write inside the batch's transaction; its answer waits for the commit.
fn apply(
    tx: &Transaction<'_>,
    last_ids: &mut HashMap<String, u64>,
    write: Write,
) -> rusqlite::Result<Answer> {
    Ok(match write {
        Write::Append { entry, reply } => Answer::Appended(reply, append(tx, last_ids, entry)?),
        Write::Remember { user, name, reply } => {
            tx.execute(
                "INSERT INTO users (user, name, created, public_id) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (user) DO UPDATE SET name = excluded.name",
                params![
                    user,
                    name,
                    now_ms() as i64,
                    crate::server::people::public_id(&user)
                ],
            )?;
            Answer::Done(reply)
        }
        Write::AddRoom { room, reply } => {
            let added = tx.execute(
                "INSERT INTO rooms (name, created) VALUES (?1, ?2)
                 ON CONFLICT (name) DO NOTHING",
                params![room, now_ms() as i64],
            )?;
            Answer::Added(reply, added == 1)
        }
        Write::Probe { reply } => {
            tx.execute(
                "INSERT INTO probe (id, at, filler) VALUES (1, ?1, zeroblob(?2))
                 ON CONFLICT (id) DO UPDATE SET at = excluded.at, filler = excluded.filler",
                params![now_ms() as i64, PROBE_BYTES],
            )?;
            Answer::Done(reply)
        }
        Write::Checkpoint { .. } => unreachable!("checkpoints run after the batch"),
    })
}

/// Answers a batch's callers once its transaction committed (or failed).
fn settle(
    committed: rusqlite::Result<()>,
    answers: Vec<Answer>,
    feed: &Feed,
    last_ids: &mut HashMap<String, u64>,
) {
    match committed {
        Ok(()) => {
            // Committed: new messages go out in the order their ids were given.
            for answer in &answers {
                if let Answer::Appended(_, stored) = answer
                    && !stored.duplicate
                {
                    let _ = feed.send(stored.message.clone());
                }
            }
            // A caller that gave up waiting no longer needs its answer: ignore send errors.
            for answer in answers {
                match answer {
                    Answer::Appended(reply, stored) => drop(reply.send(Ok(stored))),
                    Answer::Added(reply, added) => drop(reply.send(Ok(added))),
                    Answer::Done(reply) => drop(reply.send(Ok(()))),
                }
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "write transaction failed");
            // Ids handed out in the failed transaction were never stored.
            last_ids.clear();
            let error = unavailable(&e);
            for answer in answers {
                match answer {
                    Answer::Appended(reply, _) => drop(reply.send(Err(error.clone()))),
                    Answer::Added(reply, _) => drop(reply.send(Err(error.clone()))),
                    Answer::Done(reply) => drop(reply.send(Err(error.clone()))),
                }
            }
        }
    }
}

fn append(
    tx: &Transaction<'_>,
    last_ids: &mut HashMap<String, u64>,
    entry: OwnedEntry,
) -> rusqlite::Result<Appended> {
    let OwnedEntry {
        author,
        mut message,
    } = entry;
    if let Some(cid) = &message.client_id {
        let earlier = tx
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE author = ?1 AND client_id = ?2"
            ))?
            .query_row(params![author, cid], row_to_message)
            .optional()?;
        if let Some(message) = earlier {
            return Ok(Appended {
                message,
                duplicate: true,
            });
        }
    }
    let last = match last_ids.get(&message.room) {
        Some(last) => *last,
        None => tx
            .prepare_cached("SELECT COALESCE(MAX(id), 0) FROM messages WHERE room = ?1")?
            .query_row([&message.room], |row| row.get::<_, i64>(0))? as u64,
    };
    message.id = last + 1;
    tx.prepare_cached(
        "INSERT INTO messages (room, id, ts, author, sender, text, client_id, sender_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        message.room,
        message.id as i64,
        message.ts as i64,
        author,
        message.sender,
        message.message,
        message.client_id,
        message.from,
    ])?;
    last_ids.insert(message.room.clone(), message.id);
    Ok(Appended {
        message,
        duplicate: false,
    })
}
