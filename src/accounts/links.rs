//! Single-use links sent by mail: the token goes in the mail, only its
//! SHA-256 is stored, and each link has a purpose and an expiry.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use url::Url;

/// Where links point and how long they work.
#[derive(Debug, Clone)]
pub struct LinkSettings {
    /// The web app's address; links are `<base>verify-email?token=…` and
    /// `<base>reset-password?token=…`.
    pub base: Url,
    pub verification_ttl: Duration,
    pub reset_ttl: Duration,
}

/// Longest token accepted back; anything longer cannot be one of ours.
const MAX_TOKEN_LEN: usize = 128;

/// A new random token (32 bytes, base64url).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a token; None for one too long to be ours.
pub fn token_hash(token: &str) -> Option<Vec<u8>> {
    (!token.is_empty() && token.len() <= MAX_TOKEN_LEN)
        .then(|| Sha256::digest(token.as_bytes()).to_vec())
}

/// `<base><page>?token=<token>`.
pub fn link(base: &Url, page: &str, token: &str) -> Url {
    let mut url = base.join(page).unwrap_or_else(|_| base.clone());
    url.query_pairs_mut().clear().append_pair("token", token);
    url
}
