//! Mastodon, on any instance. The user names their instance; Prasaran
//! registers an app there once (`POST /api/v1/apps`, kept per instance by the
//! connections layer) and runs OAuth 2 with PKCE S256 where the instance
//! offers it (4.3 and later advertise it at
//! `/.well-known/oauth-authorization-server`; older ones answer 404 and are
//! authorized with `state` alone). Tokens never expire and there is no
//! refresh token: a 401 means the grant is gone and the user must reconnect.
//!
//! Statuses are posted with `Idempotency-Key` (the task id). Mastodon keeps
//! that key an hour but records it only once the status exists, and nothing
//! looks a status up by key, so an unknown outcome is checked by reading the
//! account's recent statuses and matching the exact text and attachments
//! written since the task was planned.

mod wire;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use url::Url;

use super::{
    Account, AdapterError, Authorization, AuthorizeRequest, Binding, CodeExchange, ContentRules,
    MediaRules, MediaUpload, OutgoingPost, PlatformAdapter, PostOptions, PublishPlan,
    PublishedPost, TextUnit, TokenSet, UploadedMedia, Visibility,
};
use wire::{classify, send};

/// Mastodon's defaults; an instance may allow more (read from it per connection).
pub const MAX_CHARS: usize = 500;
pub const MAX_MEDIA: usize = 4;
/// Every URL counts as this many characters, however long it is.
pub const CHARACTERS_PER_URL: usize = 23;
/// The largest link weight taken from an instance.
const MAX_URL_WEIGHT: usize = 10_000;
const IMAGE_BYTES: u64 = 16 * 1024 * 1024;
const VIDEO_BYTES: u64 = 99 * 1024 * 1024;
/// What Prasaran asks an instance for.
const SCOPES: &str = "read:accounts read:statuses write:statuses write:media";
/// How far back a look-up after an unknown outcome reads the account's statuses.
const LOOK_UP_LIMIT: &str = "40";

fn rejected(reason: impl Into<String>) -> AdapterError {
    AdapterError::Rejected {
        reason: reason.into(),
    }
}

fn unreadable(what: &str, e: impl std::fmt::Display) -> AdapterError {
    AdapterError::Unknown {
        reason: format!("unreadable {what} from the instance: {e}"),
    }
}

#[derive(Clone)]
pub struct MastodonAdapter {
    http: reqwest::Client,
    /// Instances on plain http are taken only when set (a sandbox, tests).
    allow_http: bool,
    /// For one connection: its instance and the app its token was made with.
    grant: Option<Arc<wire::Grant>>,
    /// An instance to offer on the dashboard (dev: the local sandbox).
    suggested: Option<Url>,
}

impl MastodonAdapter {
    pub fn new(http: reqwest::Client, allow_http: bool) -> Self {
        Self {
            http,
            allow_http,
            grant: None,
            suggested: None,
        }
    }

    pub fn with_suggested_server(self, suggested: Option<Url>) -> Self {
        Self { suggested, ..self }
    }

    fn grant(&self) -> Result<&wire::Grant, AdapterError> {
        self.grant
            .as_deref()
            .ok_or_else(|| rejected("this Mastodon connection has no instance; reconnect it"))
    }

    fn api(&self, path: &str) -> Result<Url, AdapterError> {
        self.grant()?
            .instance
            .join(path)
            .map_err(|e| rejected(format!("bad instance URL: {e}")))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        token: &SecretString,
        url: Url,
        what: &str,
    ) -> Result<T, AdapterError> {
        let response = send(self.http.get(url).bearer_auth(token.expose_secret())).await?;
        classify(response)
            .await?
            .json()
            .await
            .map_err(|e| unreadable(what, e))
    }

    /// Whether the instance offers PKCE S256 (4.3+); 404: an older instance.
    async fn offers_pkce(&self, instance: &Url) -> Result<bool, AdapterError> {
        let url = instance
            .join(".well-known/oauth-authorization-server")
            .map_err(|e| rejected(e.to_string()))?;
        let response = send(self.http.get(url)).await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(false);
        }
        let metadata: serde_json::Value = classify(response)
            .await?
            .json()
            .await
            .map_err(|e| unreadable("server metadata", e))?;
        Ok(metadata["code_challenge_methods_supported"]
            .as_array()
            .is_some_and(|methods| methods.iter().any(|m| m == "S256")))
    }
}

/// The S256 challenge of a PKCE verifier.
fn challenge(verifier: &SecretString) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.expose_secret().as_bytes()))
}

