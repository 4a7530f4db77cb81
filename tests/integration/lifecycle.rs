//! A message's life after it is posted, on the real server over real WebSockets, on both
//! single-process backends (memory and SQLite; several nodes on Redis: `tests/integration/cluster.rs`):
//! older pages back to the first message, edits, deletions, replies and reactions seen live
//! by everyone, refused when they should be, and caught up by a client that was away.

use std::net::SocketAddr;

use crate::support::{Client, TempDir, start_server_with, temp_dir, token};
use chat::protocol::{
    Delete, Edit, ErrorCode, NewMessage, Older, Page, React, SendMessage, dm_room,
};
use chat::server::config::Storage;
use serde_json::json;

/// A server on each single-process backend (the directory keeps the SQLite file alive).
async fn servers(name: &str) -> Vec<(SocketAddr, Option<TempDir>)> {
    // The memory log keeps `history-len` messages a room; these tests need more.
    let memory = start_server_with(|c| c.chat.history_len = 10_000).await;
    let dir = temp_dir(name);
    let database = dir.join("chat.sqlite3");
    let sqlite = start_server_with(|c| {
        c.chat.storage = Storage::Sqlite;
        c.chat.database = database;
    })
    .await;
    vec![(memory, None), (sqlite, Some(dir))]
}

async fn older(c: &mut Client, room: &str, before: u64, limit: Option<usize>) -> Page {
    c.request(Older {
        room: room.into(),
        before,
        limit,
    })
    .await
    .expect("older page")
}

fn ids(messages: &[NewMessage]) -> Vec<u64> {
    messages.iter().map(|m| m.id).collect()
}

