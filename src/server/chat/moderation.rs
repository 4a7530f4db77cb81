//! Moderation over the socket: `report` from anyone; `mute`, `unmute`, `ban`, `unban`,
//! `remove-room`, `reports` and `audit` from moderators (a moderator's `delete` is the
//! author's event, in `lifecycle.rs`). Every act is written to the audit log. What the ledger
//! says changed elsewhere (the command line, another node) reaches this node's connections
//! through [`Chat::watch_moderation`]; the rules are in `server::moderation`.

use std::net::IpAddr;

use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{Extension, SocketRef, State, TryData};

use super::super::moderation::{NotOnThem, REFRESH_EVERY, address, until};
use super::super::store::StoreError;
use super::super::store::ledger::{Book, Kind, Restriction};
use super::delivery::emit;
use super::handlers::{bad_payload, is_someone, may_read, not_yours, unavailable};
use super::identity::Member;
use super::reply::Reply;
use super::{Chat, user_room};
use crate::protocol::{
    Action, Audit, AuditEntry, Ban, ChatError, DEFAULT_ADDRESS_BAN_MINUTES, DEFAULT_MUTE_MINUTES,
    DEFAULT_ROOM, Done, ErrorCode, ListAudit, ListReports, MAX_REASON_LEN, MAX_RECORDS_PAGE, Mute,
    RecordsPage, RemoveRoom, Report, ReportMessage, Reports, Request, Standing, Unban, Unmute,
    WireEvent, check_minutes, is_public_id, normalize_room,
};

/// The socket room of every moderator's connections, where reports go as they come.
pub(super) const MODERATORS_ROOM: &str = "mod:reports";

impl Chat {
    /// Why `member` may not post now, if they are muted.
    pub(super) fn check_not_muted(&self, member: &Member) -> Result<(), ChatError> {
        match self.0.moderation.muted_until(&member.id) {
            None => Ok(()),
            Some(until) => {
                let minutes = until.saturating_sub(super::super::store::now_ms()) / 60_000 + 1;
                Err(ChatError::new(
                    ErrorCode::Muted,
                    format!("A moderator muted you; you can post again in {minutes} min."),
                ))
            }
        }
    }

    pub(super) fn is_moderator(&self, member: &Member) -> bool {
        self.0.moderation.is_moderator(&member.id)
    }

    /// Why a connection of `member` from `ip` is refused, if it is banned.
    pub(super) fn ban_of(&self, id: &str, ip: Option<IpAddr>) -> Option<String> {
        self.0.moderation.banned_until(id, ip).map(|until| {
            if until == u64::MAX {
                "A moderator banned you from this chat.".to_owned()
            } else {
                let minutes = until.saturating_sub(super::super::store::now_ms()) / 60_000 + 1;
                format!("A moderator banned you from this chat for another {minutes} min.")
            }
        })
    }

    /// Writes a moderation act to the audit log (a failure is logged: the act stands).
    pub(super) async fn audit(&self, by: &Member, entry: AuditEntry) {
        let entry = AuditEntry {
            by: by.id.to_string(),
            by_name: by.name.to_string(),
            ts: super::super::store::now_ms(),
            ..entry
        };
        tracing::info!(by = %entry.by, action = ?entry.action, target = %entry.target, "moderation");
        if let Err(e) = self.0.moderation.file(Book::Audit, &entry).await {
            tracing::error!(error = %e, "audit entry not written");
        }
    }

