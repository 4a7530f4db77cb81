//! Who is in the conversation on screen: me first, then by name, each with the dot of their
//! name's colour and a way to write to them directly. A panel beside the conversation on wide
//! screens, a drawer behind a "Who's online" button on phones.

use leptos::prelude::*;

use super::drawer::{DrawerClose, DrawerToggle, Drawers, FOCUS_RING, Side};
use crate::client::ChatClient;
use crate::protocol::Peer;
use crate::protocol::names::dot_color;

/// The people in `room`, me first, then by name.
pub fn members_of(chat: ChatClient, room: Signal<String>) -> Memo<Vec<Peer>> {
    Memo::new(move |_| {
        let me = chat.my_id().get();
        let mut peers = chat.peers_in(&room.get());
        peers.sort_by(|a, b| {
            let mine = |p: &Peer| me.as_deref() != Some(p.id.as_str());
            (mine(a), &a.name).cmp(&(mine(b), &b.name))
        });
        peers
    })
}

#[component]
pub fn PeerList(
    chat: ChatClient,
    peers: Memo<Vec<Peer>>,
    online: Signal<usize>,
    drawers: Drawers,
) -> impl IntoView {
    let side = Side::Members;
    // A big room's list names its first people only; the rest are counted.
    let unlisted = move || online.get().saturating_sub(peers.with(Vec::len));
    view! {
        <aside
            id=side.panel_id()
            aria-labelledby="peers-heading"
            data-open=drawers.data_open(side)
            inert=move || drawers.covers(Some(side))
            class="drawer drawer-right min-h-0 flex-col border-slate-200 bg-slate-50 lg:flex lg:border-l dark:border-slate-800 dark:bg-slate-950"
        >
            <div class="flex h-12 shrink-0 items-center justify-between gap-2 pl-4 pr-2 lg:h-auto lg:pt-4 lg:pb-2">
                <h3 id="peers-heading" class="font-semibold">
                    "Who's online: "
                    <span class="peer-count font-normal text-slate-600 dark:text-slate-400">
                        {move || online.get()}
                    </span>
                </h3>
                <DrawerClose drawers side label="Close who's online" />
            </div>
            <ul id="peer-list" class="flex min-h-0 flex-1 flex-col gap-0.5 overflow-y-auto px-2 pb-3">
                <For each=move || peers.get() key=|p| p.id.clone() let(peer)>
                    <PeerItem chat=chat peer=peer />
                </For>
            </ul>
            <p
                class="peers-more shrink-0 px-4 pb-3 text-sm text-slate-600 dark:text-slate-400"
                hidden=move || unlisted() == 0
            >
                {move || format!("and {} more", unlisted())}
            </p>
        </aside>
    }
}

/// On phones, in the conversation's header: the count of people online, opening the list.
/// A heading around a button, so the list keeps its "Who's online:" heading where it shows.
#[component]
pub fn PeersToggle(online: Signal<usize>, drawers: Drawers) -> impl IntoView {
    let count = online;
    view! {
        <h2 class="shrink-0 lg:hidden">
            <DrawerToggle drawers side=Side::Members count />
        </h2>
    }
}

#[component]
fn PeerItem(chat: ChatClient, peer: Peer) -> impl IntoView {
    let Peer { id, name } = peer;
    let dot = format!(
        "inline-block h-2.5 w-2.5 shrink-0 rounded-full {}",
        dot_class(Some(dot_color(&name, &id)))
    );
    let is_me = {
        let id = id.clone();
        Memo::new(move |_| chat.my_id().with(|me| me.as_deref() == Some(id.as_str())))
    };
    let message_label = format!("Send a direct message to {name}");
    // Their latest name: a rename reaches the list before it is sent again.
    let shown = {
        let id = id.clone();
        move || chat.name_for(&id, &name)
    };
    view! {
        <li class="flex min-h-9 items-center gap-2 rounded-lg px-2 hover:bg-slate-200/60 dark:hover:bg-slate-800/60">
            <span class=dot aria-hidden="true"></span>
            <span class="peer-name min-w-0 flex-1 truncate">
                {shown}{move || is_me.get().then_some(" (you)")}
            </span>
                <a
                    hidden=move || is_me.get()
                    href=format!("/dm/{id}")
                    class=format!(
                        "dm-link shrink-0 rounded px-1 text-sm text-blue-700 underline dark:text-blue-400 {FOCUS_RING}",
                    )
                    aria-label=message_label.clone()
                >
                    "Message"
                </a>
        </li>
    }
}

/// The dot colour for a name's colour. Written out in full so Tailwind keeps every class.
pub fn dot_class(color: Option<&str>) -> &'static str {
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
