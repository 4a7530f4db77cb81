//! Who moderates and who is held back, as this node knows it: the configured moderators
//! (`chat.moderators`) plus the [`Ledger`]'s, and the restrictions in force, re-read every
//! [`REFRESH_EVERY`] (so the command line and other nodes reach this one within about a
//! second) and updated at once by this node's own acts. The rules of who may act on whom
//! live here too; the socket side is in `chat::moderation`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::guard::address_key;
use super::lock;
use super::store::ledger::{Book, Kind, Ledger, Restriction, Standing};
use super::store::{StoreError, now_ms};
use crate::protocol;

/// How often the ledger is read again.
pub const REFRESH_EVERY: Duration = Duration::from_secs(1);

pub struct Moderation {
    configured: BTreeSet<String>,
    ledger: Arc<dyn Ledger>,
    known: Mutex<Standing>,
}

/// What changed between two reads of the ledger, for the people it concerns.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changed {
    /// People whose standing (moderator, muted) is now different, with the new one.
    pub standing: Vec<(String, protocol::Standing)>,
    /// People banned since the last read: their connections here must close (their addresses
    /// banned until the second, when given).
    pub banned: Vec<(String, Option<u64>)>,
}

/// Why a moderator may not act on someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotOnThem {
    /// Moderators are not restricted by each other (only the operator removes one).
    Moderator,
    /// Nobody restricts themselves.
    Themselves,
}

impl Moderation {
    pub async fn load(
        configured: impl IntoIterator<Item = String>,
        ledger: Arc<dyn Ledger>,
    ) -> Result<Self, StoreError> {
        let known = ledger.standing(now_ms()).await?;
        Ok(Moderation {
            configured: configured.into_iter().collect(),
            ledger,
            known: Mutex::new(known),
        })
    }

    pub fn is_moderator(&self, id: &str) -> bool {
        self.configured.contains(id) || lock(&self.known).moderators.contains(id)
    }

    fn until(&self, kind: Kind, target: &str) -> Option<u64> {
        let now = now_ms();
        lock(&self.known)
            .restrictions
            .get(&(kind, target.to_owned()))
            .map(|r| r.until)
            .filter(|until| *until > now)
    }

    /// Until when `id` is muted, if they are.
    pub fn muted_until(&self, id: &str) -> Option<u64> {
        self.until(Kind::Mute, id)
    }

    /// Until when a connection of `id` from `ip` is refused, if it is (`u64::MAX`: for good).
    /// Moderators are never held back, not even by a ban of an address they share.
    pub fn banned_until(&self, id: &str, ip: Option<IpAddr>) -> Option<u64> {
        if self.is_moderator(id) {
            return None;
        }
        let by_id = self.until(Kind::Ban, id);
        let by_address = ip.and_then(|ip| self.until(Kind::Address, &address(ip)));
        by_id.max(by_address)
    }

    pub fn standing_of(&self, id: &str) -> protocol::Standing {
        protocol::Standing {
            moderator: self.is_moderator(id),
            muted_until: self.muted_until(id),
        }
    }

    /// Whether a moderator may restrict `target`.
    pub fn may_restrict(&self, by: &str, target: &str) -> Result<(), NotOnThem> {
        if by == target {
            Err(NotOnThem::Themselves)
        } else if self.is_moderator(target) {
            Err(NotOnThem::Moderator)
        } else {
            Ok(())
        }
    }

    /// Puts restrictions in force, in the ledger and here at once.
    pub async fn restrict(&self, restrictions: &[Restriction]) -> Result<(), StoreError> {
        for r in restrictions {
            self.ledger.restrict(r).await?;
            let key = (r.kind, r.target.clone());
            lock(&self.known).restrictions.insert(key, r.clone());
        }
        Ok(())
    }

