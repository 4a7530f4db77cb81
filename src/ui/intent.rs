//! What the reader is doing with the messages on screen, shared by the stream and the
//! composer: editing one of mine, answering one, following a reply to its original, and the
//! act that asks something first (reporting, a moderator's delete, mute, ban, removal).

use leptos::prelude::*;

use super::acts::Act;

/// The page's intentions about messages of the conversation on screen. `Copy`.
#[derive(Clone, Copy)]
pub struct Intent {
    /// The message of mine being edited in the composer.
    pub editing: RwSignal<Option<u64>>,
    /// The message the next one I send answers.
    pub replying: RwSignal<Option<u64>>,
    /// The message to bring into view (a reply's quote was followed), until it is held.
    pub jump: RwSignal<Option<u64>>,
    /// The message just jumped to, highlighted for a moment.
    pub highlight: RwSignal<Option<u64>>,
    /// The act the act dialog asks about.
    pub acting: RwSignal<Option<Act>>,
}

impl Intent {
    pub fn new() -> Self {
        Intent {
            editing: RwSignal::new(None),
            replying: RwSignal::new(None),
            jump: RwSignal::new(None),
            highlight: RwSignal::new(None),
            acting: RwSignal::new(None),
        }
    }

    /// Another conversation came on screen: nothing carries over.
    pub fn clear(self) {
        for signal in [self.editing, self.replying, self.jump, self.highlight] {
            if signal.get_untracked().is_some() {
                signal.set(None);
            }
        }
        if self.acting.with_untracked(Option::is_some) {
            self.acting.set(None);
        }
    }
}

impl Default for Intent {
    fn default() -> Self {
        Self::new()
    }
}
