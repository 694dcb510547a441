//! Bluesky (AT Protocol) over its XRPC API with plain reqwest: connect with a
//! handle and an app password (`createSession`; the password is used once),
//! refresh with `refreshSession` (never a second `createSession` while a
//! refresh token lives: the real entryway allows about 100 logins a day),
//! publish with `putRecord` under a TID planned when the task was created,
//! with the exact record planned then, so a retry writes the identical record
//! (a no-op at the PDS) and an unknown outcome is checked with `getRecord`.
//!
//! Facets, images and link cards are not sent yet: posts are plain text.

mod wire;

use async_trait::async_trait;
use chrono::{SecondsFormat, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use url::Url;

use super::{
    Account, AdapterError, AuthorizeRequest, ConnectKind, ContentRules, MediaRules, MediaUpload,
    OutgoingPost, PlatformAdapter, PublishPlan, PublishedPost, SignedIn, TextUnit, TokenSet,
    UploadedMedia,
};
use wire::{Session, classify, send};

/// Bluesky's limits on a post's text.
pub const MAX_GRAPHEMES: usize = 300;
pub const MAX_BYTES: usize = 3_000;
const POST: &str = "app.bsky.feed.post";

pub struct BlueskyAdapter {
    http: reqwest::Client,
    /// The PDS (or entryway) Prasaran talks to.
    service: Url,
}

impl BlueskyAdapter {
    pub fn new(service: Url, http: reqwest::Client) -> Self {
        Self { http, service }
    }

    fn xrpc(&self, method: &str) -> Result<Url, AdapterError> {
        self.service
            .join(&format!("xrpc/{method}"))
            .map_err(|e| AdapterError::Rejected {
                reason: format!("bad Bluesky service URL: {e}"),
            })
    }

    async fn session(
        &self,
        method: &str,
        bearer: Option<&SecretString>,
        body: Option<Value>,
    ) -> Result<TokenSet, AdapterError> {
        let mut request = self.http.post(self.xrpc(method)?);
        if let Some(token) = bearer {
            request = request.bearer_auth(token.expose_secret());
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let session: Session = classify(send(request).await?)
            .await?
            .json()
            .await
            .map_err(|e| AdapterError::Transient {
                reason: format!("unreadable Bluesky session: {e}"),
                status: None,
            })?;
        Ok(session.tokens())
    }
}

/// A record key in the TID form: 13 base32-sortable characters from
/// microseconds since the epoch and a random clock id.
pub fn tid() -> String {
    const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";
    let micros = u64::try_from(Utc::now().timestamp_micros()).unwrap_or_default();
    let value = (micros << 10) | u64::from(rand::random::<u16>() & 0x3ff);
    (0..13)
        .rev()
        .map(|i| char::from(ALPHABET[((value >> (i * 5)) & 31) as usize]))
        .collect()
}

#[async_trait]
impl PlatformAdapter for BlueskyAdapter {
    fn id(&self) -> &'static str {
        "bluesky"
    }

    fn display_name(&self) -> &'static str {
        "Bluesky"
    }

    fn rules(&self) -> ContentRules {
        ContentRules {
            max_chars: MAX_GRAPHEMES,
            unit: TextUnit::Graphemes,
            max_bytes: Some(MAX_BYTES),
            // Images and video come with the media step of this adapter.
            media: MediaRules {
                max_count: 0,
                max_image_bytes: 0,
                max_video_bytes: 0,
                types: Vec::new(),
                video_alone: true,
                alt_text_required: false,
                max_video_duration_ms: None,
                max_pixels: None,
                video_codecs: Vec::new(),
            },
        }
    }

    fn connect_kind(&self) -> ConnectKind {
        ConnectKind::Credentials
    }

    fn plan(&self, content: &str) -> PublishPlan {
        PublishPlan {
            key: Some(tid()),
            record: Some(json!({
                "$type": POST,
                "text": content,
                "createdAt": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            })),
        }
    }

    fn authorize_url(&self, _: &AuthorizeRequest<'_>) -> Result<Url, AdapterError> {
        Err(AdapterError::Rejected {
            reason: "Bluesky connects with a handle and an app password".into(),
        })
    }

    async fn exchange_code(
        &self,
        _: &str,
        _: &SecretString,
        _: &Url,
    ) -> Result<TokenSet, AdapterError> {
        Err(AdapterError::Rejected {
            reason: "Bluesky connects with a handle and an app password".into(),
        })
    }

    async fn sign_in(
        &self,
        identifier: &str,
        password: &SecretString,
    ) -> Result<SignedIn, AdapterError> {
        let tokens = self
            .session(
                "com.atproto.server.createSession",
                None,
                Some(json!({"identifier": identifier, "password": password.expose_secret()})),
            )
            .await
            .map_err(|e| match e {
                // Wrong credentials are the user's to fix, not a grant to refresh.
                AdapterError::Unauthorized => AdapterError::Rejected {
                    reason: "Bluesky refused the handle or app password".into(),
                },
                other => other,
            })?;
        let account = self.account(&tokens.access_token).await?;
        Ok(SignedIn { tokens, account })
    }

    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, AdapterError> {
        self.session(
            "com.atproto.server.refreshSession",
            Some(refresh_token),
            None,
        )
        .await
        .map_err(|e| match e {
            // A refresh token that no longer works: the session is gone.
            AdapterError::Unauthorized | AdapterError::Rejected { .. } => AdapterError::Revoked {
                reason: "Bluesky ended the session".into(),
            },
            other => other,
        })
    }

    async fn account(&self, access_token: &SecretString) -> Result<Account, AdapterError> {
        let response = send(
            self.http
                .get(self.xrpc("com.atproto.server.getSession")?)
                .bearer_auth(access_token.expose_secret()),
        )
        .await?;
        let me: wire::Me =
            classify(response)
                .await?
                .json()
                .await
                .map_err(|e| AdapterError::Transient {
                    reason: format!("unreadable Bluesky session: {e}"),
                    status: None,
                })?;
        Ok(Account {
            display_name: me.handle.clone(),
            id: me.did,
            handle: me.handle,
        })
    }

    async fn publish(
        &self,
        access_token: &SecretString,
        post: OutgoingPost<'_>,
        rkey: &str,
    ) -> Result<PublishedPost, AdapterError> {
        let did = wire::did_of(access_token)?;
        let record = post.record.cloned().unwrap_or_else(|| {
            json!({"$type": POST, "text": post.text,
                   "createdAt": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)})
        });
        let response = send(
            self.http
                .post(self.xrpc("com.atproto.repo.putRecord")?)
                .bearer_auth(access_token.expose_secret())
                .json(&json!({"repo": did, "collection": POST, "rkey": rkey, "record": record})),
        )
        .await?;
        classify(response).await?;
        Ok(wire::published(&did, rkey))
    }

    async fn find_post(
        &self,
        access_token: &SecretString,
        rkey: &str,
    ) -> Result<Option<PublishedPost>, AdapterError> {
        let did = wire::did_of(access_token)?;
        let mut url = self.xrpc("com.atproto.repo.getRecord")?;
        url.query_pairs_mut()
            .append_pair("repo", &did)
            .append_pair("collection", POST)
            .append_pair("rkey", rkey);
        let response = send(self.http.get(url).bearer_auth(access_token.expose_secret())).await?;
        match classify(response).await {
            Ok(_) => Ok(Some(wire::published(&did, rkey))),
            Err(AdapterError::Rejected { reason }) if reason.contains("RecordNotFound") => Ok(None),
            Err(other) => Err(other),
        }
    }

    async fn upload_media(
        &self,
        _: &SecretString,
        _: MediaUpload,
    ) -> Result<UploadedMedia, AdapterError> {
        Err(AdapterError::Rejected {
            reason: "Bluesky media is not supported yet".into(),
        })
    }

    async fn media_ready(&self, _: &SecretString, _: &str) -> Result<bool, AdapterError> {
        Ok(true)
    }

    async fn revoke(&self, refresh_token: &SecretString) -> Result<(), AdapterError> {
        let response = send(
            self.http
                .post(self.xrpc("com.atproto.server.deleteSession")?)
                .bearer_auth(refresh_token.expose_secret()),
        )
        .await?;
        classify(response).await.map(|_| ())
    }
}
