//! The connect/reconnect loop ([`Connection`]) and one connection's life ([`Attempt`]): the
//! server's frames through [`Session`] into [`ChatState`], the page's commands out, my
//! messages through the [`Outbox`], liveness checks, and the way back from long-polling to
//! WebSocket. Reconnection backs off from 1 s to 5 s with jitter; gaps are resynced through
//! the state's cursors.

use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc::UnboundedReceiver;
use futures::future::Fuse;
use gloo_timers::future::TimeoutFuture;

use super::link::{Base, Link, Transport, websocket_works};
use super::{env, later, millis, notify, sleep, storage};
use crate::client::clock;
use crate::client::handle::Command;
use crate::client::moderation::REPORTED;
use crate::client::outbox::{Answer, Outbox, RATE_LIMIT_PAUSE_MS};
use crate::client::requests::{OLDER_RETRY_MS, Requests};
use crate::client::session::{Action, Session, backoff};
use crate::client::state::{ChatState, Effect, Status};
use crate::client::typing::TypingThrottle;
use crate::protocol::{
    Auth, ChatError, ClientEvent, DEFAULT_ROOM, Done, ErrorCode, EventError, Request,
};

/// While on long-polling, how often to check whether WebSocket works again.
const WEBSOCKET_RETRY: Duration = Duration::from_secs(60);

/// How one connection ended.
enum End {
    /// The page is going away: stop for good.
    Stopped,
    /// The link was lost. `opened`: the server's handshake arrived; `joined`: chatting worked.
    Lost { opened: bool, joined: bool },
    /// On long-polling, and WebSocket works again: reconnect over it.
    Upgrade,
}

/// The page's connection to the server, over as many links as it takes.
pub struct Connection {
    base: Base,
    token: String,
    state: ChatState,
    commands: UnboundedReceiver<Command>,
}

impl Connection {
    pub fn new(
        base: Base,
        token: String,
        state: ChatState,
        commands: UnboundedReceiver<Command>,
    ) -> Self {
        Connection {
            base,
            token,
            state,
            commands,
        }
    }

    /// Connects, and reconnects whenever the link is lost, until the page goes away.
    pub async fn run(mut self) {
        self.state.restore(storage::remembered());
        let mut transport = Transport::WebSocket;
        let mut attempt = 0u32;
        loop {
            self.state.set_polling(transport == Transport::Polling);
            match self.connect_once(transport, attempt > 0).await {
                End::Stopped => return,
                End::Upgrade => {
                    // Not a loss: the polling session worked, only the transport changes.
                    attempt = 0;
                    transport = Transport::WebSocket;
                    continue;
                }
                End::Lost { opened: false, .. } if transport == Transport::WebSocket => {
                    // WebSocket did not get through (a proxy, a firewall): try long-polling now.
                    transport = Transport::Polling;
                    continue;
                }
                // Banned: another attempt would only be refused again.
                End::Lost { .. } if !self.state.may_reconnect() => return,
                End::Lost { joined, .. } => {
                    if joined {
                        attempt = 0;
                    }
                    transport = Transport::WebSocket;
                }
            }
            attempt += 1;
            let delay_ms = millis(backoff(attempt, js_sys::Math::random()));
            self.state
                .set_status(Status::Reconnecting { attempt, delay_ms });
            TimeoutFuture::new(delay_ms).await;
            self.state.set_status(Status::Connecting);
        }
    }

    async fn connect_once(&mut self, transport: Transport, was_lost: bool) -> End {
        let Some(link) = Link::open(transport, &self.base).await else {
            return End::Lost {
                opened: false,
                joined: false,
            };
        };
        let mut auth = Auth {
            token: Some(self.token.clone()),
            room_peers: true,
            peer_changes: true,
            ..Auth::default()
        };
        if let Some(position) = self.state.position(DEFAULT_ROOM) {
            auth.last_seen.insert(DEFAULT_ROOM.into(), position);
            // Beside where I stand: what I last saw change, so I hear what changed since.
            if let Some(changes) = self.state.changes(DEFAULT_ROOM) {
                auth.changes.insert(DEFAULT_ROOM.into(), changes);
            }
        }
        let mut attempt = Attempt::new(link, Session::new(auth), self.state, was_lost);
        if transport == Transport::Polling {
            attempt.probe = sleep(WEBSOCKET_RETRY);
        }
        attempt.run(&self.base, &mut self.commands).await
    }
}

