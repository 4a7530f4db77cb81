//! Where messages and identities live, behind two small traits so the handlers do not care
//! whether it is memory (tests, benchmarks), SQLite (the default) or, later, a shared store.
//!
//! The contract that makes delivery exact: [`MessageLog::append`] resolves only once the
//! message is committed, with an id that increases by one per room, and an entry whose
//! `(author, client_id)` was stored before comes back as that earlier message, marked as a
//! duplicate, instead of being stored twice. Each new message is also put on the log's
//! [`Feed`] before `append` resolves, in id order per room: that is what gets broadcast.

#[cfg(test)]
pub(crate) mod contract;
mod holds;
pub mod ledger;
mod memory;
mod sqlite;

use futures::future::BoxFuture;

pub use holds::NameHolds;
#[cfg(test)]
pub(crate) use holds::contract as holds_contract;
pub use ledger::{Ledger, MemoryLedger};
pub use memory::{MemoryDirectory, MemoryLog};
pub use sqlite::{SqliteLedger, SqliteStore};

use crate::protocol::NewMessage;

/// A backend's failure as the chat sees it: unavailable, try again.
pub(crate) fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Where a log puts every newly committed message and every committed change, in commit
/// order, so broadcasts go out in id (and change number) order per room: handlers finish in
/// any order; the feed does not.
pub type Feed = tokio::sync::mpsc::UnboundedSender<Committed>;

/// What the feed carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Committed {
    /// A message just posted: `newMessage`.
    New(NewMessage),
    /// The whole new state of a message that was edited, deleted or reacted to:
    /// `messageUpdated`.
    Updated(NewMessage),
}

impl Committed {
    pub fn message(&self) -> &NewMessage {
        match self {
            Committed::New(m) | Committed::Updated(m) => m,
        }
    }
}

/// A change to a stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// New text (already cleaned and length-checked), and the people it mentions.
    Edit(String, Vec<String>),
    /// Erase it (the author).
    Delete,
    /// Erase it, whoever wrote it (a moderator).
    Remove,
    /// Toggle the asker's reaction (already checked to be one emoji).
    React(String),
}

/// Why a change was refused; nothing was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NotFound,
    NotAllowed,
    Deleted,
    TooManyReactions,
}

/// A change's outcome: the message's new state (unchanged when the change had nothing to do,
/// such as an edit to the same text), or why not.
pub type Altered = Result<NewMessage, Refusal>;

/// Applies `change`, asked for by the person with public id `by`, to `message`; whether it
/// changed anything. The one place the rules live: every backend runs its changes through it.
pub fn apply(message: &mut NewMessage, change: &Change, by: &str) -> Result<bool, Refusal> {
    let author = message.from == by;
    match change {
        Change::Delete if message.deleted && author => Ok(false),
        Change::Remove if message.deleted => Ok(false),
        _ if message.deleted => Err(Refusal::Deleted),
        Change::Edit(..) | Change::Delete if !author => Err(Refusal::NotAllowed),
        Change::Edit(text, _) if *text == message.message => Ok(false),
        Change::Edit(text, mentions) => {
            message.message.clone_from(text);
            message.mentions.clone_from(mentions);
            message.edited = Some(now_ms().max(message.ts));
            Ok(true)
        }
        Change::Delete | Change::Remove => {
            message.erase();
            Ok(true)
        }
        Change::React(emoji) => message
            .toggle_reaction(emoji, by)
            .then_some(true)
            .ok_or(Refusal::TooManyReactions),
    }
}

/// Why the store could not do what was asked.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("message store unavailable: {0}")]
    Unavailable(String),
    #[error("cannot open the database {path}: {reason}")]
    Open { path: String, reason: String },
    /// A shared directory refused a name: someone else has it, or the identity was named
    /// meanwhile (by another node). Ask again.
    #[error("the name {0} is taken")]
    Taken(String),
}

/// A message to store.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub room: &'a str,
    /// The stable identity of the sender (not shown to anyone).
    pub author: &'a str,
    /// The sender's display name at the time.
    pub sender: &'a str,
    /// The sender's public id.
    pub from: &'a str,
    pub text: String,
    pub client_id: Option<&'a str>,
    /// The message it answers, checked to exist in `room`.
    pub reply_to: Option<u64>,
    /// The public ids its text mentions.
    pub mentions: Vec<String>,
}

impl Entry<'_> {
    /// The message as everyone will receive it, with the id its log gave it, stamped now.
    pub fn into_message(self, id: u64) -> NewMessage {
        NewMessage {
            sender: self.sender.to_owned(),
            message: self.text,
            room: self.room.to_owned(),
            id,
            ts: now_ms(),
            client_id: self.client_id.map(str::to_owned),
            from: self.from.to_owned(),
            reply_to: self.reply_to,
            mentions: self.mentions,
            ..NewMessage::default()
        }
    }
}

/// A stored message, and whether it had been stored before (a retry).
#[derive(Debug, Clone, PartialEq)]
pub struct Appended {
    pub message: NewMessage,
    pub duplicate: bool,
}

