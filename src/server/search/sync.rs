//! Keeping the index true to the log: every committed state from the feed (in commit order,
//! on its way to the fan-out), a catch-up at start from each room's mark, and the rooms
//! removed on any node.
//!
//! A room's mark (its newest indexed id and change number) only moves past what was really
//! indexed in order: during catch-up the feed's states are indexed but move no mark, and a
//! room's mark is set from what its catch-up read. A restart in the middle re-reads a little,
//! which is harmless (a state older than the indexed one is ignored).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::super::store::{Committed, MessageLog, StoreError};
use super::{Mark, Op, SearchIndex};

/// Messages read from the log per request while catching up.
const CATCH_UP_PAGE: usize = 500;
/// How long to wait before asking an unavailable log again at start.
const RETRY_EVERY: Duration = Duration::from_secs(5);

impl SearchIndex {
    /// Indexes everything the log's feed carries and passes it on to the fan-out, in the
    /// same order. Runs until either side closes (a server task).
    pub async fn tee(self, mut from: UnboundedReceiver<Committed>, to: UnboundedSender<Committed>) {
        while let Some(committed) = from.recv().await {
            self.record(committed.message().clone());
            if to.send(committed).is_err() {
                return;
            }
        }
    }

    /// Brings the index up to date with `log`: for every room with messages, the changes
    /// since its mark and the messages after it; a room the index knows and the log no
    /// longer has is forgotten. Searches answer meanwhile, from what is indexed.
    pub async fn catch_up(self, log: Arc<dyn MessageLog>) {
        let marks = self.take_marks();
        let started = Instant::now();
        let rooms = loop {
            match log.rooms_with_messages().await {
                Ok(rooms) => break rooms,
                Err(e) => {
                    tracing::warn!(error = %e, "search catch-up: rooms not read; trying again");
                    tokio::time::sleep(RETRY_EVERY).await;
                }
            }
        };
        let listed: HashSet<&str> = rooms.iter().map(String::as_str).collect();
        for room in marks.keys().filter(|r| !listed.contains(r.as_str())) {
            // Purged while this index was closed; anything newer came from the feed.
            let _ = self.send(Op::Forget(room.clone(), self.0.opened_at, None));
        }
        let mut indexed = 0;
        for room in &rooms {
            let mark = marks.get(room).copied().unwrap_or_default();
            match self.catch_up_room(log.as_ref(), room, mark).await {
                Ok(read) => indexed += read,
                Err(e) => tracing::warn!(
                    %room, error = %e,
                    "search catch-up of a room failed; it is caught up at the next start"
                ),
            }
        }
        let _ = self.send(Op::AllCaughtUp);
        tracing::info!(
            rooms = rooms.len(),
            indexed,
            ms = started.elapsed().as_millis() as u64,
            "search index caught up"
        );
    }

    /// One room's catch-up from `mark`; how many states were read.
    async fn catch_up_room(
        &self,
        log: &dyn MessageLog,
        room: &str,
        mut mark: Mark,
    ) -> Result<usize, StoreError> {
        if mark.last_id > 0 {
            let newest = log.recent(room, 1).await?.pop().map_or(0, |m| m.id);
            if newest < mark.last_id {
                // Removed and created again while the index was closed: ids started over.
                let _ = self.send(Op::Forget(room.to_owned(), self.0.opened_at, None));
                mark = Mark::default();
            }
        }
        let mut reached = mark;
        let mut read = 0;
        let mut since = mark.last_rev;
        loop {
            let page = log
                .changed(room, since, mark.last_id, CATCH_UP_PAGE)
                .await?;
            let full = page.len() == CATCH_UP_PAGE;
            since = page.iter().map(|m| m.rev).max().unwrap_or(since);
            reached.last_rev = reached.last_rev.max(since);
            read += page.len();
            self.load_page(page).await?;
            if !full {
                break;
            }
        }
        let mut after = mark.last_id;
        loop {
            let page = log.after(room, after, CATCH_UP_PAGE).await?;
            let full = page.len() == CATCH_UP_PAGE;
            after = page.iter().map(|m| m.id).max().unwrap_or(after);
            let rev = page.iter().map(|m| m.rev).max().unwrap_or(0);
            reached.last_id = reached.last_id.max(after);
            reached.last_rev = reached.last_rev.max(rev);
            read += page.len();
            self.load_page(page).await?;
            if !full {
                break;
            }
        }
        let _ = self.send(Op::CaughtUp(room.to_owned(), reached));
        Ok(read)
    }

    async fn load_page(&self, page: Vec<crate::protocol::NewMessage>) -> Result<(), StoreError> {
        if page.is_empty() {
            return Ok(());
        }
        self.load(page)
            .await
            .map_err(super::super::store::unavailable)
    }
}
