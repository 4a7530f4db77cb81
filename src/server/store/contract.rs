//! The behaviour every backend must show; each backend's tests run it.

use super::*;

pub fn entry<'a>(room: &'a str, author: &'a str, text: &str, cid: Option<&'a str>) -> Entry<'a> {
    Entry {
        room,
        author,
        sender: "red-fox",
        from: "0123456789abcdef",
        text: text.to_owned(),
        client_id: cid,
        reply_to: None,
        mentions: Vec::new(),
    }
}

pub async fn ids_increase_by_one_per_room(log: &dyn MessageLog) {
    let a1 = log
        .append(entry("general", "u1", "one", None))
        .await
        .unwrap();
    let b1 = log
        .append(entry("rust", "u1", "other", None))
        .await
        .unwrap();
    let a2 = log
        .append(entry("general", "u2", "two", None))
        .await
        .unwrap();
    assert_eq!((a1.message.id, b1.message.id, a2.message.id), (1, 1, 2));
    assert!(a2.message.ts >= a1.message.ts && a1.message.ts > 0);
    assert_eq!(a2.message.sender, "red-fox");
    assert_eq!(a2.message.from, "0123456789abcdef");
    assert!(!a1.duplicate);
}

pub async fn a_retry_with_the_same_client_id_is_stored_once(log: &dyn MessageLog) {
    let first = log
        .append(entry("general", "u1", "hello", Some("c1")))
        .await
        .unwrap();
    let again = log
        .append(entry("general", "u1", "hello", Some("c1")))
        .await
        .unwrap();
    assert!(!first.duplicate);
    assert!(again.duplicate);
    assert_eq!(again.message, first.message);
    assert_eq!(again.message.client_id.as_deref(), Some("c1"));
    // Another author may use the same client id.
    let other = log
        .append(entry("general", "u2", "hello", Some("c1")))
        .await
        .unwrap();
    assert!(!other.duplicate);
    assert_eq!(log.recent("general", 10).await.unwrap().len(), 2);
}

/// Appends from many tasks at once; the feed must carry each room's ids in order.
pub async fn the_feed_carries_new_messages_in_id_order(
    log: std::sync::Arc<dyn MessageLog>,
    mut feed: tokio::sync::mpsc::UnboundedReceiver<Committed>,
) {
    let tasks = (0..100).map(|i| {
        let log = log.clone();
        tokio::spawn(async move {
            let room = if i % 2 == 0 { "general" } else { "rust" };
            let cid = format!("c{i}");
            let first = log
                .append(entry(room, "u1", "m", Some(&cid)))
                .await
                .unwrap();
            // A retry is no new message: it must not reach the feed.
            log.append(entry(room, "u1", "m", Some(&cid)))
                .await
                .unwrap();
            first.message.id
        })
    });
    futures::future::join_all(tasks).await;
    let mut last: std::collections::HashMap<String, u64> = Default::default();
    for _ in 0..100 {
        let Committed::New(m) = feed.recv().await.unwrap() else {
            panic!("only new messages were posted")
        };
        let prev = last.insert(m.room.clone(), m.id).unwrap_or(0);
        assert_eq!(m.id, prev + 1, "{} out of order", m.room);
    }
    assert!(feed.try_recv().is_err(), "duplicates reached the feed");
}

pub async fn recent_and_after_read_in_order(log: &dyn MessageLog) {
    for i in 1..=5 {
        log.append(entry("general", "u1", &format!("m{i}"), None))
            .await
            .unwrap();
    }
    assert_eq!(texts(log.recent("general", 2).await.unwrap()), ["m4", "m5"]);
    assert_eq!(
        texts(log.after("general", 2, 2).await.unwrap()),
        ["m3", "m4"]
    );
    assert!(log.after("general", 5, 10).await.unwrap().is_empty());
    assert!(log.recent("empty", 10).await.unwrap().is_empty());
}

