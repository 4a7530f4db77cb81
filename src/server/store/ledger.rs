//! What moderation keeps: the moderators an operator added at run time, the restrictions in
//! force (bans, mutes, banned addresses) and two append-only books, reports and the audit log.
//! Small and rarely written, so every backend keeps it simply; nodes and the command line
//! share it through the store, and each node re-reads [`Ledger::standing`] every second.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use futures::future::{BoxFuture, ready};

use super::StoreError;
use crate::server::lock;

/// Records kept per book; older ones are dropped as new ones come.
pub const BOOK_LEN: usize = 100_000;

/// What a restriction holds back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A person (public id) may not connect.
    Ban,
    /// A person (public id) may read but not post.
    Mute,
    /// An address (its per-address key, an IPv6 /64) may not connect.
    Address,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ban => "ban",
            Kind::Mute => "mute",
            Kind::Address => "address",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        [Kind::Ban, Kind::Mute, Kind::Address]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A restriction in force until `until` (milliseconds since the epoch; `u64::MAX`: for good).
/// `cause` is the person whose ban an address ban came with, so lifting the ban lifts it; a
/// ban `with_address` makes each node that holds the person's connections ban their addresses
/// until then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restriction {
    pub kind: Kind,
    pub target: String,
    pub until: u64,
    pub cause: Option<String>,
    pub with_address: Option<u64>,
}

/// Everything a node needs to enforce moderation, as the store has it now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    /// Moderators added at run time (the configured ones come on top).
    pub moderators: BTreeSet<String>,
    /// Restrictions that have not ended, by kind and target.
    pub restrictions: BTreeMap<(Kind, String), Restriction>,
}

/// The two books.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Book {
    Reports,
    Audit,
}

impl Book {
    pub fn as_str(self) -> &'static str {
        match self {
            Book::Reports => "reports",
            Book::Audit => "audit",
        }
    }
}

/// Moderation's storage. Records are JSON texts; the ledger numbers them (1, 2, … per book).
pub trait Ledger: Send + Sync + 'static {
    /// The moderators and the restrictions in force at `now` (milliseconds).
    fn standing(&self, now: u64) -> BoxFuture<'_, Result<Standing, StoreError>>;

    /// Adds (`on`) or removes a run-time moderator; whether that changed anything.
    fn set_moderator<'a>(
        &'a self,
        id: &'a str,
        on: bool,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Puts a restriction in force, replacing one of the same kind and target.
    fn restrict<'a>(&'a self, r: &'a Restriction) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Lifts the restriction of `kind` on `target`, and every restriction it caused (an
    /// address ban that came with a ban); whether there was one.
    fn lift<'a>(&'a self, kind: Kind, target: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Writes a record (JSON) into a book; its number.
    fn file<'a>(&'a self, book: Book, record: &'a str) -> BoxFuture<'a, Result<u64, StoreError>>;

    /// Up to `limit` records of `book` numbered below `before` (all when `None`), newest first,
    /// with their numbers.
    fn read(
        &self,
        book: Book,
        before: Option<u64>,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<(u64, String)>, StoreError>>;
}

/// A ledger in memory (tests, `storage = "memory"`).
#[derive(Default)]
pub struct MemoryLedger(Mutex<MemoryBooks>);

#[derive(Default)]
struct MemoryBooks {
    standing: Standing,
    books: BTreeMap<Book, BTreeMap<u64, String>>,
    numbers: BTreeMap<Book, u64>,
}

