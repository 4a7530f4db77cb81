//! Several nodes on one Redis: everyone sees the same people and messages whichever node
//! they are on, a killed node's people leave the lists within the heartbeat bound and its
//! clients lose nothing acked, and chat across nodes comes back by itself after Redis
//! restarts. Real redis-server and real server binaries; nothing mocked.

use crate::support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::support::{Client, Process, Redis, start_node, temp_dir, token};

/// Heartbeat TTL used here: short, so failover is quick to watch.
const TTL_MS: u64 = 1_500;

fn names(clients: &[&Client]) -> BTreeSet<String> {
    clients.iter().map(|c| c.name.clone()).collect()
}

async fn wait_for_peers(clients: &mut [&mut Client], expected: &BTreeSet<String>) {
    for c in clients.iter_mut() {
        c.until(|c| c.peer_set() == *expected).await;
    }
}

#[tokio::test]
async fn three_nodes_agree_on_names_peers_messages_rooms_and_dms() {
    let redis = Redis::start().await;
    let dir = temp_dir("three");
    let nodes = [
        start_node(&redis, &dir, TTL_MS).await,
        start_node(&redis, &dir, TTL_MS).await,
        start_node(&redis, &dir, TTL_MS).await,
    ];
    let mut clients = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        for j in 0..2 {
            clients.push(Client::connect_as(node.addr, Some(&token(&format!("n{i}c{j}")))).await);
        }
    }
    let expected = names(&clients.iter().collect::<Vec<_>>());
    assert_eq!(expected.len(), 6, "names are unique across nodes");
    wait_for_peers(&mut clients.iter_mut().collect::<Vec<_>>(), &expected).await;

    // The same token on another node is the same person.
    let again = Client::connect_as(nodes[2].addr, Some(&token("n0c0"))).await;
    assert_eq!(again.name, clients[0].name);
    drop(again);

    // Everyone says something; everyone sees all of it with the same ids, in order.
    for c in clients.iter_mut() {
        let text = format!("hello from {}", c.name);
        c.say(&text).await.unwrap();
    }
    for c in clients.iter_mut() {
        c.until(|c| c.view.len() == 6).await;
        let ids: Vec<u64> = c.view.keys().copied().collect();
        assert_eq!(ids, (1..=6).collect::<Vec<_>>(), "{} has a gap", c.name);
        let live_ids: Vec<u64> = c.messages.iter().map(|m| m.id).collect();
        let mut sorted = live_ids.clone();
        sorted.sort_unstable();
        assert_eq!(live_ids, sorted, "{} got messages out of order", c.name);
    }

    // A room joined on two different nodes.
    let (first, rest) = clients.split_at_mut(1);
    let ann = &mut first[0];
    let eve = &mut rest[4];
    ann.join("rust").await.unwrap();
    eve.join("rust").await.unwrap();
    let in_rust: BTreeSet<String> = [ann.name.clone(), eve.name.clone()].into();
    ann.until(|c| c.names_in("rust") == in_rust).await;
    eve.until(|c| c.names_in("rust") == in_rust).await;
    eve.say_in("rust", "borrowck").await.unwrap();
    ann.until(|c| c.texts_in("rust").contains(&"borrowck"))
        .await;
    assert!(ann.rooms.contains(&"rust".to_owned()));

    // A direct message between nodes reaches the two and nobody else.
    let dm_parties = (ann.name.clone(), eve.name.clone());
    let eve_id = eve.id.clone();
    ann.dm(&eve_id, "just us").await.unwrap();
    eve.until(|c| c.messages.iter().any(|m| m.message == "just us"))
        .await;
    ann.until(|c| c.messages.iter().any(|m| m.message == "just us"))
        .await;
    // A later public message proves the others' links carried everything before it.
    ann.say("after the dm").await.unwrap();
    for c in clients.iter_mut() {
        c.until(|c| c.texts().contains(&"after the dm")).await;
        let party = c.name == dm_parties.0 || c.name == dm_parties.1;
        if !party {
            assert!(
                !c.messages.iter().any(|m| m.message == "just us"),
                "{} saw a direct message between others",
                c.name
            );
        }
    }
}

