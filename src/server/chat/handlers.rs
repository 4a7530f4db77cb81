//! One small async fn per client event, in the style of socketioxide's examples: dependencies
//! arrive as extractors, and every refusal goes through [`Reply`] (answered, logged, counted).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{Event, Extension, SocketRef, State, TryData};
use socketioxide::socket::DisconnectReason;

use super::super::lock;
use super::super::store::{Entry, StoreError};
use super::identity::Member;
use super::reply::Reply;
use super::{Chat, user_room};
use crate::protocol::{
    ChatError, Conversation, DEFAULT_ROOM, Done, ErrorCode, JoinRoom, LeaveRoom, Resync, RoomDone,
    SendMessage, Stored, TYPING_RELAY_GAP_MS, Typing, TypingIn, WireEvent, check_client_id,
    clean_message, is_direct_key, normalize_room,
};

/// When this connection last had a typing signal relayed.
#[derive(Debug, Clone, Default)]
struct TypingClock(Arc<Mutex<Option<Instant>>>);

/// Counts a connection into a public room's presence, brings member lists up to date, and
/// announces the arrival unless the person was there moments ago.
pub(super) async fn enter<A: Adapter>(chat: &Chat, s: &SocketRef<A>, member: &Member, room: &str) {
    let arrived =
        lock(&chat.0.presence).join(room, member.id.clone(), s.id, member.name.to_string());
    if !s.connected() {
        // Gone while joining: its disconnect may have been handled already; undo.
        if lock(&chat.0.presence).leave(room, &member.id, &s.id) {
            chat.touch(room);
        }
        return;
    }
    chat.list_for_newcomer(room, member, s.id, arrived);
    if arrived {
        chat.touch(room);
        chat.arrived(room, member);
    }
}

pub(super) async fn on_join<A: Adapter>(
    s: SocketRef<A>,
    io: SocketIo<A>,
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
    reply: Reply<A, JoinRoom>,
    TryData(request): TryData<JoinRoom>,
) {
    let Some(reply) = reply.admit() else { return };
    let Ok(request) = request else {
        return reply.refuse(bad_payload("`join` takes {room, after?, changes?}."));
    };
    if is_direct_key(&request.room) {
        // A direct-message conversation: only its two people may open it.
        let Some(direct) = Conversation::parse(&request.room).filter(|c| is_party(c, &member))
        else {
            return reply.refuse(not_yours(&request.room));
        };
        reply.accept(RoomDone { room: direct.key() });
        return chat
            .send_history(&s, &request.room, request.after, request.changes)
            .await;
    }
    let room = match normalize_room(&request.room) {
        Ok(room) => room,
        Err(e) => return reply.refuse(e),
    };
    match chat.0.rooms.exists(&room).await {
        Ok(true) => {}
        Ok(false) => {
            if let Err(muted) = chat.check_not_muted(&member) {
                return reply.refuse(muted);
            }
            if let Err(quota) = chat.0.room_quota.take(&member.id, member.ip) {
                return reply.refuse(ChatError::new(ErrorCode::RateLimited, quota));
            }
        }
        Err(e) => {
            tracing::error!(sid = %s.id, error = %e, "rooms not read");
            return reply.refuse(unavailable("The room could not be created; try again."));
        }
    }
    if let Err(e) = chat.create_room(&io, &room).await {
        tracing::error!(sid = %s.id, error = %e, "room not created");
        return reply.refuse(unavailable("The room could not be created; try again."));
    }
    if !s.rooms().iter().any(|r| *r == room) {
        s.join(room.clone());
        enter(&chat, &s, &member, &room).await;
    }
    reply.accept(RoomDone { room: room.clone() });
    chat.send_history(&s, &room, request.after, request.changes)
        .await;
}

pub(super) async fn on_leave<A: Adapter>(
    s: SocketRef<A>,
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
    reply: Reply<A, LeaveRoom>,
    TryData(request): TryData<LeaveRoom>,
) {
    let Some(reply) = reply.admit() else { return };
    let Ok(request) = request else {
        return reply.refuse(bad_payload("`leave` takes {room}."));
    };
    if request.room == DEFAULT_ROOM {
        return reply.refuse(bad_payload("Everyone stays in general."));
    }
    if s.rooms().iter().any(|r| *r == request.room) {
        s.leave(request.room.clone());
        if lock(&chat.0.presence).leave(&request.room, &member.id, &s.id) {
            chat.touch(&request.room);
            chat.departed(&request.room, &member);
        }
    }
    reply.accept(RoomDone { room: request.room });
}

