//! Display names, unique among the people this node knows: generated `colour-animal` names in
//! the person's own colour (so a rename keeps their dot), and chosen ones, all compared by
//! their [`name_key`] (lookalikes fold to one).

use std::collections::HashSet;

use rand::Rng;
use rand::seq::IndexedRandom;

use super::naming::name_key;

const ANIMALS: &[&str] = &[
    "fish", "cat", "dog", "owl", "fox", "bear", "wolf", "deer", "frog", "seal", "otter", "panda",
    "koala", "lynx", "hare", "crow", "swan", "yak", "moth", "bee", "crab", "newt", "mole", "ibis",
    "heron", "bison", "camel", "eagle", "gecko", "hawk", "horse", "lemur", "llama", "moose",
    "mouse", "orca", "puffin", "quail", "raven", "robin", "shark", "sloth", "squid", "tapir",
    "tiger", "toad", "whale", "wren",
];

/// Hands out names and takes them back. Names are unique while held, by key; when every
/// animal of a colour is taken, a numeric suffix (`red-fox-2`) keeps them unique.
#[derive(Debug, Default)]
pub struct NameRegistry {
    in_use: HashSet<String>,
}

impl NameRegistry {
    /// A fresh name in `color`, now held until [`NameRegistry::release`].
    pub fn assign(&mut self, rng: &mut impl Rng, color: &str) -> String {
        // Random picks find a free animal quickly while fewer than half are taken.
        for _ in 0..8 {
            let name = format!("{color}-{}", ANIMALS[rng.random_range(0..ANIMALS.len())]);
            if self.claim(&name) {
                return name;
            }
        }
        let free: Vec<String> = ANIMALS
            .iter()
            .map(|a| format!("{color}-{a}"))
            .filter(|n| !self.in_use.contains(&name_key(n)))
            .collect();
        let name = match free.choose(rng) {
            Some(name) => name.clone(),
            None => {
                let base = format!("{color}-{}", ANIMALS[rng.random_range(0..ANIMALS.len())]);
                (2u64..)
                    .map(|n| format!("{base}-{n}"))
                    .find(|n| !self.in_use.contains(&name_key(n)))
                    .unwrap_or(base)
            }
        };
        self.in_use.insert(name_key(&name));
        name
    }

    /// Takes `name` when nobody holds it (nor one that looks the same); whether it did.
    pub fn claim(&mut self, name: &str) -> bool {
        self.in_use.insert(name_key(name))
    }

    /// Marks a name as taken (a returning person's), so it is never handed to anyone else.
    pub fn reserve(&mut self, name: &str) {
        self.in_use.insert(name_key(name));
    }

    /// Gives a name back so it can be handed out again.
    pub fn release(&mut self, name: &str) {
        self.in_use.remove(&name_key(name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::names::{COLORS, color_of};

    #[test]
    fn names_are_the_colour_asked_for_and_an_animal() {
        let mut names = NameRegistry::default();
        let name = names.assign(&mut rand::rng(), "teal");
        let (color, animal) = name.split_once('-').unwrap();
        assert_eq!(color_of(&name), Some(color));
        assert_eq!(color, "teal");
        assert!(ANIMALS.contains(&animal), "{name}");
        assert!(COLORS.contains(&color));
    }

    #[test]
    fn names_stay_unique_past_every_animal() {
        let mut names = NameRegistry::default();
        let mut seen = HashSet::new();
        for _ in 0..ANIMALS.len() + 50 {
            let name = names.assign(&mut rand::rng(), "rose");
            assert_eq!(color_of(&name), Some("rose"), "{name}");
            assert!(seen.insert(name.clone()), "duplicate {name}");
        }
        assert_eq!(names.in_use.len(), ANIMALS.len() + 50);
        assert_eq!(
            seen.iter().filter(|n| n.matches('-').count() == 2).count(),
            50
        );
    }

    #[test]
    fn released_names_can_come_back_and_lookalikes_cannot_be_claimed() {
        let mut names = NameRegistry::default();
        let all: Vec<String> = (0..ANIMALS.len())
            .map(|_| names.assign(&mut rand::rng(), "blue"))
            .collect();
        names.release(&all[17]);
        assert_eq!(names.assign(&mut rand::rng(), "blue"), all[17]);
        assert!(names.claim("Ann"));
        assert!(!names.claim("АNN"), "Cyrillic А, upper case");
        names.release("ann");
        assert!(names.claim("Ann"));
    }
}
