//! The browser transport: a gloo-net WebSocket to `/socket.io/` on the page's own host,
//! driven by [`Session`], with liveness checks and reconnection with backoff.
//!
//! Messages are sent one at a time, each waiting for its ack, so a person's messages reach
//! the room in the order they were typed.

use std::collections::VecDeque;
use std::time::Duration;

use futures::channel::mpsc::UnboundedReceiver;
use futures::future::{AbortHandle, Abortable};
use futures::{FutureExt, SinkExt, StreamExt};
use gloo_net::websocket::Message;
use gloo_net::websocket::futures::WebSocket;
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::session::{Action, Session, backoff};
use super::{Chat, Status, merge_messages};
use crate::protocol::ServerEvent;

/// Starts the connection task; it ends when the owning component is cleaned up.
pub fn start(chat: Chat, outgoing: UnboundedReceiver<String>) {
    let (abort, registration) = AbortHandle::new_pair();
    spawn_local(async move {
        let _ = Abortable::new(run(chat, outgoing), registration).await;
    });
    on_cleanup(move || abort.abort());
}

/// How one connection ended.
enum End {
    /// The page is going away: stop for good.
    Stopped,
    /// The link was lost; `joined` tells whether it had worked (then backoff starts over).
    Lost { joined: bool },
}

async fn run(chat: Chat, mut outgoing: UnboundedReceiver<String>) {
    let Some(url) = socket_url() else {
        chat.error
            .set(Some("Cannot tell this page's address.".into()));
        return;
    };
    let mut queue = VecDeque::new();
    let mut attempt = 0u32;
    loop {
        match connect_once(&url, chat, &mut outgoing, &mut queue).await {
            End::Stopped => return,
            End::Lost { joined } => {
                if joined {
                    attempt = 0;
                }
            }
        }
        attempt += 1;
        let delay = backoff(attempt, js_sys::Math::random());
        let delay_ms = delay.as_millis().min(u32::MAX as u128) as u32;
        chat.status.set(Status::Reconnecting { attempt, delay_ms });
        TimeoutFuture::new(delay_ms).await;
        chat.status.set(Status::Connecting);
    }
}

async fn connect_once(
    url: &str,
    chat: Chat,
    outgoing: &mut UnboundedReceiver<String>,
    queue: &mut VecDeque<String>,
) -> End {
    let socket = match WebSocket::open(url) {
        Ok(socket) => socket,
        Err(e) => {
            leptos::logging::warn!("cannot open {url}: {e}");
            return End::Lost { joined: false };
        }
    };
    let (mut write, read) = socket.split();
    let mut read = read.fuse();
    let mut session = Session::new();
    let mut in_flight: Option<u64> = None;
    let mut deadline = sleep(session.liveness()).fuse();

    let end = loop {
        futures::select! {
            frame = read.next() => {
                let text = match frame {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Bytes(_))) => continue,
                    Some(Err(_)) | None => break End::Lost { joined: session.is_joined() },
                };
                deadline = sleep(session.liveness()).fuse();
                let action = match session.on_frame(&text) {
                    Ok(action) => action,
                    Err(e) => {
                        leptos::logging::warn!("ignored a frame from the server: {e}");
                        continue;
                    }
                };
                match action {
                    Action::Send(reply) => {
                        if write.send(Message::Text(reply)).await.is_err() {
                            break End::Lost { joined: session.is_joined() };
                        }
                    }
                    Action::Joined => chat.status.set(Status::Online),
                    Action::Refused(reason) => {
                        chat.error.set(Some(format!("The server refused the connection: {reason}")));
                        break End::Lost { joined: false };
                    }
                    Action::Event(event) => apply(chat, event),
                    Action::Acked { ack, result } => {
                        if in_flight == Some(ack) {
                            in_flight = None;
                            queue.pop_front();
                        }
                        if let Err(e) = result {
                            chat.error.set(Some(e.message));
                        }
                    }
                    Action::Closed => break End::Lost { joined: session.is_joined() },
                    Action::Nothing => {}
                }
            }
            text = outgoing.next() => match text {
                Some(text) => queue.push_back(text),
                None => break End::Stopped,
            },
            () = deadline => break End::Lost { joined: session.is_joined() },
        }
        if let (true, None, Some(text)) = (session.is_joined(), in_flight, queue.front()) {
            match session.send_message(text) {
                Ok((ack, frame)) => {
                    if write.send(Message::Text(frame)).await.is_err() {
                        break End::Lost { joined: true };
                    }
                    in_flight = Some(ack);
                }
                Err(e) => {
                    chat.error.set(Some(e.message));
                    queue.pop_front();
                }
            }
        }
    };
    if in_flight.is_some() {
        chat.error.set(Some(
            "Connection lost before the server confirmed your last message.".into(),
        ));
        queue.pop_front();
    }
    // Messages still queued go out, in order, once the next connection has joined.
    let _ = write.close().await;
    end
}

fn apply(chat: Chat, event: ServerEvent) {
    match event {
        ServerEvent::NameGenerated(name) => chat.me.set(Some(name.0)),
        ServerEvent::UpdatePeers(peers) => chat.peers.set(peers.0),
        ServerEvent::NewMessage(message) => {
            chat.messages.update(|list| merge_messages(list, [message]))
        }
        ServerEvent::History(history) => chat
            .messages
            .update(|list| merge_messages(list, history.messages)),
        ServerEvent::ChatError(error) => chat.error.set(Some(error.message)),
    }
}

fn sleep(duration: Duration) -> TimeoutFuture {
    TimeoutFuture::new(duration.as_millis().min(u32::MAX as u128) as u32)
}

/// `ws(s)://<this host>/socket.io/?EIO=4&transport=websocket`.
fn socket_url() -> Option<String> {
    let location = window().location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    let host = location.host().ok()?;
    Some(format!(
        "{scheme}://{host}/socket.io/?EIO=4&transport=websocket"
    ))
}
