//! The composer's `@` suggestions: typing `@` lists the conversation's people, filtered as
//! one types; Up/Down move, Enter or Tab puts `@Name ` in, Esc closes. A listbox the text
//! area points into with `aria-activedescendant`. Which names and where they go is
//! [`people`](crate::client::people)'s.

use leptos::ev::KeyboardEvent;
use leptos::html::Textarea;
use leptos::prelude::*;

use crate::client::ChatClient;
use crate::client::people::{complete, mention_at, suggestions};

/// The suggestions of one composer. `Copy`.
#[derive(Clone, Copy)]
pub struct Suggest {
    /// Where the `@` being typed is (a character index), and what follows it up to the caret.
    at: RwSignal<Option<(usize, usize)>>,
    names: RwSignal<Vec<String>>,
    active: RwSignal<usize>,
}

impl Suggest {
    pub fn new() -> Self {
        Suggest {
            at: RwSignal::new(None),
            names: RwSignal::new(Vec::new()),
            active: RwSignal::new(0),
        }
    }

    fn is_open(self) -> bool {
        self.names.with(|n| !n.is_empty())
    }

    /// The text changed (or the caret moved): opens, filters or closes the list.
    pub fn update(self, chat: ChatClient, room: &str, input: NodeRef<Textarea>) {
        let found = input.get_untracked().and_then(|el| {
            let text = el.value();
            let caret = char_index(&text, el.selection_start().ok().flatten()?);
            let (at, query) = mention_at(&text, caret)?;
            Some((at, caret, query))
        });
        let Some((at, caret, query)) = found else {
            return self.close();
        };
        let names = suggestions(&untrack(|| chat.mentionable(room)), &query);
        if names.is_empty() {
            return self.close();
        }
        self.at.set(Some((at, caret)));
        self.names.set(names);
        self.active.set(0);
    }

    pub fn close(self) {
        if self.is_open() {
            self.names.set(Vec::new());
            self.at.set(None);
        }
    }

    /// Handles the list's keys while it is open; true when the key was its.
    pub fn on_key(
        self,
        ev: &KeyboardEvent,
        draft: RwSignal<String>,
        input: NodeRef<Textarea>,
    ) -> bool {
        if !self.is_open() {
            return false;
        }
        let count = self.names.with_untracked(Vec::len);
        match ev.key().as_str() {
            "ArrowDown" => self.active.update(|a| *a = (*a + 1) % count),
            "ArrowUp" => self.active.update(|a| *a = (*a + count - 1) % count),
            "Enter" | "Tab" if !ev.shift_key() => {
                let name = self
                    .names
                    .with_untracked(|n| n[self.active.get_untracked()].clone());
                self.pick(&name, draft, input);
            }
            "Escape" => self.close(),
            _ => return false,
        }
        ev.prevent_default();
        true
    }

    fn pick(self, name: &str, draft: RwSignal<String>, input: NodeRef<Textarea>) {
        let Some((at, caret)) = self.at.get_untracked() else {
            return;
        };
        let (text, caret) = draft.with_untracked(|d| complete(d, at, caret, name));
        let caret16 = utf16_len(&text, caret);
        draft.set(text);
        self.close();
        if let Some(el) = input.get_untracked() {
            // The value prop may not have been written yet: write it, then place the caret.
            el.set_value(&draft.get_untracked());
            let _ = el.set_selection_range(caret16, caret16);
            let _ = el.focus();
        }
    }

    /// The id of the option the keyboard is on, for the text area's `aria-activedescendant`.
    pub fn active_id(self) -> Option<String> {
        self.is_open()
            .then(|| format!("mention-{}", self.active.get()))
    }
}

impl Default for Suggest {
    fn default() -> Self {
        Self::new()
    }
}

/// The listbox, above the composer while open.
#[component]
pub fn MentionList(
    suggest: Suggest,
    draft: RwSignal<String>,
    input: NodeRef<Textarea>,
) -> impl IntoView {
    let options = move || {
        suggest
            .names
            .get()
            .into_iter()
            .enumerate()
            .map(|(n, name)| {
                let selected = move || suggest.active.get() == n;
                let pick = name.clone();
                view! {
                    <li
                        id=format!("mention-{n}")
                        role="option"
                        aria-selected=move || if selected() { "true" } else { "false" }
                        class="cursor-pointer rounded px-2 py-1 aria-selected:bg-blue-700 aria-selected:text-white"
                        // Keeps the focus in the text area.
                        on:mousedown=move |ev| {
                            ev.prevent_default();
                            suggest.pick(&pick, draft, input);
                        }
                    >
                        {format!("@{name}")}
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <ul
            id="mention-list"
            role="listbox"
            aria-label="People to mention"
            hidden=move || !suggest.is_open()
            class="mb-1 max-h-48 overflow-y-auto rounded-lg border border-slate-300 bg-white p-1 text-sm text-slate-900 shadow dark:border-slate-700 dark:bg-slate-950 dark:text-slate-100"
        >
            {options}
        </ul>
    }
}

/// The character index of UTF-16 offset `at` in `text` (the browser counts in UTF-16).
fn char_index(text: &str, at: u32) -> usize {
    let mut units = 0;
    for (n, c) in text.chars().enumerate() {
        if units >= at as usize {
            return n;
        }
        units += c.len_utf16();
    }
    text.chars().count()
}

/// The UTF-16 length of the first `chars` characters of `text`.
fn utf16_len(text: &str, chars: usize) -> u32 {
    text.chars().take(chars).map(char::len_utf16).sum::<usize>() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carets_convert_between_the_browser_s_units_and_characters() {
        let text = "😀 @an";
        assert_eq!(
            char_index(text, 3),
            2,
            "the emoji is two units, one character"
        );
        assert_eq!(char_index(text, 99), 5);
        assert_eq!(utf16_len(text, 2), 3);
    }
}
