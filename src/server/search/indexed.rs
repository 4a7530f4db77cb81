//! [`IndexedLog`]: a message log whose purges (a removed room) and expiries (retention) reach
//! the search index too, so that whatever the log forgets is never found. Everything else
//! goes straight to the log.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::super::store::{Altered, Appended, Change, Entry, MessageLog, StoreError, unavailable};
use super::SearchIndex;
use crate::protocol::NewMessage;

pub struct IndexedLog {
    log: Arc<dyn MessageLog>,
    index: SearchIndex,
}

impl IndexedLog {
    pub fn new(log: Arc<dyn MessageLog>, index: SearchIndex) -> Self {
        IndexedLog { log, index }
    }
}

impl MessageLog for IndexedLog {
    fn append<'a>(&'a self, entry: Entry<'a>) -> BoxFuture<'a, Result<Appended, StoreError>> {
        self.log.append(entry)
    }

    fn recent<'a>(
        &'a self,
        room: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, StoreError>> {
        self.log.recent(room, limit)
    }

    fn after<'a>(
        &'a self,
        room: &'a str,
        after: u64,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, StoreError>> {
        self.log.after(room, after, limit)
    }

    fn older<'a>(
        &'a self,
        room: &'a str,
        before: u64,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, StoreError>> {
        self.log.older(room, before, limit)
    }

    fn get<'a>(
        &'a self,
        room: &'a str,
        id: u64,
    ) -> BoxFuture<'a, Result<Option<NewMessage>, StoreError>> {
        self.log.get(room, id)
    }

    fn alter<'a>(
        &'a self,
        room: &'a str,
        id: u64,
        by: &'a str,
        change: Change,
    ) -> BoxFuture<'a, Result<Altered, StoreError>> {
        self.log.alter(room, id, by, change)
    }

    fn changed<'a>(
        &'a self,
        room: &'a str,
        since: u64,
        up_to: u64,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<NewMessage>, StoreError>> {
        self.log.changed(room, since, up_to, limit)
    }

    fn rooms_with_messages(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        self.log.rooms_with_messages()
    }

    /// The log's retention, then the index's: the index forgets by time, so every node's
    /// copy loses the same messages whichever node's retention ran on the shared log.
    fn expire(&self, before_ms: u64) -> BoxFuture<'_, Result<usize, StoreError>> {
        Box::pin(async move {
            let gone = self.log.expire(before_ms).await?;
            self.index.expire(before_ms).await.map_err(unavailable)?;
            Ok(gone)
        })
    }

    fn purge<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        Box::pin(async move {
            let gone = self.log.purge(room).await?;
            self.index.forget_room(room).await.map_err(unavailable)?;
            Ok(gone)
        })
    }

    fn checkpoint(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            if let Err(e) = self.index.flush().await {
                tracing::warn!(error = %e, "search index not flushed before the checkpoint");
            }
            self.log.checkpoint().await
        })
    }

    fn probe_write(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        self.log.probe_write()
    }
}
