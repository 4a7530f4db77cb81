//! `search`: messages found by words, prefixes and phrases in what the asker may read — any
//! public room, and their own direct conversations; with `room`, that conversation only. The
//! index (`server::search`) filters by reader in its query, so another pair's DM is never
//! read, let alone returned.

use socketioxide::adapter::Adapter;
use socketioxide::extract::{Extension, SocketRef, State, TryData};

use super::super::search::{Cursor, Query, SearchIndex};
use super::Chat;
use super::handlers::{bad_payload, unavailable};
use super::identity::Member;
use super::reply::Reply;
use crate::protocol::{ChatError, Conversation, ErrorCode, Search};

pub(super) async fn on_search<A: Adapter>(
    s: SocketRef<A>,
    State(chat): State<Chat>,
    State(index): State<SearchIndex>,
    Extension(member): Extension<Member>,
    reply: Reply<A, Search>,
    TryData(request): TryData<Search>,
) {
    let Some(reply) = reply.admit() else { return };
    let Ok(request) = request else {
        return reply.refuse(bad_payload(
            "`search` takes {query, room?, before?, beforeRoom?, beforeId?}.",
        ));
    };
    let query = match Query::parse(&request.query) {
        Ok(query) => query,
        Err(e) => return reply.refuse(e),
    };
    if let Some(room) = &request.room
        && let Err(e) = readable(&chat, &member, room).await
    {
        return reply.refuse(e);
    }
    let cursor = Cursor {
        before: request.before,
        after_message: request.before_room.zip(request.before_id),
    };
    match index
        .search(&member.id, &query, request.room.as_deref(), cursor)
        .await
    {
        Ok(results) => reply.accept(results),
        Err(e) => {
            tracing::error!(sid = %s.id, error = %e, "search failed");
            reply.refuse(unavailable("The search could not be done; try again."))
        }
    }
}

/// Whether `member` may search `room`: an existing public room, or their own DM.
async fn readable(chat: &Chat, member: &Member, room: &str) -> Result<(), ChatError> {
    let refused = || {
        ChatError::new(
            ErrorCode::BadPayload,
            format!("You cannot search {room:?}: it is no room of yours."),
        )
    };
    match Conversation::parse(room) {
        Some(direct @ Conversation::Direct { .. }) if direct.partner(&member.id).is_some() => {
            Ok(())
        }
        Some(Conversation::Public(name)) => match chat.0.rooms.exists(&name).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(refused()),
            Err(e) => {
                tracing::error!(error = %e, "rooms not read");
                Err(unavailable("The search could not be done; try again."))
            }
        },
        _ => Err(refused()),
    }
}
