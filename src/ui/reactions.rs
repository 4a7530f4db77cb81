//! The reactions under a message: one button per emoji with its count (pressed when one of
//! them is mine; pressing toggles mine), naming who put it there for hover, focus and screen
//! readers.

use leptos::prelude::*;

use crate::client::ChatClient;
use crate::protocol::Reaction;

/// The names shown for a reaction's people before "and N others".
const NAMED: usize = 5;

#[component]
pub fn Reactions(
    chat: ChatClient,
    room: String,
    id: u64,
    reactions: Vec<Reaction>,
) -> impl IntoView {
    let me = chat.my_id().get_untracked().unwrap_or_default();
    let chips = reactions
        .into_iter()
        .map(|reaction| {
            let mine = reaction.ids.contains(&me);
            let names: Vec<Option<String>> =
                reaction.ids.iter().map(|who| chat.name_of(&room, who)).collect();
            let who = who_reacted(&names);
            let label = [reaction.emoji.as_str(), " ", &reaction.ids.len().to_string(), ", by ", &who]
                .concat();
            let count = reaction.ids.len().to_string();
            let room = room.clone();
            let emoji = reaction.emoji.clone();
            view! {
                <button
                    type="button"
                    class="reaction inline-flex items-center gap-1 rounded-full border px-2 py-0.5 text-sm border-slate-300 hover:bg-slate-100 aria-pressed:border-blue-600 aria-pressed:bg-blue-50 dark:border-slate-600 dark:hover:bg-slate-800 dark:aria-pressed:bg-blue-950 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600"
                    aria-pressed=if mine { "true" } else { "false" }
                    aria-label=label
                    title=who
                    on:click=move |_| {
                        let _ = chat.react(&room, id, &emoji);
                    }
                >
                    <span aria-hidden="true">{reaction.emoji}</span>
                    <span aria-hidden="true" class="count text-xs">{count}</span>
                </button>
            }
        })
        .collect_view();
    view! { <div class="reactions flex flex-wrap gap-1 px-2 pt-0.5">{chips}</div> }
}

/// "ann, bob and 2 others": the known names, the unknown ones (people who left a room since)
/// counted with the rest.
pub fn who_reacted(names: &[Option<String>]) -> String {
    let shown: Vec<&str> = names
        .iter()
        .flatten()
        .map(String::as_str)
        .take(NAMED)
        .collect();
    let others = (names.len() - shown.len()).to_string();
    match (shown.is_empty(), names.len() - shown.len()) {
        (true, 1) => "1 person".into(),
        (true, _) => [others.as_str(), " people"].concat(),
        (false, 0) => shown.join(", "),
        (false, 1) => [shown.join(", ").as_str(), " and 1 other"].concat(),
        (false, _) => [shown.join(", ").as_str(), " and ", &others, " others"].concat(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(name: &str) -> Option<String> {
        Some(name.into())
    }

    #[test]
    fn reactors_are_named_and_the_unknown_and_the_many_counted() {
        assert_eq!(who_reacted(&[n("ann")]), "ann");
        assert_eq!(who_reacted(&[n("ann"), n("bob")]), "ann, bob");
        assert_eq!(who_reacted(&[n("ann"), None]), "ann and 1 other");
        assert_eq!(who_reacted(&[None]), "1 person");
        assert_eq!(who_reacted(&[None, None]), "2 people");
        let many: Vec<_> = ["a", "b", "c", "d", "e", "f", "g"].map(n).into();
        assert_eq!(who_reacted(&many), "a, b, c, d, e and 2 others");
    }
}
