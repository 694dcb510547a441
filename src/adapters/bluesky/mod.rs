//! Bluesky (AT Protocol) over its XRPC API with plain reqwest: connect with a
//! handle and an app password (`createSession`; the password is used once),
//! refresh with `refreshSession` (never a second `createSession` while a
//! refresh token lives: the real entryway allows about 100 logins a day),
//! publish with `putRecord` under a TID planned when the task was created,
//! with the exact record planned then, so a retry writes the identical record
//! (a no-op at the PDS) and an unknown outcome is checked with `getRecord`.
//! Links, `@mentions` (resolved to DIDs when the task is created) and `#tags`
//! become facets; images go up with `uploadBlob` (fitted under 1,000,000
//! bytes by the worker) and into the record's embed with alt text and
//! aspect ratio.

mod dpop;
mod facets;
mod identity;
mod link_card;
mod oauth;
mod record;
mod wire;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use url::Url;

use super::{
    Account, AdapterError, Authorization, AuthorizeRequest, Binding, CodeExchange, ConnectKind,
    ContentRules, Credentials, MediaRules, MediaUpload, OutgoingPost, PlatformAdapter, PostOptions,
    PublishPlan, PublishedPost, SignedIn, TextUnit, TokenSet, UploadedMedia,
};
use record::POST;
use wire::{Session, classify, send};

/// Bluesky's limits on a post's text.
pub const MAX_GRAPHEMES: usize = 300;
pub const MAX_BYTES: usize = 3_000;
/// Bluesky's limits on images: four per post, each under a megabyte.
const MAX_IMAGES: usize = 4;
const MAX_IMAGE_BYTES: u64 = 1_000_000;
/// How long accepting a post may wait for one handle to resolve.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone)]
pub struct BlueskyAdapter {
    http: reqwest::Client,
    /// The configured PDS or entryway; for one connection, its account's PDS.
    service: Url,
    /// Where `did:plc` identities are looked up; `None`: every account is
    /// signed in at `service` (a single PDS).
    plc: Option<Url>,
    link_cards: link_card::LinkCards,
    /// Prasaran's client metadata document: the OAuth `client_id` of a
    /// deployment that is not on loopback (`None`: no public URL is set).
    client_metadata: Option<Url>,
    /// For a connection made with OAuth: its DPoP key, client and issuer.
    grant: Option<Arc<oauth::Grant>>,
    nonces: Arc<oauth::Nonces>,
}

/// Where Prasaran serves its Bluesky client metadata, under its public URL.
pub const CLIENT_METADATA_PATH: &str = "oauth/bluesky/client-metadata.json";

impl BlueskyAdapter {
    pub fn new(service: Url, http: reqwest::Client) -> Self {
        Self {
            http,
            service,
            plc: None,
            link_cards: link_card::LinkCards::default(),
            client_metadata: None,
            grant: None,
            nonces: Arc::default(),
        }
    }

    /// Prasaran's public URL, under which its client metadata is served.
    pub fn with_public_url(self, public_url: Option<&Url>) -> Self {
        Self {
            client_metadata: public_url.and_then(|base| base.join(CLIENT_METADATA_PATH).ok()),
            ..self
        }
    }

