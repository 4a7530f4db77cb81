//! Leptos components: the page shell and the chat page. They read [`Chat`]'s signals and call
//! its methods; they never see the wire and carry no `cfg`.
//!
//! The tutorial's element ids (`#message-box`, `#form`, `#input`, `#peer-list`) and texts
//! ("<sender> says: <message>", "Who's online:", "Send message") are kept on purpose.

use leptos::ev::SubmitEvent;
use leptos::html::Input;
use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::{use_navigate, use_params_map};
use leptos_router::{ParamSegment, StaticSegment};

use crate::client::{Chat, Outgoing, Status};
use crate::protocol::names::color_of;
use crate::protocol::{
    DEFAULT_ROOM, MAX_MESSAGE_CHARS, MAX_ROOM_LEN, Peer, dm_room, is_public_id, normalize_room,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    send_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options=options.clone() />
                <HashedStylesheet options id="leptos" />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-slate-100 text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

/// Sends this page's Content-Security-Policy, naming the response's script nonce: only the
/// hydration scripts Leptos marks with it may run, plus WebAssembly (`'wasm-unsafe-eval'`).
#[cfg(feature = "ssr")]
fn send_content_security_policy() {
    use axum::http::{HeaderValue, header::CONTENT_SECURITY_POLICY};
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    // `cargo leptos watch` reloads the page over a WebSocket on its own port.
    let connect = if std::env::var_os("LEPTOS_WATCH").is_some() {
        "'self' ws:"
    } else {
        "'self'"
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src {connect}; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

/// The browser never renders the shell.
#[cfg(not(feature = "ssr"))]
fn send_content_security_policy() {}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // One connection for the page's lifetime, shared by every route.
    let chat = Chat::new();
    chat.connect();
    provide_context(chat);
    view! {
        <Title text="Realtime chat" />
        <Router>
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=StaticSegment("") view=GeneralRoute />
                <Route path=(StaticSegment("r"), ParamSegment("room")) view=RoomRoute />
                <Route path=(StaticSegment("dm"), ParamSegment("id")) view=DirectRoute />
            </Routes>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <main class="mx-auto max-w-2xl p-6">
            <h1 class="text-2xl font-bold">"Page not found"</h1>
            <a class="text-blue-700 underline" href="/">"Back to the chat"</a>
        </main>
    }
}

#[component]
fn GeneralRoute() -> impl IntoView {
    view! { <ChatPage room=Signal::derive(|| DEFAULT_ROOM.to_owned()) /> }
}

/// `/r/<room>`: the name is normalised; one that cannot be a room name shows an error.
#[component]
fn RoomRoute() -> impl IntoView {
    let params = use_params_map();
    let room =
        Memo::new(move |_| params.with(|p| normalize_room(&p.get("room").unwrap_or_default())));
    move || match room.get() {
        Ok(name) => view! { <ChatPage room=Signal::derive(move || name.clone()) /> }.into_any(),
        Err(e) => view! {
            <main class="mx-auto max-w-2xl p-6">
                <h1 class="text-2xl font-bold">"No such room"</h1>
                <p>{e.message}</p>
                <a class="text-blue-700 underline" href="/">"Back to general"</a>
            </main>
        }
        .into_any(),
    }
}

/// `/dm/<their id>`: the conversation with that person (known once I know my own id).
#[component]
fn DirectRoute() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let params = use_params_map();
    let room = Signal::derive(move || {
        let them = params.with(|p| p.get("id").unwrap_or_default());
        match chat.me_id.get() {
            Some(me) if is_public_id(&them) && them != me => dm_room(&me, &them),
            _ => DEFAULT_ROOM.to_owned(),
        }
    });
    view! { <ChatPage room /> }
}

#[component]
fn ChatPage(#[prop(into)] room: Signal<String>) -> impl IntoView {
    let chat = expect_context::<Chat>();
    // Browser only: follow the conversation on screen (join, history, unread reset).
    Effect::new(move |_| chat.focus(&room.get()));
    let title = move || chat.title(&room.get());

    view! {
        <main class="mx-auto flex max-w-5xl flex-col gap-4 p-4 sm:flex-row sm:items-start sm:p-8">
            <Sidebar chat=chat room=room />
            <div
                id="app"
                class="flex min-w-0 flex-1 flex-col gap-4 rounded-2xl bg-white p-4 shadow-sm ring-1 ring-slate-200 sm:p-6"
            >
                <header class="flex flex-wrap items-center justify-between gap-2">
                    <h2 class="text-2xl font-bold tracking-tight">"Realtime chat"</h2>
                    <StatusBadge chat=chat />
                </header>
                <div class="flex items-center justify-between gap-2">
                    <h1 id="room-title" class="text-lg font-semibold text-slate-700">
                        {title}
                    </h1>
                    <LeaveButton chat=chat room=room />
                </div>
                <MessageBox chat=chat room=room />
                <Composer chat=chat />
                <PeerList chat=chat room=room />
            </div>
        </main>
    }
}

/// The conversations: public rooms (with unread counts), a form to create one, and my direct
/// conversations.
#[component]
fn Sidebar(chat: Chat, room: Signal<String>) -> impl IntoView {
    let navigate = use_navigate();
    let new_room = RwSignal::new(String::new());
    let create = move |ev: SubmitEvent| {
        ev.prevent_default();
        match normalize_room(&new_room.get_untracked()) {
            Ok(name) => {
                new_room.set(String::new());
                navigate(&format!("/r/{name}"), Default::default());
            }
            Err(e) => chat.error.set(Some(e.message)),
        }
    };
    let direct = move || {
        chat.joined
            .get()
            .into_iter()
            .filter(|r| r.starts_with("dm:"))
            .collect::<Vec<_>>()
    };
    view! {
        <nav
            aria-label="Conversations"
            class="flex w-full flex-col gap-3 rounded-2xl bg-white p-4 shadow-sm ring-1 ring-slate-200 sm:w-56"
        >
            <h3 class="text-sm font-semibold uppercase tracking-wide text-slate-600">"Rooms"</h3>
            <ul id="room-list" class="flex flex-col gap-1">
                <For each=move || chat.rooms.get() key=|r| r.clone() let(name)>
                    <RoomLink chat=chat room=room target=name />
                </For>
            </ul>
            <form id="new-room" class="flex gap-1" on:submit=create>
                <label for="new-room-name" class="sr-only">"New room name"</label>
                <input
                    id="new-room-name"
                    class="min-w-0 flex-1 rounded-lg border border-slate-300 px-2 py-1 text-sm focus:outline-none focus:ring-2 focus:ring-blue-600"
                    placeholder="new-room"
                    maxlength=MAX_ROOM_LEN.to_string()
                    prop:value=move || new_room.get()
                    on:input=move |ev| new_room.set(event_target_value(&ev))
                />
                <button
                    type="submit"
                    class="rounded-lg bg-slate-800 px-2 py-1 text-sm font-medium text-white hover:bg-slate-900 focus:outline-none focus:ring-2 focus:ring-blue-600"
                >
                    "Create"
                </button>
            </form>
            <h3 class="text-sm font-semibold uppercase tracking-wide text-slate-600">
                "Direct messages"
            </h3>
            <ul id="dm-list" class="flex flex-col gap-1">
                <For each=direct key=|r| r.clone() let(key)>
                    <RoomLink chat=chat room=room target=key />
                </For>
            </ul>
        </nav>
    }
}

#[component]
fn RoomLink(chat: Chat, room: Signal<String>, target: String) -> impl IntoView {
    let href = {
        let target = target.clone();
        move || match chat.partner(&target) {
            Some(them) => format!("/dm/{them}"),
            None if target == DEFAULT_ROOM => "/".to_owned(),
            None => format!("/r/{target}"),
        }
    };
    let current = {
        let target = target.clone();
        move || room.with(|r| r == &target)
    };
    let unread = {
        let target = target.clone();
        Memo::new(move |_| chat.unread.with(|u| u.get(&target).copied().unwrap_or(0)))
    };
    let label = {
        let target = target.clone();
        move || chat.title(&target)
    };
    view! {
        <li>
            <a
                href=href
                data-room=target.clone()
                aria-current=move || current().then_some("page")
                class="flex items-center justify-between rounded-lg px-2 py-1 hover:bg-slate-100 aria-[current=page]:bg-blue-50 aria-[current=page]:font-semibold"
            >
                <span>{label}</span>
                <Show when=move || { unread.get() > 0 }>
                    <span
                        class="unread rounded-full bg-blue-700 px-2 text-xs font-semibold text-white"
                        aria-label=move || format!("{} unread", unread.get())
                    >
                        {move || unread.get()}
                    </span>
                </Show>
            </a>
        </li>
    }
}

#[component]
fn LeaveButton(chat: Chat, room: Signal<String>) -> impl IntoView {
    let navigate = use_navigate();
    let leave = move |_| {
        chat.leave(&room.get_untracked());
        navigate("/", Default::default());
    };
    view! {
        <Show when=move || room.with(|r| r != DEFAULT_ROOM && !r.starts_with("dm:"))>
            <button
                type="button"
                class="rounded-lg px-2 py-1 text-sm text-slate-700 underline hover:text-slate-900"
                on:click=leave.clone()
            >
                "Leave room"
            </button>
        </Show>
    }
}

#[component]
fn StatusBadge(chat: Chat) -> impl IntoView {
    let class = move || {
        let tone = match chat.status.get() {
            Status::Online => "bg-emerald-100 text-emerald-800",
            Status::Connecting => "bg-slate-100 text-slate-700",
            Status::Reconnecting { .. } => "bg-amber-100 text-amber-900",
        };
        format!("rounded-full px-3 py-1 text-sm font-medium {tone}")
    };
    view! {
        <p
            id="status"
            role="status"
            class=class
            data-status=move || status_key(chat.status.get())
            data-transport=move || if chat.polling.get() { "polling" } else { "websocket" }
        >
            {move || chat.status.get().label()}
        </p>
    }
}

fn status_key(status: Status) -> &'static str {
    match status {
        Status::Connecting => "connecting",
        Status::Online => "online",
        Status::Reconnecting { .. } => "reconnecting",
    }
}

