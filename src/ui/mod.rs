//! Leptos components: the page shell and the chat page. They read [`ChatClient`]'s signals and
//! call its methods; they never see the wire, never write the client's state, and carry no
//! `cfg`.
//!
//! The tutorial's element ids (`#message-box`, `#form`, `#input`, `#peer-list`) and texts
//! ("<sender> says: <message>", "Who's online:", "Send message") are kept on purpose.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::{use_navigate, use_params_map};
use leptos_router::{ParamSegment, StaticSegment};

mod composer;
mod messages;
mod peers;
mod timeline;

use composer::Composer;
use messages::{MessageBox, TypingLine};
use peers::PeerList;

use crate::client::{ChatClient, Status};
use crate::protocol::{Conversation, DEFAULT_ROOM, MAX_ROOM_LEN, is_direct_key, normalize_room};

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
            <body class="min-h-screen bg-slate-100 text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
                <App />
            </body>
        </html>
    }
}

/// Sends this page's Content-Security-Policy (the server owns every header).
#[cfg(feature = "ssr")]
fn send_content_security_policy() {
    crate::server::headers::send_page_policy();
}

/// The browser never renders the shell.
#[cfg(not(feature = "ssr"))]
fn send_content_security_policy() {}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // One connection for the page's lifetime, shared by every route.
    let chat = ChatClient::new();
    chat.connect();
    provide_context(chat);
    // While the tab is hidden, its title counts the messages that came in.
    let title = move || match chat.unseen().get() {
        0 => "Realtime chat".to_owned(),
        n => format!("({n}) Realtime chat"),
    };
    view! {
        <Title text=title />
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
    let chat = expect_context::<ChatClient>();
    let params = use_params_map();
    let room = Signal::derive(move || {
        let them = params.with(|p| p.get("id").unwrap_or_default());
        chat.my_id()
            .get()
            .and_then(|me| Conversation::direct(&me, &them))
            .map_or_else(|| DEFAULT_ROOM.to_owned(), |direct| direct.key())
    });
    view! { <ChatPage room /> }
}

#[component]
fn ChatPage(#[prop(into)] room: Signal<String>) -> impl IntoView {
    let chat = expect_context::<ChatClient>();
    // Browser only: follow the conversation on screen (join, history, unread reset).
    Effect::new(move |_| chat.focus(&room.get()));
    let title = move || chat.title(&room.get());

    view! {
        <main class="mx-auto flex max-w-5xl flex-col gap-3 p-2 sm:flex-row sm:items-start sm:gap-4 sm:p-8">
            <Sidebar chat=chat room=room />
            <div
                id="app"
                class="flex min-w-0 flex-1 flex-col gap-3 rounded-2xl bg-white p-3 shadow-sm ring-1 ring-slate-200 sm:gap-4 sm:p-6 dark:bg-slate-900 dark:ring-slate-800"
            >
                <header class="flex flex-wrap items-center justify-between gap-2">
                    <h2 class="text-2xl font-bold tracking-tight">"Realtime chat"</h2>
                    <StatusBadge chat=chat />
                </header>
                <div class="flex items-center justify-between gap-2">
                    <h1
                        id="room-title"
                        class="text-lg font-semibold text-slate-700 dark:text-slate-300"
                    >
                        {title}
                    </h1>
                    <LeaveButton chat=chat room=room />
                </div>
                <MessageBox chat=chat room=room />
                <TypingLine chat=chat room=room />
                <Composer chat=chat />
                <PeerList chat=chat room=room />
            </div>
        </main>
    }
}

