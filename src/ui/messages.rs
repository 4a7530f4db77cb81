//! The message stream of the conversation on screen: older history at the top, day
//! separators, the "New messages" divider, arrivals and departures, messages (each
//! [`MessageLine`]'s), my messages still on their way, and who is typing. How it scrolls is
//! [`Follow`]'s.

use std::collections::HashSet;

use leptos::html::Div;
use leptos::prelude::*;

use super::follow::Follow;
use super::intent::Intent;
use super::message::MessageLine;
use super::older::{OlderControl, follow_jumps};
use super::timeline::{Line, timeline};
use crate::client::{ChatClient, Outgoing, Status};
use crate::protocol::{NewMessage, Notice, NoticeKind};

/// Fills the height between the conversation's header and the composer; the newest line sits
/// just above the composer.
#[component]
pub fn MessageBox(
    chat: ChatClient,
    room: Signal<String>,
    unread_from: Signal<Option<u64>>,
    intent: Intent,
) -> impl IntoView {
    let lines = lines_of(chat, room, unread_from);
    let pending = pending_in(chat, room);
    let follow = Follow::new(lines, pending, room, unread_from);
    follow_jumps(chat, room, intent, follow);
    let on_scroll = move |_| {
        follow.on_scroll();
        if follow.near_top() {
            chat.load_older(&room.get_untracked());
        }
    };
    // The button stays (and keeps focus) while its count changes.
    let shown = Memo::new(move |_| follow.unseen.get() > 0);
    let quiet = move || {
        chat.status().get() == Status::Online
            && pending.with(Vec::is_empty)
            && lines.with(|l| !l.iter().any(|line| matches!(line, Line::Message { .. })))
    };
    view! {
        <div class="relative min-h-0 flex-1">
            <div
                id="message-box"
                node_ref=follow.scroller
                role="log"
                aria-live="polite"
                aria-label="Messages"
                tabindex="0"
                on:scroll=on_scroll
                class="relative flex h-full flex-col gap-0.5 overflow-y-auto [overflow-anchor:none] px-2 py-2 focus:outline-none focus-visible:ring-2 focus-visible:ring-inset focus-visible:ring-blue-600 sm:px-4"
            >
                // Pushes a short conversation down to the composer.
                <div class="grow" aria-hidden="true"></div>
                <OlderControl chat room />
                <For each=move || lines.get() key=Line::key let(line)>
                    <LineView chat intent line=line divider=follow.divider />
                </For>
                <For
                    each=move || pending.get()
                    key=|o| (o.client_id.clone(), o.failed.clone())
                    let(o)
                >
                    <PendingLine chat=chat item=o />
                </For>
                <p class="empty py-6 text-center text-slate-600 dark:text-slate-400" hidden=move || !quiet()>
                    "No messages here yet. Say hello!"
                </p>
            </div>
            {move || {
                shown
                    .get()
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                id="new-messages"
                                class="absolute bottom-3 left-1/2 -translate-x-1/2 rounded-full bg-blue-700 px-4 py-1.5 text-sm font-medium text-white shadow focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 focus-visible:ring-offset-2"
                                on:click=move |_| follow.to_bottom()
                            >
                                {move || format!("{} new messages ↓", follow.unseen.get())}
                            </button>
                        }
                    })
            }}
        </div>
    }
}

/// The lines of the conversation on screen.
fn lines_of(
    chat: ChatClient,
    room: Signal<String>,
    unread_from: Signal<Option<u64>>,
) -> Memo<Vec<Line>> {
    Memo::new(move |_| {
        let room = room.get();
        let messages: Vec<NewMessage> = chat
            .messages()
            .with(|list| list.iter().filter(|m| m.room == room).cloned().collect());
        let notices: Vec<Notice> = chat
            .notices()
            .with(|list| list.iter().filter(|n| n.room == room).cloned().collect());
        let me = chat.my_id().get();
        timeline(&messages, &notices, me.as_deref(), unread_from.get())
    })
}