pub(super) async fn on_message<A: Adapter>(
    s: SocketRef<A>,
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
    reply: Reply<A, SendMessage>,
    TryData(sent): TryData<SendMessage>,
) {
    let Some(reply) = reply.admit() else { return };
    let sent = match sent {
        Ok(sent) => sent,
        Err(e) => {
            tracing::debug!(sid = %s.id, error = %e, "message with a bad payload");
            return reply.refuse(bad_payload(
                "`message` takes a string, or an object {text, clientId, room, to, replyTo}.",
            ));
        }
    };
    if let Err(muted) = chat.check_not_muted(&member) {
        return reply.refuse(muted);
    }
    let (room, text) = match check_message(&s, &member, &sent) {
        Ok(checked) => checked,
        Err(e) => return reply.refuse(e),
    };
    if let Some(original) = sent.reply_to() {
        match super::lifecycle::answerable(&chat, &room, original).await {
            Ok(()) => {}
            Err(e) => return reply.refuse(e),
        }
    }
    if let Some(to) = sent.to() {
        match is_someone(&chat, to).await {
            Ok(true) => {}
            Ok(false) => return reply.refuse(bad_payload("Nobody has that id.")),
            Err(e) => {
                tracing::error!(sid = %s.id, error = %e, "recipient not looked up");
                return reply.refuse(unavailable("The message could not be sent; try again."));
            }
        }
    }
    let mentions = chat.mentions_in(&room, &text, &member.id).await;
    let entry = Entry {
        room: &room,
        author: &member.user,
        sender: &member.name,
        from: &member.id,
        text,
        client_id: sent.client_id(),
        reply_to: sent.reply_to(),
        mentions,
    };
    let started = Instant::now();
    match chat.0.log.append(entry).await {
        Ok(stored) => {
            if !stored.duplicate {
                chat.0.metrics.message_stored(started.elapsed());
            }
            // Broadcast by the fan-out task, in id order; a retry of a stored message is
            // acked again but never broadcast twice.
            reply.accept(Stored::from(&stored.message));
        }
        Err(e) => {
            tracing::error!(sid = %s.id, error = %e, "message not stored");
            chat.0.metrics.storage_write_failed();
            reply.refuse(unavailable("The message could not be stored; try again."));
        }
    }
}

/// Whether a direct message may go to `id`: someone online (here or, with several nodes,
/// anywhere) or a person ever named here. A made-up id would otherwise open a conversation,
/// stored for good, with nobody.
pub(super) async fn is_someone(chat: &Chat, id: &str) -> Result<bool, StoreError> {
    if lock(&chat.0.presence).contains(DEFAULT_ROOM, &Arc::<str>::from(id)) {
        return Ok(true);
    }
    if chat.0.identity.knows(id).await? {
        return Ok(true);
    }
    let online = chat.0.roster.members(DEFAULT_ROOM).await?;
    Ok(online.iter().any(|peer| peer.id == id))
}

/// A message's conversation and cleaned text, or why it cannot be posted.
fn check_message<A: Adapter>(
    s: &SocketRef<A>,
    member: &Member,
    sent: &SendMessage,
) -> Result<(String, String), ChatError> {
    if let Some(client_id) = sent.client_id() {
        check_client_id(client_id)?;
    }
    let text = clean_message(sent.text())?;
    let room = match (sent.to(), sent.room()) {
        (Some(to), _) => match Conversation::direct(&member.id, to) {
            Some(direct) => direct.key(),
            _ => return Err(bad_payload("`to` must be another person's id.")),
        },
        (None, room) => {
            let room = room.unwrap_or(DEFAULT_ROOM).to_owned();
            if !may_read(s, member, &room) {
                return Err(not_yours(&room));
            }
            room
        }
    };
    Ok((room, text))
}

pub(super) async fn on_resync<A: Adapter>(
    s: SocketRef<A>,
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
    reply: Reply<A, Resync>,
    TryData(request): TryData<Resync>,
) {
    let Some(reply) = reply.admit() else { return };
    let Ok(request) = request else {
        return reply.refuse(bad_payload("`resync` takes {room, after, changes?}."));
    };
    if !may_read(&s, &member, &request.room) {
        return reply.refuse(not_yours(&request.room));
    }
    chat.0.metrics.resync();
    chat.send_history(&s, &request.room, Some(request.after), request.changes)
        .await;
    reply.accept(Done {});
}

