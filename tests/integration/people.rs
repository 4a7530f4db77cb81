//! People as others see them: a chosen name (the rules, lookalikes refused, unique across
//! nodes, seen live by everyone, the tutorial's clients included) and `@mentions` resolved by
//! the server.

use crate::support::{Client, Redis, start_node, start_server, temp_dir, token};
use chat::protocol::names::{color_for, color_of};
use chat::protocol::{DEFAULT_ROOM, Edit, ErrorCode, Rename};

async fn rename(c: &mut Client, name: &str) -> Result<String, ErrorCode> {
    c.request(Rename { name: name.into() })
        .await
        .map(|r| r.name)
        .map_err(|e| e.code)
}

#[tokio::test]
async fn a_chosen_name_follows_the_rules_and_nobody_can_look_like_someone_else() {
    let addr = start_server().await;
    let mut ann = Client::connect_as(addr, Some(&token("ann"))).await;
    let mut bob = Client::connect_as(addr, Some(&token("bob"))).await;
    // Generated names are in the person's own colour, so a chosen one keeps their dot.
    assert_eq!(color_of(&ann.name), Some(color_for(&ann.id)));

    assert_eq!(rename(&mut ann, "  Ann   Lee ").await, Ok("Ann Lee".into()));
    assert_eq!(rename(&mut bob, "a").await, Err(ErrorCode::BadName));
    assert_eq!(rename(&mut bob, "bob 🙂").await, Err(ErrorCode::BadName));
    assert_eq!(
        rename(&mut bob, &"b".repeat(25)).await,
        Err(ErrorCode::BadName)
    );
    for lookalike in [
        "ann lee",
        "ANN-LEE",
        "Аnn Lee",
        "Ann_Lee",
        "Ánn Lee",
        "Ann Ⅼee",
    ] {
        assert_eq!(
            rename(&mut bob, lookalike).await,
            Err(ErrorCode::NameTaken),
            "{lookalike}"
        );
    }
    // Someone else's generated name is taken too; one's own in another case is fine.
    let ann_again = ann.name.clone();
    assert_eq!(ann_again, "Ann Lee");
    let cat = Client::connect_as(addr, Some(&token("cat"))).await;
    let cats = cat.name.clone();
    assert_eq!(
        rename(&mut bob, &cats.to_uppercase()).await,
        Err(ErrorCode::NameTaken)
    );
    let mut anonymous = Client::connect(addr).await;
    assert_eq!(
        rename(&mut anonymous, "Lurker").await,
        Err(ErrorCode::NotAllowed)
    );
    // The old name is free at once.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    assert_eq!(rename(&mut ann, "Ann").await, Ok("Ann".into()));
    assert_eq!(rename(&mut bob, "Ann Lee").await, Ok("Ann Lee".into()));
    // A returning person keeps the chosen name.
    drop(ann);
    let back = Client::connect_as(addr, Some(&token("ann"))).await;
    assert_eq!(back.name, "Ann");
}

#[tokio::test]
async fn everyone_sees_a_rename_live_the_tutorials_clients_too() {
    let addr = start_server().await;
    let mut ann = Client::connect_as(addr, Some(&token("ann"))).await;
    let mut ann_tab = Client::connect_as(addr, Some(&token("ann"))).await;
    let mut bob = Client::connect(addr).await;
    let mut tutorial = Client::connect_tutorial(addr).await;
    let old = ann.name.clone();
    tutorial.until(|c| c.peers.contains(&old)).await;
    bob.until(|c| c.peers.contains(&old)).await;

    assert_eq!(rename(&mut ann, "Annie").await, Ok("Annie".into()));
    let id = ann.id.clone();
    bob.until(|c| c.renames.iter().any(|r| r.id == id && r.name == "Annie"))
        .await;
    bob.until(|c| c.peers.contains(&"Annie".to_owned()) && !c.peers.contains(&old))
        .await;
    tutorial
        .until(|c| c.peers.contains(&"Annie".to_owned()) && !c.peers.contains(&old))
        .await;
    ann_tab.until(|c| c.name == "Annie").await;
    // What ann says from either tab now carries the new name.
    ann_tab.say("from the other tab").await.unwrap();
    bob.until(|c| c.messages.iter().any(|m| m.message == "from the other tab"))
        .await;
    let said = bob
        .messages
        .iter()
        .find(|m| m.message == "from the other tab");
    assert_eq!(said.unwrap().sender, "Annie");
    // Told apart by id: the room's list has ann once, under her id.
    let listed = &bob.room_peers[DEFAULT_ROOM];
    assert_eq!(listed.iter().filter(|(i, _)| *i == id).count(), 1);
}

#[tokio::test]
async fn two_nodes_racing_for_one_name_give_it_to_one_person() {
    let redis = Redis::start().await;
    let dir = temp_dir("rename-race");
    let a = start_node(&redis, &dir, 2_000).await;
    let b = start_node(&redis, &dir, 2_000).await;
    for round in 0..5 {
        let mut ann = Client::connect_as(a.addr, Some(&token(&format!("ann-{round}")))).await;
        let mut bob = Client::connect_as(b.addr, Some(&token(&format!("bob-{round}")))).await;
        let wanted = format!("Racer {round}");
        // A lookalike of the same name on the other node, at the same moment.
        let lookalike = format!("RАCER-{round}");
        let (first, second) = tokio::join!(rename(&mut ann, &wanted), rename(&mut bob, &lookalike));
        let winners = [&first, &second].iter().filter(|r| r.is_ok()).count();
        assert_eq!(winners, 1, "round {round}: {first:?} {second:?}");
        let loser = if first.is_ok() { &second } else { &first };
        assert_eq!(loser, &Err(ErrorCode::NameTaken));
        // Both nodes' lists show the winner's new name.
        let winner_name = first.clone().or(second.clone()).unwrap();
        for c in [&mut ann, &mut bob] {
            c.until(|c| c.peers.contains(&winner_name)).await;
        }
    }
}

#[tokio::test]
async fn the_server_resolves_mentions_to_public_ids() {
    let addr = start_server().await;
    let mut ann = Client::connect_as(addr, Some(&token("ann"))).await;
    let mut bob = Client::connect_as(addr, Some(&token("bob"))).await;
    let mut cat = Client::connect_as(addr, Some(&token("cat"))).await;
    rename(&mut ann, "Ann Lee").await.unwrap();
    rename(&mut bob, "Bob").await.unwrap();
    let elsewhere = Client::connect_as(addr, Some(&token("dan"))).await;
    for c in [&mut ann, &mut bob, &mut cat] {
        c.join("plans").await.unwrap();
    }
    cat.until(|c| c.room_peers.get("plans").is_some_and(|p| p.len() == 3))
        .await;
    let id = cat
        .say_in(
            "plans",
            &format!("@bob and @ann lee: lunch? (not @{})", elsewhere.name),
        )
        .await
        .unwrap();
    ann.until(|c| c.messages.iter().any(|m| m.room == "plans" && m.id == id))
        .await;
    let got = ann
        .messages
        .iter()
        .find(|m| m.room == "plans" && m.id == id)
        .unwrap();
    assert_eq!(got.mentions, [bob.id.clone(), ann.id.clone()]);
    // An edit resolves them again.
    cat.request(Edit {
        room: "plans".into(),
        id,
        text: "just @Bob".into(),
    })
    .await
    .unwrap();
    ann.until(|c| {
        c.update_of("plans", id)
            .is_some_and(|m| m.mentions == [bob.id.clone()])
    })
    .await;
}
