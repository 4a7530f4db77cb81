//! People in [`ChatState`]: everyone's latest display name by public id (member lists,
//! `renamed`, `welcome`), my rename and its answer, and the mentions of me: counted per
//! conversation while unread, and told to the browser as a [`Alert`] while the tab is hidden.

use leptos::prelude::*;

use super::{ChatState, Effect, Env};
use crate::protocol::{
    ChatError, Conversation, ErrorCode, NewMessage, Peer, PersonRenamed, is_direct_key,
};

/// Characters of a message a notification shows.
const ALERT_CHARS: usize = 120;

/// Where my last rename stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenameNote {
    Saving,
    Saved(String),
    Refused(String),
}

/// A message for me that arrived while the tab was hidden: what a notification says, and
/// where clicking it leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub room: String,
    pub id: u64,
    pub title: String,
    pub body: String,
}

impl ChatState {
    /// Learns the names of a member list.
    pub(super) fn learn_names(&self, peers: &[Peer]) {
        let changed = self.names.with_untracked(|names| {
            peers
                .iter()
                .any(|p| names.get(&p.id).is_none_or(|n| n != &p.name))
        });
        if changed {
            self.names.update(|names| {
                for p in peers {
                    names.insert(p.id.clone(), p.name.clone());
                }
            });
        }
    }

    /// Someone took a new name: their messages, dot and direct conversation follow it.
    pub(super) fn on_person_renamed(&self, renamed: PersonRenamed) -> Vec<Effect> {
        self.learn_names(&[Peer {
            id: renamed.id.clone(),
            name: renamed.name.clone(),
        }]);
        let me = self.my_id.get_untracked().unwrap_or_default();
        let theirs: Vec<String> = self.dm_names.with_untracked(|n| {
            n.keys()
                .filter(|k| {
                    Conversation::parse(k).and_then(|c| c.partner(&me).map(str::to_owned))
                        == Some(renamed.id.clone())
                })
                .cloned()
                .collect()
        });
        if theirs.is_empty() {
            return Vec::new();
        }
        self.dm_names.update(|n| {
            for key in theirs {
                n.insert(key, renamed.name.clone());
            }
        });
        vec![Effect::SaveConversations]
    }

    /// The latest name of the person with public id `id`, if known (tracked).
    pub fn name_of(&self, id: &str) -> Option<String> {
        self.names.with(|n| n.get(id).cloned())
    }

    /// Whether `message` mentions me (the server resolved its `@names` to ids).
    pub fn mentions_me(&self, message: &NewMessage) -> bool {
        self.my_id.with_untracked(|me| {
            me.as_ref()
                .is_some_and(|me| message.mentions.iter().any(|m| m == me))
        })
    }

    /// A message from someone else arrived: counts it if it mentions me and is not on
    /// screen, and returns the alert to show when the tab is hidden and it is for me.
    pub(super) fn on_for_me(&self, message: &NewMessage, env: Env) -> Option<Effect> {
        let mentioned = self.mentions_me(message);
        if mentioned && self.active.with_untracked(|a| a != &message.room) {
            self.mentioned
                .update(|m| *m.entry(message.room.clone()).or_default() += 1);
        }
        if mentioned && env.tab_hidden {
            self.unseen_mentions.update(|n| *n += 1);
        }
        let direct = is_direct_key(&message.room);
        (env.tab_hidden && (mentioned || direct) && !message.deleted)
            .then(|| Effect::Notify(self.alert(message, direct)))
    }

    fn alert(&self, message: &NewMessage, direct: bool) -> Alert {
        let sender = self
            .names
            .with_untracked(|n| n.get(&message.from).cloned())
            .unwrap_or_else(|| message.sender.clone());
        let title = if direct {
            format!("{sender} (direct message)")
        } else {
            format!("{sender} in #{}", message.room)
        };
        let mut body: String = message.message.chars().take(ALERT_CHARS).collect();
        if message.message.chars().nth(ALERT_CHARS).is_some() {
            body.push('…');
        }
        Alert {
            room: message.room.clone(),
            id: message.id,
            title,
            body,
        }
    }

    /// Someone clicked the notification of `alert`.
    pub fn open_alert(&self, alert: Alert) {
        self.opened.set(Some(alert));
    }

    /// My rename went out.
    pub fn rename_sent(&self) {
        self.rename.set(Some(RenameNote::Saving));
    }

    /// The server answered my rename: the name it kept, or why not.
    pub fn on_rename(&self, answer: Result<String, ChatError>) {
        let note = match answer {
            Ok(name) => {
                self.my_name.set(Some(name.clone()));
                RenameNote::Saved(name)
            }
            Err(e) => RenameNote::Refused(refusal(e)),
        };
        self.rename.set(Some(note));
    }
}

