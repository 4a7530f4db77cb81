//! The top of a conversation's stream: a "Load older messages" button (scrolling near the top
//! presses it too, see [`Follow`]) until the first message is held, then "This is the
//! beginning of …". And following a reply to its original: older pages are loaded until the
//! original is held, then it is brought into view.

use leptos::prelude::*;

use super::follow::Follow;
use super::intent::Intent;
use crate::client::ChatClient;
use crate::protocol::is_direct_key;

#[component]
pub fn OlderControl(chat: ChatClient, room: Signal<String>) -> impl IntoView {
    let any =
        Memo::new(move |_| room.with(|r| chat.messages().with(|l| l.iter().any(|m| &m.room == r))));
    let start = Memo::new(move |_| room.with(|r| chat.at_beginning(r)));
    let loading = Memo::new(move |_| room.with(|r| chat.loading_older(r)));
    let beginning = move || {
        let title = chat.title(&room.get());
        if room.with(|r| is_direct_key(r)) {
            ["This is the beginning of your conversation with ", &title].concat()
        } else {
            ["This is the beginning of ", &title].concat()
        }
    };
    view! {
        <div class="older flex justify-center py-2 text-sm" hidden=move || !any.get()>
            {move || {
                if start.get() {
                    view! {
                        <div class="beginning font-medium text-slate-600 dark:text-slate-400">
                            {beginning}
                        </div>
                    }
                        .into_any()
                } else {
                    view! {
                        <button
                            type="button"
                            id="load-older"
                            class="rounded-lg px-3 py-1 font-medium text-blue-700 underline hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 dark:text-blue-400 dark:hover:bg-slate-800"
                            aria-disabled=move || loading.get().then_some("true")
                            on:click=move |_| chat.load_older(&room.get_untracked())
                        >
                            {move || {
                                if loading.get() { "Loading older messages…" } else { "Load older messages" }
                            }}
                        </button>
                    }
                        .into_any()
                }
            }}
        </div>
    }
}

/// Brings the message a followed reply answers into view: at once when it is held, else
/// after loading older pages one by one until it is (or the beginning says it is gone).
pub fn follow_jumps(chat: ChatClient, room: Signal<String>, intent: Intent, follow: Follow) {
    Effect::new(move |_| {
        let Some(id) = intent.jump.get() else { return };
        let room = room.get_untracked();
        if chat.message(&room, id).is_some() {
            intent.jump.set(None);
            request_animation_frame(move || {
                follow.reveal(id);
                intent.highlight.set(Some(id));
                set_timeout(
                    move || {
                        if intent.highlight.get_untracked() == Some(id) {
                            intent.highlight.set(None);
                        }
                    },
                    std::time::Duration::from_millis(2500),
                );
            });
        } else if chat.at_beginning(&room) {
            intent.jump.set(None);
            chat.show_error("That message is no longer there.".into());
        } else if !chat.loading_older(&room) {
            chat.load_older(&room);
        }
    });
}
