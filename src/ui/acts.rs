//! The one dialog for acts that ask something first: reporting a message (an optional
//! reason), and a moderator's delete of someone else's message, mute (how long), ban (how
//! long, their network too) and removal of a room (are you sure). One modal for them all,
//! opened by setting [`Intent::acting`](super::intent::Intent); Esc or "Cancel" closes it
//! and focus goes back where it was. A refusal shows inside it, like next to the composer.

use leptos::ev::SubmitEvent;
use leptos::html::Dialog;
use leptos::prelude::*;

use super::intent::Intent;
use crate::client::ChatClient;
use crate::protocol::MAX_REASON_LEN;

/// The message an act is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct About {
    pub room: String,
    pub id: u64,
    /// Its author's public id and name, and the start of its text.
    pub from: String,
    pub sender: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    Report(About),
    Delete(About),
    Mute(About),
    Ban(About),
    RemoveRoom(String),
}

/// The mute lengths offered, in minutes.
const MUTES: [(&str, u64); 3] = [("10 min", 10), ("1 h", 60), ("1 day", 24 * 60)];

const PRIMARY: &str = "rounded-lg bg-blue-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-blue-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 focus-visible:ring-offset-2 dark:focus-visible:ring-offset-slate-900";
const DANGER: &str = "rounded-lg bg-red-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-red-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-600 focus-visible:ring-offset-2 dark:focus-visible:ring-offset-slate-900";
const SECONDARY: &str = "rounded-lg px-3 py-1.5 text-sm font-medium text-slate-700 underline hover:text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 dark:text-slate-300";

#[component]
pub fn ActDialog(chat: ChatClient, intent: Intent) -> impl IntoView {
    let dialog = NodeRef::<Dialog>::new();
    Effect::new(move |_| {
        let Some(dialog) = dialog.get() else { return };
        match (intent.acting.with(Option::is_some), dialog.open()) {
            (true, false) => {
                let _ = dialog.show_modal();
            }
            (false, true) => dialog.close(),
            _ => {}
        }
    });
    let body = move || {
        intent
            .acting
            .get()
            .map(|act| view! { <ActForm chat intent act /> })
    };
    view! {
        <dialog
            node_ref=dialog
            id="act-dialog"
            aria-labelledby="act-title"
            on:close=move |_| intent.acting.set(None)
            class="mx-auto mt-[12vh] w-[min(26rem,calc(100vw-2rem))] rounded-xl bg-white p-4 text-slate-900 shadow-2xl ring-1 ring-slate-200 backdrop:bg-slate-950/50 dark:bg-slate-900 dark:text-slate-100 dark:ring-slate-700"
        >
            {body}
        </dialog>
    }
}

