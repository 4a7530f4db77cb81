//! A realtime chat: a Leptos page rendered by an axum server and hydrated into WASM, talking
//! Socket.IO to the same server. See README.md for the map.
//!
//! | module     | built for         | holds                                              |
//! |------------|-------------------|----------------------------------------------------|
//! | `protocol` | both              | typed events, limits, the Engine.IO/Socket.IO codec |
//! | `client`   | both (transport: hydrate) | the connection as signals                 |
//! | `ui`       | both              | Leptos components                                  |
//! | `server`   | ssr               | axum router, socketioxide handlers, state, config  |

// Leptos views are deeply nested types; release builds (no component erasure) need room.
#![recursion_limit = "256"]

pub mod client;
pub mod protocol;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod server;

/// The WASM entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(ui::App);
    // When hydration finished, in ms since navigation started: what the benchmark reads.
    let window = web_sys::window();
    let now = window
        .as_ref()
        .and_then(web_sys::Window::performance)
        .map(|p| p.now());
    let body = window.and_then(|w| w.document()).and_then(|d| d.body());
    if let (Some(now), Some(body)) = (now, body) {
        let _ = body.set_attribute("data-hydrated", &format!("{now:.1}"));
    }
}
