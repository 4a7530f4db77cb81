//! Jumping to a conversation by name (Ctrl+K or ⌘K): a modal dialog with a filter and the
//! matching conversations as a listbox of links. Arrows move, Enter goes (and puts the cursor
//! in the composer), a click follows the link, Esc or a click outside closes, and focus returns
//! where it was.

use leptos::ev::KeyboardEvent;
use leptos::html::Dialog;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::composer::ComposerInput;
use super::conversations::{ConversationList, href_of, option_id};
use crate::client::ChatClient;

/// Opens the switcher, or closes it when open.
pub fn toggle(dialog: NodeRef<Dialog>) {
    if let Some(dialog) = dialog.get_untracked() {
        if dialog.open() {
            dialog.close();
        } else {
            let _ = dialog.show_modal();
        }
    }
}

/// Closes the switcher (a conversation was picked).
pub fn close(dialog: NodeRef<Dialog>) {
    if let Some(dialog) = dialog.get_untracked() {
        dialog.close();
    }
}

/// The conversations (`(title, key)`) whose title contains `query`, ignoring case and a
/// leading `#`: those that start with it first, each group in the order given (rooms come
/// sorted by name).
pub fn matching(conversations: Vec<(String, String)>, query: &str) -> Vec<(String, String)> {
    let query = query.trim().trim_start_matches('#').to_lowercase();
    let plain = |title: &str| title.trim_start_matches('#').to_lowercase();
    let (mut found, inside): (Vec<_>, Vec<_>) = conversations
        .into_iter()
        .filter(|(title, _)| plain(title).contains(&query))
        .partition(|(title, _)| plain(title).starts_with(&query));
    found.extend(inside);
    found
}

/// What the switcher offers and which of it is picked.
#[derive(Clone, Copy)]
struct Picker {
    query: RwSignal<String>,
    /// The keys of the matching conversations.
    choices: Memo<Vec<String>>,
    /// The one the arrows moved to, while it still matches.
    moved_to: RwSignal<Option<String>>,
    /// That one, or else the first.
    picked: Memo<Option<String>>,
}

impl Picker {
    fn new(chat: ChatClient) -> Self {
        let query = RwSignal::new(String::new());
        let choices = Memo::new(move |_| {
            let mut keys = chat.rooms().get();
            keys.extend(chat.direct_conversations());
            let titled = keys.into_iter().map(|k| (chat.title(&k), k)).collect();
            let found = query.with(|q| matching(titled, q));
            found.into_iter().map(|(_, key)| key).collect::<Vec<_>>()
        });
        let moved_to = RwSignal::new(None::<String>);
        let picked = Memo::new(move |_| {
            choices.with(|c| {
                let moved = moved_to.get().filter(|key| c.contains(key));
                moved.or_else(|| c.first().cloned())
            })
        });
        Picker {
            query,
            choices,
            moved_to,
            picked,
        }
    }

    /// Moves the pick `by` places, wrapping around.
    fn step(self, by: isize) {
        let next = self.choices.with_untracked(|c| {
            let at = self
                .picked
                .with_untracked(|p| c.iter().position(|k| Some(k) == p.as_ref()));
            let to = at.map_or(0, |at| {
                (at as isize + by).rem_euclid(c.len().max(1) as isize)
            });
            c.get(to as usize).cloned()
        });
        self.moved_to.set(next);
    }

    fn reset(self) {
        self.query.set(String::new());
        self.moved_to.set(None);
    }
}

#[component]
pub fn Switcher(chat: ChatClient, room: Signal<String>, dialog: NodeRef<Dialog>) -> impl IntoView {
    let picker = Picker::new(chat);
    let Picker { query, picked, .. } = picker;
    let navigate = use_navigate();
    // Enter goes to the picked one and on to writing there; a click follows its link.
    let on_keydown = move |ev: KeyboardEvent| {
        match ev.key().as_str() {
            "ArrowDown" => picker.step(1),
            "ArrowUp" => picker.step(-1),
            "Enter" => {
                if let Some(key) = picked.get_untracked() {
                    close(dialog);
                    navigate(&href_of(chat, &key), Default::default());
                    let input = expect_context::<ComposerInput>();
                    request_animation_frame(move || input.focus());
                }
            }
            _ => return,
        }
        ev.prevent_default();
    };
    view! {
        <dialog
            node_ref=dialog
            id="switcher"
            aria-label="Jump to a conversation"
            closedby="any"
            on:close=move |_| picker.reset()
            class="mx-auto mt-[12vh] w-[min(28rem,calc(100vw-2rem))] rounded-xl bg-white p-0 text-slate-900 shadow-2xl ring-1 ring-slate-200 backdrop:bg-slate-950/50 dark:bg-slate-900 dark:text-slate-100 dark:ring-slate-700"
        >
            <input
                id="switcher-filter"
                role="combobox"
                aria-label="Conversation name"
                aria-expanded="true"
                aria-controls="switcher-options"
                aria-autocomplete="list"
                aria-activedescendant=move || picked.get().map(|key| option_id(&key))
                autocomplete="off"
                placeholder="Jump to…"
                class="w-full rounded-t-xl border-b border-slate-200 bg-transparent px-4 py-3 text-base focus:outline-none dark:border-slate-700"
                prop:value=move || query.get()
                on:input=move |ev| query.set(event_target_value(&ev))
                on:keydown=on_keydown
            />
            <div class="max-h-72 overflow-y-auto p-1">
                <ConversationList
                    chat
                    room
                    keys=picker.choices.into()
                    id="switcher-options"
                    picker=picked.into()
                />
                // Only while the list is empty (CSS, no code).
                <p class="hidden px-3 py-2 text-sm text-slate-600 peer-empty:block dark:text-slate-400">
                    "No conversation by that name."
                </p>
            </div>
        </dialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn titled(titles: &[&str]) -> Vec<(String, String)> {
        titles
            .iter()
            .map(|t| (t.to_string(), t.trim_start_matches('#').to_string()))
            .collect()
    }

    #[test]
    fn the_filter_matches_anywhere_in_the_name_and_puts_prefixes_first() {
        let all = titled(&["#general", "#rust-talk", "#trust", "blue-fish"]);
        let keys = |found: Vec<(String, String)>| -> Vec<String> {
            found.into_iter().map(|(_, key)| key).collect()
        };
        assert_eq!(
            keys(matching(all.clone(), "")),
            ["general", "rust-talk", "trust", "blue-fish"]
        );
        assert_eq!(keys(matching(all.clone(), "RUST")), ["rust-talk", "trust"]);
        assert_eq!(keys(matching(all.clone(), "#tr")), ["trust"]);
        assert_eq!(keys(matching(all.clone(), "fish")), ["blue-fish"]);
        assert!(matching(all, "nothing").is_empty());
    }
}
