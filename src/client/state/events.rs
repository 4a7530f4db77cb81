//! The server's events applied to [`ChatState`]: the client's reducer. Each event changes
//! signals and may ask for effects (a resync when ids jumped, a timer for typists, saving the
//! followed conversations).

use leptos::prelude::*;

use super::{ChatState, Effect, Env, MAX_NOTICES, Timer};
use crate::protocol::{ErrorCode, Peer, PeersChanged, ServerEvent, TYPING_SHOWN_MS, Typing};

impl ChatState {
    /// Applies one event from the server.
    pub fn apply(&self, event: ServerEvent, env: Env) -> Vec<Effect> {
        match event {
            ServerEvent::NameGenerated(name) => self.my_name.set(Some(name.0)),
            ServerEvent::Welcome(welcome) => {
                self.learn_names(&[Peer {
                    id: welcome.id.clone(),
                    name: welcome.name.clone(),
                }]);
                self.my_id.set(Some(welcome.id));
                self.my_name.set(Some(welcome.name));
            }
            // The tutorial's list of names; `room-peers` carries the same, with ids.
            ServerEvent::UpdatePeers(_) => {}
            ServerEvent::RoomPeers(peers) => {
                self.learn_names(&peers.peers);
                self.set_total(&peers.room, peers.total);
                self.room_peers.update(|all| {
                    all.insert(peers.room, peers.peers);
                })
            }
            ServerEvent::PeersChanged(change) => self.on_peers_changed(change),
            ServerEvent::Rooms(list) => self.rooms.set(list.rooms),
            ServerEvent::RoomsChanged(changed) => return self.on_rooms_changed(changed),
            ServerEvent::Standing(standing) => return self.on_standing(standing, env),
            ServerEvent::Reported(report) => self.on_reported(report),
            ServerEvent::Renamed(renamed) => return self.on_person_renamed(renamed),
            ServerEvent::NewMessage(message) => return self.on_message(message, env),
            ServerEvent::MessageUpdated(updated) => self.on_updated(updated.0),
            ServerEvent::History(history) => return self.on_history(history),
            ServerEvent::ChatError(error) if error.code == ErrorCode::Banned => {
                self.banned(error.message)
            }
            ServerEvent::ChatError(error) => self.show_error(error.message),
            ServerEvent::Typing(typing) => return self.on_typing(typing, env),
            ServerEvent::Notice(notice) => self.notices.update(|list| {
                list.push(notice);
                if list.len() > MAX_NOTICES {
                    list.remove(0);
                }
            }),
        }
        Vec::new()
    }

    /// A change to a room's list, applied to the list this client holds (none yet: the whole
    /// list is on its way, and replaces whatever this would have made).
    fn on_peers_changed(&self, change: PeersChanged) {
        if !self
            .room_peers
            .with_untracked(|all| all.contains_key(&change.room))
        {
            return;
        }
        self.learn_names(&change.joined);
        self.learn_names(&change.renamed);
        self.set_total(&change.room, change.total);
        if change.lists_anything() {
            self.room_peers.update(|all| {
                if let Some(peers) = all.get_mut(&change.room) {
                    change.apply_to(peers);
                }
            });
        }
    }

    fn set_total(&self, room: &str, total: usize) {
        if self
            .room_totals
            .with_untracked(|t| t.get(room) != Some(&total))
        {
            self.room_totals.update(|t| {
                t.insert(room.to_owned(), total);
            });
        }
    }

