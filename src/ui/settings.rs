//! What I set about myself, under "Your id": my display name (Save or Enter; the server's
//! refusal shows under the field) and notifications ("Notify me" asks the browser only when
//! clicked; a checkbox, remembered by this browser, turns them off).

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::drawer::FOCUS_RING;
use crate::client::{ChatClient, RenameNote, notify};
use crate::protocol::{MAX_NAME_LEN, MIN_NAME_LEN};

const FIELD: &str = "min-w-0 flex-1 rounded border border-slate-400 bg-white px-1.5 py-0.5 text-sm text-slate-900 dark:border-slate-600 dark:bg-slate-950 dark:text-slate-100";

/// "Your name", with Save.
#[component]
pub fn MyName(chat: ChatClient) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    // The field starts from my name, and follows it until I type.
    let touched = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(name) = chat.my_name().get()
            && !touched.get_untracked()
        {
            draft.set(name);
        }
    });
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        touched.set(false);
        chat.rename(&draft.get_untracked());
    };
    let note = move || match chat.rename_note().get() {
        Some(RenameNote::Saving) => {
            Some(("text-slate-700 dark:text-slate-300", "Saving…".to_owned()))
        }
        Some(RenameNote::Saved(name)) => Some((
            "text-green-800 dark:text-green-300",
            format!("You are now {name}."),
        )),
        Some(RenameNote::Refused(why)) => Some(("text-red-700 dark:text-red-400", why)),
        None => None,
    };
    let refused = move || matches!(chat.rename_note().get(), Some(RenameNote::Refused(_)));
    let hint = format!("{MIN_NAME_LEN}–{MAX_NAME_LEN} characters: letters, digits, space, - _ .");
    view! {
        <form
            id="my-name"
            hidden=move || chat.my_id().with(Option::is_none)
            on:submit=save
            class="shrink-0 px-3 py-1.5 text-xs text-slate-700 dark:text-slate-300"
        >
            <div class="flex items-center gap-2">
                <label for="my-name-input" class="shrink-0">"Your name"</label>
                <input
                    id="my-name-input"
                    class=format!("{FIELD} {FOCUS_RING}")
                    maxlength=MAX_NAME_LEN.to_string()
                    autocomplete="off"
                    aria-describedby="my-name-hint my-name-note"
                    aria-invalid=move || refused().then_some("true")
                    prop:value=move || draft.get()
                    on:input=move |ev| {
                        touched.set(true);
                        draft.set(event_target_value(&ev));
                    }
                />
                <button
                    type="submit"
                    class=format!("shrink-0 rounded bg-slate-800 px-2 py-0.5 font-medium text-white dark:bg-slate-700 {FOCUS_RING}")
                >
                    "Save"
                </button>
            </div>
            <p id="my-name-hint" class="mt-0.5 text-slate-600 dark:text-slate-400">{hint}</p>
            <p id="my-name-note" role="status" class=move || note().map_or("", |(c, _)| c)>
                {move || note().map(|(_, text)| text)}
            </p>
        </form>
    }
}

/// "Notify me", and the setting that turns notifications off.
#[component]
pub fn NotifySettings() -> impl IntoView {
    let permission = RwSignal::new("default");
    let on = RwSignal::new(true);
    // Read once in the browser: the server cannot know either.
    Effect::new(move |_| {
        permission.set(notify::permission());
        on.set(notify::enabled());
    });
    let ask = move |_| notify::ask(move |answer| permission.set(answer));
    let said = move || match permission.get() {
        "granted" => "Notifications allowed.",
        "denied" => "This browser blocks notifications for this site.",
        "unsupported" => "This browser cannot show notifications.",
        _ => "",
    };
    view! {
        <div id="notify-settings" class="flex shrink-0 flex-wrap items-center gap-2 px-3 pb-1.5 text-xs text-slate-700 dark:text-slate-300">
            <button
                type="button"
                id="notify-me"
                hidden=move || permission.get() != "default"
                class=format!("rounded px-1.5 py-0.5 underline {FOCUS_RING}")
                on:click=ask
            >
                "Notify me"
            </button>
            <span role="status">{said}</span>
            <label class="flex items-center gap-1">
                <input
                    type="checkbox"
                    id="notify-on"
                    class=FOCUS_RING
                    prop:checked=move || on.get()
                    on:change=move |ev| {
                        let checked = event_target_checked(&ev);
                        on.set(checked);
                        notify::set_enabled(checked);
                    }
                />
                "Notify me of mentions and direct messages"
            </label>
        </div>
    }
}
