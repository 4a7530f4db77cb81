//! Search on the wire: the `search` request, its answer, and the limits both sides check.
//! How a query is read and matched is the server's business (`server::search`).
//!
//! Results come newest first by `ts`; results of the same millisecond in a fixed order of
//! their own (the same on every node). The next page is the one before the last result: send
//! its `ts` as `before` and, to page without skipping or repeating results of the same
//! millisecond, its `room` and `id` as `beforeRoom` and `beforeId`. With `before` alone,
//! results are strictly older than that millisecond.

use serde::{Deserialize, Serialize};

use super::acks::Request;
use super::events::{ChatError, ErrorCode, NewMessage};

/// Longest query, in characters after trimming.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most words, prefixes and phrases one query may hold.
pub const MAX_QUERY_TERMS: usize = 8;
/// Results per page.
pub const SEARCH_PAGE: usize = 20;

/// "Find messages with these words", in the conversations the asker may read (or in `room`
/// only), newest first; answered in the ack ([`SearchResults`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Search {
    pub query: String,
    /// Search this conversation only (a public room, or one's own `dm:` conversation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// Only results older than this (a result's `ts`, ms); see the module's paging rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<u64>,
    /// With `before`: the last result's room, so that ties in `ts` are not skipped.
    #[serde(
        default,
        rename = "beforeRoom",
        skip_serializing_if = "Option::is_none"
    )]
    pub before_room: Option<String>,
    /// With `before` and `beforeRoom`: the last result's id.
    #[serde(default, rename = "beforeId", skip_serializing_if = "Option::is_none")]
    pub before_id: Option<u64>,
}

/// One page of results, newest first; `more` when there are older ones still.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResults {
    pub results: Vec<SearchHit>,
    pub more: bool,
}

/// A message found: its current state (`newMessage`'s shape, so a client opens the
/// conversation at `room`/`id`), and where in its text the query matched.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    #[serde(flatten)]
    pub message: NewMessage,
    /// The matched words of `message`, as `[start, end)` ranges in UTF-16 code units (a
    /// JavaScript string's indices), in order: what to highlight, and where the context is.
    #[serde(default)]
    pub matches: Vec<[u32; 2]>,
}

impl Request for Search {
    type Accepted = SearchResults;
}

/// Trims a query and checks its length: 1 to [`MAX_QUERY_CHARS`] characters.
pub fn check_query(query: &str) -> Result<&str, ChatError> {
    let trimmed = query.trim();
    let chars = trimmed.chars().count();
    if chars == 0 {
        return Err(ChatError::new(
            ErrorCode::Empty,
            "Type something to search for.",
        ));
    }
    if chars > MAX_QUERY_CHARS {
        return Err(ChatError::new(
            ErrorCode::TooLong,
            format!("A search is at most {MAX_QUERY_CHARS} characters ({chars} given)."),
        ));
    }
    Ok(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ClientEvent;
    use serde_json::json;

    #[test]
    fn search_is_query_with_optional_room_and_cursor() {
        assert_eq!(
            ClientEvent::decode("search", json!({"query": "hello"})),
            Ok(ClientEvent::Search(Search {
                query: "hello".into(),
                ..Search::default()
            }))
        );
        let paged =
            json!({"query": "a", "room": "rust", "before": 9, "beforeRoom": "rust", "beforeId": 3});
        let Ok(ClientEvent::Search(paged)) = ClientEvent::decode("search", paged) else {
            panic!("a full cursor decodes")
        };
        assert_eq!(
            (paged.before, paged.before_room.as_deref(), paged.before_id),
            (Some(9), Some("rust"), Some(3))
        );
        for bad in [
            json!({"q": "x"}),
            json!({"query": 1}),
            json!({"query": "x", "before": -1}),
            json!({"query": "x", "limit": 5}),
            json!("x"),
        ] {
            assert!(ClientEvent::decode("search", bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_hit_is_new_message_s_shape_with_its_matches() {
        let hit = SearchHit {
            message: NewMessage {
                sender: "ann".into(),
                message: "hello world".into(),
                room: "general".into(),
                id: 4,
                ts: 9,
                ..NewMessage::default()
            },
            matches: vec![[6, 11]],
        };
        let wire = serde_json::to_value(&hit).unwrap();
        assert_eq!(
            (
                wire["sender"].clone(),
                wire["message"].clone(),
                wire["id"].clone()
            ),
            (json!("ann"), json!("hello world"), json!(4))
        );
        assert_eq!(wire["matches"], json!([[6, 11]]));
        assert_eq!(serde_json::from_value::<SearchHit>(wire).unwrap(), hit);
    }

    #[test]
    fn queries_are_trimmed_and_bounded() {
        assert_eq!(check_query("  rust  "), Ok("rust"));
        assert_eq!(check_query(" \n ").unwrap_err().code, ErrorCode::Empty);
        let longest = "é".repeat(MAX_QUERY_CHARS);
        assert_eq!(check_query(&longest), Ok(longest.as_str()));
        let over = "a".repeat(MAX_QUERY_CHARS + 1);
        assert_eq!(check_query(&over).unwrap_err().code, ErrorCode::TooLong);
    }
}