/// My messages the server has not confirmed, except those whose broadcast already arrived.
fn pending_in(chat: ChatClient, room: Signal<String>) -> Signal<Vec<Outgoing>> {
    Signal::derive(move || {
        let confirmed: HashSet<String> = chat
            .messages()
            .with(|list| list.iter().filter_map(|m| m.client_id.clone()).collect());
        room.with(|room| {
            chat.outgoing().with(|list| {
                list.iter()
                    .filter(|o| &o.room == room && !confirmed.contains(&o.client_id))
                    .cloned()
                    .collect::<Vec<_>>()
            })
        })
    })
}

#[component]
fn LineView(chat: ChatClient, intent: Intent, line: Line, divider: NodeRef<Div>) -> impl IntoView {
    match line {
        Line::Unread => view! {
            <div
                node_ref=divider
                role="separator"
                aria-label="New messages"
                class="unread-divider my-2 flex items-center gap-2 text-xs font-semibold text-rose-700 dark:text-rose-400"
            >
                <span class="h-px flex-1 bg-rose-300 dark:bg-rose-800"></span>
                <span>"New messages"</span>
                <span class="h-px flex-1 bg-rose-300 dark:bg-rose-800"></span>
            </div>
        }
        .into_any(),
        Line::Day(day) => view! {
            <div
                role="separator"
                class="day-separator my-2 flex items-center gap-2 text-xs font-medium text-slate-600 dark:text-slate-400"
            >
                <span class="h-px flex-1 bg-slate-200 dark:bg-slate-800"></span>
                <span>{day}</span>
                <span class="h-px flex-1 bg-slate-200 dark:bg-slate-800"></span>
            </div>
        }
        .into_any(),
        Line::Notice(notice) => {
            let verb = match notice.kind {
                NoticeKind::Joined => "joined",
                NoticeKind::Left => "left",
            };
            view! {
                <div class="notice py-0.5 text-center text-sm text-slate-600 dark:text-slate-400">
                    {format!("{} {verb}", notice.name)}
                </div>
            }
            .into_any()
        }
        Line::Message {
            message,
            grouped,
            mine,
        } => view! { <MessageLine chat intent message grouped mine /> }.into_any(),
    }
}

/// One of my messages on its way: greyed while sending, with Retry and Discard if refused.
#[component]
fn PendingLine(chat: ChatClient, item: Outgoing) -> impl IntoView {
    let me = move || chat.my_name().get().unwrap_or_else(|| "You".into());
    let Outgoing {
        client_id,
        text,
        failed,
        ..
    } = item;
    let status = match &failed {
        None => view! {
            <em class="ml-2 text-sm text-slate-600 dark:text-slate-400">"Sending…"</em>
        }
        .into_any(),
        Some(reason) => {
            let retry_id = client_id.clone();
            let discard_id = client_id.clone();
            view! {
                <span class="ml-2 text-sm text-red-700 dark:text-red-400">
                    {format!("Not sent: {reason}")}
                </span>
                <button
                    type="button"
                    class="ml-2 text-sm font-medium text-blue-700 underline dark:text-blue-400"
                    on:click=move |_| chat.retry(&retry_id)
                >
                    "Retry"
                </button>
                <button
                    type="button"
                    class="ml-2 text-sm font-medium text-slate-700 underline dark:text-slate-300"
                    on:click=move |_| chat.discard(&discard_id)
                >
                    "Discard"
                </button>
            }
            .into_any()
        }
    };
    view! {
        <p
            class="mt-1 break-words whitespace-pre-wrap rounded-lg px-2 text-slate-600 dark:text-slate-400"
            data-pending="true"
        >
            <strong class="font-semibold">{move || format!("{} says: ", me())}</strong>
            <span>{text}</span>
            {status}
        </p>
    }
}

/// "blue-fish is typing…", for the conversation on screen.
#[component]
pub fn TypingLine(chat: ChatClient, room: Signal<String>) -> impl IntoView {
    view! {
        <p
            id="typing"
            aria-live="polite"
            class="min-h-5 truncate px-1 text-sm italic text-slate-600 dark:text-slate-400"
        >
            {move || chat.typing_line(&room.get())}
        </p>
    }
}
