//! The index as a searcher meets it: what is found, in which order, by whom; and that it
//! stays true through edits, deletions, removed rooms, retention and restarts.

use std::sync::Arc;

use super::*;
use crate::protocol::{MessageUpdated, dm_room};
use crate::server::store::{Change, MemoryLog, MessageLog, contract::entry};

const ANN: &str = "aaaaaaaaaaaaaaaa";
const BOB: &str = "bbbbbbbbbbbbbbbb";
const EVE: &str = "eeeeeeeeeeeeeeee";

fn message(room: &str, id: u64, ts: u64, text: &str) -> NewMessage {
    NewMessage {
        sender: "red-fox".into(),
        message: text.into(),
        room: room.into(),
        id,
        ts,
        rev: id,
        from: ANN.into(),
        ..NewMessage::default()
    }
}

fn memory() -> SearchIndex {
    SearchIndex::open(&Place::Memory).expect("an index in memory")
}

/// What `asker` finds for `query` (everywhere, first page): `room/id` of each result.
async fn found(index: &SearchIndex, asker: &str, query: &str) -> Vec<String> {
    index.flush().await.unwrap();
    let query = Query::parse(query).expect("a query");
    let page = index
        .search(asker, &query, None, Cursor::default())
        .await
        .expect("search answers");
    page.results
        .iter()
        .map(|hit| format!("{}/{}", hit.message.room, hit.message.id))
        .collect()
}

#[tokio::test]
async fn an_edit_is_found_by_its_new_text_and_a_deletion_never() {
    let index = memory();
    index.record(message("general", 1, 1_000, "the deploy failed"));
    index.record(message("general", 2, 2_000, "secret plans"));
    assert_eq!(found(&index, BOB, "deploy").await, ["general/1"]);
    let mut edited = message("general", 1, 1_000, "the release worked");
    edited.rev = 3;
    edited.edited = Some(1_500);
    index.record(edited.clone());
    let mut deleted = message("general", 2, 2_000, "");
    deleted.rev = 4;
    deleted.deleted = true;
    index.record(deleted);
    assert!(found(&index, BOB, "deploy").await.is_empty());
    assert_eq!(found(&index, BOB, "release").await, ["general/1"]);
    assert!(found(&index, BOB, "secret").await.is_empty());
    // An older state arriving late (catch-up racing the feed) changes nothing.
    index
        .load(vec![message("general", 1, 1_000, "the deploy failed")])
        .await
        .unwrap();
    index
        .load(vec![message("general", 2, 2_000, "secret plans")])
        .await
        .unwrap();
    assert!(found(&index, BOB, "deploy").await.is_empty());
    assert!(found(&index, BOB, "secret").await.is_empty());
    // The result is the message's current state.
    let query = Query::parse("release").unwrap();
    let page = index
        .search(BOB, &query, None, Cursor::default())
        .await
        .unwrap();
    assert_eq!(page.results[0].message, edited);
}

#[tokio::test]
async fn words_prefixes_phrases_case_and_accents() {
    let index = memory();
    index.record(message("general", 1, 1_000, "Crème brûlée at the CAFÉ"));
    index.record(message("rust", 1, 2_000, "the borrow checker complains"));
    index.record(message("rust", 2, 3_000, "checker of borrow rules"));
    assert_eq!(found(&index, BOB, "cafe creme").await, ["general/1"]);
    assert_eq!(found(&index, BOB, "BRÛLÉE").await, ["general/1"]);
    assert_eq!(
        found(&index, BOB, "borrow checker").await,
        ["rust/2", "rust/1"]
    );
    assert_eq!(found(&index, BOB, "\"borrow checker\"").await, ["rust/1"]);
    assert_eq!(found(&index, BOB, "compl*").await, ["rust/1"]);
    assert_eq!(found(&index, BOB, "che* bor*").await, ["rust/2", "rust/1"]);
    assert!(
        found(&index, BOB, "compl").await.is_empty(),
        "a word is whole"
    );
    assert!(
        found(&index, BOB, "borrow cafe").await.is_empty(),
        "every word"
    );
}