    /// Lifts a restriction (and, for a ban, the address bans it caused); whether there was one.
    pub async fn lift(&self, kind: Kind, target: &str) -> Result<bool, StoreError> {
        let had = self.ledger.lift(kind, target).await?;
        let mut known = lock(&self.known);
        known.restrictions.remove(&(kind, target.to_owned()));
        if kind == Kind::Ban {
            known
                .restrictions
                .retain(|_, r| r.cause.as_deref() != Some(target));
        }
        Ok(had)
    }

    /// Reads the ledger again; what changed for whom since the last read.
    pub async fn refresh(&self) -> Result<Changed, StoreError> {
        let fresh = self.ledger.standing(now_ms()).await?;
        let old = std::mem::replace(&mut *lock(&self.known), fresh.clone());
        Ok(self.changes(&old, &fresh))
    }

    fn changes(&self, old: &Standing, new: &Standing) -> Changed {
        let view = |s: &Standing| -> BTreeMap<String, protocol::Standing> {
            let mut people = BTreeMap::new();
            for id in &s.moderators {
                people
                    .entry(id.clone())
                    .or_insert_with(protocol::Standing::default);
            }
            for r in s.restrictions.values().filter(|r| r.kind == Kind::Mute) {
                people
                    .entry(r.target.clone())
                    .or_insert_with(protocol::Standing::default);
            }
            for (id, standing) in people.iter_mut() {
                standing.moderator = self.configured.contains(id) || s.moderators.contains(id);
                standing.muted_until = s
                    .restrictions
                    .get(&(Kind::Mute, id.clone()))
                    .map(|r| r.until);
            }
            people
        };
        let (before, after) = (view(old), view(new));
        let ids: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
        let standing = ids
            .into_iter()
            .filter_map(|id| {
                let now = after.get(id).cloned().unwrap_or_default();
                (before.get(id).cloned().unwrap_or_default() != now).then(|| (id.clone(), now))
            })
            .collect();
        let banned = new
            .restrictions
            .iter()
            .filter(|(key, r)| r.kind == Kind::Ban && !old.restrictions.contains_key(key))
            .map(|(_, r)| (r.target.clone(), r.with_address))
            .collect();
        Changed { standing, banned }
    }

    /// Files a record in a book; its number.
    pub async fn file(&self, book: Book, record: &impl Serialize) -> Result<u64, StoreError> {
        let json = serde_json::to_string(record).map_err(super::store::unavailable)?;
        self.ledger.file(book, &json).await
    }

    /// A page of a book, newest first, each record given its number; whether older remain.
    pub async fn page<T: DeserializeOwned>(
        &self,
        book: Book,
        before: Option<u64>,
        limit: usize,
        numbered: impl Fn(&mut T, u64),
    ) -> Result<(Vec<T>, bool), StoreError> {
        let mut found = self.ledger.read(book, before, limit + 1).await?;
        let more = found.len() > limit;
        found.truncate(limit);
        let records = found
            .into_iter()
            .filter_map(|(id, json)| {
                let mut record: T = serde_json::from_str(&json)
                    .inspect_err(|e| tracing::warn!(id, error = %e, "unreadable record skipped"))
                    .ok()?;
                numbered(&mut record, id);
                Some(record)
            })
            .collect();
        Ok((records, more))
    }
}

/// How an address is named in the ledger: its per-address key (an IPv6 /64).
pub fn address(ip: IpAddr) -> String {
    address_key(ip).to_string()
}