/// Relays "typing…" to the others in the conversation, as a volatile event (a lost one just
/// means the indicator shows a little later). Every signal counts against the connection's
/// rate like any event (a flood is refused, then dropped); at most one per
/// [`TYPING_RELAY_GAP_MS`] is relayed, the rest are dropped here, logged at trace level.
pub(super) async fn on_typing<A: Adapter>(
    s: SocketRef<A>,
    Extension(member): Extension<Member>,
    reply: Reply<A>,
    TryData(request): TryData<TypingIn>,
) {
    if reply.admit().is_none() {
        return;
    }
    let Ok(request) = request else {
        tracing::debug!(sid = %s.id, "bad typing payload ignored");
        return;
    };
    if !typing_due(&s) {
        tracing::trace!(sid = %s.id, "typing signal throttled");
        return;
    }
    let audience = match Conversation::parse(&request.room) {
        Some(direct @ Conversation::Direct { .. }) => direct.partner(&member.id).map(user_room),
        Some(Conversation::Public(room)) => s.rooms().iter().any(|r| *r == room).then_some(room),
        None => None,
    };
    let Some(audience) = audience else {
        tracing::debug!(sid = %s.id, room = %request.room, "typing outside own rooms ignored");
        return;
    };
    let typing = Typing {
        room: request.room,
        id: member.id.to_string(),
        name: member.name.to_string(),
    };
    if let Err(e) = s.volatile().to(audience).emit(Typing::NAME, &typing).await {
        tracing::trace!(error = %e, "typing relay incomplete");
    }
}

/// Whether this connection may have a typing signal relayed now (and notes that it did).
fn typing_due<A: Adapter>(s: &SocketRef<A>) -> bool {
    let clock = s.extensions.get::<TypingClock>().unwrap_or_default();
    {
        let mut last = lock(&clock.0);
        if last.is_some_and(|t| t.elapsed() < Duration::from_millis(TYPING_RELAY_GAP_MS)) {
            return false;
        }
        *last = Some(Instant::now());
    }
    s.extensions.insert(clock);
    true
}

pub(super) async fn on_unknown_event<A: Adapter>(
    s: SocketRef<A>,
    Event(event): Event,
    reply: Reply<A>,
) {
    let Some(reply) = reply.admit() else { return };
    tracing::debug!(sid = %s.id, %event, "unknown event");
    reply.refuse(ChatError::new(
        ErrorCode::UnknownEvent,
        format!("Unknown event {event:?}."),
    ));
}

/// A connection closed: it leaves every room presence holds it in. Presence's own record is
/// what counts, not the socket's rooms: when one polling request carries both the namespace
/// disconnect and the Engine.IO close (python-socketio does this), socketioxide closes the
/// socket twice and the second close empties its rooms before this handler runs.
pub(super) async fn on_disconnect<A: Adapter>(
    s: SocketRef<A>,
    State(chat): State<Chat>,
    reason: DisconnectReason,
) {
    let Some(member) = s.extensions.get::<Member>() else {
        return;
    };
    super::connect::count_out(&chat, &s, &member);
    if member.anonymous {
        chat.0.identity.release(&member.name).await;
    } else {
        chat.0.identity.left(&member.user).await;
    }
    let left = lock(&chat.0.presence).leave_everywhere(&s.id);
    for room in left {
        chat.touch(&room);
        if reason != DisconnectReason::ClosingServer {
            chat.departed(&room, &member);
        }
    }
    tracing::info!(sid = %s.id, name = %member.name, %reason, "disconnected");
}

/// Whether this connection may read `room`: a public room it joined, or a direct
/// conversation its person is part of. Internal socket rooms (`user:…`, `reads:…`) are no
/// conversation and never readable.
pub(super) fn may_read<A: Adapter>(s: &SocketRef<A>, member: &Member, room: &str) -> bool {
    match Conversation::parse(room) {
        Some(direct @ Conversation::Direct { .. }) => is_party(&direct, member),
        Some(Conversation::Public(room)) => s.rooms().iter().any(|r| *r == room),
        None => false,
    }
}

fn is_party(conversation: &Conversation, member: &Member) -> bool {
    conversation.partner(&member.id).is_some()
}

pub(super) fn bad_payload(message: &str) -> ChatError {
    ChatError::new(ErrorCode::BadPayload, message)
}

pub(super) fn unavailable(message: &str) -> ChatError {
    ChatError::new(ErrorCode::Unavailable, message)
}

pub(super) fn not_yours(room: &str) -> ChatError {
    ChatError::new(
        ErrorCode::BadPayload,
        format!("You are not in {room:?}: join it first."),
    )
}
