//! Searching messages from the bar across the top: a search form, and under it a panel of
//! results, newest first (who, where, when, the text around the first match with the
//! matched words marked), "Load more" while older ones remain. Choosing a result opens its
//! conversation at the message; Esc closes the panel.

use leptos::ev;
use leptos::html::Input;
use leptos::prelude::*;

use super::drawer::FOCUS_RING;
use crate::client::search::{Searches, Snippet, snippet};
use crate::client::{ChatClient, clock};
use crate::protocol::search::{MAX_QUERY_CHARS, SearchHit};

const SMALL: &str = "rounded-lg border border-slate-300 px-2 py-0.5 text-sm hover:bg-slate-100 dark:border-slate-600 dark:hover:bg-slate-800";

#[component]
pub fn MessageSearch(chat: ChatClient) -> impl IntoView {
    let searches = Searches::new();
    let open = RwSignal::new(false);
    let input = NodeRef::<Input>::new();
    let close = move || {
        open.set(false);
        searches.clear();
    };
    let submit = move |ev: ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(input) = input.get_untracked() {
            chat.search(searches, &input.value());
            open.set(true);
        }
    };
    let escape = move |ev: ev::KeyboardEvent| {
        if ev.key() == "Escape" && open.get_untracked() {
            ev.stop_propagation();
            close();
            if let Some(input) = input.get_untracked() {
                let _ = input.focus();
            }
        }
    };
    let chosen = move || {
        close();
        if let Some(input) = input.get_untracked() {
            input.set_value("");
        }
    };
    view! {
        <div class="relative min-w-0 shrink" on:keydown=escape>
            <form role="search" aria-label="Search messages" on:submit=submit>
                <label for="search-input" class="sr-only">"Search messages"</label>
                <input
                    node_ref=input
                    id="search-input"
                    type="search"
                    placeholder="Search messages"
                    maxlength=MAX_QUERY_CHARS
                    autocomplete="off"
                    aria-controls="search-results"
                    class=format!(
                        "w-28 rounded-lg border border-slate-300 bg-white px-2 py-1 text-sm sm:w-52 dark:border-slate-700 dark:bg-slate-900 {FOCUS_RING}",
                    )
                />
            </form>
            <section
                id="search-results"
                aria-label="Search results"
                hidden=move || !open.get()
                class="absolute right-0 top-full z-30 mt-1 w-[min(32rem,calc(100vw-1rem))] rounded-xl bg-white text-slate-900 shadow-2xl ring-1 ring-slate-200 dark:bg-slate-900 dark:text-slate-100 dark:ring-slate-700"
            >
                <div class="flex items-center gap-2 border-b border-slate-200 px-3 py-2 dark:border-slate-700">
                    <h2 class="mr-auto text-sm font-semibold">"Search results"</h2>
                    <button type="button" class=format!("rounded-lg p-1 {FOCUS_RING}")
                        aria-label="Close search" on:click=move |_| close()>
                        <span class="icon icon-close" aria-hidden="true"></span>
                    </button>
                </div>
                <div class="max-h-[60vh] overflow-y-auto p-2">
                    <Results chat searches chosen />
                </div>
            </section>
        </div>
    }
}

/// The list, what it is doing, and "Load more".
#[component]
fn Results(
    chat: ChatClient,
    searches: Searches,
    chosen: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let found = searches.found();
    let hits = Memo::new(move |_| found.with(|f| f.hits.clone()));
    let note = move || {
        found.with(|f| {
            if f.loading && f.hits.is_empty() {
                Some("Searching…".to_owned())
            } else if !f.loading && f.error.is_none() && f.hits.is_empty() && !f.query.is_empty() {
                Some(format!("No messages found for “{}”.", f.query))
            } else {
                None
            }
        })
    };
    view! {
        <p role="status" class="px-1 text-sm text-slate-600 empty:hidden dark:text-slate-400">{note}</p>
        <p role="alert" class="px-1 text-sm text-red-700 empty:hidden dark:text-red-400">
            {move || found.with(|f| f.error.clone())}
        </p>
        <ul id="search-list" class="flex flex-col gap-1">
            <For each=move || hits.get() key=|h| (h.message.room.clone(), h.message.id) let(hit)>
                <ResultRow chat hit chosen />
            </For>
        </ul>
        <button
            type="button"
            id="search-more"
            class=format!("mt-2 {SMALL} {FOCUS_RING}")
            hidden=move || found.with(|f| !f.more)
            disabled=move || found.with(|f| f.loading)
            on:click=move |_| chat.search_more(searches)
        >
            {move || if found.with(|f| f.loading) { "Loading…" } else { "Load more" }}
        </button>
    }
}

#[component]
fn ResultRow(
    chat: ChatClient,
    hit: SearchHit,
    chosen: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let message = hit.message;
    let (short, full, _) = clock::local_time(message.ts);
    let place = chat.place_of(&message.room);
    let Snippet {
        pieces,
        cut_before,
        cut_after,
    } = snippet(&message.message, &hit.matches);
    let text = pieces
        .into_iter()
        .map(|p| {
            if p.mark {
                view! { <mark class="rounded-sm bg-amber-200 px-0.5 text-inherit dark:bg-amber-700">{p.text}</mark> }
                    .into_any()
            } else {
                p.text.into_any()
            }
        })
        .collect_view();
    let (room, id) = (message.room.clone(), message.id);
    let open = move |_| {
        chosen();
        chat.open_at(&room, id);
    };
    view! {
        <li>
            <button
                type="button"
                class=format!(
                    "search-result w-full rounded-lg px-2 py-1.5 text-left hover:bg-slate-100 dark:hover:bg-slate-800 {FOCUS_RING}",
                )
                data-room=message.room.clone()
                data-id=message.id
                on:click=open
            >
                <span class="flex gap-2 text-sm text-slate-600 dark:text-slate-400">
                    <strong class="search-sender text-slate-900 dark:text-slate-100">{message.sender}</strong>
                    <span class="search-place min-w-0 truncate">{place}</span>
                    <time class="ml-auto shrink-0" title=full>{short}</time>
                </span>
                <span class="search-text block break-words">
                    {cut_before.then_some("…")}
                    {text}
                    {cut_after.then_some("…")}
                </span>
            </button>
        </li>
    }
}
