//! Moderation as people meet it: a moderator removes anyone's message, mutes and bans; anyone
//! reports; every act is in the audit log; the operator names moderators from the command
//! line while the server runs (one process and several nodes); rooms go when removed or left
//! empty and unused.

use std::process::Command;
use std::time::Duration;

use crate::support::{
    Client, Process, Redis, WAIT, start_node, start_node_with, start_server_with, temp_dir, token,
};
use chat::protocol::{
    Action, Ban, DEFAULT_ROOM, Delete, ErrorCode, ListAudit, ListReports, Mute, RemoveRoom,
    ReportMessage, Unban, Unmute,
};
use chat::server::people::{public_id, user_key};

/// A person's public id, from their token (what the page shows them).
fn id_of(token: &str) -> String {
    public_id(&user_key(token))
}

/// A server in this process whose moderator is the holder of `token("mod")`.
async fn moderated() -> std::net::SocketAddr {
    let moderator = id_of(&token("mod"));
    start_server_with(|c| c.chat.moderators = vec![moderator]).await
}

/// The operator's command line, run against the chat that `env` configures.
fn operator(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_chat"))
        .args(args)
        .env(
            "CHAT_CONFIG",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml"),
        )
        .envs(env.iter().copied())
        .output()
        .expect("the server binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn code(result: Result<impl std::fmt::Debug, chat::protocol::ChatError>) -> ErrorCode {
    result.expect_err("refused").code
}

#[tokio::test]
async fn a_moderator_deletes_anyones_message_and_the_audit_log_says_so() {
    let addr = moderated().await;
    let mut ann = Client::connect_as(addr, Some(&token("ann"))).await;
    let mut bob = Client::connect_as(addr, Some(&token("bob"))).await;
    let mut moderator = Client::connect_as(addr, Some(&token("mod"))).await;
    moderator.until(|c| c.standing.is_some()).await;
    assert!(moderator.standing.as_ref().unwrap().moderator);
    assert!(ann.standing.is_none(), "a plain person is told nothing");

    let spam = ann.say("buy cheap watches").await.unwrap();
    let delete = Delete {
        room: DEFAULT_ROOM.into(),
        id: spam,
    };
    assert_eq!(
        code(bob.request(delete.clone()).await),
        ErrorCode::NotAllowed
    );
    moderator.request(delete).await.unwrap();
    for c in [&mut ann, &mut bob] {
        c.until(|c| c.update_of(DEFAULT_ROOM, spam).is_some_and(|m| m.deleted))
            .await;
    }
    assert!(
        bob.update_of(DEFAULT_ROOM, spam)
            .unwrap()
            .message
            .is_empty()
    );

    let audit = moderator.request(ListAudit(None)).await.unwrap();
    let entry = &audit.entries[0];
    assert_eq!(entry.action, Action::Delete);
    assert_eq!(
        (entry.target.as_str(), entry.by.as_str()),
        (ann.id.as_str(), moderator.id.as_str())
    );
    assert_eq!(
        (entry.room.as_deref(), entry.message),
        (Some(DEFAULT_ROOM), Some(spam))
    );
    assert_eq!(
        code(bob.request(ListAudit(None)).await),
        ErrorCode::NotAllowed
    );
    // Taking back one's own message is no moderation act.
    let own = moderator.say("oops").await.unwrap();
    let mine = Delete {
        room: DEFAULT_ROOM.into(),
        id: own,
    };
    moderator.request(mine).await.unwrap();
    assert_eq!(
        moderator
            .request(ListAudit(None))
            .await
            .unwrap()
            .entries
            .len(),
        1
    );
}

#[tokio::test]
async fn reports_reach_moderators_live_and_in_their_list() {
    let addr = moderated().await;
    let mut ann = Client::connect_as(addr, Some(&token("ann"))).await;
    let mut bob = Client::connect_as(addr, Some(&token("bob"))).await;
    let mut moderator = Client::connect_as(addr, Some(&token("mod"))).await;
    let rude = ann.say("you are all idiots").await.unwrap();
    let report = |reason: Option<&str>| ReportMessage {
        room: DEFAULT_ROOM.into(),
        id: rude,
        reason: reason.map(str::to_owned),
    };
    bob.request(report(Some("insults"))).await.unwrap();
    moderator.until(|c| !c.reports.is_empty()).await;
    let live = &moderator.reports[0];
    assert_eq!(
        (live.text.as_str(), live.from.as_str()),
        ("you are all idiots", ann.id.as_str())
    );
    assert_eq!(
        (live.by.as_str(), live.reason.as_deref()),
        (bob.id.as_str(), Some("insults"))
    );
    assert!(
        ann.reports.is_empty() && bob.reports.is_empty(),
        "only moderators see reports"
    );

    let listed = moderator.request(ListReports(None)).await.unwrap();
    assert_eq!(listed.reports, moderator.reports);
    assert!(!listed.more);
    assert_eq!(
        code(bob.request(ListReports(None)).await),
        ErrorCode::NotAllowed
    );
    assert_eq!(
        code(bob.request(report(Some(&"x".repeat(201)))).await),
        ErrorCode::TooLong
    );
    let elsewhere = ReportMessage {
        room: "secret-room".into(),
        id: 1,
        reason: None,
    };
    assert_eq!(code(bob.request(elsewhere).await), ErrorCode::BadPayload);
    let missing = ReportMessage {
        id: rude + 100,
        ..report(None)
    };
    assert_eq!(code(bob.request(missing).await), ErrorCode::NotFound);
}

#[tokio::test]
async fn a_muted_person_reads_but_cannot_post_until_unmuted() {
    let addr = moderated().await;
    let mut ann = Client::connect_as(addr, Some(&token("ann"))).await;
    let mut bob = Client::connect_as(addr, Some(&token("bob"))).await;
    let mut moderator = Client::connect_as(addr, Some(&token("mod"))).await;
    let before = ann.say("before the mute").await.unwrap();

    let mute = |id: &str, minutes| Mute {
        id: id.to_owned(),
        minutes,
    };
    moderator.request(mute(&ann.id, Some(5))).await.unwrap();
    ann.until(|c| c.standing.as_ref().is_some_and(|s| s.muted_until.is_some()))
        .await;
    assert_eq!(code(ann.say("let me speak").await), ErrorCode::Muted);
    assert_eq!(code(ann.join("new-room").await), ErrorCode::Muted);
    let react = chat::protocol::React {
        room: DEFAULT_ROOM.into(),
        id: before,
        emoji: "👍".into(),
    };
    assert_eq!(code(ann.request(react.clone()).await), ErrorCode::Muted);
    // Reading goes on.
    bob.say("can you hear me").await.unwrap();
    ann.until(|c| c.texts().contains(&"can you hear me")).await;

    // Nobody mutes a moderator, themselves, or nobody.
    let moderator_id = moderator.id.clone();
    assert_eq!(
        code(moderator.request(mute(&moderator_id, None)).await),
        ErrorCode::BadPayload
    );
    assert_eq!(
        code(bob.request(mute(&ann.id, None)).await),
        ErrorCode::NotAllowed
    );
    assert_eq!(
        code(moderator.request(mute("0000000000000000", None)).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(moderator.request(mute(&bob.id, Some(0))).await),
        ErrorCode::BadPayload
    );

    moderator
        .request(Unmute { id: ann.id.clone() })
        .await
        .unwrap();
    ann.until(|c| c.standing.as_ref().is_some_and(|s| s.muted_until.is_none()))
        .await;
    ann.say("thanks").await.unwrap();
    ann.request(react).await.unwrap();
    let actions: Vec<Action> = moderator
        .request(ListAudit(None))
        .await
        .unwrap()
        .entries
        .iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, [Action::Unmute, Action::Mute]);
}

#[tokio::test]
async fn a_banned_person_is_closed_and_refused_and_their_network_too_until_unbanned() {
    let addr = moderated().await;
    let ann_token = token("ann");
    let mut ann = Client::connect_as(addr, Some(&ann_token)).await;
    let mut moderator = Client::connect_as(addr, Some(&token("mod"))).await;
    let mut bob = Client::connect_as(addr, Some(&token("bob"))).await;
    let ban = Ban {
        id: ann.id.clone(),
        minutes: None,
        address: true,
    };
    moderator.request(ban).await.unwrap();
    ann.until(|c| c.closed).await;
    assert!(
        ann.errors.iter().any(|e| e.code == ErrorCode::Banned),
        "{:?}",
        ann.errors
    );

    let mut again = Client::connect_as_unchecked(addr, &ann_token).await;
    again.until(|c| c.closed).await;
    let refused = again.refused.clone().unwrap_or_default();
    assert!(refused.contains("banned"), "{refused:?}");
    // The address too (everyone here is 127.0.0.1): a new identity from it is refused...
    let mut fresh = Client::connect_as_unchecked(addr, &token("fresh")).await;
    fresh.until(|c| c.closed).await;
    assert!(fresh.refused.is_some());
    // ...while people already connected stay, and moderators are never held back.
    bob.say("still here").await.unwrap();
    let mut second_tab = Client::connect_as(addr, Some(&token("mod"))).await;
    assert!(!second_tab.closed);
    let bob_id = bob.id.clone();
    let ban_bob = Ban {
        id: bob_id,
        minutes: Some(0),
        address: false,
    };
    assert_eq!(
        code(second_tab.request(ban_bob).await),
        ErrorCode::BadPayload
    );

    moderator
        .request(Unban { id: ann.id.clone() })
        .await
        .unwrap();
    let back = Client::connect_as(addr, Some(&ann_token)).await;
    assert_eq!(back.id, ann.id);
    let other = Client::connect_as(addr, Some(&token("fresh"))).await;
    assert!(!other.closed, "lifting the ban lifted its address ban");
}

#[tokio::test]
async fn a_removed_room_empties_everyones_list_and_its_history() {
    let addr = moderated().await;
    let mut bob = Client::connect_as(addr, Some(&token("bob"))).await;
    let mut moderator = Client::connect_as(addr, Some(&token("mod"))).await;
    let mut watcher = Client::connect(addr).await;
    bob.join("casino").await.unwrap();
    bob.say_in("casino", "free spins").await.unwrap();
    watcher
        .until(|c| c.rooms.contains(&"casino".to_owned()))
        .await;

    let remove = |room: &str| RemoveRoom { room: room.into() };
    assert_eq!(
        code(bob.request(remove("casino")).await),
        ErrorCode::NotAllowed
    );
    assert_eq!(
        code(moderator.request(remove(DEFAULT_ROOM)).await),
        ErrorCode::BadPayload
    );
    assert_eq!(
        code(moderator.request(remove("nowhere")).await),
        ErrorCode::NotFound
    );
    moderator.request(remove("casino")).await.unwrap();
    for c in [&mut bob, &mut watcher] {
        c.until(|c| !c.rooms.contains(&"casino".to_owned())).await;
    }
    // Bob is out of it: posting there is refused until he joins again, and then it is new.
    assert_eq!(
        code(bob.say_in("casino", "hello?").await),
        ErrorCode::BadPayload
    );
    bob.join("casino").await.unwrap();
    let first = bob.say_in("casino", "fresh start").await.unwrap();
    assert_eq!(first, 1, "the room starts over");
    let audit = moderator.request(ListAudit(None)).await.unwrap();
    assert_eq!(audit.entries[0].action, Action::RemoveRoom);
    assert_eq!(audit.entries[0].target, "casino");
}

#[tokio::test]
async fn an_empty_room_nobody_uses_disappears_and_one_in_use_stays() {
    // Idle after about two seconds; checked twice per idle time.
    let addr = start_server_with(|c| c.chat.room_idle_days = 2.0 / 86_400.0).await;
    let mut ann = Client::connect(addr).await;
    let mut bob = Client::connect(addr).await;
    ann.join("passing").await.unwrap();
    ann.say_in("passing", "anyone?").await.unwrap();
    ann.request(chat::protocol::LeaveRoom {
        room: "passing".into(),
    })
    .await
    .unwrap();
    bob.join("busy").await.unwrap();
    ann.until(|c| c.rooms.contains(&"busy".to_owned())).await;
    ann.until_for(Duration::from_secs(10), |c| {
        !c.rooms.contains(&"passing".to_owned())
    })
    .await;
    assert!(!ann.rooms.contains(&"passing".to_owned()));
    // Bob is in `busy`: it stays however long nobody writes; general always stays.
    tokio::time::sleep(Duration::from_secs(3)).await;
    ann.until(|_| true).await;
    assert!(ann.rooms.contains(&"busy".to_owned()), "{:?}", ann.rooms);
    assert!(ann.rooms.contains(&DEFAULT_ROOM.to_owned()));
}

#[tokio::test]
async fn the_operator_names_moderators_while_the_server_runs() {
    let dir = temp_dir("operator");
    let db = dir.join("chat.sqlite3");
    let db_env = db.to_str().unwrap();
    let server = Process::start(Process::free_port(), &db).await;
    let mut ann = Client::connect_as(server.addr, Some(&token("ann"))).await;
    let mut bob = Client::connect_as(server.addr, Some(&token("bob"))).await;
    let env = [("CHAT_DATABASE", db_env)];

    let (ok, said) = operator(&["moderator", "add", &ann.id], &env);
    assert!(ok && said.contains("now a moderator"), "{said}");
    ann.until_for(WAIT, |c| c.standing.as_ref().is_some_and(|s| s.moderator))
        .await;
    ann.request(Mute {
        id: bob.id.clone(),
        minutes: None,
    })
    .await
    .unwrap();
    assert_eq!(code(bob.say("hm").await), ErrorCode::Muted);
    let (ok, listed) = operator(&["moderator", "list"], &env);
    assert!(
        ok && listed.contains(&format!("{}  (added)", ann.id)),
        "{listed}"
    );

    let (ok, said) = operator(&["moderator", "remove", &ann.id], &env);
    assert!(ok && said.contains("no longer"), "{said}");
    ann.until_for(WAIT, |c| c.standing.as_ref().is_some_and(|s| !s.moderator))
        .await;
    assert_eq!(
        code(ann.request(Unmute { id: bob.id.clone() }).await),
        ErrorCode::NotAllowed
    );
    let (ok, said) = operator(&["moderator", "add", "alice"], &env);
    assert!(!ok && said.contains("not a public id"), "{said}");
    let (ok, said) = operator(&["moderator", "promote"], &env);
    assert!(!ok && said.contains("usage"), "{said}");
    // Both acts of the operator are in the audit log, as the operator's.
    let moderator = id_of(&token("mod"));
    drop(server);
    let again = Process::start_with(
        Process::free_port(),
        &db,
        &[("CHAT_MODERATORS", moderator.as_str())],
    )
    .await;
    let mut m = Client::connect_as(again.addr, Some(&token("mod"))).await;
    let audit = m.request(ListAudit(None)).await.unwrap();
    let acts: Vec<(Action, &str)> = audit
        .entries
        .iter()
        .map(|e| (e.action, e.by.as_str()))
        .collect();
    assert_eq!(
        acts,
        [
            (Action::ModeratorRemove, "operator"),
            (Action::Mute, ann.id.as_str()),
            (Action::ModeratorAdd, "operator")
        ]
    );
    // The mute outlived the restart.
    let mut bob_again = Client::connect_as(again.addr, Some(&token("bob"))).await;
    assert_eq!(code(bob_again.say("and now?").await), ErrorCode::Muted);
}

#[tokio::test]
async fn across_nodes_moderators_bans_and_reports_reach_everyone() {
    let redis = Redis::start().await;
    let dir = temp_dir("moderation-cluster");
    let a = start_node(&redis, &dir, 2_000).await;
    let b = start_node(&redis, &dir, 2_000).await;
    let mut moderator = Client::connect_as(a.addr, Some(&token("mod"))).await;
    let bob_token = token("bob");
    let mut bob = Client::connect_as(b.addr, Some(&bob_token)).await;

    let url = redis.url();
    let (ok, said) = operator(
        &["moderator", "add", &moderator.id],
        &[("CHAT_REDIS_URL", &url)],
    );
    assert!(ok, "{said}");
    moderator
        .until_for(WAIT, |c| c.standing.as_ref().is_some_and(|s| s.moderator))
        .await;

    // A report on node B reaches the moderator on node A, live.
    let rude = moderator.say("moderated here").await.unwrap();
    bob.until(|c| c.texts().contains(&"moderated here")).await;
    let spam = bob.say("spam from b").await.unwrap();
    let mut carol = Client::connect_as(b.addr, Some(&token("carol"))).await;
    carol
        .request(ReportMessage {
            room: DEFAULT_ROOM.into(),
            id: spam,
            reason: None,
        })
        .await
        .unwrap();
    moderator.until(|c| !c.reports.is_empty()).await;
    assert_eq!(moderator.reports[0].text, "spam from b");
    assert_ne!(rude, spam);

    // A ban on node A closes bob's connection on node B and B refuses him after.
    moderator
        .request(Ban {
            id: bob.id.clone(),
            minutes: Some(60),
            address: false,
        })
        .await
        .unwrap();
    bob.until_for(WAIT, |c| c.closed).await;
    assert!(bob.closed, "the ban reached node B");
    let mut again = Client::connect_as_unchecked(b.addr, &bob_token).await;
    again.until(|c| c.closed).await;
    assert!(again.refused.as_deref().unwrap_or("").contains("banned"));
    // Carol, on B too, was not touched.
    carol.say("still chatting").await.unwrap();
}

#[tokio::test]
async fn anonymous_names_are_unique_across_nodes() {
    let redis = Redis::start().await;
    let dir = temp_dir("names-cluster");
    let crowd = [
        ("CHAT_MAX_CONNECTIONS_PER_IP", "1000"),
        ("CHAT_HANDSHAKES_PER_MINUTE_PER_IP", "1000"),
    ];
    let a = start_node_with(&redis, &dir, 2_000, &crowd).await;
    let b = start_node_with(&redis, &dir, 2_000, &crowd).await;
    // More people than half the colour-animal pairs: per node only, names would repeat.
    let mut names = std::collections::BTreeSet::new();
    let mut everyone = Vec::new();
    for i in 0..240 {
        let node = if i % 2 == 0 { &a } else { &b };
        let c = if i % 3 == 0 {
            Client::connect_as(node.addr, Some(&token(&format!("named-{i}")))).await
        } else {
            Client::connect(node.addr).await
        };
        assert!(names.insert(c.name.clone()), "{} given twice", c.name);
        everyone.push(c);
    }
    assert_eq!(names.len(), 240);
}

#[tokio::test]
async fn a_name_is_held_while_its_person_comes_back_and_freed_after() {
    // Held for about three seconds after the last visit.
    let addr = start_server_with(|c| c.chat.name_hold_days = 3.0 / 86_400.0).await;
    let ann_token = token("ann-away");
    let mut ann = Client::connect_as(addr, Some(&ann_token)).await;
    let (ann_id, ann_name) = (ann.id.clone(), ann.name.clone());
    ann.close().await;
    let mut bob = Client::connect(addr).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    bob.dm(&ann_id, "still there?").await.unwrap();
    let back = Client::connect_as(addr, Some(&ann_token)).await;
    assert_eq!(back.name, ann_name, "back within the hold: the same name");
    drop(back);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let refused = bob.dm(&ann_id, "hello?").await.expect_err("forgotten");
    assert_eq!(refused.code, ErrorCode::BadPayload, "{refused:?}");
}
