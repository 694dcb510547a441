//! Platform adapters: the only code that knows a social platform's API.
//!
//! Each platform is one module implementing [`PlatformAdapter`] plus one line
//! in [`registry::Registry::from_settings`]. Every call returns a typed
//! [`AdapterError`] the engine can act on without knowing the platform.

pub mod address;
pub mod bluesky;
mod error;
pub mod http_client;
pub mod manch;
pub mod mastodon;
pub mod matrix;
pub mod rate_limit;
mod registry;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::Serialize;
use url::Url;

pub use crate::domain::Destination;
pub use error::AdapterError;
pub use registry::Registry;

/// Content limits of one platform, for validation and the composer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ContentRules {
    /// Longest post, counted in `unit`.
    pub max_chars: usize,
    /// What the platform counts: Unicode scalar values, or user-perceived
    /// characters (grapheme clusters: 👍🏽 and क्षि are one each).
    pub unit: TextUnit,
    /// Longest post in UTF-8 bytes, where the platform also limits those.
    pub max_bytes: Option<usize>,
    /// Every link counts as this many characters however long it is, and a
    /// mention of `@user@server` as `@user` (Mastodon); `None`: as written.
    pub url_weight: Option<usize>,
    pub media: MediaRules,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TextUnit {
    Characters,
    Graphemes,
}

impl TextUnit {
    pub fn count(self, text: &str) -> usize {
        match self {
            TextUnit::Characters => text.chars().count(),
            TextUnit::Graphemes => {
                unicode_segmentation::UnicodeSegmentation::graphemes(text, true).count()
            }
        }
    }

    fn name(self) -> &'static str {
        match self {
            TextUnit::Characters => "characters",
            TextUnit::Graphemes => "characters (graphemes)",
        }
    }
}

static LINK: std::sync::LazyLock<Option<regex::Regex>> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"https?://\S+").ok());
static REMOTE_MENTION: std::sync::LazyLock<Option<regex::Regex>> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"(^|[^\w@])@(\w+)@[\w.-]+\w").ok());

impl ContentRules {
    /// The length of `text` as the platform counts it.
    pub fn length(&self, text: &str) -> usize {
        let (Some(weight), Some(link), Some(mention)) = (self.url_weight, &*LINK, &*REMOTE_MENTION)
        else {
            return self.unit.count(text);
        };
        let placeholder = "x".repeat(weight);
        let text = link.replace_all(text, placeholder.as_str());
        let text = mention.replace_all(&text, "$1@$2");
        self.unit.count(&text)
    }

    /// Why `text` is too long for the platform, if it is.
    pub fn check_length(&self, text: &str) -> Result<(), String> {
        let length = self.length(text);
        if length > self.max_chars {
            return Err(format!(
                "posts are at most {} {} (this one has {length})",
                self.max_chars,
                self.unit.name()
            ));
        }
        if let Some(limit) = self.max_bytes
            && text.len() > limit
        {
            return Err(format!(
                "posts are at most {limit} bytes of UTF-8 (this one has {})",
                text.len()
            ));
        }
        Ok(())
    }
}

/// What attachments a platform takes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MediaRules {
    /// Most attachments per post (0: none).
    pub max_count: usize,
    pub max_image_bytes: u64,
    pub max_video_bytes: u64,
    /// MIME types it takes.
    pub types: Vec<String>,
    /// A video must be the post's only attachment.
    pub video_alone: bool,
    /// Every image needs alt text.
    pub alt_text_required: bool,
    /// Longest video; `None`: any.
    pub max_video_duration_ms: Option<u64>,
    /// Most pixels (width × height) of an image or video; `None`: any.
    pub max_pixels: Option<u64>,
    /// Video codecs it plays (e.g. `h264`); empty: any.
    pub video_codecs: Vec<String>,
}

/// One attachment, as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct MediaFacts<'a> {
    pub mime: &'a str,
    pub video: bool,
    /// Of what would be sent (the copy without metadata).
    pub bytes: u64,
    pub has_alt_text: bool,
    /// A still image: when too large, a smaller copy is made for the platform.
    pub resizable: bool,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_ms: Option<u64>,
    pub codec: Option<&'a str>,
}

