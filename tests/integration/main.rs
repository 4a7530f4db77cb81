//! Every integration test in one binary: one link instead of twelve (each test binary
//! carries the whole server), so `cargo test` needs a fraction of the disk and link time.
//! Each module is one suite; `cargo test --features ssr --test integration cluster::` runs one.

mod support;

mod chat;
mod client_bundle;
mod cluster;
mod durability;
mod hostile;
mod interop_python;
mod lifecycle;
mod moderation;
mod people;
mod proxy;
mod rooms;
mod search;
