//! Leptos components: the page shell and the chat page. They read [`Chat`]'s signals and call
//! its methods; they never see the wire and carry no `cfg`.
//!
//! The tutorial's element ids (`#message-box`, `#form`, `#input`, `#peer-list`) and texts
//! ("<sender> says: <message>", "Who's online:", "Send message") are kept on purpose.

use leptos::ev::SubmitEvent;
use leptos::html::Input;
use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::StaticSegment;
use leptos_router::components::{Route, Router, Routes};

use crate::client::{Chat, Outgoing, Status};
use crate::protocol::MAX_MESSAGE_CHARS;
use crate::protocol::names::color_of;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
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

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Realtime chat" />
        <Router>
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=StaticSegment("") view=ChatPage />
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
fn ChatPage() -> impl IntoView {
    let chat = Chat::new();
    chat.connect();

    view! {
        <main class="mx-auto flex max-w-2xl flex-col gap-4 p-4 sm:p-8">
            <div id="app" class="flex flex-col gap-4 rounded-2xl bg-white p-4 shadow-sm ring-1 ring-slate-200 sm:p-6">
                <header class="flex items-center justify-between gap-2">
                    <h2 class="text-2xl font-bold tracking-tight">"Realtime chat"</h2>
                    <StatusBadge chat=chat />
                </header>
                <MessageBox chat=chat />
                <Composer chat=chat />
                <PeerList chat=chat />
            </div>
        </main>
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
fn MessageBox(chat: Chat) -> impl IntoView {
    // My messages the server has not confirmed, except those whose broadcast already arrived.
    let pending = move || {
        let confirmed: std::collections::HashSet<String> = chat
            .messages
            .with(|list| list.iter().filter_map(|m| m.client_id.clone()).collect());
        chat.outgoing.with(|list| {
            list.iter()
                .filter(|o| !confirmed.contains(&o.client_id))
                .cloned()
                .collect::<Vec<_>>()
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
            <For
                each=move || chat.messages.get()
                key=|m| (m.room.clone(), m.id)
                let(m)
            >
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
fn PeerList(chat: Chat) -> impl IntoView {
    view! {
        <section aria-labelledby="peers-heading">
            <h3 id="peers-heading" class="mb-2 text-lg font-semibold">"Who's online:"</h3>
            <ul id="peer-list" class="flex flex-col gap-1">
                <For each=move || chat.peers.get() key=|name| name.clone() let(name)>
                    <PeerItem chat=chat name=name />
                </For>
            </ul>
        </section>
    }
}

#[component]
fn PeerItem(chat: Chat, name: String) -> impl IntoView {
    let dot = format!(
        "inline-block h-2.5 w-2.5 shrink-0 rounded-full {}",
        dot_class(color_of(&name))
    );
    let is_me = {
        let name = name.clone();
        move || chat.me.with(|me| me.as_deref() == Some(name.as_str()))
    };
    view! {
        <li class="flex items-center gap-2">
            <span class=dot aria-hidden="true"></span>
            {name}
            {move || is_me().then_some(" (you)")}
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
