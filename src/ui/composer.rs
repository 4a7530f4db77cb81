//! Writing a message: a text area (Enter sends, Shift+Enter starts a new line), a counter
//! near the length limit, and the server's refusals right below. The same composer edits one
//! of my messages (its "Edit" action, or Up-arrow when empty; Esc cancels) and answers one
//! ("Reply"), saying so above it. While a moderator has muted me (or banned me) it is
//! disabled, saying until when. Typing `@` suggests the conversation's people
//! ([`Suggest`]).

use leptos::ev::{KeyboardEvent, SubmitEvent};
use leptos::html::Textarea;
use leptos::prelude::*;

use super::intent::Intent;
use super::mentions::{MentionList, Suggest};
use super::message::quote_of;
use crate::client::{ChatClient, clock, muted_line};
use crate::protocol::MAX_MESSAGE_CHARS;

/// The counter appears once this many characters are left.
const COUNTER_FROM: usize = MAX_MESSAGE_CHARS / 5;

/// The message input, for whoever needs to put the cursor there (the conversation switcher).
/// One for the page's lifetime: the composer of whichever conversation is on screen fills it.
#[derive(Clone, Copy, Default)]
pub struct ComposerInput(pub NodeRef<Textarea>);

impl ComposerInput {
    pub fn focus(self) {
        if let Some(input) = self.0.get_untracked() {
            let _ = input.focus();
        }
    }
}

#[component]
pub fn Composer(chat: ChatClient, room: Signal<String>, intent: Intent) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    let input = use_context::<ComposerInput>().unwrap_or_default().0;
    let suggest = Suggest::new();
    // Muted or banned: nothing can go. Offline is fine: the message waits and goes out
    // after reconnecting.
    let blocked = Memo::new(move |_| {
        if let Some(ban) = chat.ban_notice().get() {
            return Some(ban);
        }
        chat.muted_until()
            .get()
            .map(|until| muted_line(until, clock::now_ms()))
    });
    let can_send = move || blocked.with(Option::is_none) && draft.with(|d| !d.trim().is_empty());
    // Editing starts with the message's text in the composer.
    Effect::new(move |_| {
        let Some(id) = intent.editing.get() else {
            return;
        };
        if let Some(message) = untrack(|| chat.message(&room.get(), id)) {
            draft.set(message.message);
        }
    });

    let send = move || {
        if !can_send() {
            return;
        }
        let text = draft.get_untracked();
        let room = room.get_untracked();
        // A refusal is shown by the client, and the draft stays.
        let done = match intent.editing.get_untracked() {
            Some(id) => chat.edit(&room, id, &text).is_ok(),
            None => chat.send(&text, intent.replying.get_untracked()).is_ok(),
        };
        if done {
            draft.set(String::new());
            intent.editing.set(None);
            intent.replying.set(None);
            // Closes the on-screen keyboard on phones.
            if let Some(input) = input.get_untracked() {
                let _ = input.blur();
            }
        }
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        send();
    };
    let on_keydown = move |ev: KeyboardEvent| {
        if suggest.on_key(&ev, draft, input) {
            return;
        }
        let key = ev.key();
        if key == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            send();
        } else if key == "Escape"
            && (intent.editing.get_untracked().is_some()
                || intent.replying.get_untracked().is_some())
        {
            if intent.editing.get_untracked().is_some() {
                draft.set(String::new());
            }
            intent.editing.set(None);
            intent.replying.set(None);
        } else if key == "ArrowUp"
            && draft.with_untracked(String::is_empty)
            && intent.editing.get_untracked().is_none()
            && let Some(mine) = chat.my_last(&room.get_untracked())
        {
            ev.prevent_default();
            intent.replying.set(None);
            intent.editing.set(Some(mine.id));
        }
    };
    let editing = move || intent.editing.get().is_some();

    view! {
        <Composing chat room intent draft />
        <p
            id="composer-blocked"
            role="status"
            hidden=move || blocked.with(Option::is_none)
            class="mb-1 rounded-lg bg-amber-50 px-2 py-1 text-sm font-medium text-amber-900 dark:bg-amber-950 dark:text-amber-100"
        >
            {move || blocked.get()}
        </p>
        <MentionList suggest draft input />
        <form
            id="form"
            action="#"
            method="POST"
            class="flex items-end gap-2 rounded-xl border border-slate-300 bg-white p-1.5 focus-within:border-blue-600 focus-within:ring-1 focus-within:ring-blue-600 dark:border-slate-700 dark:bg-slate-950"
            on:submit=on_submit
        >
            <label for="input" class="sr-only">"Message"</label>
            <textarea
                id="input"
                node_ref=input
                rows="2"
                class="max-h-40 min-w-0 flex-1 resize-none bg-transparent px-2 py-1 focus:outline-none"
                placeholder="Start typing..."
                autocomplete="off"
                aria-describedby="composer-help char-count"
                aria-autocomplete="list"
                aria-controls="mention-list"
                aria-activedescendant=move || suggest.active_id()
                maxlength=MAX_MESSAGE_CHARS.to_string()
                disabled=move || blocked.with(Option::is_some)
                prop:value=move || draft.get()
                on:input=move |ev| {
                    draft.set(event_target_value(&ev));
                    suggest.update(chat, &room.get_untracked(), input);
                    chat.typing();
                }
                on:blur=move |_| suggest.close()
                on:keydown=on_keydown
            ></textarea>
            <button
                type="submit"
                class="rounded-lg bg-blue-700 px-4 py-2 font-medium text-white hover:bg-blue-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 focus-visible:ring-offset-2 disabled:cursor-not-allowed disabled:bg-slate-400 dark:focus-visible:ring-offset-slate-900"
                disabled=move || !can_send()
            >
                {move || if editing() { "Save edit" } else { "Send message" }}
            </button>
        </form>
        <ComposerNotes chat draft />
    }
}

