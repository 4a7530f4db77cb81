//! How long a name stays someone's. A token holder's name is theirs while they come back: it
//! is held for `chat.name-hold-days` after they were last seen, then it is free again (and
//! they, if they return, are named afresh). An anonymous connection's name is held only while
//! it is connected. With several nodes, both kinds are checked across every live node, so no
//! two people anywhere are shown the same name.

use futures::future::{BoxFuture, ready};

use super::StoreError;
use super::memory::MemoryDirectory;
use crate::server::lock;

pub trait NameHolds: Send + Sync + 'static {
    /// Holds `name` for an anonymous connection of this node; false when someone (anywhere)
    /// has it. In one process the node's own registry decides, so this always holds.
    fn hold<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Gives an anonymous connection's name back.
    fn unhold<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Notes that the token holder `user` was here now.
    fn seen<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Forgets everyone last seen before `before_ms` (their names, their being known as a
    /// person); the names that became free.
    fn forget_unseen(&self, before_ms: u64) -> BoxFuture<'_, Result<Vec<String>, StoreError>>;
}

impl NameHolds for MemoryDirectory {
    fn hold<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(ready(Ok(true)))
    }

    fn unhold<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(ready(Ok(())))
    }

    fn seen<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        lock(&self.seen).insert(user.to_owned(), super::now_ms());
        Box::pin(ready(Ok(())))
    }

    fn forget_unseen(&self, before_ms: u64) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        let gone: Vec<String> = lock(&self.seen)
            .iter()
            .filter(|(_, at)| **at < before_ms)
            .map(|(user, _)| user.clone())
            .collect();
        let mut names = Vec::new();
        for user in gone {
            lock(&self.seen).remove(&user);
            lock(&self.people).remove(&crate::server::people::public_id(&user));
            names.extend(lock(&self.names).remove(&user));
        }
        Box::pin(ready(Ok(names)))
    }
}

/// The behaviour every directory's holds must show.
#[cfg(test)]
pub(crate) async fn contract(dir: &(impl super::Directory + NameHolds)) {
    let ann = crate::server::people::public_id("u:ann");
    dir.remember("u:ann", "teal-otter").await.unwrap();
    dir.seen("u:ann").await.unwrap();
    dir.remember("u:bob", "red-fox").await.unwrap();
    dir.seen("u:bob").await.unwrap();
    let t = super::now_ms();
    assert!(dir.forget_unseen(t - 60_000).await.unwrap().is_empty());
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    dir.seen("u:bob").await.unwrap();
    // Ann was last seen before `t + 2`; bob after.
    let freed = dir.forget_unseen(t + 2).await.unwrap();
    assert_eq!(freed, ["teal-otter"]);
    assert_eq!(dir.name_of("u:ann").await.unwrap(), None);
    assert!(!dir.knows(&ann).await.unwrap());
    assert_eq!(
        dir.name_of("u:bob").await.unwrap().as_deref(),
        Some("red-fox")
    );
    // The freed name can be someone else's now.
    dir.remember("u:cat", "teal-otter").await.unwrap();
    assert!(dir.hold("blue-owl").await.unwrap());
    dir.unhold("blue-owl").await.unwrap();
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn memory_holds_keep_the_contract() {
        super::contract(&super::MemoryDirectory::default()).await;
    }
}