#[tokio::test]
async fn hostile_queries_are_searched_as_text() {
    let index = memory();
    index.record(message(
        "general",
        1,
        1_000,
        "cats or dogs: near the text column",
    ));
    for query in [
        "cats OR nothing",
        "NEAR(cats dogs)",
        "text:cats",
        "\"cats or",
        "-cats",
        "^cats",
        "(cats)",
        "cats AND",
        "NOT cats",
        "c*ts",
        "{text}: cats",
    ] {
        // Either found as words or not at all; never an FTS5 syntax error.
        let query = Query::parse(query).expect(query);
        index
            .search(BOB, &query, None, Cursor::default())
            .await
            .unwrap_or_else(|e| panic!("{query:?}: {e}"));
    }
    assert_eq!(found(&index, BOB, "cats OR dogs").await, ["general/1"]);
    assert!(
        found(&index, BOB, "cats OR nothing").await.is_empty(),
        "OR is a word"
    );
    assert_eq!(found(&index, BOB, "text:column").await, ["general/1"]);
}

#[tokio::test]
async fn another_pair_s_dm_is_never_found() {
    let index = memory();
    let ours = dm_room(ANN, BOB);
    let theirs = dm_room(BOB, EVE);
    index.record(message(&ours, 1, 1_000, "the password is swordfish"));
    index.record(message(&theirs, 1, 2_000, "the password is swordfish"));
    index.record(message("general", 1, 3_000, "what password"));
    assert_eq!(found(&index, ANN, "swordfish").await, [format!("{ours}/1")]);
    assert_eq!(
        found(&index, EVE, "swordfish").await,
        [format!("{theirs}/1")]
    );
    assert_eq!(found(&index, BOB, "swordfish").await.len(), 2);
    assert_eq!(
        found(&index, ANN, "password").await,
        ["general/1".to_owned(), format!("{ours}/1")]
    );
    // Even naming the conversation: the filter is in the query.
    let query = Query::parse("swordfish").unwrap();
    let named = index
        .search(ANN, &query, Some(&theirs), Cursor::default())
        .await
        .unwrap();
    assert!(named.results.is_empty());
}

#[tokio::test]
async fn newest_first_and_pages_do_not_skip_ties() {
    let index = memory();
    // 45 messages, three per millisecond, in several rooms.
    let mut all = Vec::new();
    for i in 0..45u64 {
        let room = ["general", "rust", "music"][(i % 3) as usize];
        let id = i / 3 + 1;
        index.record(message(room, id, 10_000 + i / 3, "tie word"));
        all.push(format!("{room}/{id}"));
    }
    index.flush().await.unwrap();
    let query = Query::parse("tie").unwrap();
    let mut seen = Vec::new();
    let mut cursor = Cursor::default();
    let mut pages = 0;
    loop {
        let page = index.search(BOB, &query, None, cursor).await.unwrap();
        let ts: Vec<u64> = page.results.iter().map(|h| h.message.ts).collect();
        assert!(ts.windows(2).all(|w| w[0] >= w[1]), "newest first: {ts:?}");
        pages += 1;
        let last = page.results.last().cloned();
        seen.extend(
            page.results
                .iter()
                .map(|h| format!("{}/{}", h.message.room, h.message.id)),
        );
        if !page.more {
            break;
        }
        let last = last.expect("a full page").message;
        cursor = Cursor {
            before: Some(last.ts),
            after_message: Some((last.room, last.id)),
        };
    }
    assert_eq!(pages, 3);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    all.sort();
    assert_eq!(sorted, all, "every result once");
    // `before` alone: strictly older than that millisecond.
    let page = index
        .search(
            BOB,
            &query,
            None,
            Cursor {
                before: Some(10_010),
                after_message: None,
            },
        )
        .await
        .unwrap();
    assert!(page.results.iter().all(|h| h.message.ts < 10_010));
    assert_eq!(page.results.len(), 20);
    assert_eq!(page.results[0].message.ts, 10_009);
}

#[tokio::test]
async fn matched_words_are_located_in_utf16() {
    let index = memory();
    index.record(message("general", 1, 1_000, "🎉 Hello wörld, hello again"));
    index.flush().await.unwrap();
    let query = Query::parse("hello world").unwrap();
    let page = index
        .search(BOB, &query, None, Cursor::default())
        .await
        .unwrap();
    let hit = &page.results[0];
    let utf16: Vec<u16> = hit.message.message.encode_utf16().collect();
    let words: Vec<String> = hit
        .matches
        .iter()
        .map(|[a, b]| String::from_utf16_lossy(&utf16[*a as usize..*b as usize]))
        .collect();
    assert_eq!(words, ["Hello", "wörld", "hello"]);
}