#[component]
fn MessageBox(chat: Chat, room: Signal<String>) -> impl IntoView {
    let shown = move || {
        room.with(|room| {
            chat.messages.with(|list| {
                list.iter()
                    .filter(|m| &m.room == room)
                    .cloned()
                    .collect::<Vec<_>>()
            })
        })
    };
    // My messages the server has not confirmed, except those whose broadcast already arrived.
    let pending = move || {
        let confirmed: std::collections::HashSet<String> = chat
            .messages
            .with(|list| list.iter().filter_map(|m| m.client_id.clone()).collect());
        room.with(|room| {
            chat.outgoing.with(|list| {
                list.iter()
                    .filter(|o| &o.room == room && !confirmed.contains(&o.client_id))
                    .cloned()
                    .collect::<Vec<_>>()
            })
        })
    };
    view! {
        <div
            id="message-box"
            role="log"
            aria-live="polite"
            aria-label="Messages"
            class="flex h-80 flex-col gap-1 overflow-y-auto rounded-xl bg-slate-50 p-3 ring-1 ring-slate-200"
        >
            <For each=shown key=|m| (m.room.clone(), m.id) let(m)>
                <p class="break-words whitespace-pre-wrap">
                    <strong class="font-semibold">{format!("{} says: ", m.sender)}</strong>
                    <span>{m.message}</span>
                </p>
            </For>
            <For
                each=pending
                key=|o| (o.client_id.clone(), o.failed.clone())
                let(o)
            >
                <PendingLine chat=chat item=o />
            </For>
        </div>
    }
}