impl MediaRules {
    /// The first rule `media` breaks, as a sentence that says what to do.
    pub fn check(&self, media: &[MediaFacts<'_>]) -> Result<(), String> {
        if media.is_empty() {
            return Ok(());
        }
        if self.max_count == 0 {
            return Err("takes no attachments; remove them for this platform".into());
        }
        if media.len() > self.max_count {
            return Err(format!(
                "takes at most {} attachments per post (got {})",
                self.max_count,
                media.len()
            ));
        }
        if self.video_alone && media.len() > 1 && media.iter().any(|m| m.video) {
            return Err("a video must be the post's only attachment".into());
        }
        for (n, m) in media.iter().enumerate() {
            let which = n + 1;
            if !self.types.iter().any(|t| t == m.mime) {
                return Err(format!(
                    "attachment {which} is {}; it takes {}",
                    m.mime,
                    self.types.join(", ")
                ));
            }
            let limit = if m.video {
                self.max_video_bytes
            } else {
                self.max_image_bytes
            };
            if m.bytes > limit && !m.resizable {
                return Err(format!(
                    "attachment {which} is {} bytes; it takes at most {limit}",
                    m.bytes
                ));
            }
            if let (Some(limit), Some(w), Some(h)) = (self.max_pixels, m.width, m.height)
                && u64::from(w) * u64::from(h) > limit
            {
                return Err(format!(
                    "attachment {which} is {w} × {h} pixels; it takes at most {limit} pixels"
                ));
            }
            if let (Some(limit), Some(duration)) = (self.max_video_duration_ms, m.duration_ms)
                && m.video
                && duration > limit
            {
                return Err(format!(
                    "attachment {which} lasts {:.1} s; it takes videos of at most {:.1} s",
                    duration as f64 / 1000.0,
                    limit as f64 / 1000.0
                ));
            }
            if m.video && !self.video_codecs.is_empty() {
                let codec = m.codec.unwrap_or("unknown");
                if !self.video_codecs.iter().any(|c| c == codec) {
                    return Err(format!(
                        "attachment {which} is a {codec} video; it plays {} (re-encode it, e.g. with ffmpeg -c:v libx264)",
                        self.video_codecs.join(", ")
                    ));
                }
            }
            if self.alt_text_required && !m.video && !m.has_alt_text {
                return Err(format!("attachment {which} needs alt text"));
            }
        }
        Ok(())
    }
}

/// Tokens from an authorization-code exchange or a refresh.
pub struct TokenSet {
    pub access_token: SecretString,
    /// `None` when the platform sent none (then the old refresh token stays valid).
    pub refresh_token: Option<SecretString>,
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
    /// The server the tokens are for, where the platform has many (the PDS
    /// of the account that consented).
    pub service: Option<Url>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// The platform account a token belongs to.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub handle: String,
    pub display_name: String,
    /// The server it lives on, for platforms with many (a PDS, an instance);
    /// every later call for this connection goes there.
    pub service: Option<Url>,
}

/// A post as the platform stored it.
#[derive(Debug, Clone)]
pub struct PublishedPost {
    pub id: String,
    pub url: String,
}

/// A post as it goes out: its text and the platform's ids of the media
/// already uploaded for it, in order.
#[derive(Debug, Clone, Copy)]
pub struct OutgoingPost<'a> {
    pub text: &'a str,
    pub media_ids: &'a [String],
    /// The record the adapter planned for this task, if it planned one.
    pub record: Option<&'a serde_json::Value>,
    /// Where in the account it goes, for platforms with destinations (a
    /// Matrix room id).
    pub destination: Option<&'a str>,
}

impl<'a> OutgoingPost<'a> {
    pub fn text(text: &'a str) -> Self {
        Self {
            text,
            media_ids: &[],
            record: None,
            destination: None,
        }
    }
}

/// Who may see a post, where the platform lets the author choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Everyone, in public timelines.
    Public,
    /// Everyone, but kept out of public timelines (Mastodon's "quiet public").
    Unlisted,
    /// Followers only.
    Followers,
}

