//! How the message stream scrolls: a conversation comes on screen at its "New messages"
//! divider (or at its end), then follows new lines while the reader is at the bottom and
//! otherwise counts them for the "N new messages" button.

use leptos::html::Div;
use leptos::prelude::*;

use super::timeline::Line;
use crate::client::Outgoing;

/// Within this distance of the bottom, the reader counts as following along.
const AT_BOTTOM_PX: i32 = 48;
/// The divider comes to rest this far below the top, so the line above it peeks in.
const DIVIDER_MARGIN_PX: i32 = 24;

#[derive(Clone, Copy)]
pub struct Follow {
    pub scroller: NodeRef<Div>,
    /// The "New messages" divider, while there is one.
    pub divider: NodeRef<Div>,
    at_bottom: RwSignal<bool>,
    pub unseen: RwSignal<usize>,
}

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
        };
        // New lines in the conversation on screen: follow them when at the bottom (or when
        // they are mine, or the first to arrive), else count them. Another conversation coming
        // on screen is the effect below's.
        Effect::new(move |previous: Option<(String, usize, usize)>| {
            let room = room.get();
            let count = lines.with(|l| messages_after(l, false));
            let mine = pending.with(Vec::len);
            if let Some((_, before, mine_before)) = previous.filter(|(was, ..)| *was == room) {
                if follow.at_bottom.get_untracked() || mine > mine_before || before == 0 {
                    request_animation_frame(move || follow.to_bottom());
                } else if count > before {
                    follow.unseen.update(|n| *n += count - before);
                }
            }
            (room, count, mine)
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
        }
        self.unseen.set(0);
        self.at_bottom.set(true);
    }

    pub fn on_scroll(self) {
        if let Some(el) = self.scroller.get_untracked() {
            let bottom = el.scroll_height() - el.scroll_top() - el.client_height() <= AT_BOTTOM_PX;
            self.at_bottom.set(bottom);
            if bottom {
                self.unseen.set(0);
            }
        }
    }
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

    #[test]
    fn the_messages_after_the_divider_are_the_unread_ones() {
        let message = |id| Line::Message {
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
        };
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
}
