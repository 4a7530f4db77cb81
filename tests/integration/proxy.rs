//! Behind a reverse proxy, for real: Debian's nginx running `deploy/nginx.conf` (the config
//! README quotes) in front of two nodes on one Redis. Through it the page loads, WebSocket
//! clients on both nodes chat, a long-polling session keeps reaching the node that holds it,
//! and the per-address limits count the address nginx saw, not nginx's nor one a client
//! wrote itself.
//!
//! Every client here picks its own loopback source address (127.0.0.x: all of 127/8 is this
//! machine), while nginx reaches the nodes from 127.0.0.1, the one trusted proxy. That is what
//! makes reading the forwarded address visible: a node that ignored it would count every
//! proxied client as 127.0.0.1. One nginx, one Redis and two nodes serve the whole file, so
//! the steps run in order in one test.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::support::nginx::{self, Nginx};
use crate::support::polling::Polling;
use crate::support::{Client, Process, Redis, TempDir, WAIT, http_get, start_node_with, temp_dir};

/// `chat.max-connections-per-ip` on both nodes: small, so a test can reach it.
const CAP: usize = 2;

fn loopback(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
}

struct Stack {
    nginx: Nginx,
    nodes: [Process; 2],
    _redis: Redis,
    _dir: TempDir,
}

impl Stack {
    async fn start() -> Stack {
        let redis = Redis::start().await;
        let dir = temp_dir("proxy");
        let cap = CAP.to_string();
        let env = [
            ("CHAT_TRUSTED_PROXIES", "127.0.0.1/32"),
            ("CHAT_MAX_CONNECTIONS_PER_IP", cap.as_str()),
        ];
        let nodes = [
            start_node_with(&redis, &dir, 1_500, &env).await,
            start_node_with(&redis, &dir, 1_500, &env).await,
        ];
        let nginx = Nginx::start([nodes[0].addr, nodes[1].addr]).await;
        Stack {
            nginx,
            nodes,
            _redis: redis,
            _dir: dir,
        }
    }

