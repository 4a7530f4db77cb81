//! A connection arriving: [`admit`] runs before the server confirms it (`40`) — it reads the
//! client's identity from the connect payload and registers the handlers, so they are in
//! place before the client can send anything — and [`on_connect`] then sends what a newcomer
//! gets: its name, the rooms, the member lists and recent history of `general`.

use std::sync::Arc;

use socketioxide::adapter::Adapter;
use socketioxide::extract::{Extension, SocketRef, State, TryData};

use super::super::guard::peer_ip;
use super::super::rate::ConnectionLimit;
use super::super::store::StoreError;
use super::delivery::emit;
use super::handlers::{self, enter};
use super::identity::{Member, anonymous_user_key, public_id, user_key};
use super::lifecycle;
use super::moderation::{self, MODERATORS_ROOM};
use super::peer_sync::{READS_CHANGES, READS_NAMES, READS_ROOM_PEERS};
use super::reply::Limit;
use super::{Chat, user_room};
use crate::protocol::{
    Auth, Ban, DEFAULT_ROOM, Delete, Edit, JoinRoom, LeaveRoom, ListAudit, ListReports, Mute,
    NameGenerated, Older, React, RemoveRoom, Rename, ReportMessage, Resync, Search, SendMessage,
    Standing, TypingIn, Unban, Unmute, Welcome, WireEvent, check_token,
};

/// Where the client says it stands, from its connect packet (per room: the last id it holds
/// and the last change number it saw); used once, at connect.
#[derive(Debug, Clone)]
struct Resume {
    last_seen: std::collections::BTreeMap<String, u64>,
    changes: std::collections::BTreeMap<String, u64>,
}

