//! Rooms and direct messages: each conversation its own history, presence and resync, and a
//! direct conversation readable by its two people only.

use crate::support;

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::{Client, start_server, token};
use chat::protocol::{ErrorCode, LeaveRoom, dm_room};

/// Ann and Bob in room `alpha`, Cat in room `beta`; everyone in `general`.
async fn two_rooms(addr: std::net::SocketAddr) -> (Client, Client, Client) {
    let mut ann = Client::connect(addr).await;
    let mut bob = Client::connect(addr).await;
    let mut cat = Client::connect(addr).await;
    ann.join("alpha").await.unwrap();
    bob.join("alpha").await.unwrap();
    cat.join("beta").await.unwrap();
    (ann, bob, cat)
}

fn set(names: &[&String]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

#[tokio::test]
async fn messages_in_one_room_never_reach_another_rooms_members() {
    let (mut ann, mut bob, mut cat) = two_rooms(start_server().await).await;

    ann.say_in("alpha", "for alpha").await.unwrap();
    cat.say_in("beta", "for beta").await.unwrap();
    bob.say_in("general", "for everyone").await.unwrap();
    // Posting where one has not joined is refused.
    let refused = cat.say_in("alpha", "sneaking in").await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::BadPayload);

    for c in [&mut ann, &mut bob, &mut cat] {
        c.until(|c| c.texts_in("general") == ["for everyone"]).await;
    }
    bob.until(|c| c.texts_in("alpha") == ["for alpha"]).await;
    cat.until(|c| c.texts_in("beta") == ["for beta"]).await;
    // One more round trip each, then nothing else may have arrived.
    for c in [&mut ann, &mut bob, &mut cat] {
        c.join("general").await.unwrap();
    }
    assert!(
        cat.texts_in("alpha").is_empty(),
        "{:?}",
        cat.texts_in("alpha")
    );
    assert!(ann.texts_in("beta").is_empty());
    assert!(bob.texts_in("beta").is_empty());
}

