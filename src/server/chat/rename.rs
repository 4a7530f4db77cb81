//! A person choosing their name (`rename`): the rules are `server::naming`'s, uniqueness
//! (across nodes, lookalikes folded) the identity's and the directory's. Everyone is told
//! (`renamed`, and their member lists, the tutorial's `update-peers` included); each node
//! updates its own connections of the person and its member lists when the rename reaches it
//! ([`Chat::apply_renames`]).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{Extension, SocketRef, State, TryData};
use tokio::sync::mpsc::UnboundedReceiver;

use super::super::lock;
use super::super::naming::check_name;
use super::delivery::broadcast;
use super::handlers::unavailable;
use super::identity::{Member, Refusal};
use super::reply::Reply;
use super::{Chat, user_room};
use crate::protocol::{
    ChatError, ErrorCode, NameGenerated, PersonRenamed, Rename, Renamed, Welcome,
};

/// Shortest time between two renames of one connection: each one re-sends member lists.
const RENAME_GAP: Duration = Duration::from_secs(5);

/// When this connection last renamed.
#[derive(Debug, Clone, Default)]
struct RenameClock(Arc<Mutex<Option<Instant>>>);

pub(super) async fn on_rename<A: Adapter>(
    s: SocketRef<A>,
    io: SocketIo<A>,
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
    reply: Reply<A, Rename>,
    TryData(request): TryData<Rename>,
) {
    let Some(reply) = reply.admit() else { return };
    let Ok(request) = request else {
        return reply.refuse(super::handlers::bad_payload("`rename` takes {name}."));
    };
    match rename(&s, &io, &chat, &member, &request.name).await {
        Ok(name) => reply.accept(Renamed { name }),
        Err(e) => reply.refuse(e),
    }
}

async fn rename<A: Adapter>(
    s: &SocketRef<A>,
    io: &SocketIo<A>,
    chat: &Chat,
    member: &Member,
    raw: &str,
) -> Result<String, ChatError> {
    if member.anonymous {
        return Err(ChatError::new(
            ErrorCode::NotAllowed,
            "Connect with a token (the page does) to choose a name.",
        ));
    }
    chat.check_not_muted(member)?;
    let name = check_name(raw).map_err(|e| ChatError::new(ErrorCode::BadName, e.to_string()))?;
    if *name == *member.name {
        return Ok(name);
    }
    if !rename_due(s) {
        return Err(ChatError::new(
            ErrorCode::RateLimited,
            format!("One new name per {} s.", RENAME_GAP.as_secs()),
        ));
    }
    match chat
        .0
        .identity
        .rename(&member.user, &member.name, &name)
        .await
    {
        Ok(()) => {}
        Err(Refusal::Taken) => {
            return Err(ChatError::new(
                ErrorCode::NameTaken,
                format!("Someone has the name {name:?} or one that looks like it."),
            ));
        }
        Err(Refusal::Store(e)) => {
            tracing::error!(sid = %s.id, error = %e, "rename not stored");
            return Err(unavailable("The name could not be changed; try again."));
        }
    }
    renamed_now(s);
    tracing::info!(sid = %s.id, id = %member.id, "renamed");
    chat.renamed_here(io, &member.id, &name);
    let renamed = PersonRenamed {
        id: member.id.to_string(),
        name: name.clone(),
    };
    broadcast(io, &chat.0.metrics, Vec::new(), &renamed).await;
    // The person's own pages (every tab, every node) learn their new name as on arrival.
    let mine = vec![user_room(&member.id)];
    let welcome = Welcome {
        id: member.id.to_string(),
        name: name.clone(),
    };
    broadcast(
        io,
        &chat.0.metrics,
        mine.clone(),
        &NameGenerated(name.clone()),
    )
    .await;
    broadcast(io, &chat.0.metrics, mine, &welcome).await;
    Ok(name)
}

/// Whether this connection may rename now (a refused attempt does not count).
fn rename_due<A: Adapter>(s: &SocketRef<A>) -> bool {
    let clock = s.extensions.get::<RenameClock>().unwrap_or_default();
    let last = *lock(&clock.0);
    last.is_none_or(|t| t.elapsed() >= RENAME_GAP)
}

/// Notes that this connection renamed now.
fn renamed_now<A: Adapter>(s: &SocketRef<A>) {
    let clock = s.extensions.get::<RenameClock>().unwrap_or_default();
    *lock(&clock.0) = Some(Instant::now());
    s.extensions.insert(clock);
}

impl Chat {
    /// The person `id` is called `name` now: this node's connections of theirs carry it, and
    /// the member lists they are in are sent again.
    pub(super) fn renamed_here<A: Adapter>(&self, io: &SocketIo<A>, id: &str, name: &str) {
        for s in io.local().to(user_room(id)).sockets() {
            if let Some(member) = s.extensions.get::<Member>() {
                s.extensions.insert(Member {
                    name: name.into(),
                    ..member
                });
            }
        }
        let rooms = lock(&self.0.presence).rename(&Arc::<str>::from(id), name);
        for room in rooms {
            self.touch(&room);
        }
    }

    /// Applies the renames other nodes made (and this node's again, harmlessly), for as long
    /// as it runs: with several nodes they come from the shared feed.
    pub async fn apply_renames<A: Adapter>(
        self,
        io: SocketIo<A>,
        mut renames: UnboundedReceiver<PersonRenamed>,
    ) {
        while let Some(renamed) = renames.recv().await {
            self.renamed_here(&io, &renamed.id, &renamed.name);
        }
    }
}
