//! Names across nodes (see `store::holds`): an anonymous connection's name is held in its
//! node's set, which goes with the node (a clean stop or the sweep of a dead one), and every
//! naming checks the sets of the nodes alive now; last seen times are a sorted set.

use fred::interfaces::{SetsInterface, SortedSetsInterface};
use fred::types::scripts::Script;
use futures::future::BoxFuture;

use super::keys;
use super::log::RedisStore;
use super::scripts::{FORGET_UNSEEN, HELD_ANONYMOUSLY, HOLD};
use super::unavailable;
use crate::server::naming::name_key;
use crate::server::store::{NameHolds, StoreError, now_ms};

/// People forgotten per script call.
const FORGET_BATCH: usize = 500;

pub(crate) struct NameScripts {
    hold: Script,
    forget_unseen: Script,
}

impl NameScripts {
    pub fn new() -> Self {
        NameScripts {
            hold: keys::script(&format!("{HELD_ANONYMOUSLY}{HOLD}")),
            forget_unseen: Script::from_lua(FORGET_UNSEEN),
        }
    }
}

impl NameHolds for RedisStore {
    fn hold<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let held: u64 = self
                .names
                .hold
                .evalsha_with_reload(
                    &self.client,
                    vec![
                        keys::NAMES.to_owned(),
                        keys::NODES.to_owned(),
                        keys::node_names(&self.node),
                    ],
                    vec![name_key(name), now_ms().to_string()],
                )
                .await
                .map_err(unavailable)?;
            Ok(held == 1)
        })
    }

    fn unhold<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let _: u64 = self
                .client
                .srem(keys::node_names(&self.node), name_key(name))
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }

    fn seen<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let _: u64 = self
                .client
                .zadd(
                    keys::SEEN,
                    None,
                    None,
                    false,
                    false,
                    (now_ms() as f64, user),
                )
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }

    fn forget_unseen(&self, before_ms: u64) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            let users: Vec<String> = self
                .client
                .zrangebyscore(keys::SEEN, "-inf", format!("({before_ms}"), false, None)
                .await
                .map_err(unavailable)?;
            let mut freed = Vec::new();
            for batch in users.chunks(FORGET_BATCH) {
                let mut args = vec![before_ms.to_string()];
                for user in batch {
                    args.push(user.clone());
                    args.push(crate::server::people::public_id(user));
                }
                let names: Vec<String> = self
                    .names
                    .forget_unseen
                    .evalsha_with_reload(
                        &self.client,
                        vec![keys::USERS, keys::NAMES, keys::PEOPLE, keys::SEEN],
                        args,
                    )
                    .await
                    .map_err(unavailable)?;
                if !names.is_empty() {
                    let keys: Vec<String> = names.iter().map(|n| name_key(n)).collect();
                    let _: u64 = self
                        .client
                        .srem(keys::NAMES, keys)
                        .await
                        .map_err(unavailable)?;
                }
                freed.extend(names);
            }
            Ok(freed)
        })
    }
}
