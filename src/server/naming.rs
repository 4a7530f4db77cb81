//! The rules of a chosen name: what a person may call themselves (`check_name`) and when two
//! names are the same for the chat (`name_key`: case, width, accents, lookalike letters and
//! separators folded), so nobody can appear as someone else.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::protocol::{MAX_NAME_LEN, MIN_NAME_LEN};

/// Why a name is refused (the message a person reads).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadName {
    #[error("A name is {MIN_NAME_LEN} to {MAX_NAME_LEN} characters.")]
    Length,
    #[error("A name may use letters, digits, spaces, '-', '_' and '.' only.")]
    Characters,
    #[error("A name needs a letter or a digit.")]
    Blank,
}

/// The name as it will be shown: NFKC-normalised, trimmed, inner runs of spaces as one; or
/// why not.
pub fn check_name(raw: &str) -> Result<String, BadName> {
    let normal: String = raw.nfkc().collect();
    let name = normal.split_whitespace().collect::<Vec<_>>().join(" ");
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'))
    {
        return Err(BadName::Characters);
    }
    if !name.chars().any(char::is_alphanumeric) {
        return Err(BadName::Blank);
    }
    let len = name.chars().count();
    if !(MIN_NAME_LEN..=MAX_NAME_LEN).contains(&len) {
        return Err(BadName::Length);
    }
    Ok(name)
}

/// What two names must not share: compatibility-decomposed, accents dropped, lower case,
/// lookalike letters (Cyrillic and Greek that look Latin, `0`/`o`, `1`/`l`/`i`, `rn`/`m`,
/// `vv`/`w`) and separators (space, `-`, `_`, `.`) folded to one.
pub fn name_key(name: &str) -> String {
    let mut folded = String::with_capacity(name.len());
    for c in name.nfkd().filter(|c| !is_combining_mark(*c)) {
        for lower in c.to_lowercase() {
            let c = lookalike(lower);
            if c == '-' && (folded.is_empty() || folded.ends_with('-')) {
                continue;
            }
            folded.push(c);
        }
    }
    while folded.ends_with('-') {
        folded.pop();
    }
    folded.replace("rn", "m").replace("vv", "w")
}

/// The Latin letter a lowercase character is mistaken for, or itself.
fn lookalike(c: char) -> char {
    match c {
        ' ' | '_' | '.' | '-' => '-',
        '0' | 'о' | 'ο' | 'օ' => 'o',
        '1' | 'i' | 'ı' | 'і' | 'ι' | 'ӏ' | '|' | 'ℓ' => 'l',
        'а' | 'α' => 'a',
        'в' | 'β' => 'b',
        'с' | 'ϲ' => 'c',
        'ԁ' => 'd',
        'е' | 'ε' | 'ё' => 'e',
        'ɡ' => 'g',
        'һ' | 'η' => 'h',
        'ј' | 'ϳ' => 'j',
        'к' | 'κ' => 'k',
        'м' => 'm',
        'п' => 'n',
        'р' | 'ρ' => 'p',
        'ԛ' => 'q',
        'ѕ' | '5' => 's',
        'т' | 'τ' => 't',
        'υ' | 'μ' => 'u',
        'ν' | 'ѵ' => 'v',
        'ѡ' | 'ω' => 'w',
        'х' | 'χ' => 'x',
        'у' | 'γ' => 'y',
        'ᴢ' => 'z',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_and_checked() {
        assert_eq!(check_name("  Ann   Smith "), Ok("Ann Smith".into()));
        // Full-width letters become plain ones (NFKC).
        assert_eq!(check_name("Ａｎｎ"), Ok("Ann".into()));
        assert_eq!(check_name("Zoë_99.x"), Ok("Zoë_99.x".into()));
        assert_eq!(check_name("李小龍"), Ok("李小龍".into()));
        assert_eq!(check_name("a"), Err(BadName::Length));
        assert_eq!(check_name(&"a".repeat(25)), Err(BadName::Length));
        assert_eq!(check_name("ann<script>"), Err(BadName::Characters));
        assert_eq!(check_name("ann\u{202e}"), Err(BadName::Characters));
        assert_eq!(check_name("ann 🙂"), Err(BadName::Characters));
        assert_eq!(check_name("-- .."), Err(BadName::Blank));
    }

    #[test]
    fn lookalikes_fold_to_one_key() {
        let ann = name_key("Ann");
        for same in ["ANN", "ann", "Аnn", "Ánn", "Ａｎｎ"] {
            assert_eq!(name_key(same), ann, "{same}");
        }
        let lee = name_key("Ann Lee");
        for same in ["ann-lee", "Ann_Lee", "ANN.LEE", "Ann  -  Lee", "Ann Lee."] {
            assert_eq!(name_key(same), lee, "{same}");
        }
        assert_eq!(name_key("paypal"), name_key("pаypаl"));
        assert_eq!(name_key("bill"), name_key("biII"));
        assert_eq!(name_key("m0dern"), name_key("modem"));
        assert_eq!(name_key("admin"), name_key("admín"));
        assert_ne!(name_key("ann"), name_key("anna"));
        assert_ne!(name_key("李小龍"), name_key("李小虎"));
    }

    #[test]
    fn a_key_is_its_own_key() {
        for name in ["red-fox", "rose-ibis-2", "Zoë Smith", "m0dern"] {
            let key = name_key(name);
            assert_eq!(name_key(&key), key, "{name}");
        }
    }
}
