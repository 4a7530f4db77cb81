//! The text-frame decoder against arbitrary input: it must never panic, and whatever it
//! accepts must survive encoding and decoding again unchanged.
#![no_main]

use chat::protocol::Frame;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(frame) = Frame::decode(text) {
        assert_eq!(Frame::decode(&frame.encode()).as_ref(), Ok(&frame));
    }
});