#[tokio::test]
async fn reconnecting_to_another_node_resyncs_without_a_gap() {
    let redis = Redis::start().await;
    let dir = temp_dir("resync");
    let a = start_node(&redis, &dir, TTL_MS).await;
    let b = start_node(&redis, &dir, TTL_MS).await;
    let mut ann = Client::connect_as(a.addr, Some(&token("ann"))).await;
    let mut bob = Client::connect_as(b.addr, Some(&token("bob"))).await;
    for i in 0..5 {
        bob.say(&format!("before {i}")).await.unwrap();
    }
    ann.until(|c| c.last_contiguous() == 5).await;
    ann.close().await;
    for i in 0..30 {
        bob.say(&format!("while away {i}")).await.unwrap();
    }
    let started = Instant::now();
    ann.reconnect(b.addr).await;
    ann.until(|c| c.last_contiguous() == 35).await;
    let ids: Vec<u64> = ann.view.keys().copied().collect();
    assert_eq!(ids, (1..=35).collect::<Vec<_>>());
    println!(
        "resync on another node: 30 missed messages in {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_killed_node_leaves_the_lists_within_the_bound_and_its_clients_lose_nothing() {
    let redis = Redis::start().await;
    let dir = temp_dir("kill");
    let a = start_node(&redis, &dir, TTL_MS).await;
    let mut b = start_node(&redis, &dir, TTL_MS).await;
    let c = start_node(&redis, &dir, TTL_MS).await;
    let mut ann = Client::connect_as(a.addr, Some(&token("ann"))).await;
    let mut bob = Client::connect_as(b.addr, Some(&token("bob"))).await;
    let mut cat = Client::connect_as(c.addr, Some(&token("cat"))).await;
    let everyone = names(&[&ann, &bob, &cat]);
    wait_for_peers(&mut [&mut ann, &mut bob, &mut cat], &everyone).await;

    let mut acked = Vec::new();
    for i in 0..20 {
        acked.push(bob.say(&format!("bob {i}")).await.unwrap());
    }
    b.kill_9();
    let killed = Instant::now();
    let without_bob = names(&[&ann, &cat]);
    ann.until_for(Duration::from_secs(10), |c| c.peer_set() == without_bob)
        .await;
    let gone_after = killed.elapsed();
    cat.until_for(Duration::from_secs(10), |c| c.peer_set() == without_bob)
        .await;
    // Its last heartbeat counts for one TTL; the next sweep (every TTL/3 on each live node)
    // takes it out and the lists go out in the next round. A second of slack for a busy
    // machine.
    let bound = Duration::from_millis(TTL_MS + TTL_MS / 3 + 1_000);
    assert!(
        gone_after <= bound,
        "bob was listed {gone_after:?} after his node died (bound {bound:?})"
    );

    // Bob's browser reconnects to another node and has everything he was acked.
    let reconnect = Instant::now();
    bob.reconnect(c.addr).await;
    let last = *acked.last().unwrap();
    bob.until(|c| c.last_contiguous() >= last).await;
    for id in &acked {
        assert!(bob.view.contains_key(id), "acked message {id} lost");
    }
    ann.until(|c| c.peer_set() == everyone).await;
    println!(
        "node killed: its people left the others' lists after {gone_after:?} (TTL {TTL_MS} ms); \
         its client was back on another node with all {} acked messages after {:?}",
        acked.len(),
        reconnect.elapsed()
    );
}

#[tokio::test]
async fn chat_across_nodes_resumes_by_itself_after_redis_restarts() {
    let mut redis = Redis::start().await;
    let dir = temp_dir("outage");
    let a = start_node(&redis, &dir, TTL_MS).await;
    let b = start_node(&redis, &dir, TTL_MS).await;
    let mut ann = Client::connect_as(a.addr, Some(&token("ann"))).await;
    let mut bob = Client::connect_as(b.addr, Some(&token("bob"))).await;
    let both = names(&[&ann, &bob]);
    wait_for_peers(&mut [&mut ann, &mut bob], &both).await;
    ann.say("before").await.unwrap();
    bob.until(|c| c.texts().contains(&"before")).await;

    redis.stop();
    // While Redis is away nothing can be stored: each send is refused with a clear error
    // (the browser keeps it and sends it again), never acked and then lost.
    let mut refused = 0;
    let mut acked_in_outage = Vec::new();
    for i in 0..5 {
        match ann.say(&format!("during {i}")).await {
            Ok(id) => acked_in_outage.push(id),
            Err(e) => {
                assert!(e.message.contains("try again"), "unclear error: {e:?}");
                refused += 1;
            }
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    redis.restart().await;
    let restarted = Instant::now();

    // Retries go through once Redis is back, and reach the other node.
    let mut resent = 0;
    let deadline = Instant::now() + Duration::from_secs(15);
    let sent = loop {
        assert!(Instant::now() < deadline, "sending never worked again");
        resent += 1;
        match ann.say("after").await {
            Ok(id) => break id,
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    bob.until_for(Duration::from_secs(15), |c| c.view.contains_key(&sent))
        .await;
    let recovered = restarted.elapsed();
    // Cross-node broadcasts through the adapter (typing) work again too. Typing is volatile
    // and the adapter's pub/sub connection comes back on its own schedule (up to a reconnect
    // delay after the one that carried the message), so ann keeps typing, as a person would,
    // once per throttle gap, within the same 15 s.
    let typing_back = loop {
        assert!(
            Instant::now() < deadline,
            "typing never crossed nodes again"
        );
        ann.send_raw(r#"42["typing",{"room":"general"}]"#).await;
        if bob
            .within(Duration::from_millis(1_100), |c| !c.typing.is_empty())
            .await
        {
            break restarted.elapsed();
        }
    };
    // Nothing acked was lost, and both see the same history.
    for id in &acked_in_outage {
        assert!(bob.view.contains_key(id), "acked message {id} lost");
    }
    let peers_back = names(&[&ann, &bob]);
    wait_for_peers(&mut [&mut ann, &mut bob], &peers_back).await;
    println!(
        "redis outage: {refused} of 5 sends refused with a clear error, {} acked, 0 lost; \
         cross-node chat back {recovered:?} after redis restarted ({resent} tries), \
         typing (adapter pub/sub) back after {typing_back:?}",
        acked_in_outage.len()
    );
}

#[tokio::test]
async fn a_node_that_shuts_down_cleanly_leaves_the_lists_at_once() {
    let redis = Redis::start().await;
    let dir = temp_dir("clean");
    let a = start_node(&redis, &dir, 60_000).await;
    let mut b = start_node(&redis, &dir, 60_000).await;
    let mut ann = Client::connect_as(a.addr, Some(&token("ann"))).await;
    let mut bob = Client::connect_as(b.addr, Some(&token("bob"))).await;
    let both = names(&[&ann, &bob]);
    wait_for_peers(&mut [&mut ann, &mut bob], &both).await;
    let stopping = Instant::now();
    assert!(b.terminate().success());
    // With a TTL of a minute, only the clean goodbye can make this quick.
    let alone = names(&[&ann]);
    ann.until(|c| c.peer_set() == alone).await;
    assert!(stopping.elapsed() < Duration::from_secs(5));
    drop(bob);
}

#[tokio::test]
async fn ops_endpoints_report_health_readiness_and_metrics() {
    let mut redis = Redis::start().await;
    let dir = temp_dir("ops");
    let a = start_node(&redis, &dir, TTL_MS).await;
    let mut ann = Client::connect_as(a.addr, Some(&token("ann"))).await;
    ann.say("counted").await.unwrap();

    let (status, body) = get(&a, "/healthz").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(&a, "/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(r#""redis":{"#) && body.contains(r#""ready":true"#),
        "{body}"
    );
    let (status, body) = get(&a, "/metrics").await;
    assert_eq!(status, 200);
    assert!(body.contains("chat_connected_clients 1"), "{body}");
    assert!(body.contains("chat_messages_total 1"), "{body}");
    assert!(body.contains("chat_redis_seconds_count"), "{body}");

    redis.stop();
    let (status, body) = get(&a, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains(r#""ready":false"#), "{body}");
    // Still alive: an orchestrator must not restart it for Redis being away.
    assert_eq!(get(&a, "/healthz").await.0, 200);
}

/// A plain HTTP/1.1 GET to a node; returns the status and body.
async fn get(node: &Process, path: &str) -> (u16, String) {
    support::http_get(node.addr, path).await
}

#[tokio::test]
async fn json_logs_are_one_object_per_line() {
    use std::io::BufRead;
    let redis = Redis::start().await;
    let dir = temp_dir("json");
    let addr = Process::free_port();
    let url = redis.url();
    let mut child = support::spawn_with_logs(
        addr,
        &dir,
        &[
            ("CHAT_REDIS_URL", url.as_str()),
            ("CHAT_LOG_FORMAT", "json"),
            ("RUST_LOG", "info"),
        ],
    );
    let stdout = child.stdout.take().unwrap();
    // Every line up to "listening on" (other start-up lines, such as a warning about the
    // site, may come between; each must be JSON all the same).
    let mut lines: Vec<serde_json::Value> = Vec::new();
    for line in std::io::BufReader::new(stdout).lines().take(20) {
        let line: serde_json::Value =
            serde_json::from_str(&line.unwrap()).expect("a JSON object per line");
        let listening = line["message"]
            .as_str()
            .is_some_and(|m| m.contains("listening on"));
        lines.push(line);
        if listening {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let joined = lines
        .iter()
        .find(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.contains("joined the cluster"))
        })
        .unwrap_or_else(|| panic!("no 'joined the cluster' line in {lines:?}"));
    assert_eq!(joined["level"], "INFO");
    assert!(joined["node"].is_string(), "{joined}");
    assert!(
        lines.last().unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("listening on"),
        "{lines:?}"
    );
}

/// Edits, deletions, reactions and older pages work the same across nodes: a change made on
/// one node reaches the others' clients live, concurrent reactions from two nodes on one
/// message both count, and a client that was away comes back to a third node and is told
/// what changed.
#[tokio::test]
async fn message_changes_cross_nodes_and_reach_a_client_returning_elsewhere() {
    use chat::protocol::{Delete, Edit, Older, React};
    let redis = Redis::start().await;
    let dir = temp_dir("changes");
    let nodes = [
        start_node(&redis, &dir, TTL_MS).await,
        start_node(&redis, &dir, TTL_MS).await,
        start_node(&redis, &dir, TTL_MS).await,
    ];
    let mut ann = Client::connect_as(nodes[0].addr, Some(&token("ann"))).await;
    let mut bob = Client::connect_as(nodes[1].addr, Some(&token("bob"))).await;
    let mut cat = Client::connect_as(nodes[2].addr, Some(&token("cat"))).await;
    let mut posted = Vec::new();
    for i in 1..=60 {
        posted.push(ann.say(&format!("m{i}")).await.unwrap());
    }
    bob.until(|c| c.view.len() == 60).await;
    cat.until(|c| c.view.len() == 60).await;

    // Older pages from another node than the one that stored them.
    let page = bob
        .request(Older {
            room: "general".into(),
            before: 11,
            limit: Some(10),
        })
        .await
        .unwrap();
    assert_eq!(page.messages.len(), 10);
    assert_eq!(page.messages[0].message, "m1");
    assert!(!page.more);

    ann.request(Edit {
        room: "general".into(),
        id: posted[0],
        text: "m1, edited on node 0".into(),
    })
    .await
    .unwrap();
    bob.until(|c| c.view[&1].message == "m1, edited on node 0")
        .await;
    let theirs = bob
        .request(Delete {
            room: "general".into(),
            id: posted[0],
        })
        .await
        .unwrap_err();
    assert_eq!(theirs.code, chat::protocol::ErrorCode::NotAllowed);

    // Two people on two nodes react to one message at the same moment: both count.
    let react = |emoji: &str| React {
        room: "general".into(),
        id: posted[1],
        emoji: emoji.into(),
    };
    let (b, c) = tokio::join!(bob.request(react("🔥")), cat.request(react("🔥")));
    b.unwrap();
    c.unwrap();
    for c in [&mut ann, &mut cat] {
        c.until(|c| {
            c.view[&2]
                .reactions
                .first()
                .is_some_and(|r| r.ids.len() == 2)
        })
        .await;
    }

    // Cat leaves; changes happen on nodes 0 and 1; Cat comes back on node 0.
    cat.close().await;
    let seen = cat.updates.len();
    ann.request(Delete {
        room: "general".into(),
        id: posted[2],
    })
    .await
    .unwrap();
    bob.request(react("🔥")).await.unwrap();
    cat.reconnect(nodes[0].addr).await;
    let cat_id = cat.id.clone();
    cat.until(|c| {
        c.view[&3].deleted
            && c.view[&2]
                .reactions
                .first()
                .is_some_and(|r| r.ids == [cat_id.clone()])
    })
    .await;
    assert!(cat.view[&3].message.is_empty());
    assert_eq!(cat.view[&1].message, "m1, edited on node 0");
    let caught_up: Vec<u64> = cat.updates[seen..].iter().map(|m| m.id).collect();
    assert_eq!(
        caught_up,
        [3, 2],
        "what changed while away, each once, in change order"
    );
}

/// History lives in Redis in cluster mode, so an acked message must survive Redis itself
/// being killed: Redis writes its append-only file before it answers (so before the node
/// acks), and the page cache keeps it across a killed process. Sends keep coming while Redis
/// is killed with SIGKILL; after it restarts, every acked message and acked edit is there.
#[tokio::test]
async fn acked_messages_and_edits_survive_kill_9_of_redis() {
    use chat::protocol::{Edit, Older};
    let mut redis = Redis::start().await;
    let dir = temp_dir("redis-kill");
    let node = start_node(&redis, &dir, TTL_MS).await;
    let mut ann = Client::connect_as(node.addr, Some(&token("ann"))).await;
    let mut acked = Vec::new();
    for i in 0..40 {
        acked.push((
            ann.say(&format!("before {i}")).await.unwrap(),
            format!("before {i}"),
        ));
    }
    ann.request(Edit {
        room: "general".into(),
        id: acked[0].0,
        text: "before 0, edited".into(),
    })
    .await
    .unwrap();
    acked[0].1 = "before 0, edited".into();
    redis.kill_9();
    // While Redis is down, sends are refused (never acked), not lost quietly.
    let refused = ann.say("while down").await.unwrap_err();
    assert_eq!(refused.code, chat::protocol::ErrorCode::Unavailable);
    redis.restart().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let after = loop {
        match ann.say("after").await {
            Ok(id) => break id,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("no send works after Redis restarted: {e:?}"),
        }
    };
    assert_eq!(after, 41, "the ids went on from the last acked one");
    let page = ann
        .request(Older {
            room: "general".into(),
            before: after,
            limit: Some(100),
        })
        .await
        .unwrap();
    let stored: Vec<(u64, String)> = page
        .messages
        .into_iter()
        .map(|m| (m.id, m.message))
        .collect();
    assert_eq!(
        stored, acked,
        "every acked message and edit survived kill -9 of Redis"
    );
}
