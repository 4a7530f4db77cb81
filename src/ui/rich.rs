//! A message's text as elements: the blocks and pieces of [`format::parse`] (bold, italic,
//! strikethrough, code, quotes, links) and its `@names`, each one a node built here. Never
//! HTML: whatever the text holds stays text. Everything is phrasing content (quotes and code
//! blocks are spans shown as blocks), because a message line is a `<p>`.

use leptos::prelude::*;

use crate::client::format::{self, Block, Inline};
use crate::client::people::split_mentions;

/// What a link carries: it opens apart, tells the other site nothing and vouches for nothing.
const LINK_REL: &str = "noopener noreferrer nofollow ugc";

/// `text` formatted; `names` are the names its `@` may stand for (longest matched first).
#[component]
pub fn RichText(text: String, names: Vec<String>) -> impl IntoView {
    format::parse(&text)
        .into_iter()
        .map(|block| block_view(block, &names))
        .collect_view()
}

fn block_view(block: Block, names: &[String]) -> AnyView {
    match block {
        Block::Text(pieces) => view! { <span>{inlines(pieces, names)}</span> }.into_any(),
        Block::Quote(pieces) => view! {
            <span class="quote my-0.5 block border-l-4 border-slate-300 pl-2 text-slate-700 dark:border-slate-600 dark:text-slate-300">
                {inlines(pieces, names)}
            </span>
        }
        .into_any(),
        Block::Code(code) => view! {
            <code class="code-block my-1 block overflow-x-auto rounded bg-slate-100 p-2 font-mono text-sm whitespace-pre dark:bg-slate-800">{code}</code>
        }
        .into_any(),
    }
}

fn inlines(pieces: Vec<Inline>, names: &[String]) -> Vec<AnyView> {
    pieces.into_iter().map(|p| inline_view(p, names)).collect()
}

fn inline_view(piece: Inline, names: &[String]) -> AnyView {
    match piece {
        Inline::Text(text) => text_view(&text, names),
        Inline::Bold(inner) => {
            view! { <strong class="font-semibold">{inlines(inner, names)}</strong> }.into_any()
        }
        Inline::Italic(inner) => view! { <em>{inlines(inner, names)}</em> }.into_any(),
        Inline::Strike(inner) => view! { <s>{inlines(inner, names)}</s> }.into_any(),
        Inline::Code(code) => view! {
            <code class="rounded bg-slate-100 px-1 font-mono text-[0.9em] dark:bg-slate-800">{code}</code>
        }
        .into_any(),
        Inline::Link { href, text } => view! {
            <a
                href=href
                target="_blank"
                rel=LINK_REL
                class="text-blue-700 underline break-all dark:text-blue-400"
            >
                {text}
            </a>
        }
        .into_any(),
        Inline::Break => view! { <br /> }.into_any(),
    }
}

/// Plain text, its `@names` marked.
fn text_view(text: &str, names: &[String]) -> AnyView {
    split_mentions(text, names)
        .into_iter()
        .map(|(mention, part)| {
            let part = part.to_owned();
            if mention {
                view! {
                    <span class="at-name rounded bg-amber-100 px-0.5 font-medium text-amber-900 dark:bg-amber-900/60 dark:text-amber-100">
                        {part}
                    </span>
                }
                .into_any()
            } else {
                part.into_any()
            }
        })
        .collect_view()
        .into_any()
}