pub trait MessageLog: Send + Sync + 'static {
    /// Stores a message (or finds its earlier copy); resolves once it is committed.
    fn append<'a>(&'a self, entry: Entry<'a>) -> BoxFuture<'a, Result<Appended, StoreError>>;

    /// Up to `limit` most recent messages of `room`, oldest first.
    fn recent<'a>(
        &'a self,
        room: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, StoreError>>;

    /// Up to `limit` messages of `room` with ids after `after`, oldest first.
    fn after<'a>(
        &'a self,
        room: &'a str,
        after: u64,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, StoreError>>;

    /// Up to `limit` messages of `room` with ids before `before`, the nearest ones, oldest
    /// first.
    fn older<'a>(
        &'a self,
        room: &'a str,
        before: u64,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, StoreError>>;

    /// One message, in its current state.
    fn get<'a>(
        &'a self,
        room: &'a str,
        id: u64,
    ) -> BoxFuture<'a, Result<Option<NewMessage>, StoreError>>;

    /// Changes message `id` of `room` as the person `by` (a public id) asks, by [`apply`]'s
    /// rules. A change gives the message the room's next change number, and its new state
    /// goes on the feed once committed; a refused or empty change writes nothing.
    fn alter<'a>(
        &'a self,
        room: &'a str,
        id: u64,
        by: &'a str,
        change: Change,
    ) -> BoxFuture<'a, Result<Altered, StoreError>>;

    /// Up to `limit` messages of `room` with ids up to `up_to` whose change number is above
    /// `since`, in change order: what a client that saw changes up to `since` missed about
    /// the messages it holds.
    fn changed<'a>(
        &'a self,
        room: &'a str,
        since: u64,
        up_to: u64,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, StoreError>>;

    /// Every conversation (public room or DM) that holds messages, by key, in no particular
    /// order: where a search index catching up has to look.
    fn rooms_with_messages(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>>;

    /// Removes the messages posted before `before_ms` (retention); how many went. A room's
    /// newest message is erased instead of removed when it is that old, so ids go on from it
    /// (a client's position and a retry id stay meaningful).
    fn expire(&self, before_ms: u64) -> BoxFuture<'_, Result<usize, StoreError>>;

    /// Removes every message of `room` (a removed room); how many went. Its ids start over.
    fn purge<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<usize, StoreError>>;

    /// Makes everything committed durable and compact (before a clean exit).
    fn checkpoint(&self) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Writes something about as large as a message, through the same path messages take:
    /// whether this store can accept a message right now (a full disk, Redis refusing
    /// writes). For readiness; it leaves no trace but one small overwritten record.
    fn probe_write(&self) -> BoxFuture<'_, Result<(), StoreError>>;
}

/// Who and what is known beyond one connection: returning people's names, and the rooms.
pub trait Directory: Send + Sync + 'static {
    fn name_of<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>>;

    /// Gives `user` the name `name`. A directory shared by several nodes refuses with
    /// [`StoreError::Taken`] when the name is someone else's or `user` was named meanwhile.
    fn remember<'a>(
        &'a self,
        user: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Gives the named person `user` the name `new` instead of `old`. A directory shared by
    /// several nodes refuses with [`StoreError::Taken`] when `new` (or a lookalike) is held
    /// anywhere; in one process the node's registry has checked that already.
    fn rename<'a>(
        &'a self,
        user: &'a str,
        old: &'a str,
        new: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let _ = old;
        self.remember(user, new)
    }

    /// Whether a person with this public id was ever named here (a token holder, online or
    /// not): only a real person can be written to.
    fn knows<'a>(&'a self, public_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Every remembered name, so nobody else is handed one of them.
    fn all_names(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>>;

    /// The public rooms ever created, by name.
    fn rooms(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>>;

    /// Records a room; true when it is new.
    fn add_room<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Forgets a room; true when it was there.
    fn remove_room<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// When a room was created (milliseconds), if it exists.
    fn room_created<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<Option<u64>, StoreError>>;
}

/// Deletes the messages older than `days` (retention); failures are logged, to be tried again
/// next time.
pub async fn expire_older_than(log: &dyn MessageLog, days: f64) {
    let keep_ms = (days * 86_400_000.0) as u64;
    match log.expire(now_ms().saturating_sub(keep_ms)).await {
        Ok(0) => {}
        Ok(gone) => tracing::info!(gone, days, "old messages deleted (retention)"),
        Err(e) => tracing::warn!(error = %e, "retention failed; trying again later"),
    }
}

/// [`expire_older_than`] every [`RETENTION_EVERY`], for as long as it runs (a server task).
pub async fn retain(log: std::sync::Arc<dyn MessageLog>, days: f64) {
    loop {
        tokio::time::sleep(RETENTION_EVERY).await;
        expire_older_than(log.as_ref(), days).await;
    }
}

/// How often retention runs.
pub const RETENTION_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Checks that the message store answers, for `/readyz`.
pub struct StorageProbe(pub std::sync::Arc<dyn MessageLog>);

impl super::metrics::Probe for StorageProbe {
    fn name(&self) -> &'static str {
        "storage"
    }
    /// Storage is ready when it answers a read and takes a write: a node whose disk is full
    /// must stop receiving people, whose messages it could not keep.
    fn check(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            self.0.recent(crate::protocol::DEFAULT_ROOM, 1).await?;
            self.0.probe_write().await
        })
    }
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moderator_removes_anyones_message_once() {
        let mut message = NewMessage {
            message: "spam".into(),
            from: "aaaaaaaaaaaaaaaa".into(),
            ..NewMessage::default()
        };
        let moderator = "cccccccccccccccc";
        assert_eq!(
            apply(&mut message, &Change::Delete, moderator),
            Err(Refusal::NotAllowed),
            "an author's delete stays the author's"
        );
        assert_eq!(apply(&mut message, &Change::Remove, moderator), Ok(true));
        assert!(message.deleted && message.message.is_empty());
        assert_eq!(apply(&mut message, &Change::Remove, moderator), Ok(false));
    }
}