/// What woke one connection up.
enum Wake {
    Frame(Option<String>),
    Command(Option<Command>),
    Silence,
    Probe,
    Resume,
    OlderAgain,
}

/// One connection: a link and its session, until it ends.
struct Attempt {
    link: Link,
    session: Session,
    state: ChatState,
    /// Whether an earlier connection was lost (then joining says "Back online").
    was_lost: bool,
    outbox: Outbox,
    requests: Requests,
    /// The conversation whose older page the server found too fast, and when to ask again.
    older_again: Option<String>,
    older_timer: Fuse<TimeoutFuture>,
    typing: TypingThrottle,
    /// Fires when the server has been silent too long.
    deadline: Fuse<TimeoutFuture>,
    /// On long-polling: fires when it is time to try WebSocket again.
    probe: Fuse<TimeoutFuture>,
    /// After a "too fast" answer: fires when sending may resume.
    paused: Fuse<TimeoutFuture>,
}

impl Attempt {
    fn new(link: Link, session: Session, state: ChatState, was_lost: bool) -> Self {
        Attempt {
            deadline: sleep(session.liveness()),
            link,
            session,
            state,
            was_lost,
            outbox: Outbox::default(),
            requests: Requests::default(),
            older_again: None,
            older_timer: Fuse::terminated(),
            typing: TypingThrottle::default(),
            probe: Fuse::terminated(),
            paused: Fuse::terminated(),
        }
    }

    async fn run(mut self, base: &Base, commands: &mut UnboundedReceiver<Command>) -> End {
        loop {
            let wake = futures::select! {
                text = self.link.incoming.next() => Wake::Frame(text),
                command = commands.next() => Wake::Command(command),
                () = &mut self.deadline => Wake::Silence,
                () = &mut self.probe => Wake::Probe,
                () = &mut self.paused => Wake::Resume,
                () = &mut self.older_timer => Wake::OlderAgain,
            };
            let end = match wake {
                Wake::Frame(Some(text)) => self.on_frame(&text),
                Wake::Frame(None) | Wake::Silence => Some(self.lost()),
                Wake::Command(None) => Some(End::Stopped),
                Wake::Command(Some(command)) => {
                    self.on_command(command);
                    None
                }
                Wake::Probe => self.probe(base).await,
                Wake::Resume => {
                    self.outbox.resume();
                    None
                }
                Wake::OlderAgain => {
                    if let Some(room) = self.older_again.take() {
                        self.state.older_failed(&room);
                        self.older(&room);
                    }
                    None
                }
            };
            if let Some(end) = end {
                return end;
            }
            if let Some(frame) = self.outbox.next(&mut self.session, &self.state) {
                self.link.send(frame);
            }
        }
    }

    /// On long-polling: whether WebSocket works again (then reconnect over it).
    async fn probe(&mut self, base: &Base) -> Option<End> {
        if websocket_works(&base.websocket_url()).await {
            return Some(End::Upgrade);
        }
        self.probe = sleep(WEBSOCKET_RETRY);
        None
    }

    fn lost(&self) -> End {
        End::Lost {
            opened: self.session.is_open(),
            joined: self.session.is_joined(),
        }
    }

    fn on_frame(&mut self, text: &str) -> Option<End> {
        self.deadline = sleep(self.session.liveness());
        let action = match self.session.on_frame(text) {
            Ok(action) => action,
            Err(e) => {
                leptos::logging::warn!("ignored a frame from the server: {e}");
                return None;
            }
        };
        match action {
            Action::Send(reply) => self.link.send(reply),
            Action::Joined => {
                let effects = self.state.on_joined(self.was_lost);
                self.perform(effects);
            }
            Action::Refused(reason) => {
                self.state.refused(&reason);
                return Some(End::Lost {
                    opened: true,
                    joined: false,
                });
            }
            Action::Event(event) => {
                let effects = self.state.apply(event, env());
                self.perform(effects);
            }
            Action::Acked { ack, result } => {
                match self.outbox.on_ack(ack, result.clone(), &self.state) {
                    Answer::Pause => {
                        self.paused = sleep(Duration::from_millis(RATE_LIMIT_PAUSE_MS.into()));
                    }
                    Answer::Settled => {}
                    Answer::Other => {
                        if let Some(room) = self.requests.on_ack(ack, result, &self.state) {
                            self.older_again = Some(room);
                            self.older_timer = sleep(Duration::from_millis(OLDER_RETRY_MS.into()));
                        }
                    }
                }
            }
            Action::Closed => return Some(self.lost()),
            Action::Nothing => {}
        }
        None
    }