#[tokio::test]
async fn older_pages_reach_the_first_message_in_rooms_and_direct_conversations() {
    for (addr, _dir) in servers("older").await {
        let mut ann = Client::connect(addr).await;
        let mut bob = Client::connect_as(addr, Some(&token("bob"))).await;
        ann.join("history").await.unwrap();
        for i in 1..=230 {
            ann.say_in("history", &format!("m{i}")).await.unwrap();
        }
        // 230 messages: pages of 100 back from the newest, then the rest; `more` says when
        // there is nothing before.
        let first = older(&mut ann, "history", 231, Some(100)).await;
        assert_eq!(ids(&first.messages), (131..=230).collect::<Vec<_>>());
        assert!(first.more);
        let second = older(&mut ann, "history", 131, Some(100)).await;
        assert_eq!(ids(&second.messages), (31..=130).collect::<Vec<_>>());
        let last = older(&mut ann, "history", 31, Some(100)).await;
        assert_eq!(ids(&last.messages), (1..=30).collect::<Vec<_>>());
        assert!(!last.more, "the page reaching message 1 says so");
        assert_eq!(last.messages[0].message, "m1");
        let default = older(&mut ann, "history", 100, None).await;
        assert_eq!(ids(&default.messages), (50..=99).collect::<Vec<_>>());
        let exact = older(&mut ann, "history", 101, Some(100)).await;
        assert!(!exact.more, "100 messages before 101, none before those");
        // Limits and reading rights.
        for limit in [0, 101] {
            let refused = ann
                .request(Older {
                    room: "history".into(),
                    before: 10,
                    limit: Some(limit),
                })
                .await
                .unwrap_err();
            assert_eq!(refused.code, ErrorCode::BadPayload, "limit {limit}");
        }
        let outsider = bob
            .request(Older {
                room: "history".into(),
                before: 10,
                limit: None,
            })
            .await
            .unwrap_err();
        assert_eq!(outsider.code, ErrorCode::BadPayload, "{outsider:?}");

        // A direct conversation pages the same way, for its two people only.
        let dm = dm_room(&ann.id, &bob.id);
        for i in 1..=3 {
            ann.dm(&bob.id, &format!("d{i}")).await.unwrap();
        }
        let page = older(&mut bob, &dm, 3, Some(10)).await;
        assert_eq!(ids(&page.messages), [1, 2]);
        let mut cat = Client::connect(addr).await;
        let refused = cat
            .request(Older {
                room: dm.clone(),
                before: 3,
                limit: None,
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code, ErrorCode::BadPayload);
    }
}

#[tokio::test]
async fn edits_deletions_replies_and_reactions_reach_everyone_live() {
    for (addr, _dir) in servers("live").await {
        let mut ann = Client::connect(addr).await;
        let mut bob = Client::connect(addr).await;
        let mut tutorial = Client::connect_tutorial(addr).await;
        let first = ann.say("helo").await.unwrap();
        let second = ann.say("second").await.unwrap();
        bob.until(|c| c.view.contains_key(&second)).await;

        let edit = |id, text: &str| Edit {
            room: "general".into(),
            id,
            text: text.into(),
        };
        ann.request(edit(first, "  hello\u{202e}  ")).await.unwrap();
        bob.until(|c| c.update_of("general", first).is_some()).await;
        let edited = bob.update_of("general", first).unwrap().clone();
        assert_eq!(edited.message, "hello", "cleaned like a new message");
        assert!(edited.edited.is_some_and(|t| t >= edited.ts));
        assert_eq!(bob.view[&first].message, "hello");
        // An edit must follow the new-message rules and is the author's alone.
        let empty = ann.request(edit(first, "   ")).await.unwrap_err();
        assert_eq!(empty.code, ErrorCode::Empty);
        let long = ann
            .request(edit(first, &"x".repeat(1001)))
            .await
            .unwrap_err();
        assert_eq!(long.code, ErrorCode::TooLong);
        let theirs = bob.request(edit(first, "mine now")).await.unwrap_err();
        assert_eq!(theirs.code, ErrorCode::NotAllowed);
        let unknown = ann.request(edit(999, "x")).await.unwrap_err();
        assert_eq!(unknown.code, ErrorCode::NotFound);
        let elsewhere = ann
            .request(Edit {
                room: "rust".into(),
                id: first,
                text: "x".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(
            elsewhere.code,
            ErrorCode::BadPayload,
            "not a room ann is in"
        );

        // Reactions: anyone, one per person per emoji, a toggle; exactly one emoji.
        let react = |id, emoji: &str| React {
            room: "general".into(),
            id,
            emoji: emoji.into(),
        };
        bob.request(react(second, "👍")).await.unwrap();
        ann.request(react(second, "👍")).await.unwrap();
        let (ann_id, bob_id) = (ann.id.clone(), bob.id.clone());
        ann.until(|c| {
            c.update_of("general", second).is_some_and(|m| {
                m.reactions
                    .iter()
                    .any(|r| r.ids == [bob_id.clone(), ann_id.clone()])
            })
        })
        .await;
        bob.request(react(second, "👍")).await.unwrap();
        ann.until(|c| {
            c.update_of("general", second)
                .is_some_and(|m| m.reactions.len() == 1 && m.reactions[0].ids == [ann_id.clone()])
        })
        .await;
        for bad in ["ok", "👍👍", "<b>", ""] {
            let refused = bob.request(react(second, bad)).await.unwrap_err();
            assert_eq!(refused.code, ErrorCode::NotEmoji, "{bad:?}");
        }

        // A reply names its original; a reply to nothing, or to another conversation's
        // message, is refused.
        let reply = |to: u64, room: Option<&str>| {
            SendMessage::Draft(chat::protocol::Draft {
                text: "yes!".into(),
                client_id: Some(format!("r{to}")),
                room: room.map(str::to_owned),
                to: None,
                reply_to: Some(to),
            })
        };
        let answered = bob.request(reply(second, None)).await.unwrap();
        ann.until(|c| c.view.contains_key(&answered.id)).await;
        assert_eq!(ann.view[&answered.id].reply_to, Some(second));
        let nothing = bob.request(reply(500, None)).await.unwrap_err();
        assert_eq!(nothing.code, ErrorCode::NotFound);
        ann.join("rust").await.unwrap();
        let in_rust = ann.say_in("rust", "rust one").await.unwrap();
        assert_eq!(in_rust, 1);
        let across = ann
            .request(reply(answered.id, Some("rust")))
            .await
            .unwrap_err();
        assert_eq!(
            across.code,
            ErrorCode::NotFound,
            "message {} is general's",
            answered.id
        );

        // Deleting: the author only; everyone sees it emptied; nothing more can be done to it.
        let not_bobs = bob
            .request(Delete {
                room: "general".into(),
                id: first,
            })
            .await
            .unwrap_err();
        assert_eq!(not_bobs.code, ErrorCode::NotAllowed);
        ann.request(Delete {
            room: "general".into(),
            id: first,
        })
        .await
        .unwrap();
        bob.until(|c| c.view[&first].deleted).await;
        assert_eq!(bob.view[&first].message, "");
        let gone = bob.request(react(first, "🎉")).await.unwrap_err();
        assert_eq!(gone.code, ErrorCode::Deleted);
        let gone = bob.request(reply(first, None)).await.unwrap_err();
        assert_eq!(gone.code, ErrorCode::Deleted);
        let gone = ann.request(edit(first, "back")).await.unwrap_err();
        assert_eq!(gone.code, ErrorCode::Deleted);
        // Whoever connects now gets the current state in history.
        let mut late = Client::connect(addr).await;
        late.until(|c| c.history.iter().any(|m| m.id == answered.id))
            .await;
        let history: Vec<&NewMessage> = late.history.iter().filter(|m| m.id == first).collect();
        assert!(history[0].deleted && history[0].message.is_empty());
        let reacted = late.history.iter().find(|m| m.id == second).unwrap();
        assert_eq!(reacted.reactions[0].ids, [ann.id.clone()]);

        // The tutorial's client still gets `newMessage` with sender and message, and may
        // ignore the rest.
        tutorial
            .until(|c| c.messages.iter().any(|m| m.id == answered.id))
            .await;
        let seen = tutorial
            .messages
            .iter()
            .find(|m| m.id == answered.id)
            .unwrap();
        assert_eq!(
            (seen.sender.as_str(), seen.message.as_str()),
            (bob.name.as_str(), "yes!")
        );
    }
}

#[tokio::test]
async fn a_client_that_was_away_is_told_what_changed_about_the_messages_it_holds() {
    for (addr, _dir) in servers("away").await {
        let mut ann = Client::connect_as(addr, Some(&token("ann"))).await;
        let mut bob = Client::connect_as(addr, Some(&token("bob"))).await;
        let mut posted = Vec::new();
        for text in ["one", "two", "three", "four"] {
            posted.push(ann.say(text).await.unwrap());
        }
        bob.until(|c| c.view.len() == 4).await;
        // Something changed before Bob left: he has seen it.
        ann.request(React {
            room: "general".into(),
            id: posted[3],
            emoji: "👀".into(),
        })
        .await
        .unwrap();
        bob.until(|c| c.update_of("general", posted[3]).is_some())
            .await;
        bob.close().await;
        let updates_before = bob.updates.len();

        ann.request(Edit {
            room: "general".into(),
            id: posted[0],
            text: "one (fixed)".into(),
        })
        .await
        .unwrap();
        ann.request(React {
            room: "general".into(),
            id: posted[1],
            emoji: "🎉".into(),
        })
        .await
        .unwrap();
        ann.request(Delete {
            room: "general".into(),
            id: posted[2],
        })
        .await
        .unwrap();
        let fifth = ann.say("five").await.unwrap();

        bob.reconnect(addr).await;
        bob.until(|c| c.view.contains_key(&fifth) && c.view[&posted[2]].deleted)
            .await;
        assert_eq!(bob.view[&posted[0]].message, "one (fixed)");
        assert_eq!(bob.view[&posted[1]].reactions[0].emoji, "🎉");
        assert!(bob.view[&posted[2]].message.is_empty());
        assert_eq!(bob.view[&fifth].message, "five");
        // Exactly what he missed: three changes, not the one he had seen.
        let caught_up: Vec<u64> = bob.updates[updates_before..].iter().map(|m| m.id).collect();
        assert_eq!(caught_up, posted[..3]);
    }
}

#[tokio::test]
async fn bad_lifecycle_payloads_are_refused_and_change_nothing() {
    let addr = start_server_with(|_| {}).await;
    let mut ann = Client::connect(addr).await;
    let id = ann.say("stays as it is").await.unwrap();
    for (event, payload) in [
        ("older", json!({"room": "general"})),
        ("older", json!({"room": "general", "before": "ten"})),
        ("edit", json!({"room": "general", "id": id})),
        ("edit", json!({"room": "general", "id": -1, "text": "x"})),
        ("edit", json!("fix")),
        ("delete", json!({"room": "general"})),
        ("delete", json!([id])),
        ("react", json!({"room": "general", "id": id, "emoji": 1})),
        (
            "react",
            json!({"room": "general", "id": id, "emoji": "👍", "extra": 1}),
        ),
        (
            "edit",
            json!({"room": "reads:names", "id": id, "text": "x"}),
        ),
        (
            "react",
            json!({"room": "user:abc", "id": id, "emoji": "👍"}),
        ),
    ] {
        let refused = ann.raw_request(event, payload.clone()).await.unwrap_err();
        assert_eq!(refused.code, ErrorCode::BadPayload, "{event} {payload}");
    }
    let mut late = Client::connect(addr).await;
    late.until(|c| c.history.iter().any(|m| m.id == id)).await;
    let kept = late.history.iter().find(|m| m.id == id).unwrap();
    assert_eq!(kept.message, "stays as it is");
    assert!(kept.reactions.is_empty() && kept.edited.is_none() && kept.rev == 1);
}

/// Catching up is bounded: a resync over a room of long messages comes in `history` events of
/// at most about 32 KiB, stops after about 512 KiB (plus the event that crossed it) saying `more`, and the next resync goes on
/// from there to the end. (Before, one resync queued up to 25 events of 200 messages each,
/// some 20 MB for a room of long messages, and a few requests pinned that many times over.)
#[tokio::test]
async fn a_catch_up_comes_in_bounded_events_and_says_when_there_is_more() {
    let addr = start_server_with(|c| c.chat.history_len = 10_000).await;
    let mut ann = Client::connect(addr).await;
    ann.join("long").await.unwrap();
    // 600 messages of 1 000 three-byte characters: about 1.8 MB.
    let text = "€".repeat(1000);
    for _ in 0..600 {
        ann.say_in("long", &text).await.unwrap();
    }
    let mut bob = Client::connect(addr).await;
    bob.join("long").await.unwrap();
    let mut after = 0;
    let mut rounds = 0;
    loop {
        rounds += 1;
        let seen = bob.history_events.len();
        bob.request(chat::protocol::Resync {
            room: "long".into(),
            after,
            changes: None,
        })
        .await
        .unwrap();
        bob.until(|c| {
            c.history_events[seen..]
                .iter()
                .any(|h| h.room == "long" && (h.more || h.latest == 600))
        })
        .await;
        let events: Vec<_> = bob.history_events[seen..]
            .iter()
            .filter(|h| h.room == "long")
            .cloned()
            .collect();
        let bytes: usize = events
            .iter()
            .map(|h| serde_json::to_string(h).unwrap().len())
            .sum();
        for h in &events {
            let size = serde_json::to_string(h).unwrap().len();
            assert!(size <= 36 * 1024, "a history event of {size} bytes");
        }
        assert!(bytes <= 704 * 1024, "one catch-up sent {bytes} bytes");
        let last = events.last().unwrap();
        after = last.latest;
        if !last.more {
            break;
        }
        assert!(rounds < 10, "the catch-up never ends");
    }
    assert_eq!(after, 600);
    assert!(
        rounds >= 3,
        "1.8 MB cannot come in fewer than 3 bounded catch-ups ({rounds})"
    );
}
