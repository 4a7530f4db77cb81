//! The moderation ledger in the shared Redis (keys in [`super::keys`]): every node and the
//! command line read and write the same one.

use fred::interfaces::{HashesInterface, SetsInterface, SortedSetsInterface};
use fred::types::scripts::Script;
use futures::future::BoxFuture;

use super::keys;
use super::unavailable;
use crate::server::store::StoreError;
use crate::server::store::ledger::{BOOK_LEN, Book, Kind, Ledger, Restriction, Standing};

/// Numbers a record and adds it to its book, dropping the oldest past the book's length.
/// KEYS: book, counter. ARGV: record, length kept. Returns the number.
const FILE: &str = r"
local id = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], id, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', id - tonumber(ARGV[2]))
return id
";

/// Lifts a restriction and, for a ban, those it caused. KEYS: restrictions. ARGV: field,
/// cause (or ''). Returns 1 when the restriction was there.
const LIFT: &str = r"
local had = redis.call('HDEL', KEYS[1], ARGV[1])
if ARGV[2] ~= '' then
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    local cause = string.match(all[i + 1], '^[^|]*|([^|]*)')
    if cause == ARGV[2] then redis.call('HDEL', KEYS[1], all[i]) end
  end
end
return had
";

pub struct RedisLedger {
    client: fred::clients::Client,
    file: Script,
    lift: Script,
}

impl RedisLedger {
    pub fn new(client: fred::clients::Client) -> Self {
        RedisLedger {
            client,
            file: Script::from_lua(FILE),
            lift: Script::from_lua(LIFT),
        }
    }
}

fn field(kind: Kind, target: &str) -> String {
    format!("{}|{target}", kind.as_str())
}

/// A restriction back from its hash field and value.
fn restriction(field: &str, value: &str) -> Option<Restriction> {
    let (kind, target) = field.split_once('|')?;
    let mut parts = value.split('|');
    let until = parts.next()?.parse().ok()?;
    let cause = parts.next().filter(|c| !c.is_empty()).map(str::to_owned);
    let with_address = parts.next().and_then(|w| w.parse().ok());
    Some(Restriction {
        kind: Kind::parse(kind)?,
        target: target.to_owned(),
        until,
        cause,
        with_address,
    })
}

impl Ledger for RedisLedger {
    fn standing(&self, now: u64) -> BoxFuture<'_, Result<Standing, StoreError>> {
        Box::pin(async move {
            let moderators: Vec<String> = self
                .client
                .smembers(keys::MODERATORS)
                .await
                .map_err(unavailable)?;
            let all: std::collections::HashMap<String, String> = self
                .client
                .hgetall(keys::RESTRICTIONS)
                .await
                .map_err(unavailable)?;
            let restrictions = all
                .iter()
                .filter_map(|(f, v)| restriction(f, v))
                .filter(|r| r.until > now)
                .map(|r| ((r.kind, r.target.clone()), r))
                .collect();
            Ok(Standing {
                moderators: moderators.into_iter().collect(),
                restrictions,
            })
        })
    }

    fn set_moderator<'a>(
        &'a self,
        id: &'a str,
        on: bool,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let changed: u64 = if on {
                self.client.sadd(keys::MODERATORS, id).await
            } else {
                self.client.srem(keys::MODERATORS, id).await
            }
            .map_err(unavailable)?;
            Ok(changed == 1)
        })
    }

    fn restrict<'a>(&'a self, r: &'a Restriction) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let with_address = r.with_address.map(|w| w.to_string()).unwrap_or_default();
            let cause = r.cause.as_deref().unwrap_or("");
            let value = format!("{}|{cause}|{with_address}", r.until);
            let _: u64 = self
                .client
                .hset(keys::RESTRICTIONS, (field(r.kind, &r.target), value))
                .await
                .map_err(unavailable)?;
            // Ended restrictions are of no use; they go whenever one is written.
            let now = crate::server::store::now_ms();
            let all: std::collections::HashMap<String, String> = self
                .client
                .hgetall(keys::RESTRICTIONS)
                .await
                .map_err(unavailable)?;
            let ended: Vec<&String> = all
                .iter()
                .filter(|(f, v)| restriction(f, v).is_some_and(|r| r.until <= now))
                .map(|(f, _)| f)
                .collect();
            if !ended.is_empty() {
                let _: u64 = self
                    .client
                    .hdel(keys::RESTRICTIONS, ended)
                    .await
                    .map_err(unavailable)?;
            }
            Ok(())
        })
    }

    fn lift<'a>(&'a self, kind: Kind, target: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let cause = if kind == Kind::Ban { target } else { "" };
            let had: u64 = self
                .lift
                .evalsha_with_reload(
                    &self.client,
                    vec![keys::RESTRICTIONS],
                    vec![field(kind, target), cause.to_owned()],
                )
                .await
                .map_err(unavailable)?;
            Ok(had == 1)
        })
    }

    fn file<'a>(&'a self, book: Book, record: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let (records, counter) = keys::book(book.as_str());
            self.file
                .evalsha_with_reload(
                    &self.client,
                    vec![records, counter],
                    vec![record.to_owned(), BOOK_LEN.to_string()],
                )
                .await
                .map_err(unavailable)
        })
    }

    fn read(
        &self,
        book: Book,
        before: Option<u64>,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<(u64, String)>, StoreError>> {
        Box::pin(async move {
            let (records, _) = keys::book(book.as_str());
            let max = match before {
                Some(before) => format!("({before}"),
                None => "+inf".to_owned(),
            };
            let found: Vec<(String, f64)> = self
                .client
                .zrevrangebyscore(records, max, "-inf", true, Some((0, limit as i64)))
                .await
                .map_err(unavailable)?;
            Ok(found
                .into_iter()
                .map(|(record, id)| (id as u64, record))
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::client;
    use super::super::test_redis::RedisServer;
    use super::*;

    #[tokio::test]
    async fn the_redis_ledger_keeps_the_contract() {
        let redis = RedisServer::start();
        let ledger = RedisLedger::new(client(&redis.url(9)).await.unwrap());
        crate::server::store::ledger::contract(&ledger).await;
    }

    #[test]
    fn restrictions_read_back_from_their_hash_entries() {
        let r = restriction("address|2001:db8::", "99|aaaaaaaaaaaaaaaa|").unwrap();
        assert_eq!(r.kind, Kind::Address);
        assert_eq!(r.target, "2001:db8::");
        assert_eq!(r.cause.as_deref(), Some("aaaaaaaaaaaaaaaa"));
        assert!(restriction("kick|x", "1|").is_none());
        let ban = restriction("ban|aaaaaaaaaaaaaaaa", "7||1234").unwrap();
        assert_eq!((ban.cause, ban.with_address), (None, Some(1234)));
    }
}
