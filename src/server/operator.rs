//! The operator's subcommands of the server binary: `chat moderator add|remove|list [id]`.
//! They write the same ledger the running server reads (the SQLite file beside it, or the
//! shared Redis), so a change reaches every node within a second, without a restart.

use std::process::ExitCode;
use std::sync::Arc;

use super::config::{Config, Storage};
use super::store::ledger::{Book, Ledger};
use super::store::{SqliteLedger, StoreError, now_ms};
use crate::protocol::{Action, AuditEntry, is_public_id};

const USAGE: &str = "usage: chat moderator add <public id> | remove <public id> | list";

/// Runs the subcommand in `args` (after the binary's name), if there is one.
pub async fn run(args: &[String], config: &Config) -> Option<ExitCode> {
    let (first, rest) = args.split_first()?;
    if first != "moderator" {
        eprintln!("unknown command {first:?}\n{USAGE}");
        return Some(ExitCode::FAILURE);
    }
    Some(match moderator(rest, config).await {
        Ok(said) => {
            println!("{said}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    })
}

async fn moderator(args: &[String], config: &Config) -> Result<String, String> {
    let ledger = open(config).await.map_err(|e| e.to_string())?;
    let configured = &config.chat.moderators;
    match args {
        [verb, id] if verb == "add" || verb == "remove" => {
            if !is_public_id(id) {
                return Err(format!(
                    "{id:?} is not a public id (16 lowercase hex digits; each person sees theirs \
                     as \"Your id\" below the conversations in the page)"
                ));
            }
            let on = verb == "add";
            let changed = ledger
                .set_moderator(id, on)
                .await
                .map_err(|e| e.to_string())?;
            if changed {
                audit(ledger.as_ref(), on, id).await?;
            }
            Ok(match (on, changed, configured.contains(id)) {
                (false, _, true) => format!(
                    "{id} is listed in chat.moderators (CHAT_MODERATORS): remove it there and \
                     restart; the command line only adds and removes the others"
                ),
                (true, true, _) => format!("{id} is now a moderator (live within a second)"),
                (true, false, _) => format!("{id} was a moderator already"),
                (false, true, _) => format!("{id} is no longer a moderator (live within a second)"),
                (false, false, _) => format!("{id} was not a moderator"),
            })
        }
        [verb] if verb == "list" => {
            let added = ledger
                .standing(now_ms())
                .await
                .map_err(|e| e.to_string())?
                .moderators;
            let mut lines: Vec<String> = configured
                .iter()
                .map(|id| format!("{id}  (chat.moderators)"))
                .collect();
            lines.extend(
                added
                    .iter()
                    .filter(|id| !configured.contains(id))
                    .map(|id| format!("{id}  (added)")),
            );
            if lines.is_empty() {
                lines.push("no moderators".into());
            }
            Ok(lines.join("\n"))
        }
        _ => Err(USAGE.into()),
    }
}

/// The ledger of the chat this configuration runs.
async fn open(config: &Config) -> Result<Arc<dyn Ledger>, StoreError> {
    if let Some(url) = config.chat.redis() {
        let client = super::cluster::client(url).await?;
        return Ok(Arc::new(super::cluster::RedisLedger::new(client)));
    }
    match config.chat.storage {
        Storage::Sqlite => Ok(Arc::new(SqliteLedger::open(&config.chat.database)?)),
        Storage::Memory => Err(StoreError::Unavailable(
            "with storage = \"memory\" moderators live only inside the running server: \
             list them in chat.moderators"
                .into(),
        )),
    }
}

async fn audit(ledger: &dyn Ledger, on: bool, id: &str) -> Result<(), String> {
    let action = if on {
        Action::ModeratorAdd
    } else {
        Action::ModeratorRemove
    };
    let entry = AuditEntry {
        ts: now_ms(),
        by: "operator".into(),
        by_name: "operator".into(),
        ..AuditEntry::of(action, id)
    };
    let json = serde_json::to_string(&entry).map_err(|e| e.to_string())?;
    ledger
        .file(Book::Audit, &json)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}
