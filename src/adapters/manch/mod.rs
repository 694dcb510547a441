//! Manch: OAuth2 authorization code + PKCE (S256) via the `oauth2` crate, and
//! the posting API (DESIGN §6) via reqwest.

mod responses;

use std::borrow::Cow;

use async_trait::async_trait;
use chrono::Utc;
use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenResponse};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    HttpClientError, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::{
    Account, AdapterError, AuthorizeRequest, CodeExchange, ContentRules, MediaRules, MediaUpload,
    OutgoingPost, PlatformAdapter, PublishedPost, TextUnit, TokenSet, UploadedMedia,
};
use responses::{classify_send_error, classify_status};

/// Manch's limit on `text`, in characters.
pub const MAX_CHARS: usize = 500;
/// Attachments on one post.
pub const MAX_MEDIA: usize = 4;
/// Largest image Manch stores (8 MiB).
pub const MAX_IMAGE_BYTES: u64 = 8 * 1024 * 1024;
/// Largest video Manch stores (200 MiB).
pub const MAX_VIDEO_BYTES: u64 = 200 * 1024 * 1024;
/// Longest alt text, in characters.
pub const MAX_ALT_TEXT_CHARS: usize = 1500;
/// The attachment types Manch accepts; it sniffs the bytes and refuses a
/// `Content-Type` that disagrees with them.
pub const MEDIA_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "video/mp4",
];
/// What Prasaran asks Manch for: who the account is, and posting.
const SCOPES: [&str; 2] = ["profile", "posts:write"];

type OAuthClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

pub struct ManchAdapter {
    oauth: OAuthClient,
    http: reqwest::Client,
    base: Url,
    client_id: String,
    client_secret: SecretString,
    /// An upload's time before its per-megabyte allowance.
    upload_base: std::time::Duration,
}

impl ManchAdapter {
    pub fn new(
        base: Url,
        client_id: &str,
        client_secret: &SecretString,
        http: reqwest::Client,
    ) -> Result<Self, url::ParseError> {
        let oauth = BasicClient::new(ClientId::new(client_id.to_owned()))
            .set_client_secret(ClientSecret::new(client_secret.expose_secret().to_owned()))
            .set_auth_uri(AuthUrl::from_url(base.join("oauth/authorize")?))
            .set_token_uri(TokenUrl::from_url(base.join("oauth/token")?));
        Ok(Self {
            oauth,
            http,
            base,
            client_id: client_id.to_owned(),
            client_secret: client_secret.clone(),
            upload_base: std::time::Duration::from_secs(30),
        })
    }

    /// Uploads get `base` plus a second per megabyte (default half a minute).
    pub fn with_upload_base(mut self, base: std::time::Duration) -> Self {
        self.upload_base = base;
        self
    }

    fn endpoint(&self, path: &str) -> Result<Url, AdapterError> {
        self.base.join(path).map_err(|e| AdapterError::Rejected {
            reason: format!("bad Manch URL: {e}"),
        })
    }

    async fn token_request(
        &self,
        result: Result<
            BasicTokenResponse,
            RequestTokenError<HttpClientError<reqwest::Error>, oauth2::basic::BasicErrorResponse>,
        >,
    ) -> Result<TokenSet, AdapterError> {
        let response = result.map_err(token_error)?;
        Ok(TokenSet {
            access_token: SecretString::from(response.access_token().secret().to_owned()),
            refresh_token: response
                .refresh_token()
                .map(|t| SecretString::from(t.secret().to_owned())),
            expires_at: response
                .expires_in()
                .and_then(|d| chrono::Duration::from_std(d).ok())
                .map(|d| Utc::now() + d),
            scopes: response
                .scopes()
                .map(|s| s.iter().map(|s| s.to_string()).collect())
                .unwrap_or_else(|| SCOPES.iter().map(|s| s.to_string()).collect()),
            service: None,
        })
    }
}

fn token_error(
    error: RequestTokenError<HttpClientError<reqwest::Error>, oauth2::basic::BasicErrorResponse>,
) -> AdapterError {
    match error {
        RequestTokenError::ServerResponse(response) => {
            let reason = response
                .error_description()
                .cloned()
                .unwrap_or_else(|| response.error().to_string());
            match response.error() {
                BasicErrorResponseType::InvalidGrant => AdapterError::Revoked { reason },
                _ => AdapterError::Rejected { reason },
            }
        }
        RequestTokenError::Request(HttpClientError::Reqwest(error)) => classify_send_error(&error),
        RequestTokenError::Request(other) => AdapterError::Transient {
            reason: other.to_string(),
            status: None,
        },
        RequestTokenError::Parse(error, _) => AdapterError::Unknown {
            reason: format!("unreadable token response: {error}"),
        },
        RequestTokenError::Other(reason) => AdapterError::Transient {
            reason,
            status: None,
        },
    }
}

