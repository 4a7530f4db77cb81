//! Search as people use it: words, prefixes and phrases found across the conversations one
//! may read, newest first; an edit found by its new text, a deletion never; another pair's
//! DM never, even by its exact words; on one process (memory, and SQLite across a restart)
//! and across two nodes sharing Redis.

use std::time::Duration;

use crate::support::{Client, Process, Redis, WAIT, start_node, start_server, temp_dir, token};
use chat::protocol::{Delete, Edit, ErrorCode, Search, SearchResults};

fn query(text: &str) -> Search {
    Search {
        query: text.to_owned(),
        ..Search::default()
    }
}

/// The texts `client` finds for `text`, newest first.
async fn texts(client: &mut Client, text: &str) -> Vec<String> {
    let page: SearchResults = client.request(query(text)).await.expect("search answers");
    page.results
        .into_iter()
        .map(|hit| hit.message.message)
        .collect()
}

/// Searches until the results are `expected` (the index follows the feed, a moment behind
/// the `newMessage` broadcast); panics with what was found at the end.
async fn until_found(client: &mut Client, text: &str, expected: &[&str]) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let found = texts(client, text).await;
        if found == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{text:?}: found {found:?}, expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn words_prefixes_and_phrases_are_found_across_rooms_newest_first() {
    let addr = start_server().await;
    let mut ann = Client::connect(addr).await;
    let mut bob = Client::connect(addr).await;
    ann.join("rust").await.unwrap();
    // A few milliseconds apart: results of the same millisecond come in a fixed order of
    // their own, not the posting order.
    let apart = || tokio::time::sleep(Duration::from_millis(3));
    ann.say("the deploy went fine").await.unwrap();
    apart().await;
    ann.say_in("rust", "deployment of the borrow checker")
        .await
        .unwrap();
    apart().await;
    ann.say_in("rust", "checker borrow, reversed")
        .await
        .unwrap();
    // Bob never joined `rust`: a public room is searchable by anyone.
    until_found(
        &mut bob,
        "deploy*",
        &["deployment of the borrow checker", "the deploy went fine"],
    )
    .await;
    assert_eq!(texts(&mut bob, "deploy").await, ["the deploy went fine"]);
    assert_eq!(
        texts(&mut bob, "\"borrow checker\"").await,
        ["deployment of the borrow checker"]
    );
    assert_eq!(
        texts(&mut bob, "CHECKER borrow").await,
        [
            "checker borrow, reversed",
            "deployment of the borrow checker"
        ]
    );
    let in_general: SearchResults = bob
        .request(Search {
            room: Some("general".into()),
            ..query("deploy*")
        })
        .await
        .unwrap();
    assert_eq!(in_general.results.len(), 1);
    assert_eq!(in_general.results[0].message.room, "general");
    assert_eq!(in_general.results[0].matches, [[4, 10]], "the matched word");
}

#[tokio::test]
async fn an_edit_is_found_by_its_new_text_and_a_deletion_never() {
    let addr = start_server().await;
    let mut ann = Client::connect(addr).await;
    let id = ann.say("meet at the harbour").await.unwrap();
    let gone = ann.say("my secret plan").await.unwrap();
    until_found(&mut ann, "harbour", &["meet at the harbour"]).await;
    ann.request(Edit {
        room: "general".into(),
        id,
        text: "meet at the station".into(),
    })
    .await
    .unwrap();
    ann.request(Delete {
        room: "general".into(),
        id: gone,
    })
    .await
    .unwrap();
    // Once a later message is found, the index has what came before it.
    ann.say("sentinel").await.unwrap();
    until_found(&mut ann, "sentinel", &["sentinel"]).await;
    assert_eq!(texts(&mut ann, "station").await, ["meet at the station"]);
    assert!(texts(&mut ann, "harbour").await.is_empty());
    assert!(texts(&mut ann, "secret").await.is_empty());
    assert!(texts(&mut ann, "\"my secret plan\"").await.is_empty());
}

