//! What can be done to a message, as buttons named "Reply", "React", "Edit" and "Delete"
//! (the last two on my own messages only), "Report" (others' messages), and for moderators
//! "Delete", "Mute sender…" and "Ban sender…" on others' too: beside the message on hover or
//! keyboard focus with a fine pointer; behind a "More actions" button on touch screens.
//! "React" opens a small palette, with a field for any other single emoji; the others that
//! ask something first open the page's act dialog (`acts`).

use leptos::ev::{KeyboardEvent, SubmitEvent};
use leptos::prelude::*;

use super::acts::{About, Act};
use super::composer::ComposerInput;
use super::intent::Intent;
use crate::client::ChatClient;

/// The emoji offered at once; any other can be typed in.
const PALETTE: [&str; 6] = ["👍", "❤️", "😂", "🎉", "😮", "😢"];

const BUTTON: &str = "rounded px-1.5 py-0.5 text-xs font-medium text-slate-700 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 dark:text-slate-200 dark:hover:bg-slate-800";

/// The message the actions are about.
#[derive(Clone)]
pub struct Target {
    pub about: About,
    pub mine: bool,
    pub deleted: bool,
}

#[component]
pub fn MessageActions(
    chat: ChatClient,
    intent: Intent,
    target: Target,
    /// Touch screens: the actions show while this is set ("More actions").
    open: RwSignal<bool>,
) -> impl IntoView {
    let picking = RwSignal::new(false);
    let Target {
        about,
        mine,
        deleted,
    } = target;
    let (room, id) = (about.room.clone(), about.id);
    let composer = use_context::<ComposerInput>().unwrap_or_default();
    let reply = move |_| {
        intent.editing.set(None);
        intent.replying.set(Some(id));
        open.set(false);
        composer.focus();
    };
    let edit = move |_| {
        intent.replying.set(None);
        intent.editing.set(Some(id));
        open.set(false);
        composer.focus();
    };
    let delete_room = room.clone();
    let delete = move |_| {
        chat.delete(&delete_room, id);
        open.set(false);
    };
    let about = StoredValue::new(about);
    let act = move |make: fn(About) -> Act| {
        move |_| {
            open.set(false);
            chat.clear_notes();
            intent.acting.set(Some(make(about.get_value())));
        }
    };
    // Others' messages: anyone reports them, moderators also delete them and restrain
    // their senders.
    let others = (!mine).then(|| {
        let moderating = move || {
            chat.is_moderator().get().then(|| {
                view! {
                    <button type="button" class=BUTTON on:click=act(Act::Delete)>"Delete"</button>
                    <button type="button" class=BUTTON on:click=act(Act::Mute)>"Mute sender…"</button>
                    <button type="button" class=BUTTON on:click=act(Act::Ban)>"Ban sender…"</button>
                }
            })
        };
        view! {
            <button type="button" class=BUTTON on:click=act(Act::Report)>"Report"</button>
            {moderating}
        }
    });
    view! {
        <div
            class="actions absolute -top-3 right-2 z-10 flex gap-0.5 rounded-md border border-slate-200 bg-white p-0.5 opacity-0 shadow-sm group-hover:opacity-100 group-focus-within:opacity-100 pointer-coarse:static pointer-coarse:hidden pointer-coarse:w-fit pointer-coarse:ml-auto pointer-coarse:opacity-100 pointer-coarse:data-open:flex dark:border-slate-700 dark:bg-slate-900"
            data-open=move || open.get().then_some("")
            hidden=deleted
        >
            <button type="button" class=BUTTON on:click=reply>"Reply"</button>
            <button
                type="button"
                class=BUTTON
                aria-expanded=move || if picking.get() { "true" } else { "false" }
                on:click=move |_| picking.update(|p| *p = !*p)
            >
                "React"
            </button>
            {mine
                .then(|| {
                    view! {
                        <button type="button" class=BUTTON on:click=edit>"Edit"</button>
                        <button type="button" class=BUTTON on:click=delete>"Delete"</button>
                    }
                })}
            {others}
        </div>
        {move || picking.get().then(|| view! { <Palette chat room=room.clone() id picking /> })}
    }
}

/// On touch screens, the button that shows a message's actions.
#[component]
pub fn MoreButton(open: RwSignal<bool>) -> impl IntoView {
    view! {
        <button
            type="button"
            class="more hidden shrink-0 rounded px-2 text-slate-600 pointer-coarse:inline-block dark:text-slate-300"
            aria-label="More actions"
            aria-expanded=move || if open.get() { "true" } else { "false" }
            on:click=move |_| open.update(|o| *o = !*o)
        >
            "⋯"
        </button>
    }
}

/// A few emoji to pick from, and a field for any other one.
#[component]
fn Palette(chat: ChatClient, room: String, id: u64, picking: RwSignal<bool>) -> impl IntoView {
    let other = RwSignal::new(String::new());
    let pick_room = room.clone();
    let pick = move |emoji: &str| {
        if chat.react(&pick_room, id, emoji).is_ok() {
            picking.set(false);
        }
    };
    let on_submit = {
        let pick = pick.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            pick(&other.get_untracked());
        }
    };
    let on_keydown = move |ev: KeyboardEvent| {
        if ev.key() == "Escape" {
            picking.set(false);
        }
    };
    let choices = PALETTE
        .iter()
        .map(|emoji| {
            let pick = pick.clone();
            view! {
                <button
                    type="button"
                    class="rounded px-1 text-lg hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 dark:hover:bg-slate-800"
                    on:click=move |_| pick(emoji)
                >
                    {*emoji}
                </button>
            }
        })
        .collect_view();
    view! {
        <form
            class="palette mx-2 mt-1 flex w-fit flex-wrap items-center gap-1 rounded-lg border border-slate-200 bg-white p-1 shadow dark:border-slate-700 dark:bg-slate-900"
            role="group"
            aria-label="Pick a reaction"
            on:submit=on_submit
            on:keydown=on_keydown
        >
            {choices}
            <input
                class="w-24 rounded border border-slate-300 bg-transparent px-1 text-sm dark:border-slate-600"
                aria-label="Any emoji"
                placeholder="Any emoji"
                maxlength="16"
                prop:value=move || other.get()
                on:input=move |ev| other.set(event_target_value(&ev))
            />
            <button type="submit" class=BUTTON>"Add"</button>
        </form>
    }
}