    /// Applies what the ledger says changed, every [`REFRESH_EVERY`], for as long as it runs:
    /// people are told their new standing, moderators' connections follow the reports, and the
    /// connections of people banned elsewhere close. Also drops the rooms removed elsewhere.
    pub async fn watch_moderation<A: Adapter>(self, io: SocketIo<A>) {
        loop {
            tokio::time::sleep(REFRESH_EVERY).await;
            match self.0.moderation.refresh().await {
                Ok(changed) => {
                    for (id, standing) in changed.standing {
                        self.tell_standing(&io, &id, &standing).await;
                    }
                    for (id, with_address) in changed.banned {
                        self.close_banned(&io, &id, with_address).await;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "moderation ledger not read"),
            }
            if let Err(e) = self.0.rooms.refresh().await {
                tracing::warn!(error = %e, "rooms not read");
            }
            for room in self.0.rooms.take_gone() {
                self.forget_room(&io, &room).await;
            }
        }
    }

    /// Tells this node's connections of `id` where they stand now.
    async fn tell_standing<A: Adapter>(&self, io: &SocketIo<A>, id: &str, standing: &Standing) {
        for s in io.local().to(user_room(id)).sockets() {
            if standing.moderator {
                s.join(MODERATORS_ROOM);
            } else {
                s.leave(MODERATORS_ROOM);
            }
            emit(&s, standing);
        }
    }

    /// Closes this node's connections of a banned person, banning the addresses they came
    /// from until `with_address` when given.
    pub(super) async fn close_banned<A: Adapter>(
        &self,
        io: &SocketIo<A>,
        id: &str,
        with_address: Option<u64>,
    ) {
        let sockets = io.local().to(user_room(id)).sockets();
        if let Some(until) = with_address {
            let addresses: std::collections::BTreeSet<String> = sockets
                .iter()
                .filter_map(|s| s.extensions.get::<Member>()?.ip)
                .map(address)
                .collect();
            let restrictions: Vec<Restriction> = addresses
                .into_iter()
                .map(|target| Restriction {
                    kind: Kind::Address,
                    target,
                    until,
                    cause: Some(id.to_owned()),
                    with_address: None,
                })
                .collect();
            if let Err(e) = self.0.moderation.restrict(&restrictions).await {
                tracing::error!(error = %e, "address ban not stored");
            }
        }
        let reason = self
            .ban_of(id, None)
            .unwrap_or_else(|| "A moderator banned you from this chat.".to_owned());
        for s in sockets {
            emit(&s, &ChatError::new(ErrorCode::Banned, reason.clone()));
            let sid = s.id;
            if let Err(e) = s.disconnect() {
                tracing::debug!(%sid, error = %e, "banned socket already gone");
            }
        }
    }
}

/// The refusal for anyone but a moderator.
fn moderators_only() -> ChatError {
    ChatError::new(ErrorCode::NotAllowed, "Only moderators can do that.")
}

/// Checks that `member` may restrict the person `id`: a moderator, someone real, not a
/// moderator, not themselves.
async fn check_target(chat: &Chat, member: &Member, id: &str) -> Result<(), ChatError> {
    if !chat.is_moderator(member) {
        return Err(moderators_only());
    }
    if !is_public_id(id) {
        return Err(bad_payload("`id` must be a person's public id."));
    }
    match is_someone(chat, id).await {
        Ok(true) => {}
        Ok(false) => {
            return Err(ChatError::new(
                ErrorCode::NotFound,
                format!("Nobody has the id {id:?}."),
            ));
        }
        Err(e) => {
            tracing::error!(error = %e, "person not looked up");
            return Err(unavailable("That could not be done now; try again."));
        }
    }
    chat.0
        .moderation
        .may_restrict(&member.id, id)
        .map_err(|why| match why {
            NotOnThem::Moderator => ChatError::new(
                ErrorCode::NotAllowed,
                "Moderators cannot restrict each other; ask the operator.",
            ),
            NotOnThem::Themselves => bad_payload("You cannot restrict yourself."),
        })
}

fn stored_or_unavailable<T>(result: Result<T, StoreError>) -> Result<T, ChatError> {
    result.map_err(|e| {
        tracing::error!(error = %e, "moderation not stored");
        unavailable("That could not be stored; try again.")
    })
}

/// Answers a request with its outcome.
fn answer<A: Adapter, R: Request>(reply: Reply<A, R>, result: Result<R::Accepted, ChatError>) {
    match result {
        Ok(body) => reply.accept(body),
        Err(e) => reply.refuse(e),
    }
}

/// `until` as the wire writes it: absent for good.
fn ends(until: u64) -> Option<u64> {
    (until != u64::MAX).then_some(until)
}

pub(super) async fn on_report<A: Adapter>(
    s: SocketRef<A>,
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
    reply: Reply<A, ReportMessage>,
    TryData(request): TryData<ReportMessage>,
) {
    let Some(reply) = reply.admit() else { return };
    let Ok(request) = request else {
        return reply.refuse(bad_payload("`report` takes {room, id, reason?}."));
    };
    let result = report(&s, &chat, &member, request).await;
    answer(reply, result);
}

async fn report<A: Adapter>(
    s: &SocketRef<A>,
    chat: &Chat,
    member: &Member,
    request: ReportMessage,
) -> Result<Done, ChatError> {
    let reason = match request
        .reason
        .as_deref()
        .map(crate::protocol::clean_message)
    {
        None => None,
        Some(Ok(reason)) if reason.chars().count() <= MAX_REASON_LEN => Some(reason),
        Some(Ok(_)) => {
            return Err(ChatError::new(
                ErrorCode::TooLong,
                format!("A reason is at most {MAX_REASON_LEN} characters."),
            ));
        }
        // An empty reason is no reason.
        Some(Err(_)) => None,
    };
    if !may_read(s, member, &request.room) {
        return Err(not_yours(&request.room));
    }
    let found = chat.0.log.get(&request.room, request.id).await;
    let message = match stored_or_unavailable(found)? {
        Some(message) if !message.deleted => message,
        Some(_) => {
            return Err(ChatError::new(
                ErrorCode::Deleted,
                "That message was deleted.",
            ));
        }
        None => {
            return Err(ChatError::new(
                ErrorCode::NotFound,
                format!("There is no message {} in {:?}.", request.id, request.room),
            ));
        }
    };
    let mut report = Report {
        id: 0,
        ts: super::super::store::now_ms(),
        room: message.room,
        message: message.id,
        from: message.from,
        sender: message.sender,
        text: message.message,
        by: member.id.to_string(),
        by_name: member.name.to_string(),
        reason,
    };
    report.id = stored_or_unavailable(chat.0.moderation.file(Book::Reports, &report).await)?;
    tracing::info!(sid = %s.id, report = report.id, room = %report.room, "message reported");
    if let Err(e) = s.within(MODERATORS_ROOM).emit(Report::NAME, &report).await {
        tracing::warn!(error = %e, "report not sent to every moderator");
    }
    Ok(Done {})
}

pub(super) async fn on_mute<A: Adapter>(
    s: SocketRef<A>,
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
    reply: Reply<A, Mute>,
    TryData(request): TryData<Mute>,
) {
    let Some(reply) = reply.admit() else { return };
    let Ok(request) = request else {
        return reply.refuse(bad_payload("`mute` takes {id, minutes?}."));
    };
    let result = async {
        check_target(&chat, &member, &request.id).await?;
        let minutes = check_minutes(request.minutes, Some(DEFAULT_MUTE_MINUTES))
            .map_err(|e| bad_payload(&e))?;
        let mute = Restriction {
            kind: Kind::Mute,
            target: request.id.clone(),
            until: until(minutes),
            cause: None,
            with_address: None,
        };
        stored_or_unavailable(
            chat.0
                .moderation
                .restrict(std::slice::from_ref(&mute))
                .await,
        )?;
        chat.audit(
            &member,
            AuditEntry {
                until: ends(mute.until),
                ..AuditEntry::of(Action::Mute, &request.id)
            },
        )
        .await;
        tell(&s, &chat, &request.id).await;
        Ok(Done {})
    };
    answer(reply, result.await);
}

pub(super) async fn on_unmute<A: Adapter>(
    s: SocketRef<A>,
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
    reply: Reply<A, Unmute>,
    TryData(request): TryData<Unmute>,
) {
    let Some(reply) = reply.admit() else { return };
    let Ok(request) = request else {
        return reply.refuse(bad_payload("`unmute` takes {id}."));
    };
    let result = async {
        if !chat.is_moderator(&member) {
            return Err(moderators_only());
        }
        if stored_or_unavailable(chat.0.moderation.lift(Kind::Mute, &request.id).await)? {
            chat.audit(&member, AuditEntry::of(Action::Unmute, &request.id))
                .await;
            tell(&s, &chat, &request.id).await;
        }
        Ok(Done {})
    };
    answer(reply, result.await);
}

/// Tells every connection of `id`, on every node, where they stand now.
async fn tell<A: Adapter>(s: &SocketRef<A>, chat: &Chat, id: &str) {
    let standing = chat.0.moderation.standing_of(id);
    if let Err(e) = s
        .within(user_room(id))
        .emit(Standing::NAME, &standing)
        .await
    {
        tracing::warn!(error = %e, "standing not sent everywhere");
    }
}

pub(super) async fn on_ban<A: Adapter>(
    io: SocketIo<A>,
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
    reply: Reply<A, Ban>,
    TryData(request): TryData<Ban>,
) {
    let Some(reply) = reply.admit() else { return };
    let Ok(request) = request else {
        return reply.refuse(bad_payload("`ban` takes {id, minutes?, address?}."));
    };
    let result = async {
        check_target(&chat, &member, &request.id).await?;
        let minutes = check_minutes(request.minutes, None).map_err(|e| bad_payload(&e))?;
        let address_minutes = minutes.unwrap_or(DEFAULT_ADDRESS_BAN_MINUTES);
        let ban = Restriction {
            kind: Kind::Ban,
            target: request.id.clone(),
            until: until(minutes),
            cause: None,
            with_address: request.address.then(|| until(Some(address_minutes))),
        };
        stored_or_unavailable(chat.0.moderation.restrict(std::slice::from_ref(&ban)).await)?;
        chat.audit(
            &member,
            AuditEntry {
                until: ends(ban.until),
                address: request.address,
                ..AuditEntry::of(Action::Ban, &request.id)
            },
        )
        .await;
        // Here at once; every other node when it next reads the ledger (within a second).
        chat.close_banned(&io, &request.id, ban.with_address).await;
        Ok(Done {})
    };
    answer(reply, result.await);
}

pub(super) async fn on_unban<A: Adapter>(
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
    reply: Reply<A, Unban>,
    TryData(request): TryData<Unban>,
) {
    let Some(reply) = reply.admit() else { return };
    let Ok(request) = request else {
        return reply.refuse(bad_payload("`unban` takes {id}."));
    };
    let result = async {
        if !chat.is_moderator(&member) {
            return Err(moderators_only());
        }
        if stored_or_unavailable(chat.0.moderation.lift(Kind::Ban, &request.id).await)? {
            chat.audit(&member, AuditEntry::of(Action::Unban, &request.id))
                .await;
        }
        Ok(Done {})
    };
    answer(reply, result.await);
}

pub(super) async fn on_remove_room<A: Adapter>(
    io: SocketIo<A>,
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
    reply: Reply<A, RemoveRoom>,
    TryData(request): TryData<RemoveRoom>,
) {
    let Some(reply) = reply.admit() else { return };
    let Ok(request) = request else {
        return reply.refuse(bad_payload("`remove-room` takes {room}."));
    };
    let result = async {
        if !chat.is_moderator(&member) {
            return Err(moderators_only());
        }
        let room = normalize_room(&request.room)?;
        if room == DEFAULT_ROOM {
            return Err(bad_payload("general stays."));
        }
        if !stored_or_unavailable(chat.remove_room(&io, &room).await)? {
            return Err(ChatError::new(
                ErrorCode::NotFound,
                format!("There is no room {room:?}."),
            ));
        }
        chat.audit(&member, AuditEntry::of(Action::RemoveRoom, &room))
            .await;
        Ok(Done {})
    };
    answer(reply, result.await);
}

/// The page a `reports` or `audit` request asks for, checked.
fn page_of(member: &Member, chat: &Chat, page: &RecordsPage) -> Result<usize, ChatError> {
    if !chat.is_moderator(member) {
        return Err(moderators_only());
    }
    let limit = page.limit.unwrap_or(MAX_RECORDS_PAGE / 2);
    if !(1..=MAX_RECORDS_PAGE).contains(&limit) {
        return Err(bad_payload(&format!(
            "`limit` must be 1 to {MAX_RECORDS_PAGE}."
        )));
    }
    Ok(limit)
}

/// `reports` and `audit`: a page of one of the moderators' books.
pub(super) trait BookRequest: Request + Send + 'static {
    const BOOK: Book;
    /// What a client is told when the payload does not parse.
    const USAGE: &'static str;
    type Record: serde::de::DeserializeOwned;
    fn page(self) -> RecordsPage;
    /// Gives a record read back its number in the book.
    fn numbered(record: &mut Self::Record, id: u64);
    fn answer(records: Vec<Self::Record>, more: bool) -> Self::Accepted;
}

