//! Searching messages: [`Searches`] (the query asked, the results so far, whether more are
//! older), the requests for a page (the next one after the last result), opening a result at
//! its message, and the pure part of showing one: the context around its first match, cut
//! into plain and highlighted pieces. Who may read what is the server's to say.

use leptos::prelude::*;
use serde_json::Value;

use super::handle::{ChatClient, Command};
use super::state::Alert;
use crate::protocol::ChatError;
use crate::protocol::search::{Search, SearchHit, SearchResults, check_query};

/// About how many characters of a result's text are shown around its first match.
pub const CONTEXT_CHARS: usize = 120;
/// Of those, at most this many come before the first match.
const BEFORE_CHARS: usize = 40;

/// What the search panel shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// The query the results are for (trimmed).
    pub query: String,
    /// Newest first, every page loaded so far.
    pub hits: Vec<SearchHit>,
    /// Older results remain.
    pub more: bool,
    /// A page is on its way.
    pub loading: bool,
    /// Why the last page did not come.
    pub error: Option<String>,
    /// Which search this is: answers to an earlier one are dropped.
    generation: u64,
}

/// The page's search, shared by the box and the panel. `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Searches(RwSignal<Found>);

impl Searches {
    pub fn new() -> Self {
        Searches(RwSignal::new(Found::default()))
    }

    pub fn found(self) -> ReadSignal<Found> {
        self.0.read_only()
    }

    /// Starts a new search for `query`; the request to send, or the refusal (shown too).
    fn start(self, query: &str) -> Option<Ask> {
        let checked = check_query(query).map(str::to_owned);
        let mut ask = None;
        self.0.update(|found| {
            let generation = found.generation + 1;
            *found = Found {
                generation,
                ..Found::default()
            };
            match checked {
                Ok(query) => {
                    found.query = query.clone();
                    found.loading = true;
                    ask = Some(Ask::new(
                        self,
                        generation,
                        Search {
                            query,
                            ..Search::default()
                        },
                    ));
                }
                Err(e) => found.error = Some(e.message),
            }
        });
        ask
    }

    /// The request for the page before the last result, when there is one to ask.
    fn next(self) -> Option<Ask> {
        let mut ask = None;
        self.0.update(|found| {
            let Some(last) = found.hits.last().filter(|_| found.more && !found.loading) else {
                return;
            };
            let search = Search {
                query: found.query.clone(),
                room: None,
                before: Some(last.message.ts),
                before_room: Some(last.message.room.clone()),
                before_id: Some(last.message.id),
            };
            found.loading = true;
            found.error = None;
            ask = Some(Ask::new(self, found.generation, search));
        });
        ask
    }

    /// Forgets the query and its results (the panel closed).
    pub fn clear(self) {
        self.0.update(|found| {
            *found = Found {
                generation: found.generation + 1,
                ..Found::default()
            }
        });
    }

    fn answered(self, generation: u64, page: Result<SearchResults, String>) {
        self.0.update(|found| {
            if found.generation != generation {
                return;
            }
            found.loading = false;
            match page {
                Ok(page) => {
                    found.hits.extend(page.results);
                    found.more = page.more;
                }
                Err(why) => found.error = Some(why),
            }
        });
    }
}

impl Default for Searches {
    fn default() -> Self {
        Self::new()
    }
}

/// A page of results asked for, and where its answer goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    pub search: Search,
    into: Searches,
    generation: u64,
}

impl Ask {
    fn new(into: Searches, generation: u64, search: Search) -> Self {
        Ask {
            search,
            into,
            generation,
        }
    }

    /// It could not be sent (offline, a frame that could not be made).
    pub fn failed(&self, why: String) {
        self.into.answered(self.generation, Err(why));
    }

    /// The server's answer to it.
    pub fn on_answer(&self, result: Result<Value, ChatError>) {
        let page = match result {
            Ok(fields) => serde_json::from_value::<SearchResults>(fields).map_err(|e| {
                leptos::logging::warn!("search results of the wrong shape: {e}");
                "The search answer could not be read.".to_owned()
            }),
            Err(e) => Err(e.message),
        };
        self.into.answered(self.generation, page);
    }
}

impl ChatClient {
    /// Searches the conversations I may read for `query` (newest first, a page at a time).
    pub fn search(&self, searches: Searches, query: &str) {
        if let Some(ask) = searches.start(query) {
            self.command(Command::Search(ask));
        }
    }