    /// Each node's `chat_connected_clients`, once they add up to `total`.
    async fn connected(&self, total: u64) -> [u64; 2] {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let mut counts = [0; 2];
            for (count, node) in counts.iter_mut().zip(&self.nodes) {
                let (_, metrics) = http_get(node.addr, "/metrics").await;
                *count = metrics
                    .lines()
                    .find_map(|l| l.strip_prefix("chat_connected_clients "))
                    .and_then(|n| n.trim().parse().ok())
                    .unwrap_or_else(|| panic!("no chat_connected_clients in {metrics}"));
            }
            if counts.iter().sum::<u64>() == total {
                return counts;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the nodes count {counts:?} clients, not {total} in all"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[test]
fn readme_quotes_the_config_the_test_runs() {
    let readme = include_str!("../../README.md");
    assert!(
        readme.contains(&format!("```nginx\n{}```", nginx::CONFIG)),
        "README's \"Behind nginx\" section must quote deploy/nginx.conf exactly"
    );
}

#[tokio::test]
async fn two_nodes_behind_nginx() {
    let stack = Stack::start().await;
    the_page_and_the_client_bundle_come_through(&stack).await;
    let (mut ann, mut bob) = websocket_clients_on_both_nodes_chat(&stack).await;
    a_long_polling_session_stays_on_its_node(&stack, &mut ann, &mut bob).await;
    limits_count_the_address_nginx_saw(&stack).await;
}

async fn the_page_and_the_client_bundle_come_through(stack: &Stack) {
    let (status, page) = http_get(stack.nginx.addr, "/").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"message-box\""), "{page}");
    let (status, bundle) = http_get(stack.nginx.addr, "/socket.io/socket.io.min.js").await;
    assert_eq!(status, 200, "{bundle}");
    let (_, direct) = http_get(stack.nodes[0].addr, "/socket.io/socket.io.min.js").await;
    assert!(
        !bundle.is_empty() && bundle == direct,
        "the bundle changed on its way"
    );
}

/// People arrive from addresses nginx spreads over the nodes (by address: one address, one
/// node). Opened with the `Origin` a browser on nginx's page sends; the first two clients
/// that land on different nodes chat with each other.
async fn websocket_clients_on_both_nodes_chat(stack: &Stack) -> (Client, Client) {
    let origin = format!("http://{}", stack.nginx.addr);
    let mut on: [Option<Client>; 2] = [None, None];
    let mut more = Vec::new();
    let mut before = [0, 0];
    for last in 10..40 {
        let client =
            Client::try_connect_from(stack.nginx.addr, loopback(last), &[("origin", &origin)])
                .await
                .unwrap_or_else(|status| panic!("a page's handshake through nginx: {status}"));
        let after = stack.connected(before.iter().sum::<u64>() + 1).await;
        let node = usize::from(after[1] > before[1]);
        before = after;
        if on[node].is_none() {
            on[node] = Some(client);
        } else {
            more.push(client);
        }
        if on.iter().all(Option::is_some) {
            break;
        }
    }
    let [Some(mut ann), Some(mut bob)] = on else {
        panic!("30 client addresses all went to one node: nginx does not balance");
    };
    println!(
        "nginx put {} client addresses on nodes {before:?}",
        more.len() + 2
    );
    ann.say("hello from node 0").await.unwrap();
    bob.until(|c| c.texts().contains(&"hello from node 0"))
        .await;
    bob.say("hello from node 1").await.unwrap();
    ann.until(|c| c.texts().contains(&"hello from node 1"))
        .await;
    (ann, bob)
}

/// Without stickiness, nginx would send the session's next request to the other node, which
/// answers 400 "Session ID unknown"; the client fails on any answer but 200.
async fn a_long_polling_session_stays_on_its_node(
    stack: &Stack,
    ann: &mut Client,
    bob: &mut Client,
) {
    let mut poller = Polling::connect(stack.nginx.addr, loopback(50)).await;
    poller.say("polled through nginx").await;
    for c in [&mut *ann, &mut *bob] {
        c.until(|c| c.texts().contains(&"polled through nginx"))
            .await;
    }
    ann.say("to the poller from node 0").await.unwrap();
    poller.until_text("to the poller from node 0").await;
    bob.say("to the poller from node 1").await.unwrap();
    poller.until_text("to the poller from node 1").await;
    println!("one polling session, {} requests", poller.round_trips);
}

/// With a cap of two per address: a client naming other addresses in its own headers is
/// still counted under its own, on both paths to a node; nginx's address is not charged for
/// the clients it carries.
async fn limits_count_the_address_nginx_saw(stack: &Stack) {
    let me = loopback(60);
    let spoofed = |n: u8| {
        let claimed = format!("10.9.9.{n}");
        [
            ("x-forwarded-for", claimed.clone()),
            ("forwarded", format!("for={claimed}")),
        ]
    };
    let via_nginx = |n: u8| {
        let headers = spoofed(n);
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            Client::try_connect_from(stack.nginx.addr, me, &headers).await
        }
    };
    let mut held = Vec::new();
    for n in 1..=CAP as u8 {
        held.push(
            via_nginx(n)
                .await
                .unwrap_or_else(|s| panic!("within the cap: {s}")),
        );
    }
    assert_eq!(
        via_nginx(9).await.err(),
        Some(429),
        "claiming another address in X-Forwarded-For / Forwarded escaped the cap"
    );

    // Straight to the nodes from the same address (headers from an untrusted peer count for
    // nothing): the node holding its two proxied sessions refuses, the other admits.
    let mut refused = Vec::new();
    for (i, node) in stack.nodes.iter().enumerate() {
        match Client::try_connect_from(node.addr, me, &[("x-forwarded-for", "10.9.9.9")]).await {
            Ok(client) => held.push(client),
            Err(429) => refused.push(i),
            Err(status) => panic!("node {i}: {status}"),
        }
    }
    assert_eq!(
        refused.len(),
        1,
        "sessions from {me} through nginx and straight to the node must share one cap; \
         refused by nodes {refused:?}"
    );

    // nginx's own address, 127.0.0.1, has its own cap on that node, untouched.
    let node = &stack.nodes[refused[0]];
    for _ in 0..CAP {
        let direct = Client::try_connect_from(node.addr, loopback(1), &[]).await;
        held.push(
            direct.unwrap_or_else(|s| panic!("127.0.0.1 was charged for proxied clients: {s}")),
        );
    }
}
