//! Notifications (browser): permission asked only when the person clicks "Notify me", the
//! setting that turns them off (kept in localStorage), and showing one whose click focuses
//! the window and opens its conversation at the message.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{Notification, NotificationOptions, NotificationPermission};

use crate::client::state::{Alert, ChatState};

const OFF_KEY: &str = "chat.notifications-off";

/// Whether this browser has notifications at all.
fn available() -> bool {
    js_sys::Reflect::has(&window(), &"Notification".into()).unwrap_or(false)
}

/// "granted", "denied", "default", or "unsupported".
pub fn permission() -> &'static str {
    if !available() {
        return "unsupported";
    }
    match Notification::permission() {
        NotificationPermission::Granted => "granted",
        NotificationPermission::Denied => "denied",
        _ => "default",
    }
}

/// Asks for permission; `answered` gets the answer.
pub fn ask(answered: impl FnOnce(&'static str) + 'static) {
    if !available() {
        return answered("unsupported");
    }
    let callback = Closure::once_into_js(move || answered(permission()));
    if Notification::request_permission_with_permission_callback(callback.unchecked_ref()).is_err()
    {
        leptos::logging::warn!("notification permission could not be asked");
    }
}

/// Whether the person wants notifications (on unless turned off).
pub fn enabled() -> bool {
    storage()
        .and_then(|s| s.get_item(OFF_KEY).ok().flatten())
        .is_none()
}

pub fn set_enabled(on: bool) {
    if let Some(s) = storage() {
        let _ = if on {
            s.remove_item(OFF_KEY)
        } else {
            s.set_item(OFF_KEY, "1")
        };
    }
}

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// Shows `alert` if allowed; clicking it opens its conversation at the message.
pub fn show(state: ChatState, alert: Alert) {
    if permission() != "granted" || !enabled() {
        return;
    }
    let options = NotificationOptions::new();
    options.set_body(&alert.body);
    options.set_tag(&format!("{}/{}", alert.room, alert.id));
    match Notification::new_with_options(&alert.title, &options) {
        Ok(shown) => {
            let onclick = Closure::once_into_js(move || {
                let _ = window().focus();
                state.open_alert(alert);
            });
            shown.set_onclick(Some(onclick.unchecked_ref()));
        }
        Err(e) => leptos::logging::warn!("notification not shown: {e:?}"),
    }
}