/// The end of a restriction of `minutes` from now; for good when `None`.
pub fn until(minutes: Option<u64>) -> u64 {
    minutes.map_or(u64::MAX, |m| {
        now_ms().saturating_add(m.saturating_mul(60_000))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::MemoryLedger;

    const ANN: &str = "aaaaaaaaaaaaaaaa";
    const BOB: &str = "bbbbbbbbbbbbbbbb";
    const MOD: &str = "cccccccccccccccc";

    async fn moderation() -> (Moderation, Arc<MemoryLedger>) {
        let ledger = Arc::new(MemoryLedger::default());
        let m = Moderation::load([MOD.to_owned()], ledger.clone())
            .await
            .unwrap();
        (m, ledger)
    }

    fn mute(id: &str, minutes: u64) -> Restriction {
        Restriction {
            kind: Kind::Mute,
            target: id.into(),
            until: until(Some(minutes)),
            cause: None,
            with_address: None,
        }
    }

    #[tokio::test]
    async fn moderators_may_not_restrict_each_other_or_themselves() {
        let (m, ledger) = moderation().await;
        assert_eq!(m.may_restrict(MOD, ANN), Ok(()));
        assert_eq!(m.may_restrict(MOD, MOD), Err(NotOnThem::Themselves));
        ledger.set_moderator(BOB, true).await.unwrap();
        m.refresh().await.unwrap();
        assert_eq!(m.may_restrict(MOD, BOB), Err(NotOnThem::Moderator));
        assert!(m.is_moderator(BOB));
    }

    #[tokio::test]
    async fn what_the_command_line_writes_reaches_the_people_it_concerns() {
        let (m, ledger) = moderation().await;
        ledger.set_moderator(ANN, true).await.unwrap();
        ledger.restrict(&mute(BOB, 5)).await.unwrap();
        let changed = m.refresh().await.unwrap();
        assert_eq!(changed.standing.len(), 2);
        assert_eq!(changed.standing[0].0, ANN);
        assert!(changed.standing[0].1.moderator);
        assert_eq!(changed.standing[1].1.muted_until, m.muted_until(BOB));
        assert!(changed.banned.is_empty());
        // Nothing new: nobody is told again.
        assert_eq!(m.refresh().await.unwrap(), Changed::default());
        ledger.set_moderator(ANN, false).await.unwrap();
        let changed = m.refresh().await.unwrap();
        assert_eq!(
            changed.standing,
            [(ANN.to_owned(), protocol::Standing::default())]
        );
    }

    #[tokio::test]
    async fn a_ban_covers_the_person_and_with_address_their_network() {
        let (m, ledger) = moderation().await;
        let ip: IpAddr = "2001:db8:1:2::7".parse().unwrap();
        let same_net: IpAddr = "2001:db8:1:2::99".parse().unwrap();
        m.restrict(&[
            Restriction {
                kind: Kind::Ban,
                target: ANN.into(),
                until: u64::MAX,
                cause: None,
                with_address: None,
            },
            Restriction {
                kind: Kind::Address,
                target: address(ip),
                until: until(Some(60)),
                cause: Some(ANN.into()),
                with_address: None,
            },
        ])
        .await
        .unwrap();
        assert_eq!(m.banned_until(ANN, None), Some(u64::MAX));
        assert!(m.banned_until(BOB, Some(same_net)).is_some());
        assert_eq!(m.banned_until(BOB, Some("10.0.0.1".parse().unwrap())), None);
        assert_eq!(
            m.banned_until(MOD, Some(same_net)),
            None,
            "moderators are exempt"
        );
        // Another node reads the ban as new; lifting it lifts the address ban too.
        let other = Moderation::load([], ledger.clone()).await.unwrap();
        assert!(other.banned_until(ANN, None).is_some());
        assert!(m.lift(Kind::Ban, ANN).await.unwrap());
        assert_eq!(m.banned_until(BOB, Some(same_net)), None);
        assert_eq!(m.banned_until(ANN, None), None);
    }

    #[tokio::test]
    async fn a_ban_read_from_the_ledger_is_reported_once() {
        let (m, ledger) = moderation().await;
        let ban = Restriction {
            kind: Kind::Ban,
            target: ANN.into(),
            until: until(Some(10)),
            cause: None,
            with_address: None,
        };
        ledger.restrict(&ban).await.unwrap();
        let banned = m.refresh().await.unwrap().banned;
        assert_eq!(banned, [(ANN.to_owned(), ban.with_address)]);
        assert!(m.refresh().await.unwrap().banned.is_empty());
    }
}
