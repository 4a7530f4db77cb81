//! [`ChatClient`], the chat as components see it: read-only signals and derived reads, and
//! the things a person does (send, open a conversation, leave, retry). Writes go through
//! [`ChatState`]'s methods; the browser connection hears about them as [`Command`]s.

use futures::channel::mpsc;
use leptos::prelude::*;

use super::ids::ClientIds;
use super::outbox::Outgoing;
use super::state::Log;
use super::state::{ChatState, Status};
use crate::protocol::{
    Ban, ChatError, Delete, Edit, ErrorCode, Mute, NewMessage, Notice, Peer, React, RecordsPage,
    RemoveRoom, Rename, ReportMessage, clean_message, is_direct_key,
};

/// What the page asks of the connection task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Something was queued to send.
    Wake,
    /// Follow a room (or open a direct conversation) and load its history.
    Join(String),
    /// Stop following a room.
    Leave(String),
    /// I am typing in this conversation.
    Typing(String),
    /// Load the page before the oldest message held in this conversation.
    Older(String),
    Edit(Edit),
    Delete(Delete),
    React(React),
    Report(ReportMessage),
    Mute(Mute),
    Ban(Ban),
    RemoveRoom(RemoveRoom),
    /// Choose my display name.
    Rename(Rename),
    /// A page of reports or of the audit log (marked on its way in the state).
    Records(Log, RecordsPage),
    /// A page of search results (see `client::search`).
    Search(super::search::Ask),
}

/// The page's chat connection. `Copy`: pass it into closures freely.
#[derive(Clone, Copy)]
pub struct ChatClient {
    pub(super) state: ChatState,
    /// Tells the connection task what the page wants (none during server rendering).
    commands: StoredValue<Option<mpsc::UnboundedSender<Command>>>,
    ids: StoredValue<ClientIds>,
}

impl ChatClient {
    pub fn new() -> Self {
        ChatClient {
            state: ChatState::new(),
            commands: StoredValue::new(None),
            ids: StoredValue::new(ClientIds::default()),
        }
    }

    /// Opens the connection for the page's lifetime, reconnecting as needed (browser only).
    #[cfg(feature = "hydrate")]
    pub fn connect(&self) {
        if self.commands.with_value(Option::is_some) {
            return;
        }
        let (commands, received) = mpsc::unbounded();
        if let Some(nonce) = super::browser::start(self.state, received) {
            self.ids.set_value(ClientIds::new(nonce));
            self.commands.set_value(Some(commands));
        }
    }

    /// During server rendering there is no connection: the page renders its initial state.
    #[cfg(not(feature = "hydrate"))]
    pub fn connect(&self) {}

    // Reads (tracked when read in a reactive context).

    pub fn status(&self) -> ReadSignal<Status> {
        self.state.status.read_only()
    }

    /// Whether the connection fell back to HTTP long-polling.
    pub fn polling(&self) -> ReadSignal<bool> {
        self.state.polling.read_only()
    }

    /// True for a few seconds after the connection came back.
    pub fn back_online(&self) -> ReadSignal<bool> {
        self.state.back_online.read_only()
    }

    /// My display name.
    pub fn my_name(&self) -> ReadSignal<Option<String>> {
        self.state.my_name.read_only()
    }

    /// My public id (others address direct messages to it).
    pub fn my_id(&self) -> ReadSignal<Option<String>> {
        self.state.my_id.read_only()
    }

    /// Every public room.
    pub fn rooms(&self) -> ReadSignal<Vec<String>> {
        self.state.rooms.read_only()
    }

    /// The public rooms whose name contains `query` (ignoring case and a leading `#`), in
    /// the list's order; all of them for an empty query.
    pub fn rooms_matching(&self, query: &str) -> Vec<String> {
        let query = query.trim().trim_start_matches('#').to_lowercase();
        self.state.rooms.with(|rooms| {
            rooms
                .iter()
                .filter(|r| r.to_lowercase().contains(&query))
                .cloned()
                .collect()
        })
    }

    /// The direct conversations I follow, by key.
    pub fn direct_conversations(&self) -> Vec<String> {
        self.state
            .followed
            .with(|f| f.iter().filter(|key| is_direct_key(key)).cloned().collect())
    }

    /// Messages of every conversation, each conversation's ordered by id.
    pub fn messages(&self) -> ReadSignal<Vec<NewMessage>> {
        self.state.messages.read_only()
    }

    /// My messages not confirmed yet, oldest first.
    pub fn outgoing(&self) -> ReadSignal<Vec<Outgoing>> {
        self.state.outgoing.read_only()
    }

    /// Arrivals and departures, oldest first.
    pub fn notices(&self) -> ReadSignal<Vec<Notice>> {
        self.state.notices.read_only()
    }

