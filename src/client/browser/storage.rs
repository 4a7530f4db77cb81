//! What this browser keeps in localStorage (the identity token, the followed conversations
//! and the names of direct ones), and the random tokens it draws from the browser's CSPRNG.

use std::collections::HashMap;

use leptos::prelude::window;
use web_sys::Storage;

use crate::client::ids::token_from_bytes;
use crate::client::state::Remembered;
use crate::protocol::check_token;

/// Where the identity token is kept.
const TOKEN_KEY: &str = "chat.token";
/// Where the followed conversations are kept (a JSON list), and the names of direct ones.
const ROOMS_KEY: &str = "chat.rooms";
const DM_NAMES_KEY: &str = "chat.dm-names";

/// `crypto.getRandomValues` is missing or failed: no identity can be made here.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "This browser gives the page no secure random numbers (crypto.getRandomValues), which \
     your identity is made from, so the chat cannot run here."
)]
pub struct NoRandomness;

/// Who this page is: the person's token, and this page load's nonce.
pub struct Identity {
    pub token: String,
    pub page_nonce: String,
}

/// This browser's identity token, kept in localStorage so a reload or another tab is the
/// same person (a fresh one for this page only when storage is unavailable), and a nonce
/// for this page load.
pub fn identity() -> Result<Identity, NoRandomness> {
    let storage = local_storage();
    let kept = storage
        .as_ref()
        .and_then(|s| s.get_item(TOKEN_KEY).ok().flatten())
        .filter(|t| check_token(t).is_ok());
    let token = match kept {
        Some(token) => token,
        None => {
            let token = random_token(32)?;
            if let Some(storage) = &storage
                && storage.set_item(TOKEN_KEY, &token).is_err()
            {
                leptos::logging::warn!("cannot keep the identity: a reload is someone new");
            }
            token
        }
    };
    Ok(Identity {
        token,
        page_nonce: random_token(16)?,
    })
}

/// `len` random characters from `[A-Za-z0-9_-]`, from the browser's CSPRNG only.
pub fn random_token(len: usize) -> Result<String, NoRandomness> {
    let crypto = window().crypto().map_err(|_| NoRandomness)?;
    let mut bytes = vec![0u8; len];
    crypto
        .get_random_values_with_u8_array(&mut bytes)
        .map_err(|_| NoRandomness)?;
    Ok(token_from_bytes(&bytes))
}

/// A fresh query suffix so no cache answers a long-poll (random, like Engine.IO's own).
pub fn cache_buster() -> Result<String, NoRandomness> {
    random_token(8).map(|t| format!("&t={t}"))
}

/// The conversations this browser followed on its last visit.
pub fn remembered() -> Remembered {
    let Some(storage) = local_storage() else {
        return Remembered::default();
    };
    let read = |key| storage.get_item(key).ok().flatten();
    Remembered {
        followed: read(ROOMS_KEY)
            .and_then(|t| serde_json::from_str::<Vec<String>>(&t).ok())
            .unwrap_or_default(),
        dm_names: read(DM_NAMES_KEY)
            .and_then(|t| serde_json::from_str::<HashMap<String, String>>(&t).ok())
            .unwrap_or_default(),
    }
}

/// Keeps the followed conversations for the next visit.
pub fn save(remembered: &Remembered) {
    let Some(storage) = local_storage() else {
        return;
    };
    let write = |key: &str, json: serde_json::Result<String>| {
        if !json.is_ok_and(|json| storage.set_item(key, &json).is_ok()) {
            leptos::logging::warn!("cannot keep {key}: the next visit will not have it");
        }
    };
    write(ROOMS_KEY, serde_json::to_string(&remembered.followed));
    write(DM_NAMES_KEY, serde_json::to_string(&remembered.dm_names));
}

fn local_storage() -> Option<Storage> {
    window().local_storage().ok().flatten()
}