/// The conversations: public rooms (with unread counts), a form to create one, and my direct
/// conversations.
#[component]
fn Sidebar(chat: ChatClient, room: Signal<String>) -> impl IntoView {
    let navigate = use_navigate();
    let new_room = RwSignal::new(String::new());
    let create = move |ev: SubmitEvent| {
        ev.prevent_default();
        match normalize_room(&new_room.get_untracked()) {
            Ok(name) => {
                new_room.set(String::new());
                navigate(&format!("/r/{name}"), Default::default());
            }
            Err(e) => chat.show_error(e.message),
        }
    };
    view! {
        <nav
            aria-label="Conversations"
            class="flex w-full flex-col gap-2 rounded-2xl bg-white p-3 shadow-sm ring-1 ring-slate-200 sm:w-56 sm:gap-3 sm:p-4 dark:bg-slate-900 dark:ring-slate-800"
        >
            <h3 class="text-sm font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-400">
                "Rooms"
            </h3>
            // On phones the lists become one scrollable row, so the chat stays in view.
            <ul id="room-list" class="flex flex-row gap-1 overflow-x-auto sm:flex-col">
                <For each=move || chat.rooms().get() key=|r| r.clone() let(name)>
                    <RoomLink chat=chat room=room target=name />
                </For>
            </ul>
            <form id="new-room" class="flex gap-1" on:submit=create>
                <label for="new-room-name" class="sr-only">"New room name"</label>
                <input
                    id="new-room-name"
                    class="min-w-0 flex-1 rounded-lg border border-slate-300 bg-white px-2 py-1 text-sm focus:outline-none focus:ring-2 focus:ring-blue-600 dark:border-slate-700 dark:bg-slate-950"
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
            <h3 class="text-sm font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-400">
                "Direct messages"
            </h3>
            <ul id="dm-list" class="flex flex-row gap-1 overflow-x-auto sm:flex-col">
                <For each=move || chat.direct_conversations() key=|r| r.clone() let(key)>
                    <RoomLink chat=chat room=room target=key />
                </For>
            </ul>
        </nav>
    }
}

#[component]
fn RoomLink(chat: ChatClient, room: Signal<String>, target: String) -> impl IntoView {
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
        Memo::new(move |_| chat.unread_in(&target))
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
                class="flex items-center justify-between gap-2 whitespace-nowrap rounded-lg px-2 py-1 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 aria-[current=page]:bg-blue-50 aria-[current=page]:font-semibold dark:hover:bg-slate-800 dark:aria-[current=page]:bg-blue-950"
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
fn LeaveButton(chat: ChatClient, room: Signal<String>) -> impl IntoView {
    let navigate = use_navigate();
    let leave = move |_| {
        chat.leave(&room.get_untracked());
        navigate("/", Default::default());
    };
    view! {
        <Show when=move || room.with(|r| r != DEFAULT_ROOM && !is_direct_key(r))>
            <button
                type="button"
                class="rounded-lg px-2 py-1 text-sm text-slate-700 underline hover:text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 dark:text-slate-300"
                on:click=leave.clone()
            >
                "Leave room"
            </button>
        </Show>
    }
}

#[component]
fn StatusBadge(chat: ChatClient) -> impl IntoView {
    let class = move || {
        let tone = match chat.status().get() {
            Status::Online => "bg-emerald-100 text-emerald-900",
            Status::Connecting => "bg-slate-100 text-slate-800",
            Status::Reconnecting { .. } => "bg-amber-100 text-amber-900",
            Status::Unavailable => "bg-red-100 text-red-900",
        };
        format!("rounded-full px-3 py-1 text-sm font-medium {tone}")
    };
    view! {
        <p
            id="status"
            role="status"
            class=class
            data-status=move || status_key(chat.status().get())
            data-transport=move || if chat.polling().get() { "polling" } else { "websocket" }
        >
            {move || {
                if chat.back_online().get() && chat.status().get() == Status::Online {
                    "Back online".to_owned()
                } else {
                    chat.status().get().label()
                }
            }}
        </p>
    }
}

fn status_key(status: Status) -> &'static str {
    match status {
        Status::Connecting => "connecting",
        Status::Online => "online",
        Status::Reconnecting { .. } => "reconnecting",
        Status::Unavailable => "unavailable",
    }
}
