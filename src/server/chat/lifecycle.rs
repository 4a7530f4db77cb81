//! A posted message's later life: the pages before it (`older`), and the changes its author
//! or anyone else may make (`edit`, `delete`, `react`). Every change goes through the log,
//! which numbers it and puts the message's new state on the feed; the fan-out sends it as
//! `messageUpdated`, and a client that was away gets it from `resync`.
//!
//! Each event is refused, with a reason, unless the asker may read the conversation; edits
//! and deletions only for the author (the store checks it again, by [`store::apply`]).
//!
//! [`store::apply`]: super::super::store::apply

use socketioxide::adapter::Adapter;
use socketioxide::extract::{Extension, SocketRef, State, TryData};

use super::super::store::{Change, Refusal, StoreError};
use super::Chat;
use super::handlers::{bad_payload, may_read, not_yours, unavailable};
use super::identity::Member;
use super::reply::Reply;
use crate::protocol::{
    Action, AuditEntry, ChatError, DEFAULT_PAGE, Delete, Done, Edit, ErrorCode, MAX_PAGE,
    MAX_REACTIONS, Older, Page, React, Request, check_emoji, clean_message,
};

pub(super) async fn on_older<A: Adapter>(
    s: SocketRef<A>,
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
    reply: Reply<A, Older>,
    TryData(request): TryData<Older>,
) {
    let Some(reply) = reply.admit() else { return };
    let Ok(request) = request else {
        return reply.refuse(bad_payload("`older` takes {room, before, limit?}."));
    };
    let limit = request.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return reply.refuse(bad_payload(&format!("`limit` must be 1 to {MAX_PAGE}.")));
    }
    if !may_read(&s, &member, &request.room) {
        return reply.refuse(not_yours(&request.room));
    }
    // One more than asked: whether there is anything before the page.
    match chat
        .0
        .log
        .older(&request.room, request.before, limit + 1)
        .await
    {
        Ok(mut messages) => {
            let more = messages.len() > limit;
            if more {
                messages.remove(0);
            }
            reply.accept(Page { messages, more });
        }
        Err(e) => {
            tracing::error!(sid = %s.id, error = %e, "older page not loaded");
            reply.refuse(unavailable(
                "Older messages could not be loaded; try again.",
            ));
        }
    }
}

/// A request to change one message: where it points, and the change it asks for once its
/// payload is checked.
pub(super) trait ChangeRequest: Request<Accepted = Done> + Send + 'static {
    /// What a client is told when the payload does not parse.
    const USAGE: &'static str;
    /// Whether it is posting, which a muted person may not do (taking back is not).
    const POSTS: bool = true;
    fn target(&self) -> (&str, u64);
    fn into_change(self) -> Result<Change, ChatError>;
}

impl ChangeRequest for Edit {
    const USAGE: &'static str = "`edit` takes {room, id, text}.";
    fn target(&self) -> (&str, u64) {
        (&self.room, self.id)
    }
    /// The new text follows the rules of a new message.
    fn into_change(self) -> Result<Change, ChatError> {
        clean_message(&self.text).map(|text| Change::Edit(text, Vec::new()))
    }
}

impl ChangeRequest for Delete {
    const USAGE: &'static str = "`delete` takes {room, id}.";
    const POSTS: bool = false;
    fn target(&self) -> (&str, u64) {
        (&self.room, self.id)
    }
    fn into_change(self) -> Result<Change, ChatError> {
        Ok(Change::Delete)
    }
}

impl ChangeRequest for React {
    const USAGE: &'static str = "`react` takes {room, id, emoji}.";
    fn target(&self) -> (&str, u64) {
        (&self.room, self.id)
    }
    fn into_change(self) -> Result<Change, ChatError> {
        check_emoji(&self.emoji)?;
        Ok(Change::React(self.emoji))
    }
}

/// `edit`, `delete` and `react`: one handler, registered for each.
pub(super) async fn on_change<A: Adapter, R: ChangeRequest>(
    s: SocketRef<A>,
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
    reply: Reply<A, R>,
    TryData(request): TryData<R>,
) {
    let Some(reply) = reply.admit() else { return };
    let Ok(request) = request else {
        return reply.refuse(bad_payload(R::USAGE));
    };
    if R::POSTS
        && let Err(muted) = chat.check_not_muted(&member)
    {
        return reply.refuse(muted);
    }
    let (room, id) = request.target();
    let room = room.to_owned();
    match request.into_change() {
        // A moderator's deletion may be of anyone's message.
        Ok(Change::Delete) if chat.is_moderator(&member) => {
            change(&s, &chat, &member, reply, &room, id, Change::Remove).await
        }
        Ok(Change::Edit(text, _)) => {
            let mentions = chat.mentions_in(&room, &text, &member.id).await;
            let edit = Change::Edit(text, mentions);
            change(&s, &chat, &member, reply, &room, id, edit).await
        }
        Ok(change_to_make) => change(&s, &chat, &member, reply, &room, id, change_to_make).await,
        Err(e) => reply.refuse(e),
    }
}

/// Asks the log for a change to message `id` of `room`, and answers.
async fn change<A: Adapter, R: Request<Accepted = Done>>(
    s: &SocketRef<A>,
    chat: &Chat,
    member: &Member,
    reply: Reply<A, R>,
    room: &str,
    id: u64,
    change: Change,
) {
    if !may_read(s, member, room) {
        return reply.refuse(not_yours(room));
    }
    let removal = change == Change::Remove;
    match chat.0.log.alter(room, id, &member.id, change).await {
        Ok(Ok(message)) => {
            reply.accept(Done {});
            if removal && *message.from != *member.id {
                let entry = AuditEntry {
                    room: Some(room.to_owned()),
                    message: Some(id),
                    ..AuditEntry::of(Action::Delete, &message.from)
                };
                chat.audit(member, entry).await;
            }
        }
        Ok(Err(refusal)) => reply.refuse(refused(refusal, room, id)),
        Err(e) => {
            tracing::error!(sid = %s.id, error = %e, "change not stored");
            chat.0.metrics.storage_write_failed();
            reply.refuse(unavailable("The change could not be stored; try again."));
        }
    }
}

/// Whether a new message may answer message `id` of `room`: it exists and is not deleted.
pub(super) async fn answerable(chat: &Chat, room: &str, id: u64) -> Result<(), ChatError> {
    let found = chat.0.log.get(room, id).await.map_err(|e: StoreError| {
        tracing::error!(error = %e, "replied-to message not read");
        unavailable("The message could not be sent; try again.")
    })?;
    match found {
        Some(original) if original.deleted => Err(refused(Refusal::Deleted, room, id)),
        Some(_) => Ok(()),
        None => Err(refused(Refusal::NotFound, room, id)),
    }
}

/// The error a client receives for a refused change.
fn refused(refusal: Refusal, room: &str, id: u64) -> ChatError {
    match refusal {
        Refusal::NotFound => ChatError::new(
            ErrorCode::NotFound,
            format!("There is no message {id} in {room:?}."),
        ),
        Refusal::NotAllowed => ChatError::new(
            ErrorCode::NotAllowed,
            "Only its author can edit or delete a message.",
        ),
        Refusal::Deleted => ChatError::new(ErrorCode::Deleted, "That message was deleted."),
        Refusal::TooManyReactions => ChatError::new(
            ErrorCode::TooManyReactions,
            format!("A message takes at most {MAX_REACTIONS} different reactions."),
        ),
    }
}
