//! Display names: generated as `colour-animal`, or chosen (`rename`). The colours are shared
//! because the page draws each person's dot in a colour: the one their generated name starts
//! with, or, for a chosen name, the one their public id gives ([`color_for`]) — the server
//! generates names in that same colour, so a rename keeps a person's dot. The rules of a chosen
//! name (normalisation, lookalikes) are the server's (`server::naming`); only the lengths are
//! shared.

use serde::{Deserialize, Serialize};

/// Shortest and longest chosen name, in characters (after normalising).
pub const MIN_NAME_LEN: usize = 2;
pub const MAX_NAME_LEN: usize = 24;

/// Colours a name can start with; each has a dot style in the UI.
pub const COLORS: &[&str] = &[
    "red", "orange", "amber", "yellow", "lime", "green", "emerald", "teal", "cyan", "sky", "blue",
    "indigo", "violet", "purple", "fuchsia", "pink", "rose", "gray",
];

/// The colour a `colour-animal` name starts with, when it is one of [`COLORS`].
pub fn color_of(name: &str) -> Option<&'static str> {
    let prefix = name.split('-').next()?;
    COLORS.iter().copied().find(|c| *c == prefix)
}

/// The colour of the person with public id `id` (16 hex digits; anything else gets the
/// first colour).
pub fn color_for(id: &str) -> &'static str {
    let n = id
        .get(..8)
        .and_then(|head| u32::from_str_radix(head, 16).ok())
        .unwrap_or(0);
    COLORS[n as usize % COLORS.len()]
}

/// The colour of a person's dot: their generated name's, else their id's.
pub fn dot_color(name: &str, id: &str) -> &'static str {
    color_of(name).unwrap_or_else(|| color_for(id))
}

/// Choose my display name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rename {
    pub name: String,
}

/// A `rename` was done: the name as the server normalised it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renamed {
    pub name: String,
}

/// Someone's display name changed (to everyone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRenamed {
    pub id: String,
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_persons_colour_comes_from_their_id() {
        assert_eq!(color_for("00000000ffffffff"), COLORS[0]);
        assert_eq!(color_for("00000001ffffffff"), COLORS[1]);
        assert_eq!(color_for("nonsense"), COLORS[0]);
        assert_eq!(dot_color("teal-otter", "00000001ffffffff"), "teal");
        assert_eq!(dot_color("Ann", "00000001ffffffff"), COLORS[1]);
    }

    #[test]
    fn colour_is_read_from_the_name() {
        assert_eq!(color_of("teal-otter"), Some("teal"));
        assert_eq!(color_of("rose-fox-2"), Some("rose"));
        assert_eq!(color_of("mauve-fox"), None);
        assert_eq!(color_of(""), None);
    }
}
