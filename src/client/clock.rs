//! Local wall-clock formatting of server timestamps (milliseconds since the epoch), and now.
//! The browser formats in the reader's time zone; native builds (server rendering, tests) in
//! UTC.

/// "14:05", the full local date and time for a tooltip, and the local day (for separators).
#[cfg(feature = "hydrate")]
pub fn local_time(ts: u64) -> (String, String, String) {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ts as f64));
    let short = format!("{:02}:{:02}", date.get_hours(), date.get_minutes());
    let full = String::from(date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED));
    let day = String::from(date.to_date_string());
    (short, full, day)
}

/// Native builds (server rendering, tests) format in UTC.
#[cfg(not(feature = "hydrate"))]
pub fn local_time(ts: u64) -> (String, String, String) {
    let secs = ts / 1000;
    let (h, m) = ((secs / 3600) % 24, (secs / 60) % 60);
    let days = secs / 86_400;
    (
        format!("{h:02}:{m:02}"),
        format!("day {days}, {h:02}:{m:02} UTC"),
        format!("day {days}"),
    )
}

/// Now, in milliseconds since the epoch.
#[cfg(feature = "hydrate")]
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

#[cfg(not(feature = "hydrate"))]
pub fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}
