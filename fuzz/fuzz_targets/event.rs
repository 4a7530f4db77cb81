//! The typed event parsers against arbitrary JSON payloads under every event name: errors are
//! fine, panics are not.
#![no_main]

use chat::protocol::{ClientEvent, ServerEvent};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    for name in ClientEvent::NAMES {
        let _ = ClientEvent::decode(name, value.clone());
    }
    for name in ServerEvent::NAMES {
        let _ = ServerEvent::decode(name, value.clone());
    }
});
