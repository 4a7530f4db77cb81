//! The side panels as drawers on narrow screens: which one is open, the buttons that open and
//! close them, and where focus goes (into the drawer, then back to its button). From `lg` up
//! both panels sit beside the conversation and none of this shows (style/tailwind.css,
//! `.drawer`).

use leptos::ev;
use leptos::html::Button;
use leptos::prelude::*;

/// The keyboard focus ring every control here shares.
pub const FOCUS_RING: &str = "focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600";

/// The width (px) from which both panels sit beside the conversation (Tailwind's `lg`).
const SIDE_BY_SIDE_PX: f64 = 1024.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Conversations,
    Members,
}

impl Side {
    /// The id of the panel.
    pub fn panel_id(self) -> &'static str {
        match self {
            Side::Conversations => "conversations",
            Side::Members => "members",
        }
    }
}

/// Which drawer is open, and the buttons focus moves between.
#[derive(Clone, Copy)]
pub struct Drawers {
    open: RwSignal<Option<Side>>,
    toggles: [NodeRef<Button>; 2],
    closers: [NodeRef<Button>; 2],
}

impl Drawers {
    pub fn new() -> Self {
        let drawers = Drawers {
            open: RwSignal::new(None),
            toggles: [NodeRef::new(), NodeRef::new()],
            closers: [NodeRef::new(), NodeRef::new()],
        };
        // Widened past the phone layout: the panels are beside the conversation, so nothing
        // may stay inert behind a drawer that no longer shows.
        let handle = window_event_listener(ev::resize, move |_| {
            let width = window().inner_width().ok().and_then(|w| w.as_f64());
            if width.is_some_and(|w| w >= SIDE_BY_SIDE_PX) {
                drawers.open.set(None);
            }
        });
        on_cleanup(move || handle.remove());
        drawers
    }

    /// Whether `side` is open (tracked).
    pub fn is_open(self, side: Side) -> bool {
        self.open.get() == Some(side)
    }

    /// Whether a region should be out of reach now: when a drawer other than itself (`own`,
    /// `None` for the rest of the page) is open.
    pub fn covers(self, own: Option<Side>) -> bool {
        self.open.with(|open| open.is_some() && *open != own)
    }

    /// Opens `side` and moves focus into it.
    pub fn open(self, side: Side) {
        self.open.set(Some(side));
        let closer = self.closers[side as usize];
        // Once it shows (and the rest is inert).
        request_animation_frame(move || focus(closer));
    }

    /// Closes the open drawer and gives focus back to the button that opened it.
    pub fn close(self) {
        if let Some(side) = self.open.get_untracked() {
            self.open.set(None);
            let toggle = self.toggles[side as usize];
            request_animation_frame(move || focus(toggle));
        }
    }

    /// Closes the open drawer without moving focus (something else takes it).
    pub fn dismiss(self) {
        if self.open.get_untracked().is_some() {
            self.open.set(None);
        }
    }

    /// `data-open` for a panel (styled by `.drawer[data-open]`).
    pub fn data_open(self, side: Side) -> impl Fn() -> Option<&'static str> + Copy {
        move || self.is_open(side).then_some("")
    }
}

fn focus(button: NodeRef<Button>) {
    if let Some(button) = button.get_untracked() {
        let _ = button.focus();
    }
}

/// The button that opens a drawer (narrow screens only): an icon, its name for screen
/// readers, and a count (of unread messages, hidden at zero; of the people online).
#[component]
pub fn DrawerToggle(drawers: Drawers, side: Side, count: Signal<usize>) -> impl IntoView {
    let (icon, label, unread) = match side {
        Side::Conversations => ("icon-menu", "Conversations", true),
        Side::Members => ("icon-people", "Who's online: ", false),
    };
    let badge = if unread {
        "absolute -top-0.5 -right-0.5 min-w-5 rounded-full bg-blue-700 px-1 text-xs leading-5 font-semibold text-white"
    } else {
        "text-sm font-medium"
    };
    view! {
        <button
            type="button"
            node_ref=drawers.toggles[side as usize]
            aria-controls=side.panel_id()
            aria-expanded=move || if drawers.is_open(side) { "true" } else { "false" }
            class=format!(
                "relative flex shrink-0 items-center gap-1.5 rounded-lg p-2 text-slate-700 hover:bg-slate-100 lg:hidden dark:text-slate-300 dark:hover:bg-slate-800 {FOCUS_RING}",
            )
            on:click=move |_| drawers.open(side)
        >
            <span class=format!("icon {icon}") aria-hidden="true"></span>
            <span class="sr-only">{label}</span>
            <span class=badge hidden=move || unread && count.get() == 0>
                {move || count.get()}
                {unread.then_some(view! { <span class="sr-only">" unread"</span> })}
            </span>
        </button>
    }
}

/// The button that closes a drawer, inside it (narrow screens only).
#[component]
pub fn DrawerClose(drawers: Drawers, side: Side, label: &'static str) -> impl IntoView {
    view! {
        <button
            type="button"
            node_ref=drawers.closers[side as usize]
            aria-label=label
            class=format!(
                "flex rounded-lg p-2 text-slate-700 hover:bg-slate-200 lg:hidden dark:text-slate-300 dark:hover:bg-slate-800 {FOCUS_RING}",
            )
            on:click=move |_| drawers.close()
        >
            <span class="icon icon-close" aria-hidden="true"></span>
        </button>
    }
}

/// Dims the page behind an open drawer; a tap on it closes the drawer.
#[component]
pub fn Backdrop(drawers: Drawers) -> impl IntoView {
    view! {
        <div
            class="drawer-backdrop"
            aria-hidden="true"
            data-open=move || drawers.covers(None).then_some("")
            on:click=move |_| drawers.close()
        ></div>
    }
}
