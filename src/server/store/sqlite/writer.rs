//! The writer thread: takes whatever is queued, writes it in one transaction and only then
//! answers each caller (group commit: a burst of messages costs one commit), and puts newly
//! committed messages on the feed in id order.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use tokio::sync::{mpsc, oneshot};

use super::{MESSAGE_COLUMNS, find, row_to_message};
use crate::protocol::NewMessage;
use crate::server::store::{
    Altered, Appended, Change, Committed, Feed, Refusal, StoreError, apply, now_ms, unavailable,
};

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
    Alter {
        room: String,
        id: u64,
        by: String,
        change: Change,
        reply: oneshot::Sender<Result<Altered, StoreError>>,
    },
    /// The person was here now.
    Seen {
        user: String,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    /// People not seen since `before_ms` are forgotten; their names are free.
    ForgetUnseen {
        before_ms: u64,
        reply: oneshot::Sender<Result<Vec<String>, StoreError>>,
    },
    /// A moderator or expiry removed a room.
    RemoveRoom {
        room: String,
        reply: oneshot::Sender<Result<bool, StoreError>>,
    },
    /// Every message of a removed room goes.
    Purge {
        room: String,
        reply: oneshot::Sender<Result<usize, StoreError>>,
    },
    /// Retention: removes what was posted before `before_ms`.
    Expire {
        before_ms: u64,
        reply: oneshot::Sender<Result<usize, StoreError>>,
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
    Expired(oneshot::Sender<Result<usize, StoreError>>, usize),
    Forgotten(
        oneshot::Sender<Result<Vec<String>, StoreError>>,
        Vec<String>,
    ),
    /// A change's outcome, and whether it wrote anything (then it goes on the feed).
    Altered(oneshot::Sender<Result<Altered, StoreError>>, Altered, bool),
    Done(oneshot::Sender<Result<(), StoreError>>),
}

pub(super) fn write_loop(
    mut conn: Connection,
    mut queue: mpsc::UnboundedReceiver<Write>,
    feed: Feed,
) {
    // Last id and change number per room, read from the table the first time a room is
    // written.
    let mut last_ids: HashMap<String, Tip> = HashMap::new();
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
        // IMMEDIATE: the search index writes to this file too, and a deferred transaction that
        // read before the other writer committed could not write at all (SQLITE_BUSY without
        // waiting); taking the write lock first waits for it (busy_timeout) instead.
        let committed = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .and_then(|tx| {
                for write in batch {
                    match write {
                        Write::Checkpoint { reply } => checkpoints.push(reply),
                        write => answers.push(apply_write(&tx, &mut last_ids, write)?),
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
fn apply_write(
    tx: &Transaction<'_>,
    last_ids: &mut HashMap<String, Tip>,
    write: Write,
) -> rusqlite::Result<Answer> {
    Ok(match write {
        Write::Append { entry, reply } => Answer::Appended(reply, append(tx, last_ids, entry)?),
        Write::Alter {
            room,
            id,
            by,
            change,
            reply,
        } => match alter(tx, last_ids, &room, id, &by, &change)? {
            Ok((message, changed)) => Answer::Altered(reply, Ok(message), changed),
            Err(refusal) => Answer::Altered(reply, Err(refusal), false),
        },
        Write::Remember { user, name, reply } => {
            tx.execute(
                "INSERT INTO users (user, name, created, public_id, seen) VALUES (?1, ?2, ?3, ?4, ?3)
                 ON CONFLICT (user) DO UPDATE SET name = excluded.name, seen = excluded.seen",
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
        Write::Seen { user, reply } => {
            tx.execute(
                "UPDATE users SET seen = ?2 WHERE user = ?1",
                params![user, now_ms() as i64],
            )?;
            Answer::Done(reply)
        }
        Write::ForgetUnseen { before_ms, reply } => {
            let before = before_ms.min(i64::MAX as u64) as i64;
            let names = tx
                .prepare_cached("DELETE FROM users WHERE seen < ?1 RETURNING name")?
                .query_map([before], |row| row.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Answer::Forgotten(reply, names)
        }
        Write::RemoveRoom { room, reply } => {
            let removed = tx.execute("DELETE FROM rooms WHERE name = ?1", [room])?;
            Answer::Added(reply, removed == 1)
        }
        Write::Purge { room, reply } => {
            let gone = tx.execute("DELETE FROM messages WHERE room = ?1", [&room])?;
            // Read again from the table next time: the room starts over.
            last_ids.remove(&room);
            Answer::Expired(reply, gone)
        }
        Write::Expire { before_ms, reply } => {
            let before = before_ms.min(i64::MAX as u64) as i64;
            // Each room's newest message is erased rather than removed: ids go on from it.
            let removed = tx.execute(
                "DELETE FROM messages WHERE ts < ?1
                 AND id < (SELECT MAX(id) FROM messages AS newest WHERE newest.room = messages.room)",
                [before],
            )?;
            let erased = tx.execute(
                "UPDATE messages SET text = '', deleted = 1, edited = NULL, reactions = NULL
                 WHERE ts < ?1 AND deleted = 0",
                [before],
            )?;
            Answer::Expired(reply, removed + erased)
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
    last_ids: &mut HashMap<String, Tip>,
) {
    match committed {
        Ok(()) => {
            // Committed: new messages and changes go out in the order their numbers were
            // given.
            for answer in &answers {
                match answer {
                    Answer::Appended(_, stored) if !stored.duplicate => {
                        let _ = feed.send(Committed::New(stored.message.clone()));
                    }
                    Answer::Altered(_, Ok(message), true) => {
                        let _ = feed.send(Committed::Updated(message.clone()));
                    }
                    _ => {}
                }
            }
            // A caller that gave up waiting no longer needs its answer: ignore send errors.
            for answer in answers {
                match answer {
                    Answer::Appended(reply, stored) => drop(reply.send(Ok(stored))),
                    Answer::Added(reply, added) => drop(reply.send(Ok(added))),
                    Answer::Expired(reply, gone) => drop(reply.send(Ok(gone))),
                    Answer::Forgotten(reply, names) => drop(reply.send(Ok(names))),
                    Answer::Altered(reply, altered, _) => drop(reply.send(Ok(altered))),
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
                    Answer::Expired(reply, _) => drop(reply.send(Err(error.clone()))),
                    Answer::Forgotten(reply, _) => drop(reply.send(Err(error.clone()))),
                    Answer::Altered(reply, ..) => drop(reply.send(Err(error.clone()))),
                    Answer::Done(reply) => drop(reply.send(Err(error.clone()))),
                }
            }
        }
    }
}

/// A room's last id and last change number.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tip {
    id: u64,
    rev: u64,
}

fn tip(
    tx: &Transaction<'_>,
    last_ids: &mut HashMap<String, Tip>,
    room: &str,
) -> rusqlite::Result<Tip> {
    if let Some(tip) = last_ids.get(room) {
        return Ok(*tip);
    }
    let (id, rev) = tx
        .prepare_cached(
            "SELECT COALESCE(MAX(id), 0), (SELECT COALESCE(MAX(rev), 0) FROM messages WHERE room = ?1)
             FROM messages WHERE room = ?1",
        )?
        .query_row([room], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)))?;
    let tip = Tip {
        id: id as u64,
        rev: rev as u64,
    };
    last_ids.insert(room.to_owned(), tip);
    Ok(tip)
}

/// One change by [`apply`]'s rules: the message's new state and whether it changed.
fn alter(
    tx: &Transaction<'_>,
    last_ids: &mut HashMap<String, Tip>,
    room: &str,
    id: u64,
    by: &str,
    change: &Change,
) -> rusqlite::Result<Result<(NewMessage, bool), Refusal>> {
    let Some(mut message) = find(tx, room, id)? else {
        return Ok(Err(Refusal::NotFound));
    };
    match apply(&mut message, change, by) {
        Err(refusal) => return Ok(Err(refusal)),
        Ok(false) => return Ok(Ok((message, false))),
        Ok(true) => {}
    }
    let mut tip = tip(tx, last_ids, room)?;
    tip.rev += 1;
    message.rev = tip.rev;
    let reactions = (!message.reactions.is_empty())
        .then(|| serde_json::to_string(&message.reactions).expect("reactions serialise"));
    tx.prepare_cached(
        "UPDATE messages SET text = ?3, rev = ?4, edited = ?5, deleted = ?6, reactions = ?7,
         mentions = ?8 WHERE room = ?1 AND id = ?2",
    )?
    .execute(params![
        room,
        id as i64,
        message.message,
        message.rev as i64,
        message.edited.map(|ts| ts as i64),
        message.deleted,
        reactions,
        mentions_column(&message.mentions),
    ])?;
    last_ids.insert(room.to_owned(), tip);
    Ok(Ok((message, true)))
}

/// How a message's mentions are stored: public ids (hex) comma-separated, NULL for none.
fn mentions_column(ids: &[String]) -> Option<String> {
    (!ids.is_empty()).then(|| ids.join(","))
}

fn append(
    tx: &Transaction<'_>,
    last_ids: &mut HashMap<String, Tip>,
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
    let mut tip = tip(tx, last_ids, &message.room)?;
    tip.id += 1;
    tip.rev += 1;
    message.id = tip.id;
    message.rev = tip.rev;
    tx.prepare_cached(
        "INSERT INTO messages
         (room, id, ts, author, sender, text, client_id, sender_id, reply_to, rev, mentions)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
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
        message.reply_to.map(|id| id as i64),
        message.rev as i64,
        mentions_column(&message.mentions),
    ])?;
    last_ids.insert(message.room.clone(), tip);
    Ok(Appended {
        message,
        duplicate: false,
    })
}