    fn on_command(&mut self, command: Command) {
        let joined = self.session.is_joined();
        match command {
            Command::Wake => {}
            Command::Join(room) => {
                storage::save(&self.state.remembered());
                if joined {
                    let after = self.state.position(&room);
                    let changes = self.state.changes(&room);
                    self.send(self.session.join(&room, after, changes));
                }
            }
            Command::Older(room) => {
                if joined {
                    self.older(&room);
                }
            }
            Command::Edit(edit) => self.change(edit, None),
            Command::Delete(delete) => self.change(delete, None),
            Command::React(react) => self.change(react, None),
            Command::Report(report) => self.change(report, Some(REPORTED.to_owned())),
            Command::Mute(mute) => self.change(mute, Some("Muted.".to_owned())),
            Command::Ban(ban) => self.change(ban, Some("Banned.".to_owned())),
            Command::RemoveRoom(remove) => self.change(remove, None),
            Command::Rename(rename) => {
                if !joined {
                    self.state.on_rename(Err(ChatError::new(
                        ErrorCode::Unavailable,
                        "Offline: not done. Try again once back online.",
                    )));
                } else if let Some(frame) =
                    self.requests.rename(&mut self.session, &self.state, rename)
                {
                    self.link.send(frame);
                }
            }
            Command::Records(log, page) => {
                if !joined {
                    self.state.records_failed(log);
                } else if let Some(frame) =
                    self.requests
                        .records(&mut self.session, &self.state, log, page)
                {
                    self.link.send(frame);
                }
            }
            Command::Search(ask) => {
                if !joined {
                    ask.failed("Offline: try again once back online.".into());
                } else if let Some(frame) = self.requests.search(&mut self.session, ask) {
                    self.link.send(frame);
                }
            }
            Command::Typing(room) => {
                if joined && self.typing.allow(&room, clock::now_ms()) {
                    self.send(self.session.typing(&room));
                }
            }
            Command::Leave(room) => {
                storage::save(&self.state.remembered());
                self.state.forget_position(&room);
                if joined {
                    self.send(self.session.leave(&room));
                }
            }
        }
    }

    /// Asks for the page before the oldest message held in `room`, if one may be asked.
    fn older(&mut self, room: &str) {
        if let Some(frame) = self.requests.older(&mut self.session, &self.state, room) {
            self.link.send(frame);
        }
    }

    /// Sends an act (a change to a message, a report, …); offline, says that it was not
    /// done. `done` is shown once it is.
    fn change<R>(&mut self, change: R, done: Option<String>)
    where
        R: Request<Accepted = Done> + Into<ClientEvent>,
    {
        if !self.session.is_joined() {
            return self
                .state
                .show_error("Offline: not done. Try again once back online.".into());
        }
        if let Some(frame) = self
            .requests
            .change(&mut self.session, &self.state, change, done)
        {
            self.link.send(frame);
        }
    }

    fn perform(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Resync { room, after } => {
                    let changes = self.state.changes(&room);
                    self.send(self.session.resync_since(&room, after, changes));
                }
                Effect::Join { room, after } => {
                    let changes = self.state.changes(&room);
                    self.send(self.session.join(&room, after, changes));
                }
                Effect::SaveConversations => storage::save(&self.state.remembered()),
                Effect::Later { ms, timer } => later(self.state, ms, timer),
                Effect::Notify(alert) => notify::show(self.state, alert),
            }
        }
    }

    /// Sends a frame the session made, or logs why it could not make it.
    fn send(&self, frame: Result<String, EventError>) {
        match frame {
            Ok(frame) => self.link.send(frame),
            Err(e) => leptos::logging::warn!("not sent: {e}"),
        }
    }
}
