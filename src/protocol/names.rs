//! Display names are `colour-animal`. The colours are shared because the page draws each
//! peer's dot in the colour its name starts with, so the server may only pick colours the
//! page knows how to draw.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_is_read_from_the_name() {
        assert_eq!(color_of("teal-otter"), Some("teal"));
        assert_eq!(color_of("rose-fox-2"), Some("rose"));
        assert_eq!(color_of("mauve-fox"), None);
        assert_eq!(color_of(""), None);
    }
}
