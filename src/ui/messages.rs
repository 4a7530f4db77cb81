//! The message stream of the conversation on screen: day separators, arrivals and departures,
//! messages with their time (grouped by sender, mine set apart), my messages still on their
//! way, who is typing, and scrolling that follows new messages only while the reader is at
//! the bottom.

use leptos::html::Div;
use leptos::prelude::*;

use crate::client::{ChatClient, Outgoing, clock};
use crate::protocol::{NewMessage, Notice, NoticeKind};

/// Messages from one sender closer together than this are shown as one group.
const GROUP_GAP_MS: u64 = 5 * 60 * 1000;
/// Within this distance of the bottom, the reader counts as following along.
const AT_BOTTOM_PX: i32 = 48;

/// One line of the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Day(String),
    Notice(Notice),
    Message {
        message: NewMessage,
        /// Same sender as the line before, shortly before: the sender is not repeated.
        grouped: bool,
        mine: bool,
    },
}

impl Line {
    fn key(&self) -> String {
        match self {
            Line::Day(day) => format!("d:{day}"),
            Line::Notice(n) => format!("n:{}:{}:{:?}", n.ts, n.id, n.kind),
            Line::Message {
                message,
                grouped,
                mine,
            } => {
                format!("m:{}:{grouped}:{mine}", message.id)
            }
        }
    }
}

/// Interleaves a conversation's messages and notices by time, with a separator per local day.
pub fn timeline(messages: &[NewMessage], notices: &[Notice], me: Option<&str>) -> Vec<Line> {
    let mut items: Vec<(u64, Option<&NewMessage>, Option<&Notice>)> = messages
        .iter()
        .map(|m| (m.ts, Some(m), None))
        .chain(notices.iter().map(|n| (n.ts, None, Some(n))))
        .collect();
    // Messages keep their id order; notices slot in by time.
    items.sort_by_key(|(ts, m, _)| (*ts, m.map_or(u64::MAX, |m| m.id)));

    let mut lines = Vec::with_capacity(items.len() + 4);
    let mut day = String::new();
    let mut previous: Option<&NewMessage> = None;
    for (ts, message, notice) in items {
        let (_, _, this_day) = clock::local_time(ts);
        if this_day != day {
            day = this_day.clone();
            lines.push(Line::Day(this_day));
            previous = None;
        }
        if let Some(notice) = notice {
            lines.push(Line::Notice(notice.clone()));
            previous = None;
        } else if let Some(message) = message {
            let grouped = previous.is_some_and(|p| {
                p.sender == message.sender && message.ts.saturating_sub(p.ts) < GROUP_GAP_MS
            });
            let mine = me.is_some_and(|me| me == message.from);
            lines.push(Line::Message {
                message: message.clone(),
                grouped,
                mine,
            });
            previous = Some(message);
        }
    }
    lines
}

#[component]
pub fn MessageBox(chat: ChatClient, room: Signal<String>) -> impl IntoView {
    let lines = Memo::new(move |_| {
        let room = room.get();
        let messages: Vec<NewMessage> = chat
            .messages()
            .with(|list| list.iter().filter(|m| m.room == room).cloned().collect());
        let notices: Vec<Notice> = chat
            .notices()
            .with(|list| list.iter().filter(|n| n.room == room).cloned().collect());
        let me = chat.my_id().get();
        timeline(&messages, &notices, me.as_deref())
    });
    // My messages the server has not confirmed, except those whose broadcast already arrived.
    let pending = move || {
        let confirmed: std::collections::HashSet<String> = chat
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
    };

    let scroller = NodeRef::<Div>::new();
    let at_bottom = RwSignal::new(true);
    let unseen = RwSignal::new(0usize);
    let scroll_to_bottom = move || {
        if let Some(el) = scroller.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
        unseen.set(0);
        at_bottom.set(true);
    };
    // New lines: follow them when at the bottom (or when they are mine), else count them.
    Effect::new(move |previous: Option<(usize, usize)>| {
        let count = lines.with(|l| {
            l.iter()
                .filter(|line| matches!(line, Line::Message { .. }))
                .count()
        });
        let mine = pending().len();
        let (before, mine_before) = previous.unwrap_or((count, mine));
        if at_bottom.get_untracked() || mine > mine_before || before == 0 {
            request_animation_frame(scroll_to_bottom);
        } else if count > before {
            unseen.update(|n| *n += count - before);
        }
        (count, mine)
    });
    // A new conversation on screen starts at its bottom.
    Effect::new(move |_| {
        room.track();
        request_animation_frame(scroll_to_bottom);
    });
    let on_scroll = move |_| {
        if let Some(el) = scroller.get_untracked() {
            let bottom = el.scroll_height() - el.scroll_top() - el.client_height() <= AT_BOTTOM_PX;
            at_bottom.set(bottom);
            if bottom {
                unseen.set(0);
            }
        }
    };

    view! {
        <div class="relative">
            <div
                id="message-box"
                node_ref=scroller
                role="log"
                aria-live="polite"
                aria-label="Messages"
                tabindex="0"
                on:scroll=on_scroll
                class="flex h-[55vh] flex-col gap-0.5 overflow-y-auto rounded-xl bg-slate-50 p-2 ring-1 ring-slate-200 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 sm:h-96 sm:p-3 dark:bg-slate-950 dark:ring-slate-800"
            >
                <For each=move || lines.get() key=Line::key let(line)>
                    <LineView line=line />
                </For>
                <For
                    each=pending
                    key=|o| (o.client_id.clone(), o.failed.clone())
                    let(o)
                >
                    <PendingLine chat=chat item=o />
                </For>
            </div>
            <Show when=move || { unseen.get() > 0 }>
                <button
                    type="button"
                    id="new-messages"
                    class="absolute bottom-3 left-1/2 -translate-x-1/2 rounded-full bg-blue-700 px-4 py-1.5 text-sm font-medium text-white shadow focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 focus-visible:ring-offset-2"
                    on:click=move |_| scroll_to_bottom()
                >
                    {move || format!("{} new messages ↓", unseen.get())}
                </button>
            </Show>
        </div>
    }
}