    fn on_typing(&self, typing: Typing, env: Env) -> Vec<Effect> {
        if self.is_me(&typing.id) {
            return Vec::new();
        }
        self.typists
            .update(|t| t.typed(typing.room, typing.id, typing.name, env.now_ms));
        vec![Effect::Later {
            // A little after the last one shown is due, so one timer covers it.
            ms: TYPING_SHOWN_MS as u32 + 50,
            timer: Timer::ExpireTypists,
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::protocol::{
        ChatError, ErrorCode, NameGenerated, Notice, NoticeKind, PeersChanged, RoomList, RoomPeers,
        UpdatePeers,
    };

    #[test]
    fn name_generated_names_me() {
        Owner::new().with(|| {
            let state = ChatState::new();
            let name = NameGenerated("blue-fish".into());
            assert_eq!(state.apply(ServerEvent::NameGenerated(name), AT), NOTHING);
            assert_eq!(state.my_name.get_untracked().as_deref(), Some("blue-fish"));
            assert_eq!(
                state.my_id.get_untracked(),
                None,
                "the tutorial's event has no id"
            );
        });
    }

    #[test]
    fn update_peers_changes_nothing_room_peers_says_it_all() {
        Owner::new().with(|| {
            let state = welcomed();
            let names = UpdatePeers(vec!["red-fox".into(), "blue-ann".into()]);
            assert_eq!(state.apply(ServerEvent::UpdatePeers(names), AT), NOTHING);
            assert!(state.room_peers.get_untracked().is_empty());
        });
    }

    #[test]
    fn room_peers_replaces_that_room_s_list_only() {
        Owner::new().with(|| {
            let state = welcomed();
            let peer = |id: &str, name: &str| Peer {
                id: id.into(),
                name: name.into(),
            };
            let list = |room: &str, peers| {
                ServerEvent::RoomPeers(RoomPeers {
                    room: room.into(),
                    total: Vec::len(&peers),
                    peers,
                })
            };
            state.apply(
                list("general", vec![peer(ME, "red-fox"), peer(ANN, "blue-ann")]),
                AT,
            );
            state.apply(list("rust", vec![peer(ANN, "blue-ann")]), AT);
            state.apply(list("general", vec![peer(ME, "red-fox")]), AT);
            let all = state.room_peers.get_untracked();
            assert_eq!(
                all["general"],
                [peer(ME, "red-fox")],
                "blue-ann left general"
            );
            assert_eq!(all["rust"], [peer(ANN, "blue-ann")]);
        });
    }

    #[test]
    fn peers_changed_keeps_the_list_it_was_given_and_the_count() {
        Owner::new().with(|| {
            let state = welcomed();
            let peer = |id: &str, name: &str| Peer {
                id: id.into(),
                name: name.into(),
            };
            let change = |joined, left, renamed, total| {
                ServerEvent::PeersChanged(PeersChanged {
                    room: "general".into(),
                    joined,
                    left,
                    renamed,
                    total,
                })
            };
            // No list for the room yet: its whole list is on the way; nothing to change.
            state.apply(change(vec![peer(ANN, "blue-ann")], vec![], vec![], 1), AT);
            assert!(state.room_peers.get_untracked().is_empty());

            state.apply(
                ServerEvent::RoomPeers(RoomPeers {
                    room: "general".into(),
                    peers: vec![peer(ME, "red-fox")],
                    total: 1,
                }),
                AT,
            );
            state.apply(change(vec![peer(ANN, "blue-ann")], vec![], vec![], 2), AT);
            state.apply(change(vec![], vec![], vec![peer(ANN, "Ann Lee")], 2), AT);
            let general = |s: &ChatState| s.room_peers.get_untracked()["general"].clone();
            assert_eq!(general(&state), [peer(ME, "red-fox"), peer(ANN, "Ann Lee")]);
            // The list names the first people only; the count says how many there are.
            state.apply(change(vec![], vec![ME.into()], vec![], 40), AT);
            assert_eq!(general(&state), [peer(ANN, "Ann Lee")]);
            assert_eq!(state.room_totals.get_untracked()["general"], 40);
        });
    }

    #[test]
    fn rooms_lists_every_public_room() {
        Owner::new().with(|| {
            let state = welcomed();
            let rooms = vec!["book-club".to_owned(), "general".into()];
            let event = ServerEvent::Rooms(RoomList {
                rooms: rooms.clone(),
            });
            assert_eq!(state.apply(event, AT), NOTHING);
            assert_eq!(state.rooms.get_untracked(), rooms);
        });
    }

    #[test]
    fn a_chat_error_is_shown() {
        Owner::new().with(|| {
            let state = welcomed();
            let error = ChatError::new(ErrorCode::RateLimited, "Slow down.");
            assert_eq!(state.apply(ServerEvent::ChatError(error), AT), NOTHING);
            assert_eq!(state.error.get_untracked().as_deref(), Some("Slow down."));
            assert_eq!(
                state.status.get_untracked(),
                Status::Connecting,
                "nothing else"
            );
        });
    }

    #[test]
    fn someone_typing_shows_until_their_time_is_up_and_i_never_see_myself() {
        Owner::new().with(|| {
            let state = welcomed();
            let typing = |id: &str, name: &str| {
                ServerEvent::Typing(Typing {
                    room: "general".into(),
                    id: id.into(),
                    name: name.into(),
                })
            };
            assert_eq!(state.apply(typing(ME, "red-fox"), AT), NOTHING);
            let line = || state.typists.with_untracked(|t| t.line("general"));
            assert_eq!(line(), None);
            let effects = state.apply(typing(ANN, "blue-ann"), AT);
            let [Effect::Later { ms, timer }] = effects[..] else {
                panic!("{effects:?}")
            };
            assert_eq!(timer, Timer::ExpireTypists);
            assert!(u64::from(ms) > TYPING_SHOWN_MS);
            assert_eq!(line().as_deref(), Some("blue-ann is typing…"));
            state.on_timer(timer, AT.now_ms + TYPING_SHOWN_MS as f64 - 1.0);
            assert!(line().is_some(), "not yet");
            state.on_timer(timer, AT.now_ms + f64::from(ms));
            assert_eq!(line(), None);
        });
    }

    #[test]
    fn notices_are_kept_in_order_up_to_the_cap() {
        Owner::new().with(|| {
            let state = welcomed();
            for ts in 0..MAX_NOTICES as u64 + 5 {
                let notice = Notice {
                    room: "general".into(),
                    kind: NoticeKind::Joined,
                    id: ANN.into(),
                    name: "blue-ann".into(),
                    ts,
                };
                assert_eq!(state.apply(ServerEvent::Notice(notice), AT), NOTHING);
            }
            let notices = state.notices.get_untracked();
            assert_eq!(notices.len(), MAX_NOTICES);
            assert_eq!(
                (notices[0].ts, notices[MAX_NOTICES - 1].ts),
                (5, MAX_NOTICES as u64 + 4)
            );
        });
    }
}