impl Ledger for MemoryLedger {
    fn standing(&self, now: u64) -> BoxFuture<'_, Result<Standing, StoreError>> {
        let mut standing = lock(&self.0).standing.clone();
        standing.restrictions.retain(|_, r| r.until > now);
        Box::pin(ready(Ok(standing)))
    }

    fn set_moderator<'a>(
        &'a self,
        id: &'a str,
        on: bool,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let moderators = &mut lock(&self.0).standing.moderators;
        let changed = if on {
            moderators.insert(id.to_owned())
        } else {
            moderators.remove(id)
        };
        Box::pin(ready(Ok(changed)))
    }

    fn restrict<'a>(&'a self, r: &'a Restriction) -> BoxFuture<'a, Result<(), StoreError>> {
        let key = (r.kind, r.target.clone());
        lock(&self.0).standing.restrictions.insert(key, r.clone());
        Box::pin(ready(Ok(())))
    }

    fn lift<'a>(&'a self, kind: Kind, target: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        let restrictions = &mut lock(&self.0).standing.restrictions;
        let had = restrictions.remove(&(kind, target.to_owned())).is_some();
        restrictions.retain(|_, r| r.cause.as_deref() != Some(target) || kind != Kind::Ban);
        Box::pin(ready(Ok(had)))
    }

    fn file<'a>(&'a self, book: Book, record: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        let mut books = lock(&self.0);
        let number = books.numbers.entry(book).or_default();
        *number += 1;
        let id = *number;
        let records = books.books.entry(book).or_default();
        records.insert(id, record.to_owned());
        while records.len() > BOOK_LEN {
            records.pop_first();
        }
        Box::pin(ready(Ok(id)))
    }

    fn read(
        &self,
        book: Book,
        before: Option<u64>,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<(u64, String)>, StoreError>> {
        let books = lock(&self.0);
        let found = books
            .books
            .get(&book)
            .map(|records| {
                records
                    .range(..before.unwrap_or(u64::MAX))
                    .rev()
                    .take(limit)
                    .map(|(id, r)| (*id, r.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Box::pin(ready(Ok(found)))
    }
}

/// The behaviour every ledger must show; run against each backend by its tests.
#[cfg(test)]
pub(crate) async fn contract(ledger: &dyn Ledger) {
    // Times from now: a ledger may drop restrictions that ended before the real clock.
    let t = super::now_ms();
    let ban = Restriction {
        kind: Kind::Ban,
        target: "aaaaaaaaaaaaaaaa".into(),
        until: u64::MAX,
        cause: None,
        with_address: Some(t + 60_000),
    };
    let address = Restriction {
        kind: Kind::Address,
        target: "10.0.0.1".into(),
        until: t + 5_000,
        cause: Some(ban.target.clone()),
        with_address: None,
    };
    let mute = Restriction {
        kind: Kind::Mute,
        target: "bbbbbbbbbbbbbbbb".into(),
        until: t + 2_000,
        cause: None,
        with_address: None,
    };
    for r in [&ban, &address, &mute] {
        ledger.restrict(r).await.unwrap();
    }
    let now = ledger.standing(t + 1_000).await.unwrap();
    assert_eq!(now.restrictions.len(), 3);
    assert_eq!(
        now.restrictions[&(Kind::Address, "10.0.0.1".into())],
        address
    );
    assert_eq!(now.restrictions[&(Kind::Ban, ban.target.clone())], ban);
    // An ended restriction is no longer in force.
    let later = ledger.standing(t + 3_000).await.unwrap();
    assert!(
        !later
            .restrictions
            .contains_key(&(Kind::Mute, mute.target.clone()))
    );
    assert!(
        later
            .restrictions
            .contains_key(&(Kind::Ban, ban.target.clone()))
    );
    // A longer mute replaces the shorter one.
    let longer = Restriction {
        until: t + 9_000,
        ..mute.clone()
    };
    ledger.restrict(&longer).await.unwrap();
    let again = ledger.standing(t + 3_000).await.unwrap();
    assert_eq!(
        again.restrictions[&(Kind::Mute, mute.target.clone())],
        longer
    );
    // Lifting the ban lifts the address ban it came with, nothing else.
    assert!(ledger.lift(Kind::Ban, &ban.target).await.unwrap());
    assert!(!ledger.lift(Kind::Ban, &ban.target).await.unwrap());
    let lifted = ledger.standing(t + 1_000).await.unwrap();
    assert_eq!(
        lifted.restrictions.keys().cloned().collect::<Vec<_>>(),
        [(Kind::Mute, mute.target.clone())]
    );

    assert!(
        ledger
            .set_moderator("cccccccccccccccc", true)
            .await
            .unwrap()
    );
    assert!(
        !ledger
            .set_moderator("cccccccccccccccc", true)
            .await
            .unwrap()
    );
    let standing = ledger.standing(0).await.unwrap();
    assert!(standing.moderators.contains("cccccccccccccccc"));
    assert!(
        ledger
            .set_moderator("cccccccccccccccc", false)
            .await
            .unwrap()
    );
    assert!(ledger.standing(0).await.unwrap().moderators.is_empty());

    // Books number their records and page newest first; the two books are apart.
    for n in 1..=5 {
        let id = ledger.file(Book::Audit, &format!("{{\"n\":{n}}}")).await;
        assert_eq!(id.unwrap(), n);
    }
    assert_eq!(ledger.file(Book::Reports, "{}").await.unwrap(), 1);
    let page = ledger.read(Book::Audit, None, 2).await.unwrap();
    assert_eq!(page, [(5, "{\"n\":5}".into()), (4, "{\"n\":4}".into())]);
    let next = ledger.read(Book::Audit, Some(4), 10).await.unwrap();
    assert_eq!(
        next.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [3, 2, 1]
    );
    assert_eq!(ledger.read(Book::Reports, None, 10).await.unwrap().len(), 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_ledger_keeps_the_contract() {
        contract(&MemoryLedger::default()).await;
    }

    #[test]
    fn kinds_read_back_from_their_names() {
        for kind in [Kind::Ban, Kind::Mute, Kind::Address] {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::parse("kick"), None);
    }
}