impl BookRequest for ListReports {
    const BOOK: Book = Book::Reports;
    const USAGE: &'static str = "`reports` takes {before?, limit?}.";
    type Record = Report;
    fn page(self) -> RecordsPage {
        self.0.unwrap_or_default()
    }
    fn numbered(record: &mut Report, id: u64) {
        record.id = id;
    }
    fn answer(reports: Vec<Report>, more: bool) -> Reports {
        Reports { reports, more }
    }
}

impl BookRequest for ListAudit {
    const BOOK: Book = Book::Audit;
    const USAGE: &'static str = "`audit` takes {before?, limit?}.";
    type Record = AuditEntry;
    fn page(self) -> RecordsPage {
        self.0.unwrap_or_default()
    }
    fn numbered(entry: &mut AuditEntry, id: u64) {
        entry.id = id;
    }
    fn answer(entries: Vec<AuditEntry>, more: bool) -> Audit {
        Audit { entries, more }
    }
}

/// `reports` and `audit`: one handler, registered for each.
pub(super) async fn on_book<A: Adapter, R: BookRequest>(
    State(chat): State<Chat>,
    Extension(member): Extension<Member>,
    reply: Reply<A, R>,
    TryData(request): TryData<R>,
) {
    let Some(reply) = reply.admit() else { return };
    let Ok(request) = request else {
        return reply.refuse(bad_payload(R::USAGE));
    };
    let request = request.page();
    let result = async {
        let limit = page_of(&member, &chat, &request)?;
        let found = chat
            .0
            .moderation
            .page(R::BOOK, request.before, limit, R::numbered)
            .await;
        let (records, more) = stored_or_unavailable(found)?;
        Ok(R::answer(records, more))
    };
    answer(reply, result.await);
}