#[tokio::test]
async fn another_pairs_dm_is_never_found_even_by_its_exact_words() {
    let addr = start_server().await;
    let mut ann = Client::connect_as(addr, Some(&token("ann"))).await;
    let bob = Client::connect_as(addr, Some(&token("bob"))).await;
    let mut eve = Client::connect_as(addr, Some(&token("eve"))).await;
    ann.dm(&bob.id, "the vault code is 7481").await.unwrap();
    eve.say("sentinel").await.unwrap();
    until_found(&mut ann, "vault code", &["the vault code is 7481"]).await;
    until_found(&mut eve, "sentinel", &["sentinel"]).await;
    assert!(
        texts(&mut eve, "\"the vault code is 7481\"")
            .await
            .is_empty()
    );
    assert!(texts(&mut eve, "vault* 7481").await.is_empty());
    let dm = chat::protocol::dm_room(&ann.id, &bob.id);
    let named = eve
        .request(Search {
            room: Some(dm),
            ..query("vault")
        })
        .await;
    assert_eq!(named.unwrap_err().code, ErrorCode::BadPayload);
}

#[tokio::test]
async fn bad_searches_are_refused_with_a_reason() {
    let addr = start_server().await;
    let mut ann = Client::connect(addr).await;
    let refused = |r: Result<SearchResults, chat::protocol::ChatError>| r.unwrap_err().code;
    assert_eq!(refused(ann.request(query("   ")).await), ErrorCode::Empty);
    assert_eq!(
        refused(ann.request(query(&"x".repeat(201))).await),
        ErrorCode::TooLong
    );
    assert_eq!(
        refused(ann.request(query("🎉 !!")).await),
        ErrorCode::BadPayload
    );
    assert_eq!(
        refused(ann.request(query("a b c d e f g h i")).await),
        ErrorCode::BadPayload
    );
    let nowhere = Search {
        room: Some("no-such-room".into()),
        ..query("x")
    };
    assert_eq!(refused(ann.request(nowhere).await), ErrorCode::BadPayload);
    let odd = ann
        .raw_request("search", serde_json::json!({"query": "x", "limit": 50}))
        .await;
    assert_eq!(odd.unwrap_err().code, ErrorCode::BadPayload);
    // FTS5's syntax is plain text, and nothing breaks.
    for hostile in ["NEAR(a b)", "text:x", "a OR b", "\"open", "-x ^y", "(a)"] {
        ann.request(query(hostile)).await.expect(hostile);
    }
}

#[tokio::test]
async fn a_sqlite_server_keeps_its_index_across_a_restart() {
    let dir = temp_dir("search-restart");
    let database = dir.join("chat.sqlite3");
    let addr = Process::free_port();
    let mut server = Process::start(addr, &database).await;
    let mut ann = Client::connect(addr).await;
    ann.say("lighthouse keeper").await.unwrap();
    let id = ann.say("original wording").await.unwrap();
    until_found(&mut ann, "lighthouse", &["lighthouse keeper"]).await;
    ann.request(Edit {
        room: "general".into(),
        id,
        text: "revised wording".into(),
    })
    .await
    .unwrap();
    until_found(&mut ann, "wording", &["revised wording"]).await;
    assert!(server.terminate().success());
    let _server = Process::start(addr, &database).await;
    let mut bob = Client::connect(addr).await;
    assert_eq!(texts(&mut bob, "lighthouse").await, ["lighthouse keeper"]);
    assert_eq!(texts(&mut bob, "revised").await, ["revised wording"]);
    assert!(texts(&mut bob, "original").await.is_empty());
}

#[tokio::test]
async fn a_message_posted_on_one_node_is_found_on_another() {
    let redis = Redis::start().await;
    let dir = temp_dir("search-nodes");
    let a = start_node(&redis, &dir, 2_000).await;
    let b = start_node(&redis, &dir, 2_000).await;
    let mut ann = Client::connect_as(a.addr, Some(&token("ann"))).await;
    let bob = Client::connect_as(a.addr, Some(&token("bob"))).await;
    let mut eve = Client::connect_as(b.addr, Some(&token("eve"))).await;
    let id = ann.say("posted on node a").await.unwrap();
    ann.dm(&bob.id, "private words on node a").await.unwrap();
    until_found(&mut eve, "node", &["posted on node a"]).await;
    ann.request(Delete {
        room: "general".into(),
        id,
    })
    .await
    .unwrap();
    ann.say("sentinel").await.unwrap();
    until_found(&mut eve, "sentinel", &["sentinel"]).await;
    assert!(texts(&mut eve, "node").await.is_empty());
    assert!(texts(&mut eve, "\"private words\"").await.is_empty());
    // A node started later catches up from the shared store.
    let c = start_node(&redis, &dir, 2_000).await;
    let mut bob_on_c = Client::connect_as(c.addr, Some(&token("bob"))).await;
    until_found(&mut bob_on_c, "private", &["private words on node a"]).await;
    assert_eq!(texts(&mut bob_on_c, "sentinel").await, ["sentinel"]);
}
