//! The protocol both sides speak: typed events, their payloads, limits, and the
//! Engine.IO v4 / Socket.IO v5 text-frame codec.
//!
//! Pure data and functions: no I/O, no tokio, no web-sys, so it compiles for the server, the
//! WASM client and native test clients alike, and is unit-tested natively.

pub mod acks;
pub mod codec;
pub mod events;
pub mod limits;
pub mod moderation;
pub mod names;
pub mod payloads;
pub mod rooms;
pub mod search;

pub use acks::*;
pub use codec::{DecodeError, Frame, Handshake};
pub use events::*;
pub use limits::*;
pub use names::{MAX_NAME_LEN, MIN_NAME_LEN};
pub use rooms::*;
