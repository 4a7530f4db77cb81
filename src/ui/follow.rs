//! How the message stream scrolls: a conversation comes on screen at its "New messages"
//! divider (or at its end), then follows new lines while the reader is at the bottom and
//! otherwise counts them for the "N new messages" button. A page of older messages added
//! above leaves the lines the reader sees where they were; scrolling near the top asks for
//! one.

use leptos::html::Div;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;

use super::timeline::Line;
use crate::client::Outgoing;

/// Within this distance of the bottom, the reader counts as following along.
const AT_BOTTOM_PX: i32 = 48;
/// The divider comes to rest this far below the top, so the line above it peeks in.
const DIVIDER_MARGIN_PX: i32 = 24;
/// Within this distance of the top, the page before is loaded.
const NEAR_TOP_PX: i32 = 160;

#[derive(Clone, Copy)]
pub struct Follow {
    pub scroller: NodeRef<Div>,
    /// The "New messages" divider, while there is one.
    pub divider: NodeRef<Div>,
    at_bottom: RwSignal<bool>,
    pub unseen: RwSignal<usize>,
    /// How far the top of the view was from the end of the stream when last scrolled: what
    /// stays the same when a page is added above.
    from_end: StoredValue<i32>,
}

/// What the stream held when last looked at: its conversation, its oldest and newest
/// message ids, and how many of my messages were on their way.
type Seen = (String, Option<u64>, Option<u64>, usize);

impl Follow {
    pub fn new(
        lines: Memo<Vec<Line>>,
        pending: Signal<Vec<Outgoing>>,
        room: Signal<String>,
        unread_from: Signal<Option<u64>>,
    ) -> Self {
        let follow = Follow {
            scroller: NodeRef::new(),
            divider: NodeRef::new(),
            at_bottom: RwSignal::new(true),
            unseen: RwSignal::new(0),
            from_end: StoredValue::new(0),
        };
        // New lines in the conversation on screen: follow them when at the bottom (or when
        // they are mine, or the first to arrive), else count them; older ones added above keep
        // the reader's place. Another conversation coming on screen is the effect below's.
        Effect::new(move |previous: Option<Seen>| {
            let room = room.get();
            let (oldest, newest) = lines.with(|l| span(l));
            let mine = pending.with(Vec::len);
            if let Some((_, was_oldest, was_newest, mine_before)) =
                previous.filter(|(was, ..)| *was == room)
            {
                if follow.at_bottom.get_untracked() || mine > mine_before || was_newest.is_none() {
                    request_animation_frame(move || follow.to_bottom());
                } else {
                    if was_oldest.is_some() && oldest < was_oldest {
                        request_animation_frame(move || follow.keep_place());
                    }
                    if newest > was_newest {
                        let count = lines.with(|l| newer_than(l, was_newest));
                        follow.unseen.update(|n| *n += count);
                    }
                }
            }
            (room, oldest, newest, mine)
        });
        // A conversation comes on screen at its first unread message, or else at its end.
        Effect::new(move |_| {
            room.track();
            unread_from.track();
            let below = lines.with_untracked(|l| messages_after(l, true));
            request_animation_frame(move || follow.to_start(below));
        });
        follow
    }

    fn to_start(self, unread: usize) {
        let (Some(scroller), Some(divider)) =
            (self.scroller.get_untracked(), self.divider.get_untracked())
        else {
            return self.to_bottom();
        };
        if !divider.is_connected() {
            return self.to_bottom();
        }
        scroller.set_scroll_top(divider.offset_top() - DIVIDER_MARGIN_PX);
        self.on_scroll();
        // What is below the divider is new to the reader, whether it shows yet or not.
        if !self.at_bottom.get_untracked() {
            self.unseen.set(unread);
        }
    }

    pub fn to_bottom(self) {
        if let Some(el) = self.scroller.get_untracked() {
            el.set_scroll_top(el.scroll_height());
            self.from_end.set_value(el.client_height());
        }
        self.unseen.set(0);
        self.at_bottom.set(true);
    }

