//! Who a connection is ([`Member`]) and display names: who holds which, remembered for
//! returning people (the person's vocabulary and its derivations: [`super::super::people`]).

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::super::lock;
use super::super::names::NameRegistry;
use super::super::naming::name_key;
use super::super::store::{Directory, NameHolds, StoreError};
use crate::protocol::names::color_for;

/// Names tried for a new person before giving up (only a shared directory can refuse one).
const NAMING_ATTEMPTS: usize = 8;
/// A returning person's last-seen time is written at most this often.
const SEEN_EVERY: Duration = Duration::from_secs(3600);
/// People whose last-seen write is remembered (beyond it, the memory starts over).
const SEEN_KEPT: usize = 100_000;

/// Who a connection is, kept in the socket's extensions.
#[derive(Debug, Clone)]
pub(super) struct Member {
    /// The user key. Never sent to anyone.
    pub user: Arc<str>,
    /// The public id.
    pub id: Arc<str>,
    /// The display name.
    pub name: Arc<str>,
    /// No token: a fresh name for this connection only, given back when it closes.
    pub anonymous: bool,
    /// Reads `room-peers` instead of the tutorial's `update-peers` (see `Auth::room_peers`).
    pub room_peers: bool,
    /// Keeps member lists itself: one `room-peers` per room, then `peers-changed` (see
    /// `Auth::peer_changes`).
    pub peer_changes: bool,
    /// Where it connected from, for the per-IP connection count.
    pub ip: Option<IpAddr>,
}

pub(super) use super::super::people::{anonymous_user_key, public_id, user_key};

/// Why a rename was refused.
#[derive(Debug)]
pub(super) enum Refusal {
    /// Someone holds that name, or one that looks the same.
    Taken,
    Store(StoreError),
}

/// Display names: who holds which, and the directory that remembers returning people's.
pub(super) struct Identity {
    names: Mutex<NameRegistry>,
    directory: Arc<dyn Directory>,
    holds: Arc<dyn NameHolds>,
    /// When each returning person's last-seen time was last written.
    seen: Mutex<HashMap<String, Instant>>,
    /// Serialises first-time naming of a token, so two tabs opening at once get one name.
    naming: tokio::sync::Mutex<()>,
}

impl Identity {
    /// Every name the directory remembers stays reserved for its person.
    pub async fn load(
        directory: Arc<dyn Directory>,
        holds: Arc<dyn NameHolds>,
    ) -> Result<Self, StoreError> {
        let mut names = NameRegistry::default();
        for name in directory.all_names().await? {
            names.reserve(&name);
        }
        Ok(Identity {
            names: Mutex::new(names),
            directory,
            holds,
            seen: Mutex::new(HashMap::new()),
            naming: tokio::sync::Mutex::new(()),
        })
    }

    /// Notes that `user` is here (at most once per [`SEEN_EVERY`]): their name is held for
    /// `chat.name-hold-days` from their last visit.
    async fn touch(&self, user: &str) -> Result<(), StoreError> {
        {
            let mut seen = lock(&self.seen);
            if seen.get(user).is_some_and(|at| at.elapsed() < SEEN_EVERY) {
                return Ok(());
            }
            if seen.len() >= SEEN_KEPT {
                seen.clear();
            }
            seen.insert(user.to_owned(), Instant::now());
        }
        self.holds.seen(user).await
    }

    /// A returning person left: this is when they were last seen.
    pub async fn left(&self, user: &str) {
        lock(&self.seen).remove(user);
        if let Err(e) = self.touch(user).await {
            tracing::warn!(error = %e, "last seen not written");
        }
    }

    /// Forgets the people not seen for `days`: their names are free again, here and for
    /// everyone. How many went.
    pub async fn forget_unseen(&self, days: f64) -> Result<usize, StoreError> {
        let before = super::super::store::now_ms().saturating_sub((days * 86_400_000.0) as u64);
        let freed = self.holds.forget_unseen(before).await?;
        let mut names = lock(&self.names);
        for name in &freed {
            names.release(name);
        }
        Ok(freed.len())
    }

    /// The name that goes with a user key: remembered, or new and remembered. A returning
    /// person is looked up without waiting for anyone; only first-time naming takes turns.
    pub async fn name_for(&self, user: &str) -> Result<String, StoreError> {
        if let Some(name) = self.directory.name_of(user).await? {
            self.touch(user).await?;
            return Ok(name);
        }
        let _one_at_a_time = self.naming.lock().await;
        for _ in 0..NAMING_ATTEMPTS {
            if let Some(name) = self.directory.name_of(user).await? {
                return Ok(name);
            }
            let color = color_for(&public_id(user));
            let name = lock(&self.names).assign(&mut rand::rng(), color);
            match self.directory.remember(user, &name).await {
                Ok(()) => return Ok(name),
                // Given on another node meanwhile: it stays reserved here too; ask again.
                Err(StoreError::Taken(name)) => {
                    tracing::debug!(%name, "name taken elsewhere; trying another");
                }
                Err(e) => {
                    lock(&self.names).release(&name);
                    return Err(e);
                }
            }
        }
        Err(StoreError::Unavailable("no free name found".into()))
    }

