//! Ids this page makes: the identity token (from random bytes the browser provides) and the
//! client ids of my messages.

/// `[A-Za-z0-9_-]`: one character per random byte.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A token of one character per byte of `random` (uniform: 256 is a multiple of 64).
pub fn token_from_bytes(random: &[u8]) -> String {
    random
        .iter()
        .map(|b| ALPHABET[(*b & 63) as usize] as char)
        .collect()
}

/// The client ids of my messages: this page's random nonce and a counter. The server keeps
/// each id for good, so they must be unique among every page of the same identity, past and
/// future: a reused one would be taken for a retry.
#[derive(Debug, Clone)]
pub struct ClientIds {
    nonce: String,
    issued: u64,
}

impl ClientIds {
    pub fn new(nonce: String) -> Self {
        ClientIds { nonce, issued: 0 }
    }

    pub fn issue(&mut self) -> String {
        self.issued += 1;
        format!("{}-{}", self.nonce, self.issued)
    }
}

/// Until the browser's connection names the page (and always on the server and in native
/// tests), ids start with `local`.
impl Default for ClientIds {
    fn default() -> Self {
        ClientIds::new("local".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{check_client_id, check_token};

    #[test]
    fn a_token_from_32_random_bytes_is_one_the_server_accepts() {
        let bytes: Vec<u8> = (0..32).map(|i| (i * 37 + 11) as u8).collect();
        let token = token_from_bytes(&bytes);
        assert_eq!(token.len(), 32);
        assert_eq!(check_token(&token), Ok(()));
        assert_eq!(token_from_bytes(&[0, 63, 64, 255]), "A_A_");
    }

    #[test]
    fn client_ids_are_unique_and_valid() {
        let mut ids = ClientIds::new(token_from_bytes(&[7; 16]));
        let (a, b) = (ids.issue(), ids.issue());
        assert_ne!(a, b);
        assert!(check_client_id(&a).is_ok() && check_client_id(&b).is_ok());
    }
}