/// One of my messages on its way: greyed while sending, with Retry and Discard if refused.
#[component]
fn PendingLine(chat: Chat, item: Outgoing) -> impl IntoView {
    let me = move || chat.me.get().unwrap_or_else(|| "You".into());
    let Outgoing {
        client_id,
        text,
        failed,
        ..
    } = item;
    let status = match &failed {
        None => view! { <em class="ml-2 text-sm text-slate-600">"Sending…"</em> }.into_any(),
        Some(reason) => {
            let retry_id = client_id.clone();
            let discard_id = client_id.clone();
            view! {
                <span class="ml-2 text-sm text-red-700">{format!("Not sent: {reason}")}</span>
                <button
                    type="button"
                    class="ml-2 text-sm font-medium text-blue-700 underline"
                    on:click=move |_| chat.retry(&retry_id)
                >
                    "Retry"
                </button>
                <button
                    type="button"
                    class="ml-2 text-sm font-medium text-slate-700 underline"
                    on:click=move |_| chat.discard(&discard_id)
                >
                    "Discard"
                </button>
            }
            .into_any()
        }
    };
    view! {
        <p class="break-words whitespace-pre-wrap text-slate-500" data-pending="true">
            <strong class="font-semibold">{move || format!("{} says: ", me())}</strong>
            <span>{text}</span>
            {status}
        </p>
    }
}