#[tokio::test]
async fn removed_rooms_and_retention_leave_the_index() {
    let index = memory();
    index.record(message("spam", 1, 1_000, "buy pills"));
    index.record(message("general", 1, 1_000, "old pills"));
    index.record(message("general", 2, 5_000, "new pills"));
    index.flush().await.unwrap();
    assert_eq!(index.forget_room("spam").await.unwrap(), 1);
    assert_eq!(index.expire(2_000).await.unwrap(), 1);
    assert_eq!(found(&index, BOB, "pills").await, ["general/2"]);
    // A room created again under an old name: its ids start over, the old entries go.
    index.record(message("music", 1, 1_000, "first life"));
    index.record(message("music", 2, 1_001, "first life again"));
    index.record(message("music", 1, 9_000, "second life"));
    assert_eq!(found(&index, BOB, "life").await, ["music/1"]);
}

#[tokio::test]
async fn a_deleted_text_leaves_the_index_file() {
    let dir = std::env::temp_dir().join(format!(
        "chat-search-erase-{}-{}",
        std::process::id(),
        crate::server::store::now_ms()
    ));
    let path = dir.join("search.sqlite3");
    let index = SearchIndex::open(&Place::File(path.clone())).unwrap();
    for i in 1..=50 {
        index.record(message("general", i, 1_000 + i, "filler words everywhere"));
    }
    index.record(message("general", 51, 2_000, "launch code zyxwvutsrq"));
    index.flush().await.unwrap();
    let mut deleted = message("general", 51, 2_000, "");
    (deleted.deleted, deleted.rev) = (true, 99);
    index.record(deleted);
    index.flush().await.unwrap();
    drop(index);
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    drop(conn);
    let mut bytes = std::fs::read(&path).unwrap();
    if let Ok(wal) = std::fs::read(path.with_extension("sqlite3-wal")) {
        bytes.extend(wal);
    }
    let secret = b"zyxwvutsrq";
    assert!(
        !bytes.windows(secret.len()).any(|w| w == secret),
        "the deleted word is still in the index file"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// A log with a few messages, edits and deletions.
async fn log_with_history() -> Arc<MemoryLog> {
    let log = Arc::new(MemoryLog::new(
        1_000,
        tokio::sync::mpsc::unbounded_channel().0,
    ));
    let dm = dm_room(ANN, BOB);
    for (room, text) in [
        ("general", "alpha one"),
        ("general", "beta two"),
        (dm.as_str(), "gamma dm"),
    ] {
        log.append(entry(room, "u1", text, None)).await.unwrap();
    }
    log
}

#[tokio::test]
async fn a_file_index_catches_up_with_what_changed_while_it_was_closed() {
    let dir = std::env::temp_dir().join(format!(
        "chat-search-{}-{}",
        std::process::id(),
        crate::server::store::now_ms()
    ));
    let place = Place::File(dir.join("search.sqlite3"));
    let log = log_with_history().await;
    let index = SearchIndex::open(&place).unwrap();
    index.clone().catch_up(log.clone()).await;
    assert_eq!(found(&index, BOB, "alpha").await, ["general/1"]);
    assert_eq!(found(&index, BOB, "gamma").await.len(), 1);
    drop(index);
    // Meanwhile: an edit, a deletion, a new message.
    let from = "0123456789abcdef";
    log.alter(
        "general",
        1,
        from,
        Change::Edit("alpha edited".into(), Vec::new()),
    )
    .await
    .unwrap()
    .unwrap();
    log.alter("general", 2, from, Change::Delete)
        .await
        .unwrap()
        .unwrap();
    log.append(entry("rust", "u1", "delta three", None))
        .await
        .unwrap();
    let index = SearchIndex::open(&place).unwrap();
    assert_eq!(
        found(&index, BOB, "alpha").await,
        ["general/1"],
        "kept across the restart"
    );
    assert_eq!(
        found(&index, BOB, "beta").await,
        ["general/2"],
        "not caught up yet"
    );
    index.clone().catch_up(log.clone()).await;
    assert_eq!(found(&index, BOB, "edited").await, ["general/1"]);
    assert!(found(&index, BOB, "beta").await.is_empty());
    assert_eq!(found(&index, BOB, "delta").await, ["rust/1"]);
    // The feed from now on moves the marks: a later restart reads nothing again.
    let update = log
        .alter(
            "rust",
            1,
            from,
            Change::Edit("delta four".into(), Vec::new()),
        )
        .await
        .unwrap()
        .unwrap();
    index.record(MessageUpdated(update).0);
    index.flush().await.unwrap();
    let marks = index::marks(&lock(&index.0.reader)).unwrap();
    assert_eq!(
        marks["rust"],
        Mark {
            last_id: 1,
            last_rev: 2
        }
    );
    drop(index);
    let _ = std::fs::remove_dir_all(dir);
}
