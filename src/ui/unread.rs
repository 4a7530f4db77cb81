//! What is new in a conversation: where its unread messages start (captured when it comes on
//! screen, for the "New messages" divider). How many mention me is the client's count.

use leptos::prelude::*;

use crate::client::ChatClient;
use crate::protocol::NewMessage;

/// Puts `room` on screen whenever it changes (browser only) and returns the id of its first
/// unread message as it was just before: the client forgets the count once the conversation is
/// on screen, so it is read here first.
pub fn open_conversation(chat: ChatClient, room: Signal<String>) -> Signal<Option<u64>> {
    let unread_from = RwSignal::new(None);
    Effect::new(move |_| {
        let room = room.get();
        let count = untrack(|| chat.unread_in(&room));
        let me = chat.my_id().get_untracked();
        let first = chat
            .messages()
            .with_untracked(|list| first_unread(list, &room, me.as_deref(), count));
        unread_from.set(first);
        chat.focus(&room);
    });
    unread_from.into()
}

/// The last `count` messages of `room` from others (mine are never unread), newest first.
fn unread<'a>(
    messages: &'a [NewMessage],
    room: &'a str,
    me: Option<&'a str>,
    count: u32,
) -> impl Iterator<Item = &'a NewMessage> {
    messages
        .iter()
        .rev()
        .filter(move |m| m.room == room && me != Some(m.from.as_str()))
        .take(count as usize)
}

/// The id of the first of the `count` unread messages in `room` (the oldest shown, if fewer
/// are shown than arrived).
pub fn first_unread(
    messages: &[NewMessage],
    room: &str,
    me: Option<&str>,
    count: u32,
) -> Option<u64> {
    unread(messages, room, me, count).last().map(|m| m.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: u64, room: &str, from: &str, text: &str) -> NewMessage {
        NewMessage {
            sender: format!("{from}-name"),
            message: text.into(),
            room: room.into(),
            id,
            ts: id * 1000,
            client_id: None,
            from: from.into(),
            ..Default::default()
        }
    }

    #[test]
    fn the_first_unread_is_the_count_th_last_message_from_someone_else_in_that_room() {
        let list = [
            msg(1, "general", "ann", "old"),
            msg(2, "general", "ann", "new 1"),
            msg(3, "rust", "ann", "elsewhere"),
            msg(4, "general", "me", "mine, from another tab"),
            msg(5, "general", "bob", "new 2"),
        ];
        assert_eq!(first_unread(&list, "general", Some("me"), 2), Some(2));
        assert_eq!(first_unread(&list, "general", Some("me"), 1), Some(5));
        assert_eq!(first_unread(&list, "general", Some("me"), 0), None);
        assert_eq!(
            first_unread(&list, "general", Some("me"), 9),
            Some(1),
            "more arrived than are shown: the oldest shown"
        );
        assert_eq!(first_unread(&list, "empty", Some("me"), 3), None);
    }
}