fn texts(v: Vec<NewMessage>) -> Vec<String> {
    v.into_iter().map(|m| m.message).collect()
}

pub async fn older_pages_reach_the_first_message(log: &dyn MessageLog) {
    for i in 1..=7 {
        log.append(entry("general", "u1", &format!("m{i}"), None))
            .await
            .unwrap();
    }
    assert_eq!(
        texts(log.older("general", 6, 2).await.unwrap()),
        ["m4", "m5"]
    );
    assert_eq!(
        texts(log.older("general", 3, 5).await.unwrap()),
        ["m1", "m2"]
    );
    assert!(log.older("general", 1, 5).await.unwrap().is_empty());
    assert_eq!(texts(log.older("general", 100, 1).await.unwrap()), ["m7"]);
    assert!(log.older("empty", 10, 10).await.unwrap().is_empty());
    assert_eq!(log.get("general", 3).await.unwrap().unwrap().message, "m3");
    assert_eq!(log.get("general", 8).await.unwrap(), None);
}

/// Edits, deletions and reactions: the rules, the change numbers, the feed, and what a
/// returning client is sent.
pub async fn changes_follow_the_rules_and_are_numbered(
    log: &dyn MessageLog,
    mut feed: tokio::sync::mpsc::UnboundedReceiver<Committed>,
) {
    let author = "0123456789abcdef";
    let other = "fedcba9876543210";
    let mut posted = Vec::new();
    for text in ["one", "two", "three"] {
        let stored = log
            .append(entry("general", "u1", text, None))
            .await
            .unwrap();
        posted.push(stored.message);
    }
    let revs: Vec<u64> = posted.iter().map(|m| m.rev).collect();
    assert!(
        revs[0] > 0 && revs[0] < revs[1] && revs[1] < revs[2],
        "{revs:?}"
    );
    for _ in 0..3 {
        assert!(matches!(feed.recv().await, Some(Committed::New(_))));
    }

    let edit = |text: &str| Change::Edit(text.to_owned(), Vec::new());
    // Only the author edits or deletes; anyone reacts.
    assert_eq!(
        log.alter("general", 1, other, edit("x")).await.unwrap(),
        Err(Refusal::NotAllowed)
    );
    assert_eq!(
        log.alter("general", 1, other, Change::Delete)
            .await
            .unwrap(),
        Err(Refusal::NotAllowed)
    );
    assert_eq!(
        log.alter("general", 9, author, edit("x")).await.unwrap(),
        Err(Refusal::NotFound)
    );
    assert_eq!(
        log.alter("rust", 1, author, edit("x")).await.unwrap(),
        Err(Refusal::NotFound)
    );
    let edited = log
        .alter("general", 1, author, edit("one, fixed"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(edited.message, "one, fixed");
    assert!(edited.edited.is_some() && edited.rev > revs[2]);
    let Some(Committed::Updated(fed)) = feed.recv().await else {
        panic!("the edit is on the feed")
    };
    assert_eq!(fed, edited);
    // The same text again changes nothing and feeds nothing.
    let same = log
        .alter("general", 1, author, edit("one, fixed"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(same.rev, edited.rev);

    let smile = || Change::React("🙂".to_owned());
    log.alter("general", 2, other, smile())
        .await
        .unwrap()
        .unwrap();
    let reacted = log
        .alter("general", 2, author, smile())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reacted.reactions.len(), 1);
    assert_eq!(reacted.reactions[0].ids, [other, author]);
    let unreacted = log
        .alter("general", 2, other, smile())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unreacted.reactions[0].ids, [author]);
    for n in 0..crate::protocol::MAX_REACTIONS - 1 {
        let emoji = char::from_u32(0x1F600 + n as u32).unwrap().to_string();
        log.alter("general", 2, other, Change::React(emoji))
            .await
            .unwrap()
            .unwrap();
    }
    assert_eq!(
        log.alter("general", 2, other, Change::React("🦀".into()))
            .await
            .unwrap(),
        Err(Refusal::TooManyReactions)
    );

    let deleted = log
        .alter("general", 3, author, Change::Delete)
        .await
        .unwrap()
        .unwrap();
    assert!(deleted.deleted && deleted.message.is_empty());
    assert_eq!(
        log.alter("general", 3, author, edit("back")).await.unwrap(),
        Err(Refusal::Deleted)
    );
    assert_eq!(
        log.alter("general", 3, other, smile()).await.unwrap(),
        Err(Refusal::Deleted)
    );
    // Stored as changed: every read shows the current state.
    let now = log.recent("general", 10).await.unwrap();
    assert_eq!(now[0].message, "one, fixed");
    assert_eq!(now[1].reactions.len(), crate::protocol::MAX_REACTIONS);
    assert!(now[2].deleted && now[2].message.is_empty());
    assert_eq!(log.get("general", 3).await.unwrap().unwrap(), deleted);

    // A client that saw the changes up to the first edit, holding messages 1..=3, gets
    // messages 2 and 3 (1 changed no more), each once, in change order.
    let missed = log.changed("general", edited.rev, 3, 100).await.unwrap();
    let ids: Vec<u64> = missed.iter().map(|m| m.id).collect();
    assert_eq!(ids, [2, 3]);
    assert!(missed[0].rev < missed[1].rev);
    assert_eq!(
        log.changed("general", edited.rev, 2, 100)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        log.changed("general", deleted.rev, 3, 100)
            .await
            .unwrap()
            .is_empty()
    );
    // Posting after the changes continues the numbering.
    let four = log
        .append(entry("general", "u1", "four", None))
        .await
        .unwrap();
    assert!(four.message.rev > deleted.rev);
    // Another room counts on its own.
    let other_room = log.append(entry("rust", "u1", "r", None)).await.unwrap();
    assert_eq!(other_room.message.rev, 1);
}

pub async fn old_messages_expire_and_ids_go_on(log: &dyn MessageLog) {
    for text in ["old one", "old two", "old three"] {
        log.append(entry("general", "u1", text, None))
            .await
            .unwrap();
    }
    log.append(entry("rust", "u1", "old rust", None))
        .await
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let cutoff = now_ms();
    std::thread::sleep(std::time::Duration::from_millis(5));
    log.append(entry("general", "u1", "new", None))
        .await
        .unwrap();
    let gone = log.expire(cutoff).await.unwrap();
    assert_eq!(gone, 4, "three old in general, rust's only one erased");
    assert_eq!(texts(log.recent("general", 10).await.unwrap()), ["new"]);
    assert_eq!(log.get("general", 1).await.unwrap(), None);
    assert!(log.older("general", 4, 10).await.unwrap().is_empty());
    // Rust's newest stays, emptied, and the next message follows it.
    let kept = log.recent("rust", 10).await.unwrap();
    assert!(kept.len() == 1 && kept[0].deleted && kept[0].message.is_empty());
    assert_eq!(log.expire(cutoff).await.unwrap(), 0, "nothing more to do");
    let next = log
        .append(entry("rust", "u1", "after", None))
        .await
        .unwrap();
    assert_eq!(next.message.id, 2);
    // Once it is no longer the newest, the erased one goes too.
    assert_eq!(log.expire(cutoff).await.unwrap(), 1);
    assert_eq!(texts(log.recent("rust", 10).await.unwrap()), ["after"]);
}

pub async fn rooms_are_remembered(dir: &dyn Directory) {
    assert!(dir.rooms().await.unwrap().is_empty());
    assert!(dir.add_room("rust").await.unwrap());
    assert!(!dir.add_room("rust").await.unwrap());
    assert!(dir.add_room("music").await.unwrap());
    let mut rooms = dir.rooms().await.unwrap();
    rooms.sort();
    assert_eq!(rooms, ["music", "rust"]);
    let created = dir
        .room_created("rust")
        .await
        .unwrap()
        .expect("a creation time");
    assert!(created.abs_diff(super::now_ms()) < 60_000, "{created}");
    assert_eq!(dir.room_created("jazz").await.unwrap(), None);
    assert!(dir.remove_room("rust").await.unwrap());
    assert!(!dir.remove_room("rust").await.unwrap());
    assert_eq!(dir.rooms().await.unwrap(), ["music"]);
    assert_eq!(dir.room_created("rust").await.unwrap(), None);
}

/// A removed room's messages go, and only its own.
pub async fn a_purged_room_is_empty(log: &dyn MessageLog) {
    for room in ["spam", "general"] {
        for i in 1..=3 {
            log.append(entry(room, "u1", &format!("m{i}"), None))
                .await
                .unwrap();
        }
    }
    assert_eq!(log.purge("spam").await.unwrap(), 3);
    assert!(log.recent("spam", 10).await.unwrap().is_empty());
    assert_eq!(log.recent("general", 10).await.unwrap().len(), 3);
    // A room made again under the same name starts over.
    let again = log
        .append(entry("spam", "u1", "fresh", None))
        .await
        .unwrap();
    assert_eq!(again.message.id, 1);
}

pub async fn rooms_with_messages_are_listed(log: &dyn MessageLog) {
    assert!(log.rooms_with_messages().await.unwrap().is_empty());
    let dm = crate::protocol::dm_room("0123456789abcdef", "fedcba9876543210");
    for room in ["general", "rust", "spam", dm.as_str()] {
        log.append(entry(room, "u1", "hello", None)).await.unwrap();
    }
    log.purge("spam").await.unwrap();
    let mut listed = log.rooms_with_messages().await.unwrap();
    listed.sort();
    let mut expected = vec!["general".to_owned(), "rust".to_owned(), dm];
    expected.sort();
    assert_eq!(listed, expected, "DMs included, a purged room not");
}

pub async fn names_are_remembered(ids: &dyn Directory) {
    let public = crate::server::people::public_id("u1");
    assert!(!ids.knows(&public).await.unwrap());
    assert_eq!(ids.name_of("u1").await.unwrap(), None);
    ids.remember("u1", "teal-otter").await.unwrap();
    ids.remember("u2", "red-fox").await.unwrap();
    assert_eq!(
        ids.name_of("u1").await.unwrap().as_deref(),
        Some("teal-otter")
    );
    let mut all = ids.all_names().await.unwrap();
    all.sort();
    assert_eq!(all, ["red-fox", "teal-otter"]);
    assert!(
        ids.knows(&public).await.unwrap(),
        "a named person is known by public id"
    );
    assert!(!ids.knows("0123456789abcdef").await.unwrap());
}

/// The people a message mentions are kept with it, follow its edits and go with its text.
pub async fn mentions_are_kept(log: &dyn MessageLog) {
    let ann = "aaaaaaaaaaaaaaaa".to_owned();
    let bob = "bbbbbbbbbbbbbbbb".to_owned();
    let posted = log
        .append(Entry {
            mentions: vec![ann.clone()],
            ..entry("general", "u1", "hi @ann", None)
        })
        .await
        .unwrap()
        .message;
    assert_eq!(posted.mentions, std::slice::from_ref(&ann));
    assert_eq!(log.recent("general", 1).await.unwrap()[0].mentions, [ann]);
    let author = posted.from.clone();
    let edit = Change::Edit("hi @bob".into(), vec![bob.clone()]);
    log.alter("general", posted.id, &author, edit)
        .await
        .unwrap()
        .unwrap();
    let edited = log.get("general", posted.id).await.unwrap().unwrap();
    assert_eq!(edited.mentions, [bob]);
    log.alter("general", posted.id, &author, Change::Delete)
        .await
        .unwrap()
        .unwrap();
    let deleted = log.get("general", posted.id).await.unwrap().unwrap();
    assert!(deleted.mentions.is_empty());
}