    /// Lines were added above: the ones in view go back to where they were on screen.
    fn keep_place(self) {
        if let Some(el) = self.scroller.get_untracked() {
            el.set_scroll_top(el.scroll_height() - self.from_end.get_value());
            self.on_scroll();
        }
    }

    /// Brings message `id` into view (a third down the stream) and puts the focus on it.
    pub fn reveal(self, id: u64) {
        let Some(scroller) = self.scroller.get_untracked() else {
            return;
        };
        let selector = ["[data-id=\"", &id.to_string(), "\"]"].concat();
        let Ok(Some(found)) = scroller.query_selector(&selector) else {
            return;
        };
        let line: leptos::web_sys::HtmlElement = found.unchecked_into();
        scroller.set_scroll_top(line.offset_top() - scroller.client_height() / 3);
        let _ = line.focus();
        self.on_scroll();
    }

    pub fn on_scroll(self) {
        if let Some(el) = self.scroller.get_untracked() {
            let bottom = el.scroll_height() - el.scroll_top() - el.client_height() <= AT_BOTTOM_PX;
            self.from_end
                .set_value(el.scroll_height() - el.scroll_top());
            self.at_bottom.set(bottom);
            if bottom {
                self.unseen.set(0);
            }
        }
    }

    /// Whether the reader is near the top, where the page before should be loaded.
    pub fn near_top(self) -> bool {
        self.scroller
            .get_untracked()
            .is_some_and(|el| el.scroll_top() < NEAR_TOP_PX)
    }
}

/// The oldest and newest message ids in the stream.
fn span(lines: &[Line]) -> (Option<u64>, Option<u64>) {
    let mut ids = lines.iter().filter_map(|line| match line {
        Line::Message { message, .. } => Some(message.id),
        _ => None,
    });
    let oldest = ids.next();
    (oldest, ids.next_back().or(oldest))
}

/// How many messages are newer than `id` (all of them when there was none).
fn newer_than(lines: &[Line], id: Option<u64>) -> usize {
    lines
        .iter()
        .filter(|line| matches!(line, Line::Message { message, .. } if Some(message.id) > id))
        .count()
}

/// How many messages the stream holds: all of them, or (`unread_only`) those after the "New
/// messages" divider.
fn messages_after(lines: &[Line], unread_only: bool) -> usize {
    lines
        .iter()
        .skip_while(|line| unread_only && **line != Line::Unread)
        .filter(|line| matches!(line, Line::Message { .. }))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: u64) -> Line {
        Line::Message {
            message: crate::protocol::NewMessage {
                sender: "ann".into(),
                message: "hi".into(),
                room: "general".into(),
                id,
                ts: 0,
                client_id: None,
                from: "ann-id".into(),
                ..Default::default()
            },
            grouped: false,
            mine: false,
        }
    }

    #[test]
    fn the_messages_after_the_divider_are_the_unread_ones() {
        let lines = [
            Line::Day("today".into()),
            message(1),
            Line::Unread,
            message(2),
            message(3),
        ];
        assert_eq!(messages_after(&lines, false), 3);
        assert_eq!(messages_after(&lines, true), 2);
        assert_eq!(
            messages_after(&lines[..2], true),
            0,
            "no divider, nothing unread"
        );
    }

    #[test]
    fn a_page_added_above_is_not_news_only_lines_after_the_newest_are() {
        let before = [Line::Day("today".into()), message(51), message(52)];
        assert_eq!(span(&before), (Some(51), Some(52)));
        let after = [
            message(1),
            message(50),
            message(51),
            message(52),
            message(53),
        ];
        assert_eq!(span(&after), (Some(1), Some(53)));
        assert_eq!(
            newer_than(&after, Some(52)),
            1,
            "the older page is not counted"
        );
        assert_eq!(newer_than(&after, None), 5);
        assert_eq!(span(&[message(7)]), (Some(7), Some(7)));
        assert_eq!(span(&[]), (None, None));
    }
}
