//! Random `colour-animal` display names, unique among the people online.

use std::collections::HashSet;

use rand::Rng;
use rand::seq::IndexedRandom;

use crate::protocol::names::COLORS;

const ANIMALS: &[&str] = &[
    "fish", "cat", "dog", "owl", "fox", "bear", "wolf", "deer", "frog", "seal", "otter", "panda",
    "koala", "lynx", "hare", "crow", "swan", "yak", "moth", "bee", "crab", "newt", "mole", "ibis",
];

/// Hands out names and takes them back. Names are unique while held; when every
/// `colour-animal` pair is taken, a numeric suffix (`red-fox-2`) keeps them unique.
#[derive(Debug, Default)]
pub struct NameRegistry {
    in_use: HashSet<String>,
}

impl NameRegistry {
    /// A fresh name, now held until [`NameRegistry::release`].
    pub fn assign(&mut self, rng: &mut impl Rng) -> String {
        // Random picks find a free pair quickly while fewer than half are taken.
        for _ in 0..8 {
            let name = random_pair(rng);
            if self.in_use.insert(name.clone()) {
                return name;
            }
        }
        let free: Vec<String> = all_pairs().filter(|n| !self.in_use.contains(n)).collect();
        let name = match free.choose(rng) {
            Some(name) => name.clone(),
            None => {
                let base = random_pair(rng);
                (2u64..)
                    .map(|n| format!("{base}-{n}"))
                    .find(|n| !self.in_use.contains(n))
                    .unwrap_or(base)
            }
        };
        self.in_use.insert(name.clone());
        name
    }

    /// Marks a name as taken (a returning person's), so it is never handed to anyone else.
    pub fn reserve(&mut self, name: String) {
        self.in_use.insert(name);
    }

    /// Gives a name back so it can be handed out again.
    pub fn release(&mut self, name: &str) {
        self.in_use.remove(name);
    }
}

fn random_pair(rng: &mut impl Rng) -> String {
    let color = COLORS[rng.random_range(0..COLORS.len())];
    let animal = ANIMALS[rng.random_range(0..ANIMALS.len())];
    format!("{color}-{animal}")
}

fn all_pairs() -> impl Iterator<Item = String> {
    COLORS
        .iter()
        .flat_map(|c| ANIMALS.iter().map(move |a| format!("{c}-{a}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::names::color_of;

    #[test]
    fn names_are_colour_animal_with_a_drawable_colour() {
        let mut names = NameRegistry::default();
        let name = names.assign(&mut rand::rng());
        let (color, animal) = name.split_once('-').unwrap();
        assert_eq!(color_of(&name), Some(color));
        assert!(ANIMALS.contains(&animal), "{name}");
    }

    #[test]
    fn names_stay_unique_past_every_combination() {
        let mut names = NameRegistry::default();
        let pairs = COLORS.len() * ANIMALS.len();
        let mut seen = HashSet::new();
        for _ in 0..pairs + 50 {
            let name = names.assign(&mut rand::rng());
            assert!(color_of(&name).is_some(), "{name}");
            assert!(seen.insert(name.clone()), "duplicate {name}");
        }
        assert_eq!(names.in_use.len(), pairs + 50);
        assert_eq!(
            seen.iter().filter(|n| n.matches('-').count() == 2).count(),
            50
        );
    }

    #[test]
    fn released_names_can_come_back() {
        let mut names = NameRegistry::default();
        let all: Vec<String> = (0..COLORS.len() * ANIMALS.len())
            .map(|_| names.assign(&mut rand::rng()))
            .collect();
        names.release(&all[17]);
        assert_eq!(names.assign(&mut rand::rng()), all[17]);
    }
}
