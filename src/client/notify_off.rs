//! Notifications where there is no browser (server rendering, native tests): none.

/// "granted", "denied", "default", or "unsupported".
pub fn permission() -> &'static str {
    "unsupported"
}

pub fn ask(answered: impl FnOnce(&'static str) + 'static) {
    answered("unsupported");
}

pub fn enabled() -> bool {
    true
}

pub fn set_enabled(_on: bool) {}