#[component]
fn LineView(line: Line) -> impl IntoView {
    match line {
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
        } => {
            let (short, full, _) = clock::local_time(message.ts);
            let class = format!(
                "group flex items-baseline gap-2 rounded-lg px-2 {} {}",
                if grouped { "py-0" } else { "mt-1 py-0.5" },
                if mine {
                    "bg-blue-50 dark:bg-blue-950/60"
                } else {
                    ""
                },
            );
            // A grouped line keeps "<sender> says:" for screen readers (and the tutorial's
            // text), but shows it only once per group.
            let sender_class = if grouped {
                "sr-only"
            } else {
                "font-semibold"
            };
            view! {
                <p class=class data-mine=mine.then_some("true")>
                    <span class="min-w-0 flex-1 break-words whitespace-pre-wrap">
                        <strong class=sender_class>{format!("{} says: ", message.sender)}</strong>
                        <span>{message.message}</span>
                    </span>
                    <time
                        class="shrink-0 text-xs text-slate-600 dark:text-slate-400"
                        title=full
                    >
                        {short}
                    </time>
                </p>
            }
            .into_any()
        }
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
            class="-mt-2 min-h-5 text-sm italic text-slate-600 dark:text-slate-400"
        >
            {move || chat.typing_line(&room.get())}
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400_000;

    fn msg(id: u64, sender: &str, ts: u64) -> NewMessage {
        NewMessage {
            sender: sender.into(),
            message: format!("m{id}"),
            room: "general".into(),
            id,
            ts,
            client_id: None,
            from: format!("{sender}-id"),
        }
    }

    fn notice(name: &str, ts: u64) -> Notice {
        Notice {
            room: "general".into(),
            kind: NoticeKind::Joined,
            id: format!("{name}-id"),
            name: name.into(),
            ts,
        }
    }

    fn shape(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| match l {
                Line::Day(_) => "day".to_owned(),
                Line::Notice(n) => format!("{} joined", n.name),
                Line::Message {
                    message,
                    grouped,
                    mine,
                } => format!(
                    "{}{}{}",
                    message.message,
                    if *grouped { " grouped" } else { "" },
                    if *mine { " mine" } else { "" }
                ),
            })
            .collect()
    }

    #[test]
    fn consecutive_messages_of_one_sender_are_grouped_and_mine_are_marked() {
        let t = 10 * DAY;
        let messages = [
            msg(1, "ann", t),
            msg(2, "ann", t + 1000),
            msg(3, "bob", t + 2000),
            msg(4, "ann", t + 3000),
            msg(5, "ann", t + 3000 + GROUP_GAP_MS),
        ];
        let lines = timeline(&messages, &[], Some("bob-id"));
        assert_eq!(
            shape(&lines),
            ["day", "m1", "m2 grouped", "m3 mine", "m4", "m5"]
        );
    }

    #[test]
    fn notices_interleave_by_time_and_break_groups_and_days_get_separators() {
        let t = 10 * DAY;
        let messages = [
            msg(1, "ann", t),
            msg(2, "ann", t + 2000),
            msg(3, "ann", t + DAY),
        ];
        let notices = [notice("bob", t + 1000)];
        let lines = timeline(&messages, &notices, None);
        assert_eq!(
            shape(&lines),
            ["day", "m1", "bob joined", "m2", "day", "m3"]
        );
    }
}