    /// Loads the page of results before the last one shown.
    pub fn search_more(&self, searches: Searches) {
        if let Some(ask) = searches.next() {
            self.command(Command::Search(ask));
        }
    }

    /// Puts `room` on screen at message `id`, the way a clicked notification does: the page
    /// goes there, and older pages are loaded until the message is held.
    pub fn open_at(&self, room: &str, id: u64) {
        self.state.opened.set(Some(Alert {
            room: room.to_owned(),
            id,
            title: String::new(),
            body: String::new(),
        }));
    }

    /// Where a result was said: `#room`, or the other person's name in a direct conversation.
    pub fn place_of(&self, room: &str) -> String {
        match self.partner(room) {
            Some(them) => self.name_for(&them, &self.title(room)),
            None => self.title(room),
        }
    }
}

/// A piece of a result's text: highlighted when the query matched it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    pub mark: bool,
}

/// About [`CONTEXT_CHARS`] characters of a text around its first match, in pieces; `cut_before`
/// and `cut_after` say that text was left out there (for an ellipsis).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snippet {
    pub pieces: Vec<Piece>,
    pub cut_before: bool,
    pub cut_after: bool,
}

/// Cuts `text` around its first match; `matches` are `[start, end)` in UTF-16 code units (as
/// the server sends them). Ranges out of bounds, empty or overlapping one before are ignored;
/// one ending inside a character takes the whole character.
pub fn snippet(text: &str, matches: &[[u32; 2]]) -> Snippet {
    // Each character's start: its byte and its UTF-16 offset, then the end of the text.
    let mut bounds: Vec<(usize, u32)> = Vec::with_capacity(text.len() + 1);
    let mut utf16 = 0u32;
    for (byte, c) in text.char_indices() {
        bounds.push((byte, utf16));
        utf16 += c.len_utf16() as u32;
    }
    bounds.push((text.len(), utf16));
    let chars = bounds.len() - 1;
    let char_at = |unit: u32| bounds.partition_point(|&(_, at)| at < unit).min(chars);
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for &[start, end] in matches {
        let (start, end) = (char_at(start), char_at(end));
        if start < end && ranges.last().is_none_or(|&(_, last)| start >= last) {
            ranges.push((start, end));
        }
    }
    let first = ranges.first().copied().unwrap_or((0, 0));
    let mut from = first.0.saturating_sub(BEFORE_CHARS);
    let to = (from + CONTEXT_CHARS).min(chars).max(first.1);
    if to == chars {
        from = from.min(chars.saturating_sub(CONTEXT_CHARS));
    }
    let slice = |a: usize, b: usize| text[bounds[a].0..bounds[b].0].to_owned();
    let mut pieces = Vec::new();
    let mut at = from;
    for (start, end) in ranges {
        let (start, end) = (start.clamp(from, to), end.clamp(from, to));
        if start >= end {
            continue;
        }
        if at < start {
            pieces.push(Piece {
                text: slice(at, start),
                mark: false,
            });
        }
        pieces.push(Piece {
            text: slice(start, end),
            mark: true,
        });
        at = end;
    }
    if at < to {
        pieces.push(Piece {
            text: slice(at, to),
            mark: false,
        });
    }
    Snippet {
        pieces,
        cut_before: from > 0,
        cut_after: to < chars,
    }
}

#[cfg(test)]
mod tests {
    use super::super::handle::tests::{connected, drain};
    use super::*;
    use crate::protocol::{ErrorCode, NewMessage};
    use serde_json::json;

    fn marked(s: &Snippet) -> Vec<(&str, bool)> {
        s.pieces.iter().map(|p| (p.text.as_str(), p.mark)).collect()
    }

    fn hit(room: &str, id: u64, ts: u64) -> Value {
        serde_json::to_value(SearchHit {
            message: NewMessage {
                sender: "ann".into(),
                message: "hello rust".into(),
                room: room.into(),
                id,
                ts,
                ..NewMessage::default()
            },
            matches: vec![[6, 10]],
        })
        .unwrap()
    }

