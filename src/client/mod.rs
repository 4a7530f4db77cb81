//! The chat connection, as the UI sees it: [`ChatClient`], read-only signals (connection
//! state, who I am, who is online, messages, my messages on their way) and the things a
//! person does. Components never see frames and never write the state.
//!
//! | module       | holds                                                                 |
//! |--------------|-----------------------------------------------------------------------|
//! | `handle`     | [`ChatClient`]: the reads and actions components use                  |
//! | [`state`]    | [`ChatState`]: the signals and every rule that changes them; the server's events are applied in `state/events.rs` |
//! | `actions`    | more of [`ChatClient`]: what a person does to posted messages (older pages, edit, delete, react) and the reads for it |
//! | [`moderation`] | more of [`ChatClient`]: reports, the moderators' acts and records, my standing |
//! | [`people`] | more of [`ChatClient`]: names by id, my rename, mentions, `@` suggestions |
//! | [`outbox`]   | my messages, one at a time with acks, pausing when too fast           |
//! | [`requests`] | older pages and changes waiting for their answers                     |
//! | [`search`]   | searching messages: the pages of results, a result's highlighted context |
//! | [`typing`]   | who is typing, and the throttle on my own signals                     |
//! | [`ids`]      | the identity token's characters, my messages' client ids              |
//! | [`session`]  | the transport-free Engine.IO/Socket.IO state machine (native clients use it too) |
//! | [`clock`]    | local time formatting, and now                                        |
//! | [`clipboard`] | copying a text for the person (my public id)                         |
//! | `browser`    | hydrate only: the transports, the connect/reconnect loop, localStorage |
//!
//! Everything but `browser` is plain Rust, tested natively; `browser` carries out the
//! [`Effect`]s the state asks for and feeds it what the server says.

mod actions;
pub mod clipboard;
pub mod clock;
pub mod format;
mod handle;
pub mod ids;
pub mod moderation;
pub mod outbox;
pub mod people;
pub mod requests;
pub mod search;
pub mod session;
pub mod state;
pub mod typing;

#[cfg(feature = "hydrate")]
mod browser;
/// Notifications: permission, the setting, showing one (none without a browser).
#[cfg(feature = "hydrate")]
pub use browser::notify;
#[cfg(not(feature = "hydrate"))]
#[path = "notify_off.rs"]
pub mod notify;

pub use handle::{ChatClient, Command};
pub use outbox::Outgoing;
pub use state::{
    Alert, ChatState, Effect, Env, Log, MAX_SHOWN_MESSAGES, Pages, RenameNote, Status, Timer,
    muted_line,
};
