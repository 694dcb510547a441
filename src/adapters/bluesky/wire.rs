//! Bluesky's XRPC answers and how they map to [`AdapterError`]. A bad or
//! expired token is a 400 (`InvalidToken`, `ExpiredToken`), not a 401: both
//! mean "refresh", like a 401 elsewhere.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::adapters::{AdapterError, PublishedPost, TokenSet, rate_limit};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    access_jwt: String,
    refresh_jwt: String,
}

impl Session {
    pub fn tokens(self) -> TokenSet {
        let expires_at = claims(&self.access_jwt)
            .and_then(|c| c.get("exp").and_then(serde_json::Value::as_i64))
            .and_then(|exp| DateTime::<Utc>::from_timestamp(exp, 0));
        TokenSet {
            access_token: SecretString::from(self.access_jwt),
            refresh_token: Some(SecretString::from(self.refresh_jwt)),
            expires_at,
            scopes: vec!["atproto".into()],
            service: None,
        }
    }
}

#[derive(Deserialize)]
pub struct Me {
    pub did: String,
    pub handle: String,
}

#[derive(Deserialize)]
pub struct Resolved {
    pub did: String,
}

#[derive(Deserialize)]
pub struct Uploaded {
    pub blob: serde_json::Value,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    message: Option<String>,
}

/// A JWT's claims (not verified: the PDS verifies; Prasaran only reads its own token).
fn claims(jwt: &str) -> Option<serde_json::Value> {
    let payload = jwt.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

/// The account (DID) an access token belongs to: its `sub`.
pub fn did_of(access_token: &SecretString) -> Result<String, AdapterError> {
    claims(access_token.expose_secret())
        .and_then(|c| c.get("sub").and_then(|s| s.as_str()).map(str::to_owned))
        .ok_or(AdapterError::Unauthorized)
}

pub fn published(did: &str, rkey: &str) -> PublishedPost {
    PublishedPost {
        id: format!("at://{did}/app.bsky.feed.post/{rkey}"),
        url: format!("https://bsky.app/profile/{did}/post/{rkey}"),
    }
}

/// Sends; a refused connection never reached Bluesky, a timeout may have.
pub async fn send(request: reqwest::RequestBuilder) -> Result<reqwest::Response, AdapterError> {
    crate::adapters::http_client::send(request, "Bluesky").await
}

/// Passes 2xx through; turns everything else into the matching error.
pub async fn classify(response: reqwest::Response) -> Result<reqwest::Response, AdapterError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    if status.as_u16() == 429 {
        return Err(rate_limit::rate_limited(
            response.headers(),
            None,
            std::time::SystemTime::now(),
        ));
    }
    let body: ErrorBody = response.json().await.unwrap_or_default();
    if matches!(
        body.error.as_str(),
        "ExpiredToken" | "InvalidToken" | "AuthMissing" | "AuthenticationRequired"
    ) || status.as_u16() == 401
    {
        return Err(AdapterError::Unauthorized);
    }
    let reason = match body.message {
        Some(message) => format!("{}: {message}", body.error),
        None => format!("{} {}", status.as_u16(), body.error),
    };
    Err(match status.as_u16() {
        403 => AdapterError::Revoked { reason },
        408 | 500..=599 => AdapterError::Transient {
            reason,
            status: Some(status.as_u16()),
        },
        _ => AdapterError::Rejected { reason },
    })
}
