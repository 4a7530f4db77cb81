//! One message in the stream: "<sender> says: <message>" with its time (grouped lines show
//! the sender to screen readers only), the quote of the message it answers, "edited" with
//! its time, "message deleted" in place of a taken-back one, its reactions and its actions.
//! The sender shows under their latest name; a message that mentions me stands out.

use leptos::prelude::*;

use super::actions::{MessageActions, MoreButton, Target};
use super::acts::About;
use super::intent::Intent;
use super::reactions::Reactions;
use super::rich::RichText;
use crate::client::{ChatClient, clock};
use crate::protocol::NewMessage;

/// Characters of the original a reply's quote shows.
const QUOTE_CHARS: usize = 80;

#[component]
pub fn MessageLine(
    chat: ChatClient,
    intent: Intent,
    message: NewMessage,
    grouped: bool,
    mine: bool,
) -> impl IntoView {
    let (short, full, _) = clock::local_time(message.ts);
    let mentioned = !mine && !message.deleted && chat.mentions_me(&message);
    let names: Vec<String> = message
        .mentions
        .iter()
        .filter_map(|id| chat.latest_name(id))
        .collect();
    let sender = {
        let (from, sent_as) = (message.from.clone(), message.sender.clone());
        move || [chat.name_for(&from, &sent_as).as_str(), " says: "].concat()
    };
    let id = message.id;
    let class = if grouped {
        "message group relative rounded-lg"
    } else {
        "message group relative mt-1 rounded-lg"
    };
    let line_class = [
        "flex items-baseline gap-2 rounded-lg px-2 ",
        if grouped { "py-0" } else { "py-0.5" },
        if mine {
            " bg-blue-50 dark:bg-blue-950/60"
        } else if mentioned {
            " mentioned border-l-4 border-amber-500 bg-amber-50 dark:bg-amber-950/50"
        } else {
            ""
        },
    ]
    .concat();
    // A grouped line keeps "<sender> says:" for screen readers (and the tutorial's text), but
    // shows it only once per group.
    let sender_class = if grouped { "sr-only" } else { "font-semibold" };
    let open = RwSignal::new(false);
    let quote = message
        .reply_to
        .map(|original| view! { <ReplyQuote chat intent room=message.room.clone() id=original /> });
    let excerpt = quote_of(&message.message);
    let text = if message.deleted {
        view! { <span class="deleted italic text-slate-600 dark:text-slate-400">"message deleted"</span> }
            .into_any()
    } else {
        view! { <RichText text=message.message names /> }.into_any()
    };
    let edited = message.edited.filter(|_| !message.deleted).map(|at| {
        let (_, when, _) = clock::local_time(at);
        let title = ["Edited ", when.as_str()].concat();
        view! {
            <small class="edited ml-1 text-xs text-slate-600 dark:text-slate-400" title=title.clone() tabindex="0">
                "(edited"<span class="sr-only">{[" ", when.as_str()].concat()}</span>")"
            </small>
        }
    });
    let reactions = (!message.reactions.is_empty()).then(|| {
        view! { <Reactions chat room=message.room.clone() id reactions=message.reactions /> }
    });
    let target = Target {
        about: About {
            room: message.room,
            id,
            from: message.from,
            sender: message.sender.clone(),
            text: excerpt,
        },
        mine,
        deleted: message.deleted,
    };
    let more = (!message.deleted).then(|| view! { <MoreButton open /> });
    view! {
        <div
            class=class
            class:highlight=move || intent.highlight.get() == Some(id)
            data-id=id.to_string()
            tabindex="-1"
        >
            {quote}
            <p
                class=line_class
                data-mine=mine.then_some("true")
                data-mentioned=mentioned.then_some("true")
            >
                <span class="min-w-0 flex-1 break-words whitespace-pre-wrap">
                    <strong class=sender_class>{sender}</strong>
                    {text}
                    {mentioned.then(|| view! { <span class="sr-only">" (mentions you)"</span> })}
                    {edited}
                </span>
                <time class="shrink-0 text-xs text-slate-600 dark:text-slate-400" title=full>
                    {short}
                </time>
                {more}
            </p>
            {reactions}
            <MessageActions chat intent target open />
        </div>
    }
}

/// The start of the message a reply answers (or that it was deleted); following it brings
/// the original into view, loading older pages until it is there.
#[component]
fn ReplyQuote(chat: ChatClient, intent: Intent, room: String, id: u64) -> impl IntoView {
    let original = Memo::new(move |_| chat.message(&room, id));
    let text = move || match original.get() {
        Some(m) if m.deleted => "deleted message".to_owned(),
        Some(m) => [m.sender.as_str(), ": ", &quote_of(&m.message)].concat(),
        None => "an earlier message".to_owned(),
    };
    view! {
        <button
            type="button"
            class="reply-quote ml-2 mt-0.5 block max-w-full truncate border-l-2 border-slate-300 pl-2 text-left text-xs text-slate-600 hover:text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 dark:border-slate-600 dark:text-slate-400 dark:hover:text-slate-100"
            on:click=move |_| intent.jump.set(Some(id))
        >
            <span class="sr-only">"In reply to "</span>
            {text}
        </button>
    }
}

/// The first [`QUOTE_CHARS`] characters of `text` on one line, with "…" when cut.
pub fn quote_of(text: &str) -> String {
    let mut quote: String = text
        .chars()
        .take(QUOTE_CHARS)
        .map(|c| if c == '\n' { ' ' } else { c })
        .collect();
    if text.chars().nth(QUOTE_CHARS).is_some() {
        quote.push('…');
    }
    quote
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quote_is_one_short_line() {
        assert_eq!(quote_of("hi\nthere"), "hi there");
        let long = "é".repeat(QUOTE_CHARS + 1);
        let quote = quote_of(&long);
        assert_eq!(quote.chars().count(), QUOTE_CHARS + 1);
        assert!(quote.ends_with('…'));
        assert_eq!(quote_of(&"x".repeat(QUOTE_CHARS)), "x".repeat(QUOTE_CHARS));
    }
}