#[tokio::test]
async fn each_room_lists_its_own_members_through_joins_leaves_and_disconnects() {
    let (mut ann, mut bob, mut cat) = two_rooms(start_server().await).await;
    let (a, b, c) = (ann.name.clone(), bob.name.clone(), cat.name.clone());

    ann.until(|x| x.names_in("alpha") == set(&[&a, &b])).await;
    cat.until(|x| x.names_in("beta") == set(&[&c])).await;
    cat.until(|x| x.names_in("general") == set(&[&a, &b, &c]))
        .await;

    bob.request(LeaveRoom {
        room: "alpha".into(),
    })
    .await
    .unwrap();
    ann.until(|x| x.names_in("alpha") == set(&[&a])).await;
    bob.until(|x| x.names_in("general") == set(&[&a, &b, &c]))
        .await;

    drop(cat);
    ann.until(|x| x.names_in("general") == set(&[&a, &b])).await;
    assert_eq!(ann.names_in("alpha"), set(&[&a]));
    // Nobody leaves general.
    let refused = ann
        .request(LeaveRoom {
            room: "general".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::BadPayload);
}

#[tokio::test]
async fn room_names_are_normalised_and_new_rooms_are_announced() {
    let addr = start_server().await;
    let mut ann = Client::connect(addr).await;
    let mut bob = Client::connect(addr).await;
    ann.join("  Rust Talk ").await.unwrap();
    bob.until(|c| c.rooms.contains(&"rust-talk".to_owned()))
        .await;
    assert!(bob.rooms.contains(&"general".to_owned()));
    for bad in ["", "a/b", "dm:x", &"x".repeat(40)] {
        assert!(ann.join(bad).await.is_err(), "{bad:?}");
    }
}

#[tokio::test]
async fn resync_after_a_reconnect_is_per_room_and_gapless() {
    let addr = start_server().await;
    let mut ann = Client::connect_as(addr, Some(&token("ann"))).await;
    let mut bob = Client::connect(addr).await;
    ann.join("alpha").await.unwrap();
    bob.join("alpha").await.unwrap();
    bob.say_in("alpha", "seen 1").await.unwrap();
    ann.until(|c| c.texts_in("alpha") == ["seen 1"]).await;

    ann.close().await;
    for i in 0..12 {
        bob.say_in("alpha", &format!("alpha {i}")).await.unwrap();
        if i % 3 == 0 {
            bob.say_in("general", &format!("general {i}"))
                .await
                .unwrap();
        }
    }
    ann.messages.clear();
    ann.history.clear();
    ann.reconnect(addr).await;
    ann.join("alpha").await.unwrap();
    let alpha: Vec<String> = (0..12).map(|i| format!("alpha {i}")).collect();
    ann.until(|c| c.texts_in("alpha") == alpha).await;
    ann.until(|c| c.texts_in("general").len() == 4).await;
    assert_eq!(
        ann.texts_in("general"),
        ["general 0", "general 3", "general 6", "general 9"]
    );
}

#[tokio::test]
async fn a_direct_message_reaches_only_its_two_people_and_a_third_is_refused_everything() {
    let addr = start_server().await;
    let mut ann = Client::connect_as(addr, Some(&token("dm-ann"))).await;
    let mut bob = Client::connect_as(addr, Some(&token("dm-bob"))).await;
    let mut eve = Client::connect_as(addr, Some(&token("dm-eve"))).await;
    let room = dm_room(&ann.id, &bob.id);

    ann.dm(&bob.id, "just for bob").await.unwrap();
    bob.until(|c| c.texts_in(&room) == ["just for bob"]).await;
    ann.until(|c| c.texts_in(&room) == ["just for bob"]).await;
    bob.dm(&ann.id, "just for ann").await.unwrap();
    ann.until(|c| c.texts_in(&room).len() == 2).await;

    // Eve tries every event with the conversation's identifiers.
    let attempts = [
        ("join", serde_json::json!({"room": room})),
        ("join", serde_json::json!({"room": room, "after": 0})),
        ("resync", serde_json::json!({"room": room, "after": 0})),
        ("message", serde_json::json!({"text": "hi", "room": room})),
        ("leave", serde_json::json!({"room": room})),
    ];
    for (event, payload) in attempts {
        let answer = eve.raw_request(event, payload.clone()).await;
        if event != "leave" {
            assert!(answer.is_err(), "{event} {payload} was accepted");
        }
    }
    // A message to a made-up or own id is refused too.
    assert!(eve.dm("not-an-id", "x").await.is_err());
    let own = eve.id.clone();
    assert!(eve.dm(&own, "x").await.is_err());
    // Writing to ann opens eve's own conversation with her, not ann and bob's.
    eve.dm(&ann.id, "hello ann").await.unwrap();
    ann.until(|c| c.texts_in(&dm_room(&c.id, &eve.id)) == ["hello ann"])
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    eve.join("general").await.unwrap();
    assert!(
        eve.messages
            .iter()
            .chain(&eve.history)
            .all(|m| m.room != room),
        "eve saw the private conversation"
    );

    // The conversation persists: bob, back later, loads it.
    drop(bob);
    let mut bob = Client::connect_as(addr, Some(&token("dm-bob"))).await;
    bob.join(&room).await.unwrap();
    bob.until(|c| c.texts_in(&room) == ["just for bob", "just for ann"])
        .await;
}

#[tokio::test]
async fn arrivals_and_departures_are_announced_once_and_a_quick_return_not_at_all() {
    use chat::protocol::NoticeKind;
    let addr = start_server().await;
    let mut ann = Client::connect(addr).await;
    let mut bob = Client::connect_as(addr, Some(&token("notice-bob"))).await;
    let bob_name = bob.name.clone();
    ann.until(|c| {
        c.notices
            .iter()
            .any(|n| n.name == bob_name && n.kind == NoticeKind::Joined)
    })
    .await;

    // A reload: gone and back within the grace period. Nobody hears of it.
    bob.close().await;
    let mut bob = Client::connect_as(addr, Some(&token("notice-bob"))).await;
    // A second tab joining later is not an arrival either.
    let tab = Client::connect_as(addr, Some(&token("notice-bob"))).await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    ann.join("general").await.unwrap();
    let about_bob: Vec<NoticeKind> = ann
        .notices
        .iter()
        .filter(|n| n.name == bob_name)
        .map(|n| n.kind)
        .collect();
    assert_eq!(about_bob, [NoticeKind::Joined], "{:?}", ann.notices);

    // Really leaving (every tab) is announced, once.
    bob.close().await;
    drop(tab);
    ann.until_for(Duration::from_secs(6), |c| {
        c.notices
            .iter()
            .any(|n| n.name == bob_name && n.kind == NoticeKind::Left)
    })
    .await;
    assert_eq!(
        ann.notices
            .iter()
            .filter(|n| n.name == bob_name && n.kind == NoticeKind::Left)
            .count(),
        1
    );
}

#[tokio::test]
async fn typing_reaches_the_others_in_the_conversation_throttled_and_never_myself() {
    let addr = start_server().await;
    let mut ann = Client::connect(addr).await;
    let mut bob = Client::connect(addr).await;
    let mut cat = Client::connect(addr).await;
    cat.join("elsewhere").await.unwrap();
    cat.request(LeaveRoom {
        room: "elsewhere".into(),
    })
    .await
    .unwrap();
    for _ in 0..5 {
        ann.send_raw(r#"42["typing",{"room":"general"}]"#).await;
    }
    bob.until(|c| !c.typing.is_empty()).await;
    assert_eq!(bob.typing[0].name, ann.name);
    assert_eq!(bob.typing[0].room, "general");
    // Five signals in a burst are relayed as one; a round trip later nothing else came.
    bob.join("general").await.unwrap();
    assert_eq!(bob.typing.len(), 1);
    ann.join("general").await.unwrap();
    assert!(ann.typing.is_empty(), "my own typing came back to me");

    // Typing in a DM reaches only the other person.
    let room = dm_room(&ann.id, &bob.id);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    ann.send_raw(&format!(r#"42["typing",{{"room":"{room}"}}]"#))
        .await;
    bob.until(|c| c.typing.iter().any(|t| t.room == room)).await;
    cat.join("general").await.unwrap();
    assert!(
        cat.typing.iter().all(|t| t.room == "general"),
        "{:?}",
        cat.typing
    );
}

/// The socket rooms the server uses for itself (a person's own connections, the readers of a
/// member list) and DM keys with their ids out of order are no conversation: posting,
/// resyncing or typing there is refused or dropped, and nobody receives anything (#16's
/// finding; before, any socket room the connection was in was accepted).
#[tokio::test]
async fn internal_socket_rooms_and_misordered_dm_keys_are_no_conversation() {
    let addr = start_server().await;
    let mut ann = Client::connect_as(addr, Some(&token("in-ann"))).await;
    let mut bob = Client::connect_as(addr, Some(&token("in-bob"))).await;
    let (low, high) = if ann.id < bob.id {
        (ann.id.clone(), bob.id.clone())
    } else {
        (bob.id.clone(), ann.id.clone())
    };
    let targets = [
        "reads:room-peers".to_owned(),
        "reads:update-peers".to_owned(),
        format!("user:{}", ann.id),
        format!("user:{}", bob.id),
        format!("dm:{high}:{low}"),
    ];
    for room in &targets {
        let sent = ann
            .raw_request(
                "message",
                serde_json::json!({"text": "sneaky", "clientId": format!("c-{room}"), "room": room}),
            )
            .await;
        assert!(sent.is_err(), "a message to {room:?} was accepted");
        let resync = ann
            .raw_request("resync", serde_json::json!({"room": room, "after": 0}))
            .await;
        assert!(resync.is_err(), "a resync of {room:?} was accepted");
        ann.send_raw(&format!(r#"42["typing",{{"room":"{room}"}}]"#))
            .await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    let joined = ann
        .raw_request(
            "join",
            serde_json::json!({"room": format!("dm:{high}:{low}")}),
        )
        .await;
    assert!(joined.is_err(), "a misordered DM key was joined");
    // A round trip later, bob has received none of it.
    bob.join("general").await.unwrap();
    assert!(bob.typing.is_empty(), "typing relayed: {:?}", bob.typing);
    let everything: Vec<&str> = bob
        .messages
        .iter()
        .chain(&bob.history)
        .map(|m| m.message.as_str())
        .collect();
    assert!(!everything.contains(&"sneaky"), "{everything:?}");
}

/// A direct message goes to a person, online or not, never to an id nobody holds: that would
/// open a conversation with nobody, stored for good (#16's finding).
#[tokio::test]
async fn a_direct_message_to_an_id_nobody_holds_is_refused() {
    let addr = start_server().await;
    let mut ann = Client::connect_as(addr, Some(&token("to-ann"))).await;
    let bob = Client::connect_as(addr, Some(&token("to-bob"))).await;
    let bob_id = bob.id.clone();
    drop(bob);
    let nobody = if ann.id == "0123456789abcdef" {
        "fedcba9876543210"
    } else {
        "0123456789abcdef"
    };
    let refused = ann.dm(nobody, "hello?").await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::BadPayload, "{refused:?}");
    // Bob has left, but he is a person: he reads it when he comes back.
    ann.dm(&bob_id, "see you later").await.unwrap();
    let mut bob = Client::connect_as(addr, Some(&token("to-bob"))).await;
    let room = dm_room(&ann.id, &bob_id);
    bob.join(&room).await.unwrap();
    bob.until(|c| c.texts_in(&room) == ["see you later"]).await;
    // And an anonymous person online can be written to.
    let cat = Client::connect(addr).await;
    ann.dm(&cat.id, "hi cat").await.unwrap();
}

/// Creating rooms has a quota (one connection used to create 150 permanent rooms in 32 s,
/// all shown to every newcomer): past it a new room is refused, saying why, and nobody's
/// room list grows; joining rooms that exist goes on working.
#[tokio::test]
async fn creating_rooms_past_the_quota_is_refused_and_lists_stay_clean() {
    let addr = support::start_server_with(|c| {
        c.chat.rooms_per_person_per_hour = 3;
        c.chat.rooms_per_address_per_day = 5;
    })
    .await;
    let mut spammer = Client::connect(addr).await;
    for n in 0..3 {
        spammer.join(&format!("spam-{n}")).await.unwrap();
    }
    let refused = spammer.join("spam-3").await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::RateLimited);
    assert!(
        refused.message.contains("3 rooms an hour"),
        "{}",
        refused.message
    );
    spammer
        .join("spam-0")
        .await
        .expect("an existing room can still be joined");
    // Another person on the same address has the rest of the address's day.
    let mut other = Client::connect(addr).await;
    other.join("music").await.unwrap();
    other.join("books").await.unwrap();
    let network = other.join("films").await.unwrap_err();
    assert!(
        network.message.contains("5 rooms a day"),
        "{}",
        network.message
    );
    let newcomer = Client::connect(addr).await;
    let mut newcomer = newcomer;
    newcomer.until(|c| !c.rooms.is_empty()).await;
    let listed: BTreeSet<&str> = newcomer.rooms.iter().map(String::as_str).collect();
    assert_eq!(
        listed,
        BTreeSet::from(["books", "general", "music", "spam-0", "spam-1", "spam-2"])
    );
}