/// How a post goes out where the platform offers the choice (Mastodon:
/// visibility, content warning, language; Bluesky: language); others ignore it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostOptions {
    /// Default: public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
    /// Shown before the post, which stays folded until opened (Mastodon); it
    /// counts towards Mastodon's character limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1000)]
    pub content_warning: Option<String>,
    /// ISO 639-1 code of the post's language, e.g. `en`, `hi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[a-z]{2}$", example = "en")]
    pub language: Option<String>,
}

impl PostOptions {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// How one task is made idempotent at its platform, fixed when the task is
/// created and stored with it, so every attempt sends exactly the same.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PublishPlan {
    /// The key the platform gets (`None`: the task's id).
    pub key: Option<String>,
    /// The exact record to write, for platforms that need one.
    pub record: Option<serde_json::Value>,
}

/// One attachment on its way to a platform. The body is streamed (a video may
/// be hundreds of megabytes); a retry builds a new one.
pub struct MediaUpload {
    pub body: reqwest::Body,
    pub bytes: u64,
    pub mime: String,
    pub alt_text: Option<String>,
    /// Of the image or video as shown (orientation applied), where known:
    /// some platforms want the aspect ratio with the post.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Makes a retried upload answer the first one, where the platform can.
    pub idempotency_key: String,
}

impl MediaUpload {
    /// How long sending it may take: `base` plus a second per megabyte (a
    /// video of hundreds of megabytes outlasts the usual call timeout, which
    /// is meant for small JSON calls).
    pub fn time_allowed(&self, base: std::time::Duration) -> std::time::Duration {
        base + std::time::Duration::from_secs(self.bytes / 1_000_000)
    }
}

/// An attachment as the platform stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedMedia {
    pub id: String,
    /// False while the platform still processes it (video): wait before posting.
    pub ready: bool,
}

/// How an account of a platform is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConnectKind {
    /// The platform's own consent page (OAuth2 authorization code + PKCE).
    Redirect,
    /// A form in Prasaran: an identifier and a password (e.g. a Bluesky app
    /// password), used once for tokens and never stored.
    Credentials,
}

/// What a credentials sign-in sends: used once, never kept.
pub struct Credentials<'a> {
    /// The account's handle, email or id at the platform.
    pub identifier: &'a str,
    pub password: &'a SecretString,
    /// The server the user named (a Matrix homeserver), if they named one.
    pub server: Option<&'a str>,
    /// The grant secret of the same account connected before, so a reconnect
    /// continues what it holds (Matrix: the same device, whose transaction
    /// ids the server remembers).
    pub previous: Option<&'a SecretString>,
}

impl<'a> Credentials<'a> {
    pub fn new(identifier: &'a str, password: &'a SecretString) -> Self {
        Self {
            identifier,
            password,
            server: None,
            previous: None,
        }
    }
}

/// What a credentials sign-in yields.
pub struct SignedIn {
    pub tokens: TokenSet,
    pub account: Account,
    /// What the grant needs besides its tokens (see [`Authorization::grant_secret`]).
    pub grant_secret: Option<SecretString>,
    /// The account's destinations, for platforms with several.
    pub destinations: Vec<Destination>,
}

/// Where the user goes to consent, and what must be kept until they return.
pub struct Authorization {
    pub url: Url,
    /// What the grant needs besides its tokens, opaque to all but this
    /// adapter (Bluesky: the DPoP key its tokens are bound to): sealed with
    /// the pending state, then with the connection.
    pub grant_secret: Option<SecretString>,
}

/// What the platform's redirect brought back, with what the authorize step kept.
pub struct CodeExchange<'a> {
    pub code: &'a str,
    pub pkce_verifier: &'a SecretString,
    pub redirect_uri: &'a Url,
    /// The `iss` the redirect named (RFC 9207), for platforms that send one.
    pub issuer: Option<&'a str>,
    pub grant_secret: Option<&'a SecretString>,
}

