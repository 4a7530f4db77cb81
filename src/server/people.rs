//! A person, in one vocabulary: the **user key** (derived from the browser's secret token, or
//! the socket id for the anonymous; server only, never sent), the **public id** (derived from
//! the user key, not reversible; what others see and address) and the **display name**.
//! The derivations live here, beside neither the chat nor the stores, because both need them.

/// The user key of a token: a hash, so the database never holds a usable token.
pub fn user_key(token: &str) -> String {
    format!("u:{}", hex_digest(token, 16))
}

/// The user key of a connection without a token.
pub fn anonymous_user_key(sid: impl std::fmt::Display) -> String {
    format!("s:{sid}")
}

/// The public id of a user key; others cannot get the key back from it.
pub fn public_id(user: &str) -> String {
    hex_digest(
        &format!("public:{user}"),
        crate::protocol::PUBLIC_ID_LEN / 2,
    )
}

fn hex_digest(text: &str, bytes: usize) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())[..bytes]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_id_hides_the_user_key_and_the_key_hides_the_token() {
        let user = user_key("a-secret-token-0123456789");
        assert!(user.starts_with("u:") && !user.contains("secret"));
        assert_eq!(user, user_key("a-secret-token-0123456789"), "stable");
        let id = public_id(&user);
        assert!(crate::protocol::is_public_id(&id), "{id}");
        assert_ne!(id, public_id(&user_key("another-token-0123456789")));
        assert_ne!(public_id(&anonymous_user_key("sid1")), id);
    }
}
