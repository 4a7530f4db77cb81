//! python-socketio's client (issue #19) against the real server binary: the rounds in
//! `tests/python/interop.py`, run with the project's venv (`scripts/setup.sh` makes `.venv/`
//! from `requirements-test.txt`). A WebSocket client and a long-polling client chat, a retried
//! draft is stored once, a bad payload is refused, and a polling client that disconnects
//! leaves the other's member list.

use std::path::Path;
use std::time::Duration;

use crate::support::{Process, temp_dir};

const ROUNDS: &str = "20";
/// The script's own waits are 3 s per step; this only stops a hung interpreter.
const SCRIPT_LIMIT: Duration = Duration::from_secs(120);

#[tokio::test]
async fn python_socketio_over_websocket_and_polling_chats_retries_and_leaves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup.sh, which creates .venv/ from requirements-test.txt",
        python.display()
    );
    let dir = temp_dir("interop-python");
    let addr = Process::free_port();
    let _server = Process::start_with(
        addr,
        &dir.join("chat.sqlite3"),
        &[
            ("CHAT_STORAGE", "memory"),
            // Forty clients from one address in a few seconds.
            ("CHAT_MAX_CONNECTIONS_PER_IP", "100000"),
            ("CHAT_HANDSHAKES_PER_MINUTE_PER_IP", "100000"),
        ],
    )
    .await;

    let run = tokio::process::Command::new(&python)
        .arg(root.join("tests/python/interop.py"))
        .arg(format!("http://{addr}"))
        .arg(ROUNDS)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(SCRIPT_LIMIT, run)
        .await
        .expect("interop.py finishes within its limit")
        .expect("the venv's python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Per-round results, shown on failure (and with --nocapture).
    println!("{stdout}");
    let summary = stdout.lines().last().unwrap_or("no output");
    assert!(
        output.status.success(),
        "interop.py failed ({}, {summary}); its rounds are printed above\n{stderr}",
        output.status
    );
    assert!(
        stdout.contains(&format!("{ROUNDS}/{ROUNDS} rounds passed")),
        "interop.py exited 0 without passing every round:\n{stdout}"
    );
}