/// What one act asks, and its buttons.
#[component]
fn ActForm(chat: ChatClient, intent: Intent, act: Act) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let minutes = RwSignal::new(60u64);
    let forever = RwSignal::new(false);
    let network = RwSignal::new(false);
    let (title, question, about, go, danger) = match &act {
        Act::Report(a) => (
            "Report a message",
            None,
            Some(a.clone()),
            "Send report",
            false,
        ),
        Act::Delete(a) => (
            "Delete this message?",
            Some("Everyone will see it as deleted.".to_owned()),
            Some(a.clone()),
            "Delete message",
            true,
        ),
        Act::Mute(a) => ("Mute the sender", None, Some(a.clone()), "Mute", true),
        Act::Ban(a) => ("Ban the sender", None, Some(a.clone()), "Ban", true),
        Act::RemoveRoom(room) => (
            "Remove this room?",
            Some(format!(
                "#{room} and its messages go, and everyone in it is moved to #general."
            )),
            None,
            "Remove room",
            true,
        ),
    };
    let quote = about.map(|a| {
        view! {
            <blockquote class="mt-2 border-l-2 border-slate-300 pl-2 text-sm text-slate-700 dark:border-slate-600 dark:text-slate-300">
                <strong>{a.sender}</strong>": "{a.text}
            </blockquote>
        }
    });
    let fields = match &act {
        Act::Report(_) => Some(view! { <ReasonField reason /> }.into_any()),
        Act::Mute(_) => Some(view! { <MuteLength minutes /> }.into_any()),
        Act::Ban(_) => Some(view! { <BanLength forever network /> }.into_any()),
        _ => None,
    };
    let act = StoredValue::new(act);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let done = match act.get_value() {
            Act::Report(a) => chat.report(&a.room, a.id, &reason.get_untracked()).is_ok(),
            Act::Delete(a) => {
                chat.delete(&a.room, a.id);
                true
            }
            Act::Mute(a) => {
                chat.mute(&a.from, minutes.get_untracked());
                true
            }
            Act::Ban(a) => {
                let minutes = (!forever.get_untracked()).then_some(24 * 60);
                chat.ban(&a.from, minutes, network.get_untracked());
                true
            }
            Act::RemoveRoom(room) => {
                chat.remove_room(&room);
                true
            }
        };
        if done {
            intent.acting.set(None);
        }
    };
    let button = if danger { DANGER } else { PRIMARY };
    view! {
        <form class="flex flex-col gap-3" on:submit=submit>
            <div>
                <h2 id="act-title" class="text-lg font-semibold">{title}</h2>
                {question.map(|q| view! { <p class="mt-1 text-sm">{q}</p> })}
                {quote}
            </div>
            {fields}
            <p id="act-error" role="alert" class="min-h-5 text-sm text-red-700 dark:text-red-400">
                {move || chat.error().get()}
            </p>
            <div class="flex justify-end gap-2">
                <button type="button" class=SECONDARY on:click=move |_| intent.acting.set(None)>
                    "Cancel"
                </button>
                <button type="submit" class=button>{go}</button>
            </div>
        </form>
    }
}

#[component]
fn ReasonField(reason: RwSignal<String>) -> impl IntoView {
    let left = move || {
        let left = MAX_REASON_LEN.saturating_sub(reason.with(|r| r.chars().count()));
        format!("{left} characters left")
    };
    view! {
        <div class="flex flex-col gap-1">
            <label for="report-reason" class="text-sm font-medium">"Reason (optional)"</label>
            <textarea
                id="report-reason"
                rows="3"
                maxlength=MAX_REASON_LEN.to_string()
                aria-describedby="reason-left"
                class="rounded-lg border border-slate-300 bg-transparent px-2 py-1 focus:outline-none focus:ring-2 focus:ring-blue-600 dark:border-slate-600"
                prop:value=move || reason.get()
                on:input=move |ev| reason.set(event_target_value(&ev))
            ></textarea>
            <p id="reason-left" class="text-xs text-slate-600 dark:text-slate-400">{left}</p>
        </div>
    }
}

#[component]
fn MuteLength(minutes: RwSignal<u64>) -> impl IntoView {
    let choices = MUTES
        .iter()
        .map(|&(label, length)| {
            view! {
                <label class="flex items-center gap-2">
                    <input
                        type="radio"
                        name="mute-length"
                        prop:checked=move || minutes.get() == length
                        on:change=move |_| minutes.set(length)
                    />
                    {label}
                </label>
            }
        })
        .collect_view();
    view! {
        <fieldset class="flex flex-col gap-1 text-sm">
            <legend class="mb-1 font-medium">"For how long"</legend>
            {choices}
        </fieldset>
    }
}

#[component]
fn BanLength(forever: RwSignal<bool>, network: RwSignal<bool>) -> impl IntoView {
    let choice = |label: &'static str, long: bool| {
        view! {
            <label class="flex items-center gap-2">
                <input
                    type="radio"
                    name="ban-length"
                    prop:checked=move || forever.get() == long
                    on:change=move |_| forever.set(long)
                />
                {label}
            </label>
        }
    };
    view! {
        <fieldset class="flex flex-col gap-1 text-sm">
            <legend class="mb-1 font-medium">"For how long"</legend>
            {choice("1 day", false)}
            {choice("Forever", true)}
        </fieldset>
        <label class="flex items-center gap-2 text-sm">
            <input
                type="checkbox"
                prop:checked=move || network.get()
                on:change=move |ev| network.set(event_target_checked(&ev))
            />
            "Also their network (for a day)"
        </label>
    }
}
