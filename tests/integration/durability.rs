//! Never lose a message: stable identity, idempotent retries, gapless resync after a
//! reconnect, history across restarts, and nothing acked lost when the server is killed.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::support::{Client, Process, start_server, temp_dir, token};

#[tokio::test]
async fn the_same_token_keeps_its_name_and_two_tabs_are_one_person() {
    let addr = start_server().await;
    let first = Client::connect_as(addr, Some(&token("ann"))).await;
    let name = first.name.clone();
    drop(first);
    let mut tab1 = Client::connect_as(addr, Some(&token("ann"))).await;
    let mut tab2 = Client::connect_as(addr, Some(&token("ann"))).await;
    let mut bob = Client::connect(addr).await;
    assert_eq!(tab1.name, name);
    assert_eq!(tab2.name, name);
    assert_ne!(bob.name, name);

    let expected: BTreeSet<String> = [name.clone(), bob.name.clone()].into();
    for c in [&mut tab1, &mut tab2, &mut bob] {
        c.until(|c| c.peer_set() == expected && c.peers.len() == 2)
            .await;
    }
    // Closing one tab keeps the person online; closing the last one does not.
    drop(tab2);
    tokio::time::sleep(Duration::from_millis(200)).await;
    bob.until(|c| c.peers.len() == 2).await;
    drop(tab1);
    let only_bob: BTreeSet<String> = [bob.name.clone()].into();
    bob.until(|c| c.peer_set() == only_bob).await;
}

#[tokio::test]
async fn clients_without_a_token_get_a_fresh_name_each_time() {
    let addr = start_server().await;
    let names: BTreeSet<String> = futures::future::join_all((0..5).map(|_| Client::connect(addr)))
        .await
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names.len(), 5);
}

#[tokio::test]
async fn a_malformed_token_is_refused_with_a_reason() {
    let addr = start_server().await;
    let mut client = Client::connect_as_unchecked(addr, "no spaces allowed here!!").await;
    client.until(|c| c.refused.is_some()).await;
    assert!(client.refused.unwrap().contains("token"));
}

