//! Leptos components: the page shell, the routes, and (in `page`) the chat page. They read
//! [`ChatClient`]'s signals and call its methods; they never see the wire, never write the
//! client's state, and carry no `cfg`.
//!
//! The tutorial's element ids (`#message-box`, `#form`, `#input`, `#peer-list`) and texts
//! ("<sender> says: <message>", "Who's online:", "Send message") are kept on purpose.

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::use_params_map;
use leptos_router::{ParamSegment, StaticSegment};

mod actions;
mod acts;
mod composer;
mod conversations;
mod drawer;
mod follow;
mod intent;
mod mentions;
mod message;
mod messages;
mod moderation;
mod older;
mod page;
mod peers;
mod reactions;
mod rich;
mod search;
mod settings;
mod switcher;
mod timeline;
mod unread;

use composer::ComposerInput;
use page::ChatPage;

use crate::client::ChatClient;
use crate::protocol::{Conversation, DEFAULT_ROOM, normalize_room};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    send_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                // The on-screen keyboard shrinks the layout, so the composer stays above it.
                <meta
                    name="viewport"
                    content="width=device-width, initial-scale=1, interactive-widget=resizes-content"
                />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options=options.clone() />
                <HashedStylesheet options id="leptos" />
                <MetaTags />
            </head>
            <body class="min-h-dvh bg-slate-100 text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
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
    provide_context(ComposerInput::default());
    // While the tab is hidden, its title counts the messages that came in, and those that
    // mention me.
    let title = move || match (chat.unseen().get(), chat.unseen_mentions().get()) {
        (0, _) => "Realtime chat".to_owned(),
        (n, 0) => format!("({n}) Realtime chat"),
        (n, m) => format!("({n}, @{m}) Realtime chat"),
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