#[async_trait]
impl PlatformAdapter for ManchAdapter {
    fn id(&self) -> &'static str {
        "manch"
    }

    fn display_name(&self) -> &'static str {
        "Manch"
    }

    fn rules(&self) -> ContentRules {
        ContentRules {
            max_chars: MAX_CHARS,
            unit: TextUnit::Characters,
            max_bytes: None,
            url_weight: None,
            media: MediaRules {
                max_count: MAX_MEDIA,
                max_image_bytes: MAX_IMAGE_BYTES,
                max_video_bytes: MAX_VIDEO_BYTES,
                types: MEDIA_TYPES.iter().map(|t| (*t).to_owned()).collect(),
                video_alone: true,
                alt_text_required: false,
                max_video_duration_ms: None,
                max_pixels: None,
                video_codecs: Vec::new(),
            },
        }
    }

    fn authorize_url(&self, request: &AuthorizeRequest<'_>) -> Result<Url, AdapterError> {
        let verifier = PkceCodeVerifier::new(request.pkce_verifier.expose_secret().to_owned());
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
        let state = request.state.to_owned();
        let (url, _) = self
            .oauth
            .authorize_url(move || CsrfToken::new(state))
            .add_scopes(SCOPES.iter().map(|s| Scope::new((*s).to_owned())))
            .set_pkce_challenge(challenge)
            .set_redirect_uri(Cow::Owned(RedirectUrl::from_url(
                request.redirect_uri.clone(),
            )))
            .url();
        Ok(url)
    }

    async fn exchange_code(&self, exchange: &CodeExchange<'_>) -> Result<TokenSet, AdapterError> {
        let result = self
            .oauth
            .exchange_code(AuthorizationCode::new(exchange.code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(
                exchange.pkce_verifier.expose_secret().to_owned(),
            ))
            .set_redirect_uri(Cow::Owned(RedirectUrl::from_url(
                exchange.redirect_uri.clone(),
            )))
            .request_async(&self.http)
            .await;
        self.token_request(result).await
    }

    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, AdapterError> {
        let token = RefreshToken::new(refresh_token.expose_secret().to_owned());
        let result = self
            .oauth
            .exchange_refresh_token(&token)
            .request_async(&self.http)
            .await;
        self.token_request(result).await
    }

    async fn account(&self, access_token: &SecretString) -> Result<Account, AdapterError> {
        let response = self
            .http
            .get(self.endpoint("v1/me")?)
            .bearer_auth(access_token.expose_secret())
            .send()
            .await
            .map_err(|e| classify_send_error(&e))?;
        let response = classify_status(response).await?;
        let me: responses::Me = response.json().await.map_err(|e| AdapterError::Unknown {
            reason: format!("unreadable /v1/me response: {e}"),
        })?;
        Ok(Account {
            id: me.id,
            handle: me.handle,
            display_name: me.display_name,
            service: None,
        })
    }

    async fn publish(
        &self,
        access_token: &SecretString,
        post: OutgoingPost<'_>,
        idempotency_key: &str,
    ) -> Result<PublishedPost, AdapterError> {
        let response = self
            .http
            .post(self.endpoint("v1/posts")?)
            .bearer_auth(access_token.expose_secret())
            .header("Idempotency-Key", idempotency_key)
            .json(&responses::NewPost {
                text: post.text,
                media_ids: post.media_ids,
            })
            .send()
            .await
            .map_err(|e| classify_send_error(&e))?;
        let response = classify_status(response).await?;
        responses::post(response).await
    }

    async fn upload_media(
        &self,
        access_token: &SecretString,
        upload: MediaUpload,
    ) -> Result<UploadedMedia, AdapterError> {
        let mut url = self.endpoint("v1/media")?;
        if let Some(alt_text) = &upload.alt_text {
            url.query_pairs_mut().append_pair("alt_text", alt_text);
        }
        let response = self
            .http
            .post(url)
            .bearer_auth(access_token.expose_secret())
            .header("Idempotency-Key", &upload.idempotency_key)
            .header(reqwest::header::CONTENT_TYPE, &upload.mime)
            // Set by hand: a streamed body has no length of its own, and
            // without one hyper would send it chunked.
            .header(reqwest::header::CONTENT_LENGTH, upload.bytes)
            .timeout(upload.time_allowed(self.upload_base))
            .body(upload.body)
            .send()
            .await
            .map_err(|e| classify_send_error(&e))?;
        let response = classify_status(response).await?;
        responses::media(response).await.map(|media| UploadedMedia {
            ready: media.is_ready(),
            id: media.id,
        })
    }

    async fn media_ready(
        &self,
        access_token: &SecretString,
        media_id: &str,
    ) -> Result<bool, AdapterError> {
        let mut url = self.endpoint("v1/media")?;
        url.path_segments_mut()
            .map_err(|()| AdapterError::Rejected {
                reason: "bad Manch URL: it cannot hold a path".into(),
            })?
            .push(media_id);
        let response = self
            .http
            .get(url)
            .bearer_auth(access_token.expose_secret())
            .send()
            .await
            .map_err(|e| classify_send_error(&e))?;
        let response = classify_status(response).await?;
        responses::media(response)
            .await
            .map(|media| media.is_ready())
    }

    async fn find_post(
        &self,
        access_token: &SecretString,
        _post: OutgoingPost<'_>,
        idempotency_key: &str,
    ) -> Result<Option<PublishedPost>, AdapterError> {
        let mut url = self.endpoint("v1/posts")?;
        url.query_pairs_mut()
            .append_pair("idempotency_key", idempotency_key);
        let response = self
            .http
            .get(url)
            .bearer_auth(access_token.expose_secret())
            .send()
            .await
            .map_err(|e| classify_send_error(&e))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let response = classify_status(response).await?;
        responses::post(response).await.map(Some)
    }

    /// RFC 7009 by hand: the oauth2 crate insists on an HTTPS revocation URL,
    /// which the loopback sandbox cannot offer.
    async fn revoke(&self, token: &SecretString) -> Result<(), AdapterError> {
        let encode =
            |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let response = self
            .http
            .post(self.endpoint("oauth/revoke")?)
            .basic_auth(
                encode(&self.client_id),
                Some(encode(self.client_secret.expose_secret())),
            )
            .form(&[
                ("token", token.expose_secret()),
                ("token_type_hint", "refresh_token"),
            ])
            .send()
            .await
            .map_err(|e| classify_send_error(&e))?;
        classify_status(response).await.map(|_| ())
    }
}