#[component]
fn Composer(chat: Chat) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    let input = NodeRef::<Input>::new();
    // Offline is fine: the message waits and goes out after reconnecting.
    let can_send = move || draft.with(|d| !d.trim().is_empty());

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if !can_send() {
            return;
        }
        match chat.send(&draft.get_untracked()) {
            Ok(()) => {
                draft.set(String::new());
                // Closes the on-screen keyboard on phones.
                if let Some(input) = input.get_untracked() {
                    let _ = input.blur();
                }
            }
            Err(e) => chat.error.set(Some(e.message)),
        }
    };

    view! {
        <form id="form" action="#" method="POST" class="flex gap-2" on:submit=on_submit>
            <label for="input" class="sr-only">"Message"</label>
            <input
                id="input"
                node_ref=input
                class="min-w-0 flex-1 rounded-lg border border-slate-300 bg-white px-3 py-2 focus:outline-none focus:ring-2 focus:ring-blue-600"
                placeholder="Start typing..."
                autocomplete="off"
                maxlength=MAX_MESSAGE_CHARS.to_string()
                prop:value=move || draft.get()
                on:input=move |ev| draft.set(event_target_value(&ev))
            />
            <button
                type="submit"
                class="rounded-lg bg-blue-700 px-4 py-2 font-medium text-white hover:bg-blue-800 focus:outline-none focus:ring-2 focus:ring-blue-600 focus:ring-offset-2 disabled:cursor-not-allowed disabled:bg-slate-400"
                disabled=move || !can_send()
            >
                "Send message"
            </button>
        </form>
        <p id="composer-error" role="alert" class="min-h-5 text-sm text-red-700">
            {move || chat.error.get()}
        </p>
    }
}

#[component]
fn PeerList(chat: Chat, room: Signal<String>) -> impl IntoView {
    view! {
        <section aria-labelledby="peers-heading">
            <h3 id="peers-heading" class="mb-2 text-lg font-semibold">
                "Who's online:"
            </h3>
            <ul id="peer-list" class="flex flex-col gap-1">
                <For each=move || chat.peers_in(&room.get()) key=|p| p.id.clone() let(peer)>
                    <PeerItem chat=chat peer=peer />
                </For>
            </ul>
        </section>
    }
}

#[component]
fn PeerItem(chat: Chat, peer: Peer) -> impl IntoView {
    let Peer { id, name } = peer;
    let dot = format!(
        "inline-block h-2.5 w-2.5 shrink-0 rounded-full {}",
        dot_class(color_of(&name))
    );
    let is_me = {
        let id = id.clone();
        Memo::new(move |_| chat.me_id.with(|me| me.as_deref() == Some(id.as_str())))
    };
    let message_label = format!("Send a direct message to {name}");
    view! {
        <li class="flex items-center gap-2">
            <span class=dot aria-hidden="true"></span>
            <span class="peer-name">{name}{move || is_me.get().then_some(" (you)")}</span>
            <Show when=move || !is_me.get()>
                <a
                    href=format!("/dm/{id}")
                    class="dm-link ml-auto text-sm text-blue-700 underline"
                    aria-label=message_label.clone()
                >
                    "Message"
                </a>
            </Show>
        </li>
    }
}

/// The dot colour for a name's colour. Written out in full so Tailwind keeps every class.
fn dot_class(color: Option<&str>) -> &'static str {
    match color {
        Some("red") => "bg-red-500",
        Some("orange") => "bg-orange-500",
        Some("amber") => "bg-amber-500",
        Some("yellow") => "bg-yellow-400",
        Some("lime") => "bg-lime-500",
        Some("green") => "bg-green-600",
        Some("emerald") => "bg-emerald-500",
        Some("teal") => "bg-teal-500",
        Some("cyan") => "bg-cyan-500",
        Some("sky") => "bg-sky-500",
        Some("blue") => "bg-blue-600",
        Some("indigo") => "bg-indigo-500",
        Some("violet") => "bg-violet-500",
        Some("purple") => "bg-purple-600",
        Some("fuchsia") => "bg-fuchsia-500",
        Some("pink") => "bg-pink-500",
        Some("rose") => "bg-rose-500",
        _ => "bg-gray-500",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::names::COLORS;

    #[test]
    fn every_name_colour_has_its_own_dot() {
        let mut seen = std::collections::HashSet::new();
        for color in COLORS {
            let class = dot_class(Some(color));
            assert!(class.contains(color), "{color} drawn as {class}");
            assert!(seen.insert(class));
        }
    }
}
