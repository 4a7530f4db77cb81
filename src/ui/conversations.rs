//! The conversations panel: public rooms (with a filter, scrolling on its own however many)
//! and my direct conversations, each with its unread and mention counts, my public id, and a
//! form to create a room. Beside the conversation on wide screens, a drawer on phones. Its
//! list also serves as the switcher's listbox.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::drawer::{DrawerClose, Drawers, FOCUS_RING, Side};
use super::peers::dot_class;
use super::settings::{MyName, NotifySettings};
use crate::client::{ChatClient, clipboard};
use crate::protocol::names::dot_color;
use crate::protocol::{DEFAULT_ROOM, MAX_ROOM_LEN, is_direct_key, normalize_room};

/// Where a conversation lives: `/`, `/r/<room>` or `/dm/<their id>`.
pub fn href_of(chat: ChatClient, key: &str) -> String {
    match chat.partner(key) {
        Some(them) => format!("/dm/{them}"),
        None if key == DEFAULT_ROOM => "/".to_owned(),
        None => format!("/r/{key}"),
    }
}

/// Messages waiting in every conversation but the one on screen (for the drawer's button).
pub fn unread_elsewhere(chat: ChatClient) -> u32 {
    let rooms = chat.rooms().get();
    rooms
        .iter()
        .cloned()
        .chain(chat.direct_conversations())
        .map(|key| chat.unread_in(&key))
        .sum()
}

const HEADING: &str =
    "px-2 text-xs font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-400";

#[component]
pub fn Conversations(chat: ChatClient, room: Signal<String>, drawers: Drawers) -> impl IntoView {
    let side = Side::Conversations;
    view! {
        <nav
            id=side.panel_id()
            aria-label="Conversations"
            data-open=drawers.data_open(side)
            inert=move || drawers.covers(Some(side))
            class="drawer drawer-left min-h-0 flex-col border-slate-200 bg-slate-50 lg:flex lg:border-r dark:border-slate-800 dark:bg-slate-950"
        >
            <div class="flex h-12 shrink-0 items-center justify-between border-b border-slate-200 pl-4 pr-2 lg:hidden dark:border-slate-800">
                <span class="font-semibold">"Conversations"</span>
                <DrawerClose drawers side label="Close conversations" />
            </div>
            <div class="flex min-h-0 flex-1 flex-col gap-4 p-2 pt-3">
                <RoomSection chat room />
                <section class="flex min-h-0 flex-initial flex-col gap-1">
                    <h3 class=HEADING>"Direct messages"</h3>
                    // Focusable: a region that scrolls must be reachable by keyboard even when
                    // it holds no link (an empty list under a crowded sidebar).
                    <div class=format!("min-h-0 overflow-y-auto {FOCUS_RING}") tabindex="0" role="region" aria-label="Direct message list">
                        <ConversationList chat room keys=Signal::derive(move || chat.direct_conversations()) id="dm-list" />
                        // Only while the list is empty (CSS, no code).
                        <p class="hidden px-2 text-sm text-slate-600 peer-empty:block dark:text-slate-400">
                            "Pick someone under Who's online to write to them alone."
                        </p>
                    </div>
                </section>
            </div>
            <MyId chat />
            <MyName chat />
            <NotifySettings />
            <NewRoom chat />
        </nav>
    }
}

/// The public rooms, as many as there are, scrolling under their heading and a filter.
#[component]
fn RoomSection(chat: ChatClient, room: Signal<String>) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let keys = Signal::derive(move || query.with(|q| chat.rooms_matching(q)));
    view! {
        <section class="flex min-h-0 flex-initial flex-col gap-1">
            <h3 class=HEADING>"Rooms"</h3>
            <label for="room-filter" class="sr-only">"Find a room"</label>
            <input
                id="room-filter"
                type="search"
                placeholder="Find a room"
                autocomplete="off"
                class="mx-1 rounded-lg border border-slate-300 bg-white px-2 py-1 text-sm focus:outline-none focus:ring-2 focus:ring-blue-600 dark:border-slate-700 dark:bg-slate-900"
                prop:value=move || query.get()
                on:input=move |ev| query.set(event_target_value(&ev))
            />
            <div class=format!("min-h-0 overflow-y-auto {FOCUS_RING}") tabindex="0" role="region" aria-label="Room list">
                <ConversationList chat room keys id="room-list" />
                <p class="hidden px-2 text-sm text-slate-600 peer-empty:block dark:text-slate-400">
                    "No room matches"
                </p>
            </div>
        </section>
    }
}

/// My public id, to give an operator (who can make me a moderator with it), with a copy
/// button.
#[component]
fn MyId(chat: ChatClient) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        if let Some(id) = chat.my_id().get_untracked() {
            copied.set(clipboard::copy(&id));
        }
    };
    view! {
        <div
            id="my-id"
            hidden=move || chat.my_id().with(Option::is_none)
            class="flex shrink-0 items-center gap-2 border-t border-slate-200 px-3 py-1.5 text-xs text-slate-700 dark:border-slate-800 dark:text-slate-300"
        >
            <span class="min-w-0 flex-1 truncate">
                "Your id: "<code class="select-all font-mono">{move || chat.my_id().get()}</code>
            </span>
            <button
                type="button"
                class=format!("shrink-0 rounded px-1.5 py-0.5 underline {FOCUS_RING}")
                on:click=copy
            >
                {move || if copied.get() { "Copied" } else { "Copy" }}
            </button>
        </div>
    }
}