    /// The last refusal or problem, for the composer.
    pub fn error(&self) -> ReadSignal<Option<String>> {
        self.state.error.read_only()
    }

    /// Messages from others that arrived while the tab was hidden.
    pub fn unseen(&self) -> ReadSignal<u32> {
        self.state.unseen.read_only()
    }

    /// Messages in `room` that arrived while it was not on screen.
    pub fn unread_in(&self, room: &str) -> u32 {
        self.state
            .unread
            .with(|u| u.get(room).copied().unwrap_or(0))
    }

    /// The people in a room I follow.
    pub fn peers_in(&self, room: &str) -> Vec<Peer> {
        self.state
            .room_peers
            .with(|p| p.get(room).cloned().unwrap_or_default())
    }

    /// How many people are in a room I follow: its list's length, or more when the list names
    /// only the first of them (tracked).
    pub fn count_in(&self, room: &str) -> usize {
        let listed = self
            .state
            .room_peers
            .with(|p| p.get(room).map_or(0, Vec::len));
        let total = self
            .state
            .room_totals
            .with(|t| t.get(room).copied().unwrap_or(0));
        listed.max(total)
    }

    /// How a conversation is shown: `#room`, or the other person's display name.
    pub fn title(&self, room: &str) -> String {
        if is_direct_key(room) {
            self.state
                .dm_names
                .with(|n| n.get(room).cloned())
                .unwrap_or_else(|| "Direct message".into())
        } else {
            format!("#{room}")
        }
    }

    /// The person a direct conversation is with (their public id). Not tracked: reads my
    /// id as it is now.
    pub fn partner(&self, room: &str) -> Option<String> {
        self.state.partner(room)
    }

    /// Who is typing in `room`, as a sentence, or `None`.
    pub fn typing_line(&self, room: &str) -> Option<String> {
        self.state.typists.with(|t| t.line(room))
    }

    // What a person does.

    /// Queues a message to the conversation on screen (maybe answering message `reply_to`
    /// of it), after checking it with the server's own rules (a refusal is shown, and
    /// returned). It goes out at once when online, or in order after the next reconnection.
    pub fn send(&self, text: &str, reply_to: Option<u64>) -> Result<(), ChatError> {
        let text = clean_message(text).inspect_err(|e| self.show_error(e.message.clone()))?;
        let Some(client_id) = self.ids.try_update_value(ClientIds::issue) else {
            return Err(ChatError::new(
                ErrorCode::Unavailable,
                "The page is closing.",
            ));
        };
        self.state.queue(Outgoing {
            client_id,
            room: self.state.active.get_untracked(),
            text,
            reply_to,
            failed: None,
        });
        self.command(Command::Wake);
        Ok(())
    }

    /// Puts a conversation on screen: following it if new, and clearing its unread count.
    pub fn focus(&self, room: &str) {
        if self.state.focus(room) {
            self.command(Command::Join(room.to_owned()));
        }
    }

    /// Stops following a room (everyone stays in `general`).
    pub fn leave(&self, room: &str) {
        if self.state.unfollow(room) {
            self.command(Command::Leave(room.to_owned()));
        }
    }

    /// Says that I am typing in the conversation on screen (the connection throttles).
    pub fn typing(&self) {
        self.command(Command::Typing(self.state.active.get_untracked()));
    }

    /// Sends a refused message again.
    pub fn retry(&self, client_id: &str) {
        self.state.retry(client_id);
        self.command(Command::Wake);
    }

    /// Gives up on a refused message.
    pub fn discard(&self, client_id: &str) {
        self.state.discard(client_id);
    }

    /// Shows a problem next to the composer (a room name that cannot be, …).
    pub fn show_error(&self, message: String) {
        self.state.show_error(message);
    }

    pub(super) fn command(&self, command: Command) {
        self.commands.with_value(|commands| {
            if let Some(commands) = commands {
                // Fails only once the connection task has ended (page unloading).
                let _ = commands.unbounded_send(command);
            }
        });
    }
}

impl Default for ChatClient {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::protocol::Conversation;

    /// A client whose connection task is this test: the commands it would get.
    pub(in crate::client) fn connected() -> (ChatClient, mpsc::UnboundedReceiver<Command>) {
        let client = ChatClient::new();
        let (commands, received) = mpsc::unbounded();
        client.commands.set_value(Some(commands));
        (client, received)
    }

    pub(in crate::client) fn drain(
        received: &mut mpsc::UnboundedReceiver<Command>,
    ) -> Vec<Command> {
        std::iter::from_fn(|| received.try_recv().ok()).collect()
    }

