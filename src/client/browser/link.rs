//! The transports: a gloo-net WebSocket to `/socket.io/` on the page's own host, or Engine.IO
//! HTTP long-polling when WebSocket cannot be opened, both as a [`Link`] of text frames.

use futures::channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use futures::future::{AbortHandle, Abortable, Either};
use futures::{SinkExt, StreamExt};
use gloo_net::http::Request;
use gloo_net::websocket::Message;
use gloo_net::websocket::futures::WebSocket;
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::storage::cache_buster;
use crate::protocol::Frame;

/// Engine.IO's separator between packets in one polling body.
const RECORD_SEPARATOR: char = '\u{1e}';
/// How long a WebSocket probe waits for the server's handshake.
const PROBE_TIMEOUT_MS: u32 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    WebSocket,
    Polling,
}

/// The page's origin, as the two transports address it.
pub struct Base {
    secure: bool,
    host: String,
}

impl Base {
    pub fn of_page() -> Option<Base> {
        let location = window().location();
        Some(Base {
            secure: location.protocol().ok()? == "https:",
            host: location.host().ok()?,
        })
    }

    pub fn websocket_url(&self) -> String {
        let scheme = if self.secure { "wss" } else { "ws" };
        format!(
            "{scheme}://{}/socket.io/?EIO=4&transport=websocket",
            self.host
        )
    }

    fn polling_url(&self) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        format!(
            "{scheme}://{}/socket.io/?EIO=4&transport=polling",
            self.host
        )
    }
}

/// Text frames to and from the server, whatever carries them; the helper tasks stop when the
/// link is dropped.
pub struct Link {
    pub incoming: futures::stream::Fuse<UnboundedReceiver<String>>,
    outgoing: UnboundedSender<String>,
    tasks: Vec<AbortHandle>,
    /// Long-polling only: says goodbye when the page goes away (see [`Link::polling`]).
    farewell: Option<WindowListenerHandle>,
}

impl Drop for Link {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Some(listener) = self.farewell.take() {
            listener.remove();
        }
    }
}

impl Link {
    /// Opens a link to the server over `transport`; `None` when it cannot be opened.
    pub async fn open(transport: Transport, base: &Base) -> Option<Link> {
        match transport {
            Transport::WebSocket => Link::websocket(&base.websocket_url()),
            Transport::Polling => Link::polling(&base.polling_url()).await,
        }
    }

    pub fn send(&self, text: String) {
        // A closed link shows up as the end of `incoming`.
        let _ = self.outgoing.unbounded_send(text);
    }

    fn websocket(url: &str) -> Option<Link> {
        let socket = match WebSocket::open(url) {
            Ok(socket) => socket,
            Err(e) => {
                leptos::logging::warn!("cannot open {url}: {e}");
                return None;
            }
        };
        let (mut write, mut read) = socket.split();
        let (to_page, incoming) = mpsc::unbounded();
        let (outgoing, mut to_server) = mpsc::unbounded::<String>();
        let reader = spawn_abortable(async move {
            while let Some(Ok(message)) = read.next().await {
                if let Message::Text(text) = message
                    && to_page.unbounded_send(text).is_err()
                {
                    break;
                }
            }
        });
        let writer = spawn_abortable(async move {
            while let Some(text) = to_server.next().await {
                if write.send(Message::Text(text)).await.is_err() {
                    break;
                }
            }
            let _ = write.close().await;
        });
        Some(Link {
            incoming: incoming.fuse(),
            outgoing,
            tasks: vec![reader, writer],
            farewell: None,
        })
    }

    /// Engine.IO long-polling: a GET that the server holds until it has packets, and a POST
    /// per batch of packets to send.
    async fn polling(url: &str) -> Option<Link> {
        let first = poll(url).await?;
        let (to_page, incoming) = mpsc::unbounded();
        let mut sid = None;
        for packet in first {
            if let Ok(Frame::Open(handshake)) = Frame::decode(&packet) {
                sid = Some(handshake.sid);
            }
            let _ = to_page.unbounded_send(packet);
        }
        let session_url = format!("{url}&sid={}", sid?);
        let (outgoing, to_server) = mpsc::unbounded::<String>();
        let reader = spawn_abortable(read_polls(session_url.clone(), to_page));
        let writer = spawn_abortable(post_batches(session_url.clone(), to_server));
        Some(Link {
            incoming: incoming.fuse(),
            outgoing,
            tasks: vec![reader, writer],
            farewell: Some(farewell(session_url)),
        })
    }
}

/// A closed tab cannot finish a long-poll, so without this the server would list this person
/// until the heartbeat timed out (45 s). A beacon survives the page: it posts Engine.IO's
/// close packet.
fn farewell(session_url: String) -> WindowListenerHandle {
    window_event_listener_untyped("pagehide", move |_| {
        let _ = window()
            .navigator()
            .send_beacon_with_opt_str(&session_url, Some("1"));
    })
}

/// Long-polls until the session ends, handing each packet to the page.
async fn read_polls(session_url: String, to_page: UnboundedSender<String>) {
    while let Some(packets) = poll(&session_url).await {
        for packet in packets {
            if to_page.unbounded_send(packet).is_err() {
                return;
            }
        }
    }
}

/// Posts what the page sends, everything queued meanwhile in one body, until a POST fails.
async fn post_batches(session_url: String, mut to_server: UnboundedReceiver<String>) {
    while let Some(text) = to_server.next().await {
        let mut batch = vec![text];
        while let Ok(more) = to_server.try_recv() {
            batch.push(more);
        }
        let body = batch.join(&RECORD_SEPARATOR.to_string());
        let Ok(suffix) = cache_buster() else { break };
        let sent = Request::post(&format!("{session_url}{suffix}"))
            .header("Content-Type", "text/plain;charset=UTF-8")
            .body(body);
        let ok = match sent {
            Ok(request) => request.send().await.is_ok_and(|r| r.ok()),
            Err(_) => false,
        };
        if !ok {
            break;
        }
    }
}

/// One long-poll GET: the packets in its body, or `None` when the session is over.
async fn poll(url: &str) -> Option<Vec<String>> {
    let url = format!("{url}{}", cache_buster().ok()?);
    let response = Request::get(&url).send().await.ok()?;
    if !response.ok() {
        return None;
    }
    let body = response.text().await.ok()?;
    Some(
        body.split(RECORD_SEPARATOR)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

/// Whether a WebSocket to the server gets as far as the server's handshake.
pub async fn websocket_works(url: &str) -> bool {
    let Ok(socket) = WebSocket::open(url) else {
        return false;
    };
    let (_, mut read) = socket.split();
    let first = futures::future::select(read.next(), TimeoutFuture::new(PROBE_TIMEOUT_MS)).await;
    match first {
        Either::Left((Some(Ok(Message::Text(text))), _)) => {
            matches!(Frame::decode(&text), Ok(Frame::Open(_)))
        }
        _ => false,
    }
}

fn spawn_abortable(task: impl std::future::Future<Output = ()> + 'static) -> AbortHandle {
    let (handle, registration) = AbortHandle::new_pair();
    spawn_local(async move {
        let _ = Abortable::new(task, registration).await;
    });
    handle
}