#[tokio::test]
async fn a_retry_with_the_same_client_id_is_stored_and_broadcast_once() {
    let addr = start_server().await;
    let mut ann = Client::connect(addr).await;
    let mut bob = Client::connect(addr).await;
    let first = ann
        .say_with_id("only once", "retry-1")
        .await
        .unwrap()
        .unwrap();
    let again = ann
        .say_with_id("only once", "retry-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first, again, "the retry is acked with the original id");
    ann.say("next").await.unwrap();
    bob.until(|c| c.texts().contains(&"next")).await;
    assert_eq!(bob.texts(), ["only once", "next"]);
}

#[tokio::test]
async fn a_client_that_was_away_gets_exactly_what_it_missed_in_order() {
    let addr = start_server().await;
    let mut away = Client::connect_as(addr, Some(&token("away"))).await;
    let mut ann = Client::connect(addr).await;
    ann.say("before").await.unwrap();
    away.until(|c| c.view.len() == 1).await;
    let seen = away.last_contiguous();

    away.close().await;
    for i in 0..30 {
        ann.say(&format!("missed {i}")).await.unwrap();
    }
    let name = away.name.clone();
    away.reconnect(addr).await;
    assert_eq!(away.name, name);
    away.until(|c| c.last_contiguous() == seen + 30).await;
    let missed: Vec<&str> = away.history.iter().map(|m| m.message.as_str()).collect();
    let expected: Vec<String> = (0..30).map(|i| format!("missed {i}")).collect();
    assert_eq!(missed, expected, "exactly the missed messages, in order");
    assert_eq!(away.view.len(), 31);
}

#[tokio::test]
async fn history_and_names_survive_a_clean_restart() {
    let dir = temp_dir("restart");
    let db = dir.join("chat.sqlite3");
    let addr = Process::free_port();
    let mut server = Process::start(addr, &db).await;
    let mut ann = Client::connect_as(addr, Some(&token("restart"))).await;
    let name = ann.name.clone();
    ann.say("remember me").await.unwrap();
    drop(ann);
    assert!(server.terminate().success(), "SIGTERM exits cleanly");

    let _server = Process::start(addr, &db).await;
    let mut ann = Client::connect_as(addr, Some(&token("restart"))).await;
    assert_eq!(ann.name, name);
    ann.until(|c| !c.history.is_empty()).await;
    assert_eq!(ann.history[0].message, "remember me");
}

/// Four people keep sending while the server is killed with SIGKILL and started again. Every
/// message the server acknowledged must be in every person's view exactly once, and no view
/// may have a gap.
#[tokio::test]
async fn nothing_acked_is_lost_when_the_server_is_killed() {
    let dir = temp_dir("kill9");
    let db = dir.join("chat.sqlite3");
    let addr = Process::free_port();
    let mut server = Process::start(addr, &db).await;

    const PEOPLE: usize = 4;
    const PER_PERSON: usize = 80;
    let mut people = Vec::new();
    for p in 0..PEOPLE {
        people.push(Client::connect_as(addr, Some(&token(&format!("k{p}")))).await);
    }
    // Everyone sends, one message at a time with acks, while the server is killed mid-run.
    let senders = people.into_iter().enumerate().map(|(p, mut person)| {
        tokio::spawn(async move {
            let mut acked = BTreeMap::new();
            let mut retries = 0usize;
            for n in 0..PER_PERSON {
                let cid = format!("p{p}-m{n}");
                let text = format!("person {p} message {n}");
                loop {
                    match person.say_with_id(&text, &cid).await {
                        Some(Ok(id)) => {
                            acked.insert(cid.clone(), id);
                            break;
                        }
                        Some(Err(e)) => panic!("refused: {e}"),
                        None => {
                            // The link dropped before the ack: reconnect, retry the same id.
                            retries += 1;
                            reconnect_when_up(&mut person, addr).await;
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (person, acked, retries)
        })
    });
    let senders: Vec<_> = senders.collect();
    tokio::time::sleep(Duration::from_millis(400)).await;
    server.kill_9();
    let _restarted = Process::start(addr, &db).await;

    let mut people = Vec::new();
    let mut acked: BTreeMap<String, u64> = BTreeMap::new();
    let mut unacked_retries = 0;
    for sender in senders {
        let (person, mine, retries) = sender.await.expect("sender finished");
        people.push(person);
        acked.extend(mine);
        unacked_retries += retries;
    }
    let sent = PEOPLE * PER_PERSON;
    assert!(
        acked.len() == sent,
        "every message is eventually acked ({} of {sent})",
        acked.len()
    );
    assert!(
        unacked_retries > 0,
        "the kill must interrupt someone mid-send"
    );

    let mut resync_times = Vec::new();
    for person in &mut people {
        let t = Instant::now();
        if person.closed {
            reconnect_when_up(person, addr).await;
        }
        let max = acked.values().copied().max().unwrap();
        person.until(|c| c.last_contiguous() >= max).await;
        resync_times.push(t.elapsed());
    }

    let mut duplicates = 0;
    for person in &people {
        let ids: Vec<u64> = person.view.keys().copied().collect();
        let first = *ids.first().unwrap();
        assert_eq!(
            ids,
            (first..first + ids.len() as u64).collect::<Vec<_>>(),
            "{} has a gap",
            person.name
        );
        for (cid, id) in &acked {
            let copies: Vec<&u64> = person
                .view
                .iter()
                .filter(|(_, m)| m.client_id.as_deref() == Some(cid))
                .map(|(id, _)| id)
                .collect();
            duplicates += copies.len().saturating_sub(1);
            assert_eq!(copies, [id], "{} sees {cid} as {copies:?}", person.name);
        }
    }
    println!(
        "kill -9: sent {sent}, acked {}, delivered to each of {PEOPLE} views: {}, \
         duplicates {duplicates}, gaps 0, retries after the kill {unacked_retries}, \
         slowest catch-up after the run {:?}",
        acked.len(),
        people[0].view.len(),
        resync_times.iter().max().unwrap()
    );
}

async fn reconnect_when_up(person: &mut Client, addr: std::net::SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(Instant::now() < deadline, "server never came back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    person.reconnect(addr).await;
}

/// A filesystem of `kib` KiB of the test's own (tmpfs), unmounted when dropped.
struct SmallDisk(support::TempDir);

impl SmallDisk {
    /// `None` when this process may not mount (not root): the caller says so and stops.
    fn mount(kib: u32) -> Option<SmallDisk> {
        let dir = temp_dir("small-disk");
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(&*dir)
            .status()
            .is_ok_and(|s| s.success());
        mounted.then_some(SmallDisk(dir))
    }

    /// Writes a file until the filesystem is full.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let path = self.0.join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![b'x'; 4096];
        while file
            .write_all(&chunk)
            .and_then(|()| file.sync_all())
            .is_ok()
        {}
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&*self.0).status();
    }
}

/// With its disk full the node refuses messages with a clear `unavailable`, says it is not
/// ready (so a load balancer sends people elsewhere), counts the failed writes, and takes
/// messages again, ready, once there is space; nothing acked is lost.
#[tokio::test]
async fn a_full_disk_makes_the_node_unready_until_there_is_space_again() {
    let Some(disk) = SmallDisk::mount(600) else {
        // Mounting needs root (and CAP_SYS_ADMIN), as `make test` has in CI; elsewhere say
        // loudly that this check did not run rather than fail for the machine's sake.
        eprintln!(
            "SKIPPED: cannot mount a 600 KiB tmpfs here (needs root); full-disk check not run"
        );
        return;
    };
    let addr = Process::free_port();
    let _server = Process::start(addr, &disk.0.join("chat.sqlite3")).await;
    let mut ann = Client::connect_as(addr, Some(&token("ann"))).await;
    let first = ann.say("before the disk filled").await.unwrap();
    assert_eq!(support::http_get(addr, "/readyz").await.0, 200);

    let filler = disk.fill();
    let long = "x".repeat(chat::protocol::MAX_MESSAGE_CHARS);
    let mut refused = None;
    for _ in 0..200 {
        match ann.say(&long).await {
            Ok(_) => continue,
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let refused = refused.expect("a full disk refuses messages");
    assert_eq!(refused.code, chat::protocol::ErrorCode::Unavailable);
    let (status, body) = support::http_get(addr, "/readyz").await;
    assert_eq!(status, 503, "ready with a full disk: {body}");
    assert!(body.contains(r#""ready":false"#), "{body}");
    let (_, metrics) = support::http_get(addr, "/metrics").await;
    let failures: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("chat_storage_write_failures_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0);
    assert!(failures >= 1.0, "{metrics}");

    std::fs::remove_file(filler).unwrap();
    let after = ann.say("after space came back").await.unwrap();
    assert!(after > first);
    assert_eq!(support::http_get(addr, "/readyz").await.0, 200);
    let mut bob = Client::connect(addr).await;
    bob.until(|c| c.history.iter().any(|m| m.id == first)).await;
}

/// At `RUST_LOG=debug` an operator gets our debug logs, but never a person's identity token:
/// socketioxide logs whole packets at debug, the connect packet included (#16's finding).
#[tokio::test]
async fn debug_logs_never_show_an_identity_token() {
    use std::io::Read;
    let dir = temp_dir("debug-logs");
    let addr = Process::free_port();
    let mut child = support::spawn_with_logs(addr, &dir, &[("RUST_LOG", "debug")]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(Instant::now() < deadline, "server did not listen");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secret = token("logged");
    let mut ann = Client::connect_as(addr, Some(&secret)).await;
    ann.say("hello").await.unwrap();
    // A refusal, which the server logs at debug.
    let blank = ann.raw_request("message", serde_json::json!("   ")).await;
    assert!(blank.is_err());
    drop(ann);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = child.kill();
    let mut logs = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    let _ = child.wait();
    assert!(logs.contains("DEBUG"), "debug logs are on: {logs}");
    assert!(!logs.contains(&secret), "the token is in the logs");
}

/// `chat.retention-days`: a server started with a retention shorter than the age of the
/// stored messages deletes them when it starts (a room's newest is emptied, not removed, so
/// the next message follows its id), and newcomers no longer receive them.
#[tokio::test]
async fn retention_deletes_messages_older_than_configured() {
    let dir = temp_dir("retention");
    let db = dir.join("chat.sqlite3");
    let addr = Process::free_port();
    let mut server = Process::start(addr, &db).await;
    let mut ann = Client::connect(addr).await;
    for text in ["old one", "old two", "old three"] {
        ann.say(text).await.unwrap();
    }
    drop(ann);
    server.terminate();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // A retention of about 0.86 s: everything stored above is older than that now.
    let _server = Process::start_with(addr, &db, &[("CHAT_RETENTION_DAYS", "0.00001")]).await;
    let mut bob = Client::connect(addr).await;
    bob.until(|c| !c.history_events.is_empty()).await;
    let shown: Vec<(u64, &str, bool)> = bob
        .history
        .iter()
        .map(|m| (m.id, m.message.as_str(), m.deleted))
        .collect();
    assert_eq!(shown, [(3, "", true)], "only the emptied newest is left");
    let next = bob.say("fresh").await.unwrap();
    assert_eq!(next, 4);
}