    #[test]
    fn a_short_text_is_whole_with_its_matched_words_highlighted() {
        let s = snippet("hello rust and Rust", &[[6, 10], [15, 19]]);
        assert_eq!(
            marked(&s),
            [
                ("hello ", false),
                ("rust", true),
                (" and ", false),
                ("Rust", true)
            ]
        );
        assert!(!s.cut_before && !s.cut_after);
        assert_eq!(marked(&snippet("no match", &[])), [("no match", false)]);
    }

    #[test]
    fn ranges_count_utf16_units_so_emoji_and_accents_stay_whole() {
        // "😀" is two UTF-16 units, "é" one: "café" starts at 3 and ends at 7.
        let s = snippet("😀 café au lait", &[[3, 7]]);
        assert_eq!(
            marked(&s),
            [("😀 ", false), ("café", true), (" au lait", false)]
        );
        // A range ending inside the emoji takes all of it; nonsense ranges are ignored.
        let s = snippet("😀x", &[[0, 1], [9, 12], [1, 0]]);
        assert_eq!(marked(&s), [("😀", true), ("x", false)]);
    }

    #[test]
    fn a_long_text_is_cut_to_the_context_around_its_first_match() {
        let text = format!("{}needle{}", "a".repeat(300), "b".repeat(300));
        let s = snippet(&text, &[[300, 306]]);
        assert!(s.cut_before && s.cut_after);
        let shown: usize = s.pieces.iter().map(|p| p.text.chars().count()).sum();
        assert_eq!(shown, CONTEXT_CHARS);
        assert_eq!(s.pieces[0].text, "a".repeat(BEFORE_CHARS));
        assert_eq!(
            s.pieces[1],
            Piece {
                text: "needle".into(),
                mark: true
            }
        );
        // Near the end, the context reaches back to fill its length.
        let s = snippet(&text, &[[600, 606]]);
        assert!(s.cut_before && !s.cut_after);
        assert_eq!(s.pieces.last().unwrap().text, "bbbbbb");
        assert!(s.pieces.last().unwrap().mark);
    }

    #[test]
    fn a_search_asks_one_page_then_the_one_before_its_last_result() {
        Owner::new().with(|| {
            let (chat, mut commands) = connected();
            let searches = Searches::new();
            chat.search(searches, "  rust ");
            let [Command::Search(ask)] = &drain(&mut commands)[..] else {
                panic!("one search")
            };
            assert_eq!(ask.search.query, "rust");
            chat.search_more(searches);
            assert_eq!(
                drain(&mut commands),
                [],
                "not while the first is on its way"
            );
            ask.on_answer(Ok(
                json!({"results": [hit("general", 5, 50), hit("dev", 2, 40)], "more": true}),
            ));
            let found = searches.found().get_untracked();
            assert_eq!(
                (found.hits.len(), found.more, found.loading),
                (2, true, false)
            );
            chat.search_more(searches);
            let [Command::Search(next)] = &drain(&mut commands)[..] else {
                panic!("the next page")
            };
            assert_eq!(
                (
                    next.search.before,
                    next.search.before_room.as_deref(),
                    next.search.before_id
                ),
                (Some(40), Some("dev"), Some(2))
            );
            next.on_answer(Ok(json!({"results": [hit("dev", 1, 30)], "more": false})));
            assert_eq!(searches.found().get_untracked().hits.len(), 3);
            chat.search_more(searches);
            assert_eq!(drain(&mut commands), [], "no more");
        });
    }

    #[test]
    fn refusals_are_shown_and_an_earlier_search_s_answer_is_dropped() {
        Owner::new().with(|| {
            let (chat, mut commands) = connected();
            let searches = Searches::new();
            chat.search(searches, "   ");
            assert_eq!(drain(&mut commands), []);
            assert!(searches.found().get_untracked().error.is_some());
            chat.search(searches, "old");
            chat.search(searches, "new");
            let asks = drain(&mut commands);
            let [Command::Search(old), Command::Search(new)] = &asks[..] else {
                panic!("two searches")
            };
            old.on_answer(Ok(
                json!({"results": [hit("general", 1, 1)], "more": false}),
            ));
            assert!(searches.found().get_untracked().hits.is_empty(), "stale");
            let slow = ChatError::new(ErrorCode::RateLimited, "Too many searches.");
            new.on_answer(Err(slow));
            let found = searches.found().get_untracked();
            assert_eq!(
                (found.error.as_deref(), found.loading),
                (Some("Too many searches."), false)
            );
            assert_eq!(found.query, "new");
        });
    }
}
