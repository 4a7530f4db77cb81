//! The browser half of the client (hydrate only): [`start`] checks that this page can have an
//! identity and runs the [`connection`] for the page's lifetime. The rules live in
//! [`ChatState`]; this carries out what it asks (frames, timers, storage).
//!
//! - `link`: the transports (WebSocket, Engine.IO long-polling), as text frames in and out;
//! - `connection`: the connect/reconnect loop and one connection's events;
//! - `storage`: what this browser keeps in localStorage, and its random numbers.

mod connection;
mod link;
pub mod notify;
mod storage;

use std::time::Duration;

use futures::FutureExt;
use futures::channel::mpsc::UnboundedReceiver;
use futures::future::{AbortHandle, Abortable, Fuse};
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::clock;
use super::handle::Command;
use super::state::{ChatState, Effect, Env, Timer};
use connection::Connection;
use link::Base;
use storage::Identity;

/// Starts the connection task, which ends when the owning component is cleaned up; returns
/// this page's nonce for client ids. When the page cannot chat (no address, no secure random
/// numbers for an identity), it says so on the page instead and returns `None`.
pub fn start(state: ChatState, commands: UnboundedReceiver<Command>) -> Option<String> {
    let (base, identity) = match ready() {
        Ok(ready) => ready,
        Err(reason) => {
            leptos::logging::error!("the chat cannot run here: {reason}");
            // After hydration, like every other change to the state.
            spawn_local(async move { state.unavailable(reason) });
            return None;
        }
    };
    watch_visibility(state);
    let connection = Connection::new(base, identity.token, state, commands);
    let (abort, registration) = AbortHandle::new_pair();
    spawn_local(async move {
        let _ = Abortable::new(connection.run(), registration).await;
    });
    on_cleanup(move || abort.abort());
    Some(identity.page_nonce)
}

/// Where to connect and who to be, or why this page cannot.
fn ready() -> Result<(Base, Identity), String> {
    let base = Base::of_page().ok_or("Cannot tell this page's address.")?;
    let identity = storage::identity().map_err(|e| e.to_string())?;
    Ok((base, identity))
}

/// The page around an event now.
fn env() -> Env {
    Env {
        now_ms: clock::now_ms(),
        tab_hidden: document().hidden(),
    }
}

/// Calls [`ChatState::on_timer`] with `timer` in `ms` milliseconds, and sets the timers it
/// asks for in turn (a timer asks for nothing else).
fn later(state: ChatState, ms: u32, timer: Timer) {
    spawn_local(async move {
        TimeoutFuture::new(ms).await;
        for effect in state.on_timer(timer, clock::now_ms()) {
            if let Effect::Later { ms, timer } = effect {
                later(state, ms, timer);
            }
        }
    });
}

/// Clears the title's unseen count when the tab comes back into view.
fn watch_visibility(state: ChatState) {
    let handle = window_event_listener_untyped("visibilitychange", move |_| {
        if !document().hidden() {
            state.seen();
        }
    });
    // `visibilitychange` fires on document; it bubbles to window in every browser we target.
    on_cleanup(move || handle.remove());
}

fn sleep(duration: Duration) -> Fuse<TimeoutFuture> {
    TimeoutFuture::new(millis(duration)).fuse()
}

fn millis(duration: Duration) -> u32 {
    duration.as_millis().min(u32::MAX as u128) as u32
}