    /// Sends to the PDS as the connection's token allows: a bearer token
    /// (app password sessions) or a DPoP-bound one (OAuth).
    async fn call(
        &self,
        method: reqwest::Method,
        url: Url,
        token: &SecretString,
        build: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, AdapterError> {
        match &self.grant {
            Some(grant) => {
                oauth::send_with_proof(
                    &self.http,
                    &self.nonces,
                    &grant.key,
                    method,
                    &url,
                    Some(token),
                    build,
                )
                .await
            }
            None => {
                send(build(
                    self.http
                        .request(method, url)
                        .bearer_auth(token.expose_secret()),
                ))
                .await
            }
        }
    }

    /// The authorization server that issued this connection's grant.
    async fn grant_server(&self, grant: &oauth::Grant) -> Result<oauth::AuthServer, AdapterError> {
        let server = oauth::discover(&self.http, &self.service).await?;
        if server.issuer != grant.issuer {
            return Err(AdapterError::Revoked {
                reason: format!(
                    "the account's PDS now trusts {} instead of {}; connect Bluesky again",
                    server.issuer, grant.issuer
                ),
            });
        }
        Ok(server)
    }

    fn token_set(&self, answer: oauth::TokenAnswer, service: Option<Url>) -> TokenSet {
        TokenSet {
            access_token: SecretString::from(answer.access_token),
            refresh_token: answer.refresh_token.map(SecretString::from),
            expires_at: answer
                .expires_in
                // An absurd lifetime from the server is no expiry we can compute.
                .and_then(chrono::Duration::try_seconds)
                .and_then(|d| Utc::now().checked_add_signed(d)),
            scopes: answer.scope.split(' ').map(str::to_owned).collect(),
            service,
        }
    }

    pub fn with_link_cards(self, link_cards: link_card::LinkCards) -> Self {
        Self { link_cards, ..self }
    }

    /// Accounts are looked up in this PLC directory to find their own PDS.
    pub fn with_plc(self, plc: Option<Url>) -> Self {
        Self { plc, ..self }
    }

    /// This adapter talking to the PDS of `identifier`, when it can be found
    /// (else to the configured service, which may host the account itself).
    async fn at_home_of(&self, identifier: &str) -> Self {
        let Some(plc) = &self.plc else {
            return self.clone();
        };
        match identity::home_pds(&self.http, &self.service, plc, identifier).await {
            Ok(pds) => Self {
                service: pds,
                ..self.clone()
            },
            Err(why) => {
                tracing::info!(%why, "the account's PDS was not found; signing in at the configured service");
                self.clone()
            }
        }
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

    /// The DID behind each handle that resolves (lower-cased handle → DID).
    /// One that does not resolve, or not in time, stays plain text.
    async fn resolve(&self, handles: Vec<String>) -> HashMap<String, String> {
        let lookups = handles.into_iter().map(|handle| async move {
            let mut url = self.xrpc("com.atproto.identity.resolveHandle").ok()?;
            url.query_pairs_mut().append_pair("handle", &handle);
            let response = self
                .http
                .get(url)
                .timeout(RESOLVE_TIMEOUT)
                .send()
                .await
                .ok()?;
            if !response.status().is_success() {
                tracing::info!(status = %response.status(), "a mentioned handle did not resolve; it stays text");
                return None;
            }
            let resolved: wire::Resolved = response.json().await.ok()?;
            Some((handle, resolved.did))
        });
        futures_util::future::join_all(lookups)
            .await
            .into_iter()
            .flatten()
            .collect()
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
            url_weight: None,
            // Larger images are fitted by the worker (a JPEG copy); video
            // goes through Bluesky's separate video service, not done yet.
            media: MediaRules {
                max_count: MAX_IMAGES,
                max_image_bytes: MAX_IMAGE_BYTES,
                max_video_bytes: 0,
                types: vec!["image/jpeg".into(), "image/png".into(), "image/webp".into()],
                video_alone: true,
                alt_text_required: false,
                max_video_duration_ms: None,
                max_pixels: None,
                video_codecs: Vec::new(),
            },
        }
    }

    fn client_metadata(&self, redirect_uri: &Url) -> Option<Value> {
        let client_id = self.client_metadata.as_ref()?;
        Some(json!({
            "client_id": client_id,
            "client_name": "Prasaran",
            "client_uri": client_id.join("/").ok(),
            "application_type": "web",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "redirect_uris": [redirect_uri],
            "scope": oauth::SCOPE,
            // A public client: its tokens are bound to per-connection DPoP keys.
            "token_endpoint_auth_method": "none",
            "dpop_bound_access_tokens": true,
        }))
    }

    fn connect_kinds(&self) -> Vec<ConnectKind> {
        // Bluesky's own sign-in page first; app passwords for servers without OAuth.
        vec![ConnectKind::Redirect, ConnectKind::Credentials]
    }

    fn bind(&self, binding: &Binding<'_>) -> Option<Arc<dyn PlatformAdapter>> {
        let grant = match binding.grant_secret {
            Some(secret) => match oauth::Grant::from_secret(secret) {
                Ok(grant) => Some(Arc::new(grant)),
                Err(error) => {
                    tracing::warn!(%error, "the connection's Bluesky grant cannot be read");
                    None
                }
            },
            None => None,
        };
        if binding.service.is_none() && grant.is_none() {
            return None;
        }
        Some(Arc::new(Self {
            service: binding
                .service
                .cloned()
                .unwrap_or_else(|| self.service.clone()),
            grant: grant.or_else(|| self.grant.clone()),
            ..self.clone()
        }))
    }

    async fn plan(&self, content: &str, options: &PostOptions) -> PublishPlan {
        let found = facets::detect(content);
        let mut handles: Vec<String> = found
            .iter()
            .filter_map(|f| match &f.feature {
                facets::Feature::Mention(handle) => Some(handle.to_ascii_lowercase()),
                _ => None,
            })
            .collect();
        handles.sort();
        handles.dedup();
        let mut links: Vec<&str> = found
            .iter()
            .filter_map(|f| match &f.feature {
                facets::Feature::Link(uri) => Some(uri.as_str()),
                _ => None,
            })
            .collect();
        links.dedup();
        // A card only for a post with one link: with several, which one is meant?
        let card = async {
            match links.as_slice() {
                [only] => link_card::fetch(only, self.link_cards).await,
                _ => None,
            }
        };
        let (dids, card) = futures_util::join!(self.resolve(handles), card);
        let mut record = record::planned(content, &found, &dids, card.as_ref());
        if let Some(language) = &options.language {
            record["langs"] = json!([language]);
        }
        PublishPlan {
            key: Some(tid()),
            record: Some(record),
        }
    }

    fn authorize_url(&self, _: &AuthorizeRequest<'_>) -> Result<Url, AdapterError> {
        Err(AdapterError::Rejected {
            reason: "Bluesky's sign-in starts with a pushed authorization request".into(),
        })
    }

    /// ATProto OAuth: a pushed authorization request with PKCE, bound to a
    /// new DPoP key; the user then signs in and consents at Bluesky.
    async fn authorize(
        &self,
        request: &AuthorizeRequest<'_>,
    ) -> Result<Authorization, AdapterError> {
        let server = oauth::discover(&self.http, &self.service).await?;
        let key = dpop::DpopKey::generate().map_err(|e| AdapterError::Transient {
            reason: e.to_string(),
            status: None,
        })?;
        let client_id = oauth::client_id(request.redirect_uri, self.client_metadata.as_ref())?;
        let challenge = oauth::challenge(request.pkce_verifier);
        let pushed = oauth::post_form(
            &self.http,
            &self.nonces,
            &key,
            &server.pushed_authorization_request_endpoint,
            &[
                ("client_id", client_id.as_str()),
                ("response_type", "code"),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
                ("state", request.state),
                ("redirect_uri", request.redirect_uri.as_str()),
                ("scope", oauth::SCOPE),
            ],
        )
        .await?;
        let request_uri =
            pushed["request_uri"]
                .as_str()
                .ok_or_else(|| AdapterError::Transient {
                    reason: "Bluesky's authorization server answered no request_uri".into(),
                    status: None,
                })?;
        let mut url = server.authorization_endpoint.clone();
        url.query_pairs_mut()
            .append_pair("client_id", &client_id)
            .append_pair("request_uri", request_uri);
        let grant = oauth::Grant {
            key,
            client_id,
            issuer: server.issuer,
        };
        Ok(Authorization {
            url,
            grant_secret: Some(grant.to_secret()),
        })
    }

    async fn exchange_code(&self, exchange: &CodeExchange<'_>) -> Result<TokenSet, AdapterError> {
        let grant = oauth::Grant::from_secret(exchange.grant_secret.ok_or_else(|| {
            AdapterError::Rejected {
                reason: "this authorization was not started by Bluesky's sign-in".into(),
            }
        })?)?;
        // RFC 9207: the code must come from the server the request went to.
        if exchange.issuer != Some(grant.issuer.as_str()) {
            return Err(AdapterError::Rejected {
                reason: format!(
                    "the sign-in answered for {} instead of {}",
                    exchange.issuer.unwrap_or("no server"),
                    grant.issuer
                ),
            });
        }
        let server = oauth::discover(&self.http, &self.service).await?;
        let answer = oauth::token_grant(
            &self.http,
            &self.nonces,
            &grant.key,
            &server.token_endpoint,
            &[
                ("grant_type", "authorization_code"),
                ("code", exchange.code),
                ("redirect_uri", exchange.redirect_uri.as_str()),
                ("code_verifier", exchange.pkce_verifier.expose_secret()),
                ("client_id", grant.client_id.as_str()),
            ],
        )
        .await?;
        // The account's own PDS must trust the server that signed it in.
        let home = self.at_home_of(&answer.sub).await.service;
        if !oauth::authorization_servers(&self.http, &home)
            .await?
            .contains(&grant.issuer)
        {
            return Err(AdapterError::Rejected {
                reason: format!("{} does not vouch for {}", home, answer.sub),
            });
        }
        Ok(self.token_set(answer, Some(home)))
    }

    async fn sign_in(&self, credentials: &Credentials<'_>) -> Result<SignedIn, AdapterError> {
        let (identifier, password) = (credentials.identifier, credentials.password);
        let home = self.at_home_of(identifier).await;
        let tokens = home
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
        let account = home.account(&tokens.access_token).await?;
        Ok(SignedIn {
            tokens,
            account,
            grant_secret: None,
            destinations: Vec::new(),
        })
    }

    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, AdapterError> {
        if let Some(grant) = &self.grant {
            let server = self.grant_server(grant).await?;
            let answer = oauth::token_grant(
                &self.http,
                &self.nonces,
                &grant.key,
                &server.token_endpoint,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token.expose_secret()),
                    ("client_id", grant.client_id.as_str()),
                ],
            )
            .await?;
            return Ok(self.token_set(answer, Some(self.service.clone())));
        }
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
        let response = self
            .call(
                reqwest::Method::GET,
                self.xrpc("com.atproto.server.getSession")?,
                access_token,
                |r| r,
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
            service: Some(self.service.clone()),
        })
    }

    async fn publish(
        &self,
        access_token: &SecretString,
        post: OutgoingPost<'_>,
        rkey: &str,
    ) -> Result<PublishedPost, AdapterError> {
        let did = wire::did_of(access_token)?;
        let planned = match post.record {
            Some(record) => record.clone(),
            // A task from before records were planned: the same record each time
            // but for `createdAt`, which putRecord then overwrites harmlessly.
            None => record::planned(post.text, &facets::detect(post.text), &HashMap::new(), None),
        };
        let record =
            record::with_images(planned, post.media_ids).map_err(|e| AdapterError::Rejected {
                reason: format!("an uploaded image's record is unreadable: {e}"),
            })?;
        let body = json!({"repo": did, "collection": POST, "rkey": rkey, "record": record});
        let response = self
            .call(
                reqwest::Method::POST,
                self.xrpc("com.atproto.repo.putRecord")?,
                access_token,
                |r| r.json(&body),
            )
            .await?;
        classify(response).await?;
        Ok(wire::published(&did, rkey))
    }

    async fn find_post(
        &self,
        access_token: &SecretString,
        _post: OutgoingPost<'_>,
        rkey: &str,
    ) -> Result<Option<PublishedPost>, AdapterError> {
        let did = wire::did_of(access_token)?;
        let mut url = self.xrpc("com.atproto.repo.getRecord")?;
        url.query_pairs_mut()
            .append_pair("repo", &did)
            .append_pair("collection", POST)
            .append_pair("rkey", rkey);
        let response = self
            .call(reqwest::Method::GET, url, access_token, |r| r)
            .await?;
        match classify(response).await {
            Ok(_) => Ok(Some(wire::published(&did, rkey))),
            Err(AdapterError::Rejected { reason }) if reason.contains("RecordNotFound") => Ok(None),
            Err(other) => Err(other),
        }
    }

    async fn upload_media(
        &self,
        access_token: &SecretString,
        upload: MediaUpload,
    ) -> Result<UploadedMedia, AdapterError> {
        let time_allowed = upload.time_allowed(Duration::from_secs(30));
        let url = self.xrpc("com.atproto.repo.uploadBlob")?;
        if self.grant.is_some() && !self.nonces.has(&url) {
            // A streamed body cannot be sent twice: learn the PDS's nonce first.
            self.account(access_token).await?;
        }
        // Sent once; a request for a fresh nonce is retried by the engine.
        let body = std::sync::Mutex::new(Some(upload.body));
        let response = self
            .call(reqwest::Method::POST, url, access_token, |r| {
                let body = body
                    .lock()
                    .ok()
                    .and_then(|mut b| b.take())
                    .unwrap_or_else(|| reqwest::Body::from(Vec::new()));
                r.header(reqwest::header::CONTENT_TYPE, &upload.mime)
                    .header(reqwest::header::CONTENT_LENGTH, upload.bytes)
                    .timeout(time_allowed)
                    .body(body)
            })
            .await?;
        let uploaded: wire::Uploaded =
            classify(response)
                .await?
                .json()
                .await
                .map_err(|e| AdapterError::Transient {
                    reason: format!("unreadable Bluesky blob: {e}"),
                    status: None,
                })?;
        let size = upload.width.zip(upload.height);
        Ok(UploadedMedia {
            // The blob is content-addressed: uploading the same bytes again
            // (a retry) yields the same reference, so the record stays identical.
            id: record::image(uploaded.blob, upload.alt_text.as_deref(), size).to_string(),
            ready: true,
        })
    }

    async fn media_ready(&self, _: &SecretString, _: &str) -> Result<bool, AdapterError> {
        Ok(true)
    }

    async fn revoke(&self, refresh_token: &SecretString) -> Result<(), AdapterError> {
        if let Some(grant) = &self.grant {
            let server = self.grant_server(grant).await?;
            let endpoint = server
                .revocation_endpoint
                .ok_or_else(|| AdapterError::Rejected {
                    reason: "Bluesky's authorization server revokes nothing".into(),
                })?;
            oauth::post_form(
                &self.http,
                &self.nonces,
                &grant.key,
                &endpoint,
                &[
                    ("token", refresh_token.expose_secret()),
                    ("token_type_hint", "refresh_token"),
                    ("client_id", grant.client_id.as_str()),
                ],
            )
            .await?;
            return Ok(());
        }
        let response = send(
            self.http
                .post(self.xrpc("com.atproto.server.deleteSession")?)
                .bearer_auth(refresh_token.expose_secret()),
        )
        .await?;
        classify(response).await.map(|_| ())
    }
}