    /// Whether someone with this public id was ever named here (online or not).
    pub async fn knows(&self, public_id: &str) -> Result<bool, StoreError> {
        self.directory.knows(public_id).await
    }

    /// A fresh name for an anonymous connection, held (on every node) until
    /// [`Identity::release`].
    pub async fn anonymous_name(&self, id: &str) -> Result<String, StoreError> {
        for _ in 0..NAMING_ATTEMPTS {
            let name = lock(&self.names).assign(&mut rand::rng(), color_for(id));
            match self.holds.hold(&name).await {
                Ok(true) => return Ok(name),
                Ok(false) => {
                    tracing::debug!(%name, "name held elsewhere; trying another");
                    lock(&self.names).release(&name);
                }
                Err(e) => {
                    lock(&self.names).release(&name);
                    return Err(e);
                }
            }
        }
        Err(StoreError::Unavailable("no free name found".into()))
    }

    /// Gives `user` (now called `old`) the chosen name `new` (checked by
    /// [`super::super::naming::check_name`]) if nobody anywhere holds it or a lookalike; the
    /// old name is free at once.
    pub async fn rename(&self, user: &str, old: &str, new: &str) -> Result<(), Refusal> {
        let same_key = name_key(old) == name_key(new);
        if !same_key && !lock(&self.names).claim(new) {
            return Err(Refusal::Taken);
        }
        match self.directory.rename(user, old, new).await {
            Ok(()) => {
                if !same_key {
                    lock(&self.names).release(old);
                }
                Ok(())
            }
            Err(e) => {
                if !same_key {
                    lock(&self.names).release(new);
                }
                Err(match e {
                    StoreError::Taken(_) => Refusal::Taken,
                    other => Refusal::Store(other),
                })
            }
        }
    }

    /// Gives an anonymous connection's name back, here and on the shared directory.
    pub async fn release(&self, name: &str) {
        lock(&self.names).release(name);
        if let Err(e) = self.holds.unhold(name).await {
            // It goes with this node at the latest.
            tracing::warn!(error = %e, "anonymous name not given back");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::BoxFuture;
    use std::time::Duration;

    /// A directory that knows `ann`, and whose `remember` waits until told to go on.
    struct SlowToRemember {
        release: tokio::sync::Semaphore,
    }

    impl Directory for SlowToRemember {
        fn name_of<'a>(
            &'a self,
            user: &'a str,
        ) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
            let known = (user == "ann").then(|| "teal-otter".to_owned());
            Box::pin(async move { Ok(known) })
        }
        fn remember<'a>(&'a self, _: &'a str, _: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
            Box::pin(async move {
                let _go = self.release.acquire().await;
                Ok(())
            })
        }
        fn knows<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
            Box::pin(async { Ok(false) })
        }
        fn all_names(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
            Box::pin(async { Ok(vec!["teal-otter".to_owned()]) })
        }
        fn rooms(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
            Box::pin(async { Ok(Vec::new()) })
        }
        fn add_room<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
            Box::pin(async { Ok(true) })
        }
        fn remove_room<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
            Box::pin(async { Ok(false) })
        }
        fn room_created<'a>(
            &'a self,
            _: &'a str,
        ) -> BoxFuture<'a, Result<Option<u64>, StoreError>> {
            Box::pin(async { Ok(None) })
        }
    }

    #[tokio::test]
    async fn a_returning_person_does_not_wait_for_a_newcomer_being_named() {
        let directory = Arc::new(SlowToRemember {
            release: tokio::sync::Semaphore::new(0),
        });
        let holds = Arc::new(crate::server::store::MemoryDirectory::default());
        let identity = Arc::new(Identity::load(directory.clone(), holds).await.unwrap());
        let newcomer = tokio::spawn({
            let identity = identity.clone();
            async move { identity.name_for("newcomer").await }
        });
        tokio::task::yield_now().await;
        // The newcomer's naming is stuck in the directory; ann is not held up by it.
        let ann = tokio::time::timeout(Duration::from_secs(2), identity.name_for("ann")).await;
        assert_eq!(ann.expect("ann waited").unwrap(), "teal-otter");
        directory.release.add_permits(1);
        let name = newcomer.await.unwrap().unwrap();
        assert_ne!(
            name, "teal-otter",
            "a remembered name is never handed out again"
        );
    }
}