impl<'a> CodeExchange<'a> {
    /// A plain OAuth2 exchange (no issuer check, no bound key).
    pub fn new(code: &'a str, pkce_verifier: &'a SecretString, redirect_uri: &'a Url) -> Self {
        Self {
            code,
            pkce_verifier,
            redirect_uri,
            issuer: None,
            grant_secret: None,
        }
    }
}

/// What one connection's calls are bound to: the server its account lives on
/// and the secret its grant needs (e.g. a DPoP key), where the platform has either.
#[derive(Clone, Copy, Default)]
pub struct Binding<'a> {
    pub service: Option<&'a Url>,
    pub grant_secret: Option<&'a SecretString>,
}

/// What the authorize step needs to build the consent URL.
pub struct AuthorizeRequest<'a> {
    /// The server the user named (a Mastodon instance), normalised by
    /// [`PlatformAdapter::server_of`]; `None` for platforms with one.
    pub service: Option<&'a Url>,
    /// Prasaran's registration at that server ([`PlatformAdapter::register_client`]).
    pub client: Option<&'a SecretString>,
    pub state: &'a str,
    /// The adapter derives the S256 challenge from it; only the challenge leaves.
    pub pkce_verifier: &'a SecretString,
    pub redirect_uri: &'a Url,
}

/// One platform. Object-safe so the registry can hold `Arc<dyn PlatformAdapter>`.
#[async_trait]
pub trait PlatformAdapter: Send + Sync {
    /// Stable id used in URLs and rows (`manch`).
    fn id(&self) -> &'static str;
    /// Name for people (`Manch`).
    fn display_name(&self) -> &'static str;
    fn rules(&self) -> ContentRules;
    /// Checks content against the platform's rules before anything is queued:
    /// not blank, and within [`ContentRules::check_length`].
    /// `limits`: what the connection's server allows, where that varies.
    fn validate(
        &self,
        content: &str,
        _options: &PostOptions,
        limits: Option<&serde_json::Value>,
    ) -> Result<(), AdapterError> {
        let name = self.display_name();
        if content.trim().is_empty() {
            return Err(AdapterError::Rejected {
                reason: format!("{name} posts cannot be empty"),
            });
        }
        self.rules_for(limits)
            .check_length(content)
            .map_err(|why| AdapterError::Rejected {
                reason: format!("{name} {why}"),
            })
    }
    /// The rules for one connection, given what its server allows (`limits`,
    /// read by [`PlatformAdapter::limits`] when it connected).
    fn rules_for(&self, _limits: Option<&serde_json::Value>) -> ContentRules {
        self.rules()
    }
    /// What the server an account is on allows, where that varies from
    /// server to server (a Mastodon instance's configuration); read when
    /// the account connects and kept with the connection.
    async fn limits(
        &self,
        _access_token: &SecretString,
    ) -> Result<Option<serde_json::Value>, AdapterError> {
        Ok(None)
    }
    /// The same adapter for one connection: talking to the server its account
    /// lives on, using the secret its grant needs (signing with a DPoP key). `None`: the
    /// platform has one server and bearer tokens.
    fn bind(&self, _binding: &Binding<'_>) -> Option<std::sync::Arc<dyn PlatformAdapter>> {
        None
    }
    /// The document that describes Prasaran as this platform's OAuth client,
    /// served under its public URL where the platform fetches one (Bluesky).
    fn client_metadata(&self, _redirect_uri: &Url) -> Option<serde_json::Value> {
        None
    }
    /// Whether connecting starts with the user naming their server (a
    /// Mastodon instance): `server_of` and `register_client` then apply.
    fn asks_for_server(&self) -> bool {
        false
    }
    /// The server the user typed (`mastodon.social`, `https://fosstodon.org/`),
    /// normalised to its base URL.
    fn server_of(&self, typed: &str) -> Result<Url, AdapterError> {
        Err(AdapterError::Rejected {
            reason: format!(
                "{} has one server; there is none to name ({typed})",
                self.display_name()
            ),
        })
    }
    /// Whether the server the user named may be called at all (Mastodon:
    /// only public addresses, outside dev); checked before anything is sent.
    async fn check_server(&self, _service: &Url) -> Result<(), AdapterError> {
        Ok(())
    }
    /// A server to offer when asking for one (in dev, the local sandbox).
    fn suggested_server(&self) -> Option<Url> {
        None
    }
    /// Registers Prasaran as an OAuth client at `service`; the secret it
    /// answers is kept (sealed) per server and redirect URI and reused.
    async fn register_client(
        &self,
        _service: &Url,
        _redirect_uri: &Url,
    ) -> Result<SecretString, AdapterError> {
        Err(AdapterError::Rejected {
            reason: format!("{} registers no clients", self.display_name()),
        })
    }
    /// How its accounts are connected, the preferred way first.
    fn connect_kinds(&self) -> Vec<ConnectKind> {
        vec![ConnectKind::Redirect]
    }
    /// Signs in with an identifier and a password (credentials platforms);
    /// the password goes to the platform once and is never kept.
    async fn sign_in(&self, _credentials: &Credentials<'_>) -> Result<SignedIn, AdapterError> {
        Err(AdapterError::Rejected {
            reason: format!(
                "{} connects through its own sign-in page; use Connect",
                self.display_name()
            ),
        })
    }
    /// Whether a post goes to places inside an account (Matrix rooms) that
    /// the user picks among [`SignedIn::destinations`]: one task per place.
    fn has_destinations(&self) -> bool {
        false
    }
    /// Whether the user may name a server when signing in with credentials
    /// (a Matrix homeserver); else only Mastodon's authorize step names one.
    fn sign_in_names_server(&self) -> bool {
        false
    }
    /// How a new task for `content` is made idempotent here (default: the
    /// task's id as the idempotency key). Called while the publish is being
    /// accepted, so it asks the platform only what it must, briefly.
    async fn plan(&self, _content: &str, _options: &PostOptions) -> PublishPlan {
        PublishPlan::default()
    }
    /// The consent page URL (authorization code + PKCE S256).
    fn authorize_url(&self, request: &AuthorizeRequest<'_>) -> Result<Url, AdapterError>;
    /// Starts an authorization. Async because some platforms need a call
    /// first (ATProto's pushed authorization request); by default, the
    /// consent URL alone.
    async fn authorize(
        &self,
        request: &AuthorizeRequest<'_>,
    ) -> Result<Authorization, AdapterError> {
        Ok(Authorization {
            url: self.authorize_url(request)?,
            grant_secret: None,
        })
    }
    async fn exchange_code(&self, exchange: &CodeExchange<'_>) -> Result<TokenSet, AdapterError>;
    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, AdapterError>;
    /// Who the token belongs to.
    async fn account(&self, access_token: &SecretString) -> Result<Account, AdapterError>;
    /// Publishes `post`; `idempotency_key` makes a retried call return the first post.
    async fn publish(
        &self,
        access_token: &SecretString,
        post: OutgoingPost<'_>,
        idempotency_key: &str,
    ) -> Result<PublishedPost, AdapterError>;
    /// Uploads one attachment for a later post.
    async fn upload_media(
        &self,
        access_token: &SecretString,
        upload: MediaUpload,
    ) -> Result<UploadedMedia, AdapterError>;
    /// Whether an uploaded attachment is ready to be posted.
    async fn media_ready(
        &self,
        access_token: &SecretString,
        media_id: &str,
    ) -> Result<bool, AdapterError>;
    /// The post published under `idempotency_key`, if the platform has one.
    /// `post` is what the task sends (with the media ids already recorded),
    /// for platforms that cannot look a post up by key and must match it.
    async fn find_post(
        &self,
        access_token: &SecretString,
        post: OutgoingPost<'_>,
        idempotency_key: &str,
    ) -> Result<Option<PublishedPost>, AdapterError>;
    /// Ends the grant behind `token` at the platform.
    async fn revoke(&self, token: &SecretString) -> Result<(), AdapterError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> MediaRules {
        MediaRules {
            max_count: 2,
            max_image_bytes: 100,
            max_video_bytes: 1000,
            types: vec!["image/png".into(), "video/mp4".into()],
            video_alone: true,
            alt_text_required: true,
            max_video_duration_ms: Some(60_000),
            max_pixels: Some(10_000),
            video_codecs: vec!["h264".into()],
        }
    }

    fn png(bytes: u64) -> MediaFacts<'static> {
        MediaFacts {
            mime: "image/png",
            video: false,
            bytes,
            has_alt_text: true,
            resizable: false,
            width: Some(10),
            height: Some(10),
            duration_ms: None,
            codec: None,
        }
    }

    #[test]
    fn text_is_counted_as_the_platform_counts_it() {
        let rules = ContentRules {
            max_chars: 3,
            unit: TextUnit::Graphemes,
            max_bytes: Some(40),
            url_weight: None,
            media: rules(),
        };
        // A skin-toned thumb and a Devanagari conjunct are one character each.
        assert_eq!(TextUnit::Graphemes.count("👍🏽क्षि!"), 3);
        assert_eq!(TextUnit::Characters.count("👍🏽क्षि!"), 7);
        assert_eq!(rules.check_length("👍🏽क्षि!"), Ok(()));
        assert!(
            rules
                .check_length("abcd")
                .unwrap_err()
                .contains("at most 3")
        );
        let bytes = ContentRules {
            max_chars: 100,
            ..rules
        };
        assert!(
            bytes
                .check_length(&"क".repeat(14))
                .unwrap_err()
                .contains("40 bytes")
        );
    }

    #[test]
    fn links_count_as_a_fixed_length_and_remote_mentions_as_the_username() {
        let rules = ContentRules {
            max_chars: 30,
            unit: TextUnit::Graphemes,
            max_bytes: None,
            url_weight: Some(23),
            media: rules(),
        };
        let long_link = format!("https://example.com/{}", "a".repeat(200));
        // "see " (4) + 23 for the link, however long.
        assert_eq!(rules.length(&format!("see {long_link}")), 27);
        assert_eq!(rules.length("hi @alice@mastodon.social"), "hi @alice".len());
        assert_eq!(
            rules.length("mail bob@example.com"),
            20,
            "an address is not a mention"
        );
        assert!(rules.check_length(&format!("see {long_link} ok")).is_ok());
        assert!(
            rules
                .check_length(&format!("{long_link} {long_link}"))
                .is_err()
        );
        let plain = ContentRules {
            url_weight: None,
            ..rules
        };
        assert_eq!(plain.length("https://example.com/abc"), 23);
        assert_eq!(plain.length("https://example.com/abcd"), 24);
    }

    #[test]
    fn media_rules_name_the_rule_broken() {
        let video = MediaFacts {
            mime: "video/mp4",
            video: true,
            bytes: 500,
            has_alt_text: false,
            resizable: false,
            width: Some(10),
            height: Some(10),
            duration_ms: Some(30_000),
            codec: Some("h264"),
        };
        assert_eq!(rules().check(&[png(10), png(10)]), Ok(()));
        assert!(
            rules()
                .check(&[png(1); 3])
                .unwrap_err()
                .contains("at most 2")
        );
        assert!(
            rules()
                .check(&[png(1), video])
                .unwrap_err()
                .contains("only attachment")
        );
        assert!(
            rules()
                .check(&[png(101)])
                .unwrap_err()
                .contains("at most 100")
        );
        let gif = MediaFacts {
            mime: "image/gif",
            ..png(1)
        };
        assert!(rules().check(&[gif]).unwrap_err().contains("image/gif"));
        let bare = MediaFacts {
            has_alt_text: false,
            ..png(1)
        };
        assert!(rules().check(&[bare]).unwrap_err().contains("alt text"));
        assert_eq!(rules().check(&[video]), Ok(()));
        let long = MediaFacts {
            duration_ms: Some(61_000),
            ..video
        };
        assert!(rules().check(&[long]).unwrap_err().contains("61.0 s"));
        let vp9 = MediaFacts {
            codec: Some("vp9"),
            ..video
        };
        assert!(rules().check(&[vp9]).unwrap_err().contains("plays h264"));
        let huge = MediaFacts {
            width: Some(200),
            height: Some(100),
            ..png(1)
        };
        assert!(rules().check(&[huge]).unwrap_err().contains("200 × 100"));
    }
}