#[async_trait]
impl PlatformAdapter for MastodonAdapter {
    fn id(&self) -> &'static str {
        "mastodon"
    }

    fn display_name(&self) -> &'static str {
        "Mastodon"
    }

    fn rules(&self) -> ContentRules {
        ContentRules {
            max_chars: MAX_CHARS,
            unit: TextUnit::Graphemes,
            max_bytes: None,
            url_weight: Some(CHARACTERS_PER_URL),
            media: MediaRules {
                max_count: MAX_MEDIA,
                max_image_bytes: IMAGE_BYTES,
                max_video_bytes: VIDEO_BYTES,
                types: [
                    "image/jpeg",
                    "image/png",
                    "image/gif",
                    "image/webp",
                    "video/mp4",
                ]
                .map(String::from)
                .to_vec(),
                video_alone: false,
                alt_text_required: false,
                max_video_duration_ms: None,
                max_pixels: None,
                video_codecs: Vec::new(),
            },
        }
    }

    /// The instance's own limits (`configuration` of `/api/v2/instance`),
    /// where it set them; the defaults elsewhere.
    fn rules_for(&self, limits: Option<&serde_json::Value>) -> ContentRules {
        let mut rules = self.rules();
        let Some(configuration) = limits else {
            return rules;
        };
        let number = |pointer: &str| {
            configuration
                .pointer(pointer)
                .and_then(serde_json::Value::as_u64)
        };
        let size = |n: u64| usize::try_from(n).ok();
        if let Some(n) = number("/statuses/max_characters").and_then(size) {
            rules.max_chars = n;
        }
        if let Some(n) = number("/statuses/max_media_attachments").and_then(size) {
            rules.media.max_count = n;
        }
        // A link's weight is spelt out as that many characters when counting:
        // an absurd figure from an instance is ignored, not allocated.
        if let Some(n) = number("/statuses/characters_reserved_per_url")
            .and_then(size)
            .filter(|n| *n <= MAX_URL_WEIGHT)
        {
            rules.url_weight = Some(n);
        }
        if let Some(n) = number("/media_attachments/image_size_limit") {
            rules.media.max_image_bytes = n;
        }
        if let Some(n) = number("/media_attachments/video_size_limit") {
            rules.media.max_video_bytes = n;
        }
        if let Some(types) = configuration
            .pointer("/media_attachments/supported_mime_types")
            .and_then(serde_json::Value::as_array)
        {
            // Of what Prasaran sends, what this instance takes.
            rules
                .media
                .types
                .retain(|t| types.iter().any(|offered| offered == t.as_str()));
        }
        rules
    }

    async fn limits(
        &self,
        access_token: &SecretString,
    ) -> Result<Option<serde_json::Value>, AdapterError> {
        let instance: serde_json::Value = self
            .get_json(access_token, self.api("api/v2/instance")?, "instance")
            .await?;
        Ok(instance.get("configuration").cloned())
    }

    fn asks_for_server(&self) -> bool {
        true
    }

    async fn check_server(&self, service: &Url) -> Result<(), AdapterError> {
        let host = service
            .host_str()
            .ok_or_else(|| rejected("an instance address needs a host"))?;
        let port = service.port_or_known_default().unwrap_or(443);
        // A dev sandbox is on loopback; elsewhere an instance is on the internet.
        super::address::public_address(host, port, !self.allow_http)
            .await
            .map(|_| ())
            .map_err(|why| rejected(format!("{why}; name a public Mastodon instance")))
    }

    fn suggested_server(&self) -> Option<Url> {
        self.suggested.clone()
    }

    fn server_of(&self, typed: &str) -> Result<Url, AdapterError> {
        let typed = typed.trim().trim_end_matches('/');
        let with_scheme = if typed.contains("://") {
            typed.to_owned()
        } else {
            // `@alice@mastodon.social` and `alice@mastodon.social` name the instance too.
            format!("https://{}", typed.rsplit('@').next().unwrap_or(typed))
        };
        let mut url = Url::parse(&with_scheme)
            .map_err(|_| rejected(format!("`{typed}` is not an instance address")))?;
        if url
            .host_str()
            .is_none_or(|h| !h.contains('.') && h != "localhost")
        {
            return Err(rejected(format!(
                "`{typed}` is not an instance address (e.g. mastodon.social)"
            )));
        }
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            other => {
                return Err(rejected(format!(
                    "instances are reached over https, not {other}"
                )));
            }
        }
        url.set_path("/");
        url.set_query(None);
        url.set_fragment(None);
        Ok(url)
    }

    async fn register_client(
        &self,
        service: &Url,
        redirect_uri: &Url,
    ) -> Result<SecretString, AdapterError> {
        let url = service
            .join("api/v1/apps")
            .map_err(|e| rejected(e.to_string()))?;
        let response = send(self.http.post(url).json(&json!({
            "client_name": "Prasaran",
            "redirect_uris": redirect_uri.as_str(),
            "scopes": SCOPES,
            "website": redirect_uri.join("/").ok(),
        })))
        .await?;
        let app: wire::App = classify(response)
            .await?
            .json()
            .await
            .map_err(|e| unreadable("app registration", e))?;
        Ok(SecretString::from(
            serde_json::to_string(&app).map_err(|e| unreadable("app registration", e))?,
        ))
    }

    fn bind(&self, binding: &Binding<'_>) -> Option<Arc<dyn PlatformAdapter>> {
        let grant: wire::Grant =
            serde_json::from_str(binding.grant_secret?.expose_secret()).ok()?;
        Some(Arc::new(Self {
            grant: Some(Arc::new(grant)),
            ..self.clone()
        }))
    }

    async fn plan(&self, content: &str, options: &PostOptions) -> PublishPlan {
        // `planned_at` is remembered for the look-up after an unknown
        // outcome: statuses older than the plan cannot be this task's.
        let mut record = json!({
            "status": content,
            "planned_at": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
            "visibility": match options.visibility {
                Some(Visibility::Unlisted) => "unlisted",
                Some(Visibility::Followers) => "private",
                Some(Visibility::Public) | None => "public",
            },
        });
        if let Some(warning) = &options.content_warning {
            record["spoiler_text"] = json!(warning);
        }
        if let Some(language) = &options.language {
            record["language"] = json!(language);
        }
        PublishPlan {
            key: None,
            record: Some(record),
        }
    }

    /// The content warning counts towards the instance's limit, as Mastodon counts it.
    fn validate(
        &self,
        content: &str,
        options: &PostOptions,
        limits: Option<&serde_json::Value>,
    ) -> Result<(), AdapterError> {
        if content.trim().is_empty() {
            return Err(rejected("Mastodon posts cannot be empty"));
        }
        let counted = format!(
            "{}{content}",
            options.content_warning.as_deref().unwrap_or_default()
        );
        self.rules_for(limits)
            .check_length(&counted)
            .map_err(|why| rejected(format!("Mastodon {why} (the content warning counts too)")))
    }

    fn authorize_url(&self, _: &AuthorizeRequest<'_>) -> Result<Url, AdapterError> {
        Err(rejected("Mastodon's authorization starts at the instance"))
    }

    async fn authorize(
        &self,
        request: &AuthorizeRequest<'_>,
    ) -> Result<Authorization, AdapterError> {
        let instance = request
            .service
            .ok_or_else(|| rejected("Mastodon needs the instance the account is on"))?;
        let app: wire::App = serde_json::from_str(
            request
                .client
                .ok_or_else(|| rejected("no app is registered at this instance"))?
                .expose_secret(),
        )
        .map_err(|e| rejected(format!("the stored app registration is unreadable: {e}")))?;
        let pkce = self.offers_pkce(instance).await?;
        let mut url = instance
            .join("oauth/authorize")
            .map_err(|e| rejected(e.to_string()))?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &app.client_id)
                .append_pair("redirect_uri", request.redirect_uri.as_str())
                .append_pair("scope", SCOPES)
                .append_pair("state", request.state);
            if pkce {
                query
                    .append_pair("code_challenge", &challenge(request.pkce_verifier))
                    .append_pair("code_challenge_method", "S256");
            }
        }
        let grant = wire::Grant {
            instance: instance.clone(),
            client_id: app.client_id,
            client_secret: app.client_secret,
            pkce,
        };
        Ok(Authorization {
            url,
            grant_secret: Some(SecretString::from(
                serde_json::to_string(&grant).map_err(|e| unreadable("grant", e))?,
            )),
        })
    }

    async fn exchange_code(&self, exchange: &CodeExchange<'_>) -> Result<TokenSet, AdapterError> {
        let grant: wire::Grant = serde_json::from_str(
            exchange
                .grant_secret
                .ok_or_else(|| rejected("this authorization did not start at an instance"))?
                .expose_secret(),
        )
        .map_err(|e| rejected(format!("the authorization's grant is unreadable: {e}")))?;
        let url = grant
            .instance
            .join("oauth/token")
            .map_err(|e| rejected(e.to_string()))?;
        let verifier = exchange.pkce_verifier.expose_secret();
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", exchange.code),
            ("redirect_uri", exchange.redirect_uri.as_str()),
            ("client_id", grant.client_id.as_str()),
            ("client_secret", grant.client_secret.as_str()),
            ("scope", SCOPES),
        ];
        if grant.pkce {
            form.push(("code_verifier", verifier));
        }
        let response = send(self.http.post(url).form(&form)).await?;
        let token: wire::Token = classify(response)
            .await
            .map_err(|e| match e {
                AdapterError::Unauthorized => {
                    rejected("the instance refused the authorization code")
                }
                other => other,
            })?
            .json()
            .await
            .map_err(|e| unreadable("token", e))?;
        Ok(TokenSet {
            access_token: SecretString::from(token.access_token),
            // Mastodon tokens do not expire and come without a refresh token.
            refresh_token: None,
            expires_at: None,
            scopes: token.scope.split(' ').map(str::to_owned).collect(),
            service: Some(grant.instance),
        })
    }

    async fn refresh(&self, _: &SecretString) -> Result<TokenSet, AdapterError> {
        Err(AdapterError::Revoked {
            reason: "Mastodon tokens do not expire, so a refused one was revoked (the app was removed from the account)".into(),
        })
    }

    async fn account(&self, access_token: &SecretString) -> Result<Account, AdapterError> {
        let me: wire::Me = self
            .get_json(
                access_token,
                self.api("api/v1/accounts/verify_credentials")?,
                "account",
            )
            .await?;
        let instance = &self.grant()?.instance;
        let profile = me.url.as_deref().and_then(|u| Url::parse(u).ok());
        let domain = profile
            .as_ref()
            .and_then(Url::host_str)
            .or_else(|| instance.host_str())
            .unwrap_or_default()
            .to_owned();
        Ok(Account {
            display_name: if me.display_name.is_empty() {
                me.username.clone()
            } else {
                me.display_name
            },
            handle: format!("{}@{domain}", me.username),
            id: me.id,
            service: Some(instance.clone()),
        })
    }

    async fn publish(
        &self,
        access_token: &SecretString,
        post: OutgoingPost<'_>,
        idempotency_key: &str,
    ) -> Result<PublishedPost, AdapterError> {
        let mut body = json!({"status": post.text, "visibility": "public"});
        // Visibility, content warning and language as planned for the task.
        if let Some(record) = post.record {
            for field in ["visibility", "spoiler_text", "language"] {
                if let Some(value) = record.get(field) {
                    body[field] = value.clone();
                }
            }
        }
        if !post.media_ids.is_empty() {
            body["media_ids"] = json!(post.media_ids);
        }
        let response = send(
            self.http
                .post(self.api("api/v1/statuses")?)
                .bearer_auth(access_token.expose_secret())
                .header("Idempotency-Key", idempotency_key)
                .json(&body),
        )
        .await?;
        let status: wire::Status = classify(response)
            .await?
            .json()
            .await
            .map_err(|e| unreadable("status", e))?;
        Ok(PublishedPost {
            url: status.url.unwrap_or(status.uri),
            id: status.id,
        })
    }

    async fn find_post(
        &self,
        access_token: &SecretString,
        post: OutgoingPost<'_>,
        _idempotency_key: &str,
    ) -> Result<Option<PublishedPost>, AdapterError> {
        let me: wire::Me = self
            .get_json(
                access_token,
                self.api("api/v1/accounts/verify_credentials")?,
                "account",
            )
            .await?;
        let mut url = self.api(&format!("api/v1/accounts/{}/statuses", me.id))?;
        url.query_pairs_mut().append_pair("limit", LOOK_UP_LIMIT);
        let statuses: Vec<wire::Status> = self.get_json(access_token, url, "statuses").await?;
        let since = post
            .record
            .and_then(|r| r["planned_at"].as_str())
            .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
            .map(|at| at.with_timezone(&Utc) - chrono::Duration::seconds(1));
        let found = statuses.into_iter().find(|status| {
            let recent = match (since, DateTime::parse_from_rfc3339(&status.created_at)) {
                (Some(since), Ok(at)) => at.with_timezone(&Utc) >= since,
                _ => true,
            };
            let media: Vec<&str> = status
                .media_attachments
                .iter()
                .map(|m| m.id.as_str())
                .collect();
            recent
                && wire::plain_text(&status.content).trim() == post.text.trim()
                && media
                    == post
                        .media_ids
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
        });
        Ok(found.map(|status| PublishedPost {
            url: status.url.unwrap_or(status.uri),
            id: status.id,
        }))
    }

    async fn upload_media(
        &self,
        access_token: &SecretString,
        upload: MediaUpload,
    ) -> Result<UploadedMedia, AdapterError> {
        let time_allowed = upload.time_allowed(Duration::from_secs(30));
        let part = reqwest::multipart::Part::stream_with_length(upload.body, upload.bytes)
            .file_name("upload")
            .mime_str(&upload.mime)
            .map_err(|e| rejected(format!("bad media type: {e}")))?;
        let mut form = reqwest::multipart::Form::new().part("file", part);
        if let Some(alt) = upload.alt_text {
            form = form.text("description", alt);
        }
        let response = send(
            self.http
                .post(self.api("api/v2/media")?)
                .bearer_auth(access_token.expose_secret())
                .timeout(time_allowed)
                .multipart(form),
        )
        .await?;
        // 200: processed; 202: a video still processing (`url` is null).
        let processing = response.status() == reqwest::StatusCode::ACCEPTED;
        let media: wire::Attachment = classify(response)
            .await?
            .json()
            .await
            .map_err(|e| unreadable("media", e))?;
        Ok(UploadedMedia {
            ready: !processing && media.url.is_some(),
            id: media.id,
        })
    }

    async fn media_ready(
        &self,
        access_token: &SecretString,
        media_id: &str,
    ) -> Result<bool, AdapterError> {
        let response = send(
            self.http
                .get(self.api(&format!("api/v1/media/{media_id}"))?)
                .bearer_auth(access_token.expose_secret()),
        )
        .await?;
        // 206 Partial Content: still processing.
        Ok(classify(response).await?.status() == reqwest::StatusCode::OK)
    }

    async fn revoke(&self, token: &SecretString) -> Result<(), AdapterError> {
        let grant = self.grant()?;
        let response = send(self.http.post(self.api("oauth/revoke")?).form(&[
            ("token", token.expose_secret()),
            ("client_id", grant.client_id.as_str()),
            ("client_secret", grant.client_secret.as_str()),
        ]))
        .await?;
        classify(response).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instances_own_limits_replace_the_defaults() {
        let adapter = MastodonAdapter::new(reqwest::Client::new(), false);
        let limits = json!({
            "statuses": {"max_characters": 5000, "max_media_attachments": 8,
                         "characters_reserved_per_url": 30},
            "media_attachments": {"image_size_limit": 1000, "video_size_limit": 2000,
                                  "supported_mime_types": ["image/png", "video/mp4"]}
        });
        let rules = adapter.rules_for(Some(&limits));
        assert_eq!(rules.max_chars, 5000);
        assert_eq!(rules.url_weight, Some(30));
        assert_eq!(rules.media.max_count, 8);
        assert_eq!(rules.media.max_image_bytes, 1000);
        assert_eq!(rules.media.types, vec!["image/png", "video/mp4"]);
        assert_eq!(adapter.rules_for(None).max_chars, MAX_CHARS);
        let absurd = json!({"statuses": {"characters_reserved_per_url": u64::MAX}});
        assert_eq!(
            adapter.rules_for(Some(&absurd)).url_weight,
            Some(CHARACTERS_PER_URL)
        );
        assert_eq!(adapter.rules_for(Some(&json!({}))).max_chars, MAX_CHARS);
    }

    #[test]
    fn an_instance_is_named_as_people_write_it() {
        let adapter = MastodonAdapter::new(reqwest::Client::new(), false);
        for typed in [
            "mastodon.social",
            "https://mastodon.social/",
            " Mastodon.Social ",
            "@alice@mastodon.social",
            "https://mastodon.social/@alice",
        ] {
            let url = adapter.server_of(typed);
            assert!(
                url.as_ref()
                    .is_ok_and(|u| u.as_str() == "https://mastodon.social/"),
                "{typed}: {url:?}"
            );
        }
        assert!(adapter.server_of("http://mastodon.social").is_err());
        assert!(adapter.server_of("not an instance").is_err());
        assert!(adapter.server_of("localhostish").is_err());
        let dev = MastodonAdapter::new(reqwest::Client::new(), true);
        assert_eq!(
            dev.server_of("http://127.0.0.1:4000").unwrap().as_str(),
            "http://127.0.0.1:4000/"
        );
    }
}