/// A list of conversations: the public rooms, my direct conversations, or (with `picker`,
/// the key of the one picked) the switcher's listbox. One component for all three, so the
/// WASM holds the list's code once.
#[component]
pub fn ConversationList(
    chat: ChatClient,
    room: Signal<String>,
    keys: Signal<Vec<String>>,
    id: &'static str,
    #[prop(optional)] picker: Option<Signal<Option<String>>>,
) -> impl IntoView {
    view! {
        <ul
            id=id
            role=picker.map(|_| "listbox")
            aria-label=picker.map(|_| "Matching conversations")
            class="peer flex flex-col gap-0.5"
        >
            <For each=move || keys.get() key=|k| k.clone() let(key)>
                <RoomLink chat room target=key picker />
            </For>
        </ul>
    }
}

/// The id of a conversation's option in the switcher.
pub fn option_id(key: &str) -> String {
    format!("option-{key}")
}

/// Creating a room is going to it (the server creates it on the first join).
#[component]
fn NewRoom(chat: ChatClient) -> impl IntoView {
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
        <form
            id="new-room"
            class="flex shrink-0 gap-1 border-t border-slate-200 p-2 dark:border-slate-800"
            on:submit=create
        >
            <label for="new-room-name" class="sr-only">"New room name"</label>
            <input
                id="new-room-name"
                class="min-w-0 flex-1 rounded-lg border border-slate-300 bg-white px-2 py-1 focus:outline-none focus:ring-2 focus:ring-blue-600 dark:border-slate-700 dark:bg-slate-900"
                placeholder="new-room"
                maxlength=MAX_ROOM_LEN.to_string()
                prop:value=move || new_room.get()
                on:input=move |ev| new_room.set(event_target_value(&ev))
            />
            <button
                type="submit"
                class=format!(
                    "rounded-lg bg-slate-800 px-3 py-1 text-sm font-medium text-white hover:bg-slate-900 dark:bg-slate-700 dark:hover:bg-slate-600 {FOCUS_RING}",
                )
            >
                "Create"
            </button>
        </form>
    }
}

#[component]
fn RoomLink(
    chat: ChatClient,
    room: Signal<String>,
    target: String,
    picker: Option<Signal<Option<String>>>,
) -> impl IntoView {
    let key = StoredValue::new(target.clone());
    let unread = Memo::new(move |_| key.with_value(|k| chat.unread_in(k)));
    let label = move || key.with_value(|k| chat.title(k));
    // A direct conversation shows the other person's dot.
    let dot = is_direct_key(&target).then(|| {
        let class = move || {
            let them = key.with_value(|k| chat.partner(k)).unwrap_or_default();
            let color = dot_class(Some(dot_color(&label(), &them)));
            format!("h-2 w-2 shrink-0 rounded-full {color}")
        };
        view! { <span class=class aria-hidden="true"></span> }
    });
    // Re-drawn as a whole when the count changes: cheaper than a reactive part per number.
    let badges = move || {
        let count = unread.get();
        let mentioned = key.with_value(|k| chat.mentions_in(k));
        (count > 0).then(|| {
            let mention = (mentioned > 0).then(|| {
                view! {
                    <span class="mentions rounded-full bg-rose-700 px-1.5 text-xs font-semibold text-white" aria-hidden="true">
                        {format!("@{mentioned}")}
                    </span>
                    <span class="sr-only">{format!(", {mentioned} mentioning you,")}</span>
                }
            });
            view! {
                {mention}
                <span class="unread rounded-full bg-blue-700 px-2 text-xs font-semibold text-white">
                    {count}
                </span>
                <span class="sr-only">" unread"</span>
            }
        })
    };
    let selected =
        move || picker.map(|picked| picked.with(|p| key.with_value(|k| p.as_ref() == Some(k))));
    view! {
        <li role=picker.map(|_| "none")>
            <a
                href=move || key.with_value(|k| href_of(chat, k))
                role=picker.map(|_| "option")
                id=picker.map(|_| option_id(&target))
                aria-selected=move || selected().map(|s| if s { "true" } else { "false" })
                data-room=target
                aria-current=move || key.with_value(|k| room.with(|r| r == k)).then_some("page")
                class=format!(
                    "flex items-center gap-2 rounded-lg px-2 py-1.5 text-slate-800 hover:bg-slate-200/70 aria-[current=page]:bg-blue-100 aria-[current=page]:font-semibold aria-[current=page]:text-blue-950 dark:text-slate-200 dark:hover:bg-slate-800 dark:aria-[current=page]:bg-blue-950 dark:aria-[current=page]:text-blue-50 aria-selected:bg-blue-700! aria-selected:text-white! {FOCUS_RING}",
                )
            >
                {dot}
                <span class="min-w-0 flex-1 truncate">{label}</span>
                {badges}
            </a>
        </li>
    }
}