    #[test]
    fn opening_a_room_follows_it_once_and_clears_its_unread_count() {
        Owner::new().with(|| {
            let (chat, mut commands) = connected();
            chat.state.unread.update(|u| {
                u.insert("rust".into(), 3);
            });
            assert_eq!(chat.unread_in("rust"), 3);
            chat.focus("rust");
            chat.focus("general");
            chat.focus("rust");
            assert_eq!(chat.unread_in("rust"), 0);
            assert_eq!(chat.title("rust"), "#rust");
            assert_eq!(drain(&mut commands), [Command::Join("rust".into())]);
            chat.leave("rust");
            chat.leave("general");
            assert_eq!(drain(&mut commands), [Command::Leave("rust".into())]);
            assert_eq!(chat.state.followed.get_untracked(), ["general"]);
        });
    }

    #[test]
    fn messages_queue_in_order_to_the_conversation_on_screen() {
        Owner::new().with(|| {
            let (chat, mut commands) = connected();
            chat.send(" first ", None).unwrap();
            chat.focus("rust");
            chat.send("second", Some(1)).unwrap();
            let queued = chat.outgoing().get_untracked();
            let sent: Vec<_> = queued
                .iter()
                .map(|o| (&*o.room, &*o.text, o.reply_to))
                .collect();
            assert_eq!(
                sent,
                [("general", "first", None), ("rust", "second", Some(1))]
            );
            assert_ne!(queued[0].client_id, queued[1].client_id);
            assert_eq!(
                drain(&mut commands),
                [Command::Wake, Command::Join("rust".into()), Command::Wake]
            );
        });
    }

    #[test]
    fn an_empty_message_is_refused_and_the_reason_shown() {
        Owner::new().with(|| {
            let chat = ChatClient::new();
            assert!(chat.send("   ", None).is_err());
            assert!(chat.outgoing().get_untracked().is_empty());
            assert!(chat.error().get_untracked().is_some());
            chat.send("fine", None).unwrap();
            assert_eq!(
                chat.error().get_untracked(),
                None,
                "a good message clears it"
            );
        });
    }

    #[test]
    fn a_refused_message_can_be_retried_or_discarded() {
        Owner::new().with(|| {
            let (chat, mut commands) = connected();
            chat.send("hello", None).unwrap();
            let id = chat.outgoing().get_untracked()[0].client_id.clone();
            chat.state
                .settle(&id, Err(ChatError::new(ErrorCode::TooLong, "too long")));
            assert_eq!(
                chat.outgoing().get_untracked()[0].failed.as_deref(),
                Some("too long")
            );
            drain(&mut commands);
            chat.retry(&id);
            assert_eq!(chat.outgoing().get_untracked()[0].failed, None);
            assert_eq!(drain(&mut commands), [Command::Wake]);
            chat.discard(&id);
            assert!(chat.outgoing().get_untracked().is_empty());
        });
    }

    #[test]
    fn typing_is_said_about_the_conversation_on_screen() {
        Owner::new().with(|| {
            let (chat, mut commands) = connected();
            chat.focus("rust");
            chat.typing();
            assert_eq!(
                drain(&mut commands),
                [Command::Join("rust".into()), Command::Typing("rust".into())]
            );
        });
    }

    #[test]
    fn a_direct_conversation_is_titled_by_the_other_person_and_listed_apart() {
        Owner::new().with(|| {
            let chat = ChatClient::new();
            let (me, them) = ("0123456789abcdef", "fedcba9876543210");
            let key = Conversation::direct(me, them).unwrap().key();
            chat.focus(&key);
            assert_eq!(chat.title(&key), "Direct message");
            assert_eq!(chat.partner(&key), None, "not before I know my id");
            chat.state.my_id.set(Some(me.into()));
            chat.state.dm_names.update(|n| {
                n.insert(key.clone(), "blue-fish".into());
            });
            assert_eq!(chat.title(&key), "blue-fish");
            assert_eq!(chat.partner(&key).as_deref(), Some(them));
            assert_eq!(chat.partner("general"), None);
            assert_eq!(chat.direct_conversations(), [key]);
        });
    }

    #[test]
    fn finding_a_room_matches_part_of_its_name_whatever_the_case() {
        Owner::new().with(|| {
            let chat = ChatClient::new();
            let rooms = ["art", "general", "rust-talk", "trust"].map(String::from);
            chat.state.rooms.set(rooms.to_vec());
            assert_eq!(chat.rooms_matching(""), rooms);
            assert_eq!(chat.rooms_matching(" RUST"), ["rust-talk", "trust"]);
            assert_eq!(chat.rooms_matching("#gen"), ["general"]);
            assert!(chat.rooms_matching("nothing").is_empty());
        });
    }
}