/// Why a connection was refused; the client receives it as `44{"message": ...}`.
#[derive(Debug)]
pub(super) struct Refusal(String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads the client's identity and registers the handlers (the connect middleware).
pub(super) async fn admit<A: Adapter>(
    s: SocketRef<A>,
    State(chat): State<Chat>,
    TryData(auth): TryData<Auth>,
) -> Result<(), Refusal> {
    let auth = auth.map_err(|e| {
        tracing::debug!(sid = %s.id, error = %e, "bad connect payload");
        Refusal("The connect payload must be an object like {\"token\": \"...\"}.".into())
    })?;
    let member = identify(&s, &chat, &auth).await?;
    if let Some(ban) = chat.ban_of(&member.id, member.ip) {
        tracing::info!(sid = %s.id, id = %member.id, "banned person refused");
        return Err(Refusal(ban));
    }
    s.extensions.insert(chat.0.metrics.clone());
    s.extensions.insert(member);
    s.extensions.insert(Resume {
        last_seen: auth.last_seen,
        changes: auth.changes,
    });
    let limit = ConnectionLimit::new(&chat.0.config);
    s.extensions.insert(Limit(Arc::new(limit)));
    s.extensions.insert(super::catch_up::CatchUpTurn::default());
    s.on(SendMessage::NAME, handlers::on_message::<A>);
    s.on(Resync::NAME, handlers::on_resync::<A>);
    s.on(JoinRoom::NAME, handlers::on_join::<A>);
    s.on(LeaveRoom::NAME, handlers::on_leave::<A>);
    s.on(TypingIn::NAME, handlers::on_typing::<A>);
    s.on(Older::NAME, lifecycle::on_older::<A>);
    s.on(Edit::NAME, lifecycle::on_change::<A, Edit>);
    s.on(Delete::NAME, lifecycle::on_change::<A, Delete>);
    s.on(React::NAME, lifecycle::on_change::<A, React>);
    s.on(ReportMessage::NAME, moderation::on_report::<A>);
    s.on(Mute::NAME, moderation::on_mute::<A>);
    s.on(Unmute::NAME, moderation::on_unmute::<A>);
    s.on(Ban::NAME, moderation::on_ban::<A>);
    s.on(Unban::NAME, moderation::on_unban::<A>);
    s.on(RemoveRoom::NAME, moderation::on_remove_room::<A>);
    s.on(ListReports::NAME, moderation::on_book::<A, ListReports>);
    s.on(ListAudit::NAME, moderation::on_book::<A, ListAudit>);
    s.on(Rename::NAME, super::rename::on_rename::<A>);
    s.on(Search::NAME, super::search::on_search::<A>);
    s.on_fallback(handlers::on_unknown_event::<A>);
    s.on_disconnect(handlers::on_disconnect::<A>);
    Ok(())
}

/// Who is connecting: a returning person by their token, or an anonymous newcomer.
async fn identify<A: Adapter>(
    s: &SocketRef<A>,
    chat: &Chat,
    auth: &Auth,
) -> Result<Member, Refusal> {
    let ip = peer_ip(&s.req_parts().extensions);
    let unavailable = |e: StoreError| {
        tracing::error!(sid = %s.id, error = %e, "identity lookup failed");
        Refusal("The chat is unavailable; try again shortly.".into())
    };
    let Some(token) = &auth.token else {
        let user = anonymous_user_key(s.id);
        let id = public_id(&user);
        let name = chat
            .0
            .identity
            .anonymous_name(&id)
            .await
            .map_err(unavailable)?;
        return Ok(Member {
            id: id.into(),
            user: user.into(),
            name: name.into(),
            anonymous: true,
            room_peers: auth.room_peers,
            peer_changes: auth.room_peers && auth.peer_changes,
            ip,
        });
    };
    check_token(token).map_err(|e| Refusal(e.message))?;
    let user = user_key(token);
    let name = chat.0.identity.name_for(&user).await.map_err(unavailable)?;
    Ok(Member {
        id: public_id(&user).into(),
        user: user.into(),
        name: name.into(),
        anonymous: false,
        room_peers: auth.room_peers,
        peer_changes: auth.room_peers && auth.peer_changes,
        ip,
    })
}

/// Marks a connection counted in its address's connections and the metrics (see
/// [`count_out`]).
#[derive(Debug, Clone)]
pub(super) struct Counted;

/// Counts a joined connection in. Only here, once the namespace holds the socket (so its
/// disconnect handler will run): counted in `admit`, a connection that closed while being
/// admitted kept its address's slot for good.
fn count_in<A: Adapter>(chat: &Chat, s: &SocketRef<A>, member: &Member) {
    if let Some(ip) = member.ip {
        chat.0.guard.connected(ip);
    }
    chat.0.metrics.connected();
    s.extensions.insert(Counted);
    if !s.connected() {
        // Gone meanwhile: whichever of this and the disconnect takes the mark counts it out.
        count_out(chat, s, member);
    }
}

/// Counts a connection out, once, if it was counted in.
pub(super) fn count_out<A: Adapter>(chat: &Chat, s: &SocketRef<A>, member: &Member) {
    if s.extensions.remove::<Counted>().is_none() {
        return;
    }
    if let Some(ip) = member.ip {
        chat.0.guard.disconnected(ip);
    }
    chat.0.metrics.disconnected();
}

/// Welcomes an admitted connection: name, rooms, presence in `general`, history.
pub(super) async fn on_connect<A: Adapter>(
    s: SocketRef<A>,
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
) {
    let reads = match (member.room_peers, member.peer_changes) {
        (true, true) => READS_CHANGES,
        (true, false) => READS_ROOM_PEERS,
        (false, _) => READS_NAMES,
    };
    s.join([
        DEFAULT_ROOM.to_owned(),
        user_room(&member.id),
        reads.to_owned(),
    ]);
    count_in(&chat, &s, &member);
    tracing::info!(sid = %s.id, name = %member.name, "connected");
    emit(&s, &NameGenerated(member.name.to_string()));
    emit(
        &s,
        &Welcome {
            id: member.id.to_string(),
            name: member.name.to_string(),
        },
    );
    let standing = chat.0.moderation.standing_of(&member.id);
    if standing != Standing::default() {
        if standing.moderator {
            s.join(MODERATORS_ROOM);
        }
        emit(&s, &standing);
    }
    match chat.0.rooms.list().await {
        Ok(list) => emit(&s, &list),
        Err(e) => tracing::warn!(sid = %s.id, error = %e, "room list not read"),
    }
    enter(&chat, &s, &member, DEFAULT_ROOM).await;
    let resume = s.extensions.remove::<Resume>();
    let after = resume
        .as_ref()
        .and_then(|r| r.last_seen.get(DEFAULT_ROOM).copied());
    let changes = resume.and_then(|r| r.changes.get(DEFAULT_ROOM).copied());
    chat.send_history(&s, DEFAULT_ROOM, after, changes).await;
}