/// What a refused rename says.
fn refusal(e: ChatError) -> String {
    match e.code {
        ErrorCode::NameTaken => "Someone has that name (or one that looks like it).".into(),
        ErrorCode::NotAllowed => "Only a page with a token can choose a name.".into(),
        _ => e.message,
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::protocol::{Peer, RoomPeers};

    fn peers(list: &[(&str, &str)]) -> ServerEvent {
        ServerEvent::RoomPeers(RoomPeers {
            room: "general".into(),
            peers: list
                .iter()
                .map(|(id, name)| Peer {
                    id: (*id).into(),
                    name: (*name).into(),
                })
                .collect(),
            total: list.len(),
        })
    }

    #[test]
    fn a_rename_reaches_the_name_shown_for_that_id_and_their_direct_conversation() {
        Owner::new().with(|| {
            let state = welcomed();
            assert_eq!(state.name_of(ME).as_deref(), Some("red-fox"));
            state.apply(peers(&[(ME, "red-fox"), (ANN, "blue-ann")]), AT);
            assert_eq!(state.name_of(ANN).as_deref(), Some("blue-ann"));
            let dm = Conversation::direct(ME, ANN).unwrap().key();
            new_message(&state, message(&dm, 1, ANN), AT);
            let renamed = PersonRenamed {
                id: ANN.into(),
                name: "Ann".into(),
            };
            let effects = state.apply(ServerEvent::Renamed(renamed), AT);
            assert_eq!(effects, [Effect::SaveConversations]);
            assert_eq!(state.name_of(ANN).as_deref(), Some("Ann"));
            assert_eq!(state.dm_names.get_untracked()[&dm], "Ann");
            assert_eq!(state.name_of("ffffffffffffffff"), None);
        });
    }

    #[test]
    fn a_mention_elsewhere_counts_and_a_hidden_tab_is_alerted_for_mentions_and_dms_only() {
        Owner::new().with(|| {
            let state = welcomed();
            let mut mention = message("rust", 1, ANN);
            mention.mentions = vec![ME.into()];
            let hidden = Env {
                tab_hidden: true,
                ..AT
            };
            assert_eq!(new_message(&state, mention.clone(), AT), NOTHING);
            assert_eq!(state.mentioned.get_untracked()["rust"], 1);
            let effects = new_message(&state, message("rust", 2, ANN), hidden);
            assert_eq!(effects, NOTHING, "not for me");
            mention.id = 3;
            mention.message = "@red-fox look".into();
            let effects = new_message(&state, mention, hidden);
            let [Effect::Notify(alert)] = &effects[..] else {
                panic!("{effects:?}")
            };
            assert_eq!(
                (&*alert.title, &*alert.body, &*alert.room, alert.id),
                ("blue-ann in #rust", "@red-fox look", "rust", 3)
            );
            assert_eq!(state.mentioned.get_untracked()["rust"], 2);
            assert_eq!(state.unseen_mentions.get_untracked(), 1);
            state.focus("rust");
            assert!(!state.mentioned.get_untracked().contains_key("rust"));
            let dm = Conversation::direct(ME, ANN).unwrap().key();
            let effects = new_message(&state, message(&dm, 1, ANN), hidden);
            assert!(
                matches!(&effects[..], [Effect::SaveConversations, Effect::Notify(a)] if a.title == "blue-ann (direct message)"),
                "{effects:?}"
            );
            let mut mine = message("rust", 4, ME);
            mine.mentions = vec![ME.into()];
            assert_eq!(new_message(&state, mine, hidden), NOTHING, "never my own");
        });
    }

    #[test]
    fn a_rename_answer_names_me_or_says_why_not() {
        Owner::new().with(|| {
            let state = welcomed();
            state.rename_sent();
            assert_eq!(state.rename.get_untracked(), Some(RenameNote::Saving));
            let taken = ChatError::new(ErrorCode::NameTaken, "Someone has the name \"Ann\"");
            state.on_rename(Err(taken));
            assert_eq!(
                state.rename.get_untracked(),
                Some(RenameNote::Refused(
                    "Someone has that name (or one that looks like it).".into()
                ))
            );
            assert_eq!(state.my_name.get_untracked().as_deref(), Some("red-fox"));
            state.on_rename(Ok("Fox".into()));
            assert_eq!(state.my_name.get_untracked().as_deref(), Some("Fox"));
            assert_eq!(
                state.rename.get_untracked(),
                Some(RenameNote::Saved("Fox".into()))
            );
        });
    }
}