/// Above the composer while it edits or answers a message: which, and how to stop.
#[component]
fn Composing(
    chat: ChatClient,
    room: Signal<String>,
    intent: Intent,
    draft: RwSignal<String>,
) -> impl IntoView {
    let what = move || {
        if intent.editing.get().is_some() {
            return Some("Editing your message (Esc to cancel)".to_owned());
        }
        let id = intent.replying.get()?;
        let original = chat.message(&room.get(), id)?;
        Some(
            [
                "Replying to ",
                &original.sender,
                ": ",
                &quote_of(&original.message),
            ]
            .concat(),
        )
    };
    let cancel = move |_| {
        if intent.editing.get_untracked().is_some() {
            draft.set(String::new());
        }
        intent.editing.set(None);
        intent.replying.set(None);
    };
    view! {
        <div
            id="composing"
            class="mb-1 flex items-center gap-2 rounded-lg bg-slate-100 px-2 py-1 text-sm text-slate-700 dark:bg-slate-800 dark:text-slate-200"
            hidden=move || what().is_none()
        >
            <span class="min-w-0 flex-1 truncate">{what}</span>
            <button type="button" class="shrink-0 font-medium underline" on:click=cancel>"Cancel"</button>
        </div>
    }
}

/// Under the composer: the last refusal, the keyboard help (for screen readers), and how many
/// characters are left near the limit.
#[component]
fn ComposerNotes(chat: ChatClient, draft: RwSignal<String>) -> impl IntoView {
    view! {
        <div class="flex min-h-5 justify-between gap-2 px-1 text-sm">
            <p id="composer-error" role="alert" class="min-h-5 text-red-700 dark:text-red-400">
                {move || chat.error().get()}
            </p>
            <p id="composer-done" role="status" class="min-h-5 text-emerald-800 empty:hidden dark:text-emerald-300">
                {move || chat.done().get()}
            </p>
            <p id="composer-help" class="sr-only">
                "Enter sends; Shift+Enter starts a new line; Up-arrow edits my last message."
            </p>
            <p id="char-count" aria-live="polite" class="shrink-0 text-slate-600 dark:text-slate-400">
                {move || draft.with(|d| chars_left(d))}
            </p>
        </div>
    }
}

/// "N characters left", once the draft is near the limit.
fn chars_left(draft: &str) -> Option<String> {
    let left = MAX_MESSAGE_CHARS.saturating_sub(draft.chars().count());
    (left <= COUNTER_FROM).then(|| format!("{left} characters left"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_appears_near_the_limit_and_counts_characters_not_bytes() {
        assert_eq!(chars_left("short"), None);
        assert_eq!(chars_left(&"x".repeat(799)), None);
        let near = "x".repeat(MAX_MESSAGE_CHARS - COUNTER_FROM);
        assert_eq!(chars_left(&near).as_deref(), Some("200 characters left"));
        let wide = "é".repeat(850);
        assert_eq!(chars_left(&wide).as_deref(), Some("150 characters left"));
        let over = "x".repeat(MAX_MESSAGE_CHARS + 5);
        assert_eq!(chars_left(&over).as_deref(), Some("0 characters left"));
    }
}
