//! The chat page as a frame that fills the window and never scrolls: a bar across the top,
//! then the conversations, the conversation (header, message stream, composer pinned at the
//! bottom) and who's online side by side. On phones the conversation fills the screen and the
//! two panels are drawers; Ctrl+K (⌘K) jumps to a conversation by name. Moderators get a
//! "Moderation" button and, in a public room, "Remove room"; a ban shows above it all.

use leptos::ev;
use leptos::html::Dialog;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::acts::{Act, ActDialog};
use super::composer::Composer;
use super::conversations::{Conversations, href_of, unread_elsewhere};
use super::drawer::{Backdrop, DrawerToggle, Drawers, FOCUS_RING, Side};
use super::intent::Intent;
use super::messages::{MessageBox, TypingLine};
use super::moderation::{self, ModerationPanel};
use super::peers::{PeerList, PeersToggle, members_of};
use super::switcher::{self, Switcher};
use super::unread::open_conversation;
use crate::client::{ChatClient, Status};
use crate::protocol::{DEFAULT_ROOM, is_direct_key};

#[component]
pub fn ChatPage(#[prop(into)] room: Signal<String>) -> impl IntoView {
    let chat = expect_context::<ChatClient>();
    let unread_from = open_conversation(chat, room);
    let peers = members_of(chat, room);
    let online = Signal::derive(move || chat.count_in(&room.get()));
    let drawers = Drawers::new();
    let switcher = NodeRef::<Dialog>::new();
    let panel = NodeRef::<Dialog>::new();
    let intent = Intent::new();
    // Another conversation on screen: the drawer or switcher it was picked from is done, and
    // an edit or reply begun in the last one does not carry over.
    Effect::new(move |_| {
        room.track();
        drawers.dismiss();
        switcher::close(switcher);
        intent.clear();
    });
    shortcuts(drawers, switcher);
    leave_removed_rooms(chat, room);
    open_alerts(chat, room, intent);

    view! {
        <div class="grid h-dvh grid-rows-[auto_minmax(0,1fr)] overflow-hidden lg:grid-cols-[15rem_minmax(0,1fr)_15rem]">
            <AppBar chat drawers switcher panel />
            <Conversations chat room drawers />
            <main
                id="app"
                inert=move || drawers.covers(None)
                class="flex min-h-0 min-w-0 flex-col bg-white dark:bg-slate-900"
            >
                <BanNotice chat />
                <ConversationHeader chat room online drawers intent />
                <MessageBox chat room unread_from intent />
                <div class="shrink-0 px-2 pb-2 sm:px-4 sm:pb-3">
                    <TypingLine chat room />
                    <Composer chat room intent />
                </div>
            </main>
            <PeerList chat peers online drawers />
            <Backdrop drawers />
            <Switcher chat room dialog=switcher />
            <ActDialog chat intent />
            <ModerationPanel chat dialog=panel />
        </div>
    }
}

/// Ctrl+K / ⌘K opens the switcher (from anywhere, the composer included); Esc closes a drawer.
fn shortcuts(drawers: Drawers, switcher: NodeRef<Dialog>) {
    let handle = window_event_listener(ev::keydown, move |ev| {
        let command = (ev.ctrl_key() || ev.meta_key()) && !ev.alt_key() && !ev.shift_key();
        if command && ev.key().eq_ignore_ascii_case("k") {
            ev.prevent_default();
            drawers.dismiss();
            switcher::toggle(switcher);
        } else if ev.key() == "Escape" {
            drawers.close();
        }
    });
    on_cleanup(move || handle.remove());
}

/// A room of mine a moderator removed while it was on screen: the page goes to `general`.
fn leave_removed_rooms(chat: ChatClient, room: Signal<String>) {
    let navigate = use_navigate();
    Effect::new(move |_| {
        if chat.take_removed(&room.get()) {
            navigate("/", Default::default());
        }
    });
}

/// A notification was clicked: its conversation comes on screen, at its message.
fn open_alerts(chat: ChatClient, room: Signal<String>, intent: Intent) {
    let navigate = use_navigate();
    Effect::new(move |_| {
        let Some(alert) = chat.opened_alert().get() else {
            return;
        };
        if room.get() != alert.room {
            navigate(&href_of(chat, &alert.room), Default::default());
        } else {
            chat.alert_opened();
            // After the intentions of the last conversation are cleared, this same turn.
            set_timeout(
                move || intent.jump.set(Some(alert.id)),
                std::time::Duration::ZERO,
            );
        }
    });
}

/// A moderator banned me: the server's words, above the conversation.
#[component]
fn BanNotice(chat: ChatClient) -> impl IntoView {
    view! {
        <p
            id="ban-notice"
            role="alert"
            hidden=move || chat.ban_notice().with(Option::is_none)
            class="shrink-0 border-b border-red-200 bg-red-50 px-4 py-2 font-medium text-red-900 dark:border-red-900 dark:bg-red-950 dark:text-red-100"
        >
            {move || chat.ban_notice().get()}
        </p>
    }
}

