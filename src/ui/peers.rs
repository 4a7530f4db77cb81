//! Who is in the conversation on screen: me first, then by name, each with the dot of their
//! name's colour and a way to write to them directly.

use leptos::prelude::*;

use crate::client::ChatClient;
use crate::protocol::Peer;
use crate::protocol::names::color_of;

#[component]
pub fn PeerList(chat: ChatClient, room: Signal<String>) -> impl IntoView {
    let peers = Memo::new(move |_| {
        let me = chat.my_id().get();
        let mut peers = chat.peers_in(&room.get());
        peers.sort_by(|a, b| {
            let mine = |p: &Peer| me.as_deref() != Some(p.id.as_str());
            (mine(a), &a.name).cmp(&(mine(b), &b.name))
        });
        peers
    });
    view! {
        <section aria-labelledby="peers-heading">
            <h3 id="peers-heading" class="mb-2 text-lg font-semibold">
                "Who's online: "
                <span class="peer-count font-normal text-slate-600 dark:text-slate-400">
                    {move || peers.with(Vec::len)}
                </span>
            </h3>
            // A wrapping row on phones, a column on wider screens.
            <ul id="peer-list" class="flex flex-row flex-wrap gap-x-4 gap-y-1 sm:flex-col">
                <For each=move || peers.get() key=|p| p.id.clone() let(peer)>
                    <PeerItem chat=chat peer=peer />
                </For>
            </ul>
        </section>
    }
}

#[component]
fn PeerItem(chat: ChatClient, peer: Peer) -> impl IntoView {
    let Peer { id, name } = peer;
    let dot = format!(
        "inline-block h-2.5 w-2.5 shrink-0 rounded-full {}",
        dot_class(color_of(&name))
    );
    let is_me = {
        let id = id.clone();
        Memo::new(move |_| chat.my_id().with(|me| me.as_deref() == Some(id.as_str())))
    };
    let message_label = format!("Send a direct message to {name}");
    view! {
        <li class="flex items-center gap-2">
            <span class=dot aria-hidden="true"></span>
            <span class="peer-name">{name}{move || is_me.get().then_some(" (you)")}</span>
            <Show when=move || !is_me.get()>
                <a
                    href=format!("/dm/{id}")
                    class="dm-link ml-auto text-sm text-blue-700 underline focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 dark:text-blue-400"
                    aria-label=message_label.clone()
                >
                    "Message"
                </a>
            </Show>
        </li>
    }
}

/// The dot colour for a name's colour. Written out in full so Tailwind keeps every class.
fn dot_class(color: Option<&str>) -> &'static str {
    match color {
        Some("red") => "bg-red-500",
        Some("orange") => "bg-orange-500",
        Some("amber") => "bg-amber-500",
        Some("yellow") => "bg-yellow-400",
        Some("lime") => "bg-lime-500",
        Some("green") => "bg-green-600",
        Some("emerald") => "bg-emerald-500",
        Some("teal") => "bg-teal-500",
        Some("cyan") => "bg-cyan-500",
        Some("sky") => "bg-sky-500",
        Some("blue") => "bg-blue-600",
        Some("indigo") => "bg-indigo-500",
        Some("violet") => "bg-violet-500",
        Some("purple") => "bg-purple-600",
        Some("fuchsia") => "bg-fuchsia-500",
        Some("pink") => "bg-pink-500",
        Some("rose") => "bg-rose-500",
        _ => "bg-gray-500",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::names::COLORS;

    #[test]
    fn every_name_colour_has_its_own_dot() {
        let mut seen = std::collections::HashSet::new();
        for color in COLORS {
            let class = dot_class(Some(color));
            assert!(class.contains(color), "{color} drawn as {class}");
            assert!(seen.insert(class));
        }
    }
}