/// Across the top: the conversations button (phones), the app's name, the switcher, the
/// moderators' panel (moderators only) and the connection's status.
#[component]
fn AppBar(
    chat: ChatClient,
    drawers: Drawers,
    switcher: NodeRef<Dialog>,
    panel: NodeRef<Dialog>,
) -> impl IntoView {
    let waiting = Signal::from(Memo::new(move |_| unread_elsewhere(chat) as usize));
    view! {
        <header
            inert=move || drawers.covers(None)
            class="col-span-full flex h-12 items-center gap-1 border-b border-slate-200 bg-white px-1 sm:gap-2 sm:px-3 dark:border-slate-800 dark:bg-slate-900"
        >
            <DrawerToggle drawers side=Side::Conversations count=waiting />
            <h2 class="min-w-0 truncate px-1 text-lg font-bold tracking-tight">"Realtime chat"</h2>
            <button
                type="button"
                id="jump"
                aria-keyshortcuts="Control+K Meta+K"
                class=format!(
                    "ml-auto flex items-center gap-2 rounded-lg p-2 text-sm text-slate-700 hover:bg-slate-100 sm:border sm:border-slate-300 sm:px-3 sm:py-1 dark:text-slate-300 dark:hover:bg-slate-800 sm:dark:border-slate-700 {FOCUS_RING}",
                )
                on:click=move |_| switcher::toggle(switcher)
            >
                <span class="icon icon-search" aria-hidden="true"></span>
                <span class="sr-only sm:not-sr-only">"Jump to a conversation"</span>
                <kbd
                    aria-hidden="true"
                    class="hidden rounded border border-slate-300 px-1 font-sans text-xs text-slate-600 lg:inline dark:border-slate-600 dark:text-slate-400"
                >
                    "Ctrl K"
                </kbd>
            </button>
            <super::search::MessageSearch chat />
            <button
                type="button"
                id="open-moderation"
                hidden=move || !chat.is_moderator().get()
                class=format!(
                    "shrink-0 rounded-lg p-2 text-sm font-medium text-slate-700 hover:bg-slate-100 sm:border sm:border-slate-300 sm:px-3 sm:py-1 dark:text-slate-300 dark:hover:bg-slate-800 sm:dark:border-slate-700 {FOCUS_RING}",
                )
                on:click=move |_| moderation::open(chat, panel)
            >
                "Moderation"
            </button>
            <StatusBadge chat />
        </header>
    }
}

/// The conversation's name and how many are in it; leaving a room; who's online (phones).
#[component]
fn ConversationHeader(
    chat: ChatClient,
    room: Signal<String>,
    online: Signal<usize>,
    drawers: Drawers,
    intent: Intent,
) -> impl IntoView {
    let title = move || chat.title(&room.get());
    let count = move || format!("{} online", online.get());
    view! {
        <div class="flex h-14 shrink-0 items-center gap-2 border-b border-slate-200 px-3 sm:px-4 dark:border-slate-800">
            <div class="min-w-0 flex-1">
                <h1 id="room-title" class="truncate text-lg leading-tight font-semibold">
                    {title}
                </h1>
                <p id="member-count" class="text-xs text-slate-600 dark:text-slate-400">
                    {count}
                </p>
            </div>
            <RemoveRoomButton chat room intent />
            <LeaveButton chat room />
            <PeersToggle online drawers />
        </div>
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
        <button
                type="button"
                hidden=move || room.with(|r| r == DEFAULT_ROOM || is_direct_key(r))
                class=format!(
                    "shrink-0 rounded-lg px-2 py-1 text-sm text-slate-700 underline hover:text-slate-900 dark:text-slate-300 {FOCUS_RING}",
                )
                on:click=leave.clone()
            >
                "Leave room"
            </button>
    }
}

/// Moderators, in a public room but `general`: removing it (after a confirmation).
#[component]
fn RemoveRoomButton(chat: ChatClient, room: Signal<String>, intent: Intent) -> impl IntoView {
    let hidden =
        move || !chat.is_moderator().get() || room.with(|r| r == DEFAULT_ROOM || is_direct_key(r));
    view! {
        <button
            type="button"
            hidden=hidden
            class=format!(
                "shrink-0 rounded-lg px-2 py-1 text-sm text-red-800 underline hover:text-red-950 dark:text-red-300 {FOCUS_RING}",
            )
            on:click=move |_| {
                chat.clear_notes();
                intent.acting.set(Some(Act::RemoveRoom(room.get_untracked())));
            }
        >
            "Remove room"
        </button>
    }
}

#[component]
fn StatusBadge(chat: ChatClient) -> impl IntoView {
    let class = move || {
        let tone = match chat.status().get() {
            Status::Online => "bg-emerald-100 text-emerald-900",
            Status::Connecting => "bg-slate-100 text-slate-800",
            Status::Reconnecting { .. } => "bg-amber-100 text-amber-900",
            Status::Unavailable | Status::Banned => "bg-red-100 text-red-900",
        };
        format!(
            "max-w-[50vw] shrink-0 truncate rounded-full px-2.5 py-0.5 text-sm font-medium sm:px-3 {tone}"
        )
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
        Status::Banned => "banned",
    }
}
