//! The instance's in-memory world: registered apps, accounts, authorization
//! codes, access tokens, statuses, media, the idempotency keys "in Redis",
//! rate-limit counters, and the faults an operator injected.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::web::Bytes;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Doorkeeper's default `authorization_code_expires_in` (Mastodon keeps it).
pub const CODE_TTL: Duration = Duration::from_secs(600);
/// `PostStatusService`: `redis.setex(idempotency_key, 3_600, @status.id)`.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(3600);

/// How `POST /api/v1/statuses` treats an `Idempotency-Key`, by Mastodon release.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum IdempotencyMode {
    /// 4.3 – 4.5: look the key up, create the status, then store the key.
    /// Two requests with one key that overlap both miss the look-up and both
    /// create a status.
    Unlocked,
    /// mastodon/mastodon#37879 (2026): the whole create runs under a Redis lock
    /// per account and key; a second request while it is held gets 503
    /// (`Mastodon::RaceConditionError`), a later one the stored status.
    Locked,
    /// As `Locked`, with the regression of mastodon/mastodon#40399: a repeated
    /// key finds its status but the request then fails with 500.
    #[serde(rename = "locked_replay_500")]
    LockedReplay500,
}

/// Behaviour an operator can change at run time through `POST /_sandbox/faults`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Faults {
    /// Serve PKCE (Mastodon 4.3+). When false the instance acts as an older
    /// one: `/.well-known/oauth-authorization-server` is 404 and
    /// `code_challenge` / `code_verifier` are ignored.
    pub pkce: bool,
    /// `configuration.statuses.max_characters`, enforced on new statuses.
    pub max_characters: usize,
    /// How long an uploaded video or audio stays `processing` (fixed at upload).
    pub video_processing_ms: u64,
    /// `throttle_per_token_api`: requests per access token per 5 minutes.
    pub rate_limit_per_5min: u32,
    /// `throttle_authenticated_api`: requests per account per 5 minutes.
    pub account_rate_limit_per_5min: u32,
    /// `throttle_unauthenticated_api`: requests per IP without a token per 5 minutes.
    pub unauthenticated_rate_limit_per_5min: u32,
    /// The period of the three 5-minute API throttles, in seconds (300 as in
    /// Mastodon; a test shortens it so a reset comes within its run).
    pub api_period_secs: u64,
    /// `throttle_api_media`: `POST /api/v{1,2}/media` per account per 30 minutes.
    pub media_rate_limit_per_30min: u32,
    /// `throttle_api_delete`: `DELETE /api/v1/statuses/:id` per account per 30 minutes.
    pub delete_rate_limit_per_30min: u32,
    /// `throttle_authenticated_paging`: requests with `max_id`/`since_id`/`min_id`
    /// per account per 15 minutes.
    pub paging_rate_limit_per_15min: u32,
    /// `RateLimiter` family `statuses`: new statuses per account per 3 hours.
    pub statuses_per_3h: u32,
    /// `configuration.media_attachments.image_size_limit` (bytes).
    pub image_size_limit: u64,
    /// `configuration.media_attachments.video_size_limit` (bytes; video, gifv, audio).
    pub video_size_limit: u64,
    /// Share of `POST /api/v1/statuses` and media uploads answered 500 before
    /// anything is stored, from 0.0 to 1.0.
    pub error_rate: f64,
    /// Added before every `POST /api/v1/statuses` and media upload answer.
    pub latency_ms: u64,
    /// The status is created, then this long passes before its idempotency key
    /// is stored: the window in which a second request with the same key
    /// creates a second status (unlocked mode).
    pub create_delay_ms: u64,
    /// The status (or medium) is stored, then the answer waits this long: a
    /// client that gives up never hears of what exists.
    pub stall_after_create_ms: u64,
    /// When false the `Idempotency-Key` header is ignored altogether.
    pub honor_idempotency: bool,
    pub idempotency: IdempotencyMode,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            pkce: true,
            max_characters: 500,
            video_processing_ms: 3000,
            rate_limit_per_5min: 300,
            account_rate_limit_per_5min: 1500,
            unauthenticated_rate_limit_per_5min: 300,
            api_period_secs: 300,
            media_rate_limit_per_30min: 30,
            delete_rate_limit_per_30min: 30,
            paging_rate_limit_per_15min: 300,
            statuses_per_3h: 300,
            image_size_limit: 16 * 1024 * 1024,
            video_size_limit: 99 * 1024 * 1024,
            error_rate: 0.0,
            latency_ms: 0,
            create_delay_ms: 0,
            stall_after_create_ms: 0,
            honor_idempotency: true,
            idempotency: IdempotencyMode::Unlocked,
        }
    }
}

/// A registered OAuth application (`POST /api/v1/apps`).
#[derive(Debug, Clone, Serialize)]
pub struct App {
    pub id: String,
    pub name: String,
    pub website: Option<String>,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub client_id: String,
    /// Known only in the process that registered the app (answered once).
    #[serde(skip)]
    pub client_secret: String,
    /// SHA-256 of the secret, what client authentication checks.
    #[serde(skip)]
    pub secret_hash: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
}

/// An authorization code ("access grant" in Doorkeeper).
pub struct Grant {
    pub client_id: String,
    pub account_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    /// S256 challenge, when PKCE was on and the client sent one.
    pub challenge: Option<String>,
    pub expires: Instant,
    pub used: bool,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub id: u64,
    /// Empty for a token read back from kept state (only its hash was kept).
    pub token: String,
    pub client_id: String,
    /// None for a `client_credentials` (app-only) token.
    pub account_id: Option<String>,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub revoked: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaType {
    Image,
    Gifv,
    Video,
    Audio,
}

impl MediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Image => "image",
            MediaType::Gifv => "gifv",
            MediaType::Video => "video",
            MediaType::Audio => "audio",
        }
    }

    /// `MediaAttachment#larger_media_format?`: processed in the background
    /// by `POST /api/v2/media`, and held to the video size limit.
    pub fn larger(self) -> bool {
        matches!(self, MediaType::Video | MediaType::Audio)
    }
}

/// A stored upload.
#[derive(Debug, Clone)]
pub struct Media {
    pub id: String,
    pub account_id: String,
    pub kind: MediaType,
    /// What the bytes are (sniffed).
    pub mime: &'static str,
    /// The type the client declared for the part.
    pub declared: Option<String>,
    pub bytes: u64,
    pub sha256: String,
    /// The file as uploaded, for images (tests read it back).
    pub data: Option<Bytes>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub blurhash: Option<String>,
    pub description: Option<String>,
    pub focus: Option<(f64, f64)>,
    /// Random part of its file name, as Paperclip makes one.
    pub file_key: String,
    pub extension: &'static str,
    pub created_at: DateTime<Utc>,
    /// Until then it is `processing` (206 / `url: null`).
    pub ready_at: Instant,
    pub status_id: Option<String>,
}

impl Media {
    pub fn is_ready(&self) -> bool {
        Instant::now() >= self.ready_at
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    pub id: String,
    pub account_id: String,
    pub client_id: Option<String>,
    pub text: String,
    pub spoiler_text: String,
    pub visibility: String,
    pub sensitive: bool,
    pub language: String,
    pub in_reply_to_id: Option<String>,
    pub in_reply_to_account_id: Option<String>,
    pub media_ids: Vec<String>,
    pub idempotency_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// What clients did, as the instance saw it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Calls {
    /// `POST /api/v1/apps` calls that registered an app.
    pub app_registrations: u64,
    /// Consent decisions.
    pub approvals: u64,
    pub denials: u64,
    /// `POST /oauth/token` calls, all of them, and those that got a user token
    /// from a code, an app token, or an error.
    pub token_requests: u64,
    pub token_exchanges: u64,
    pub client_credentials: u64,
    pub token_errors: u64,
    /// Tokens revoked (`POST /oauth/revoke` and `POST /_sandbox/revoke`).
    pub revocations: u64,
    /// `POST /api/v1/statuses` calls that created a status.
    pub statuses_created: u64,
    /// Calls answered with the status an earlier call made under the same key.
    pub idempotent_replays: u64,
    /// Calls refused with 503 because the key's lock was held (locked mode).
    pub idempotency_conflicts: u64,
    /// `DELETE /api/v1/statuses/:id` calls that deleted one.
    pub deletes: u64,
    /// `GET /api/v1/statuses/:id` calls.
    pub status_reads: u64,
    /// `GET /api/v1/accounts/:id/statuses` calls.
    pub lookups: u64,
    /// `GET /api/v1/accounts/verify_credentials` calls.
    pub verify_credentials: u64,
    /// Media stored, `PUT /api/v1/media/:id` calls, `GET /api/v1/media/:id` calls.
    pub media_uploads: u64,
    pub media_updates: u64,
    pub media_lookups: u64,
    /// Answers 429 (rack-attack throttles and the statuses family limit).
    pub rate_limited: u64,
    /// Answers 401 for a missing, unknown or revoked token.
    pub unauthorized: u64,
    /// Answers 500 from `error_rate`.
    pub injected_errors: u64,
    /// The most `POST /api/v1/statuses` calls one account had open at once.
    pub peak_in_flight: u64,
}

#[derive(Default)]
pub struct State {
    pub apps: Vec<App>,
    pub accounts: HashMap<String, Account>,
    pub grants: HashMap<String, Grant>,
    /// By [`token_key`].
    pub tokens: HashMap<String, Token>,
    pub statuses: Vec<Status>,
    pub media: HashMap<String, Media>,
    /// "Redis": `idempotency:status:{account}:{key}` → status id, until expiry.
    pub idempotency: HashMap<(String, String), (String, Instant)>,
    /// "Redis": `lock:idempotency:lock:status:{account}:{key}`.
    pub idempotency_locks: HashSet<(String, String)>,
    /// rack-attack counters: (throttle, discriminator, window) → count.
    pub throttles: HashMap<(&'static str, String, u64), u32>,
    /// `RateLimiter` family `statuses`: (account, window) → count.
    pub status_family: HashMap<(String, u64), u32>,
    /// Per account: `POST /api/v1/statuses` calls now open.
    pub in_flight: HashMap<String, u64>,
    pub calls: Calls,
    pub faults: Faults,
    pub(super) last_id: u64,
    pub(super) next_app: u64,
    pub(super) next_token: u64,
}

/// Tokens and app secrets are looked up by their SHA-256, so the state kept on
/// disk in dev (see `persist`) holds none that works.
pub fn token_key(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What Doorkeeper's `SecureRandom.urlsafe_base64(32)` looks like: 43 characters.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

impl State {
    pub fn new(faults: Faults) -> Self {
        Self {
            faults,
            ..Self::default()
        }
    }

    /// A Mastodon snowflake id: milliseconds since the epoch in the upper
    /// bits, a sequence in the low 16, always increasing.
    pub fn next_id(&mut self) -> String {
        let candidate = now_ms() << 16;
        self.last_id = candidate.max(self.last_id + 1);
        self.last_id.to_string()
    }

    pub fn register_app(
        &mut self,
        name: String,
        website: Option<String>,
        redirect_uris: Vec<String>,
        scopes: Vec<String>,
    ) -> App {
        self.next_app += 1;
        let client_secret = random_token();
        let app = App {
            id: self.next_app.to_string(),
            name,
            website,
            redirect_uris,
            scopes,
            client_id: random_token(),
            secret_hash: token_key(&client_secret),
            client_secret,
            created_at: Utc::now(),
        };
        self.calls.app_registrations += 1;
        self.apps.push(app.clone());
        app
    }

    pub fn app(&self, client_id: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.client_id == client_id)
    }

    pub fn account_by_username(&self, username: &str) -> Option<&Account> {
        self.accounts
            .values()
            .find(|a| a.username.eq_ignore_ascii_case(username))
    }

    /// The account signing in as `username`, created on first consent.
    pub fn account_for(&mut self, username: &str) -> Account {
        if let Some(account) = self.account_by_username(username) {
            return account.clone();
        }
        let account = Account {
            id: self.next_id(),
            username: username.to_owned(),
            display_name: username.to_owned(),
            created_at: Utc::now(),
        };
        self.accounts.insert(account.id.clone(), account.clone());
        account
    }

    /// Doorkeeper with `reuse_access_token`: a live token of the same app,
    /// owner and scopes is answered again rather than a new one made.
    pub fn issue_token(
        &mut self,
        client_id: &str,
        account_id: Option<&str>,
        scopes: &[String],
    ) -> Token {
        let mut wanted: Vec<&String> = scopes.iter().collect();
        wanted.sort();
        if let Some(existing) = self.tokens.values().find(|t| {
            let mut have: Vec<&String> = t.scopes.iter().collect();
            have.sort();
            // One read back from kept state cannot be answered again: its text is gone.
            !t.revoked
                && !t.token.is_empty()
                && t.client_id == client_id
                && t.account_id.as_deref() == account_id
                && have == wanted
        }) {
            return existing.clone();
        }
        self.next_token += 1;
        let token = Token {
            id: self.next_token,
            token: random_token(),
            client_id: client_id.to_owned(),
            account_id: account_id.map(str::to_owned),
            scopes: scopes.to_vec(),
            created_at: Utc::now(),
            revoked: false,
        };
        self.tokens.insert(token_key(&token.token), token.clone());
        token
    }

    /// Revokes every live token of `account_id` (of one app, or all apps);
    /// answers how many.
    pub fn revoke_all_for(&mut self, account_id: &str, client_id: Option<&str>) -> u64 {
        let mut revoked = 0;
        for token in self.tokens.values_mut() {
            if !token.revoked
                && token.account_id.as_deref() == Some(account_id)
                && client_id.is_none_or(|c| token.client_id == c)
            {
                token.revoked = true;
                revoked += 1;
            }
        }
        self.calls.revocations += revoked;
        revoked
    }

    /// The status stored under this key for this account, if still in "Redis".
    pub fn idempotent_status(&self, account_id: &str, key: &str) -> Option<String> {
        let (id, expires) = self
            .idempotency
            .get(&(account_id.to_owned(), key.to_owned()))?;
        (Instant::now() < *expires).then(|| id.clone())
    }

    pub fn store_idempotency(&mut self, account_id: &str, key: &str, status_id: &str) {
        self.idempotency.insert(
            (account_id.to_owned(), key.to_owned()),
            (status_id.to_owned(), Instant::now() + IDEMPOTENCY_TTL),
        );
    }

    pub fn status(&self, id: &str) -> Option<&Status> {
        self.statuses
            .iter()
            .find(|s| s.id == id && s.deleted_at.is_none())
    }

    /// A `POST /api/v1/statuses` call of `account_id` opened (`true`) or closed.
    pub fn in_flight(&mut self, account_id: &str, open: bool) {
        let open_now = self.in_flight.entry(account_id.to_owned()).or_insert(0);
        if open {
            *open_now += 1;
            self.calls.peak_in_flight = self.calls.peak_in_flight.max(*open_now);
        } else {
            *open_now = open_now.saturating_sub(1);
        }
    }

    /// Statuses that repeat an earlier one of the same account: the same
    /// idempotency key, or the same text, content warning and media content.
    pub fn duplicates(&self) -> u64 {
        let mut keys = HashSet::new();
        let mut contents = HashSet::new();
        let mut duplicates = 0;
        for status in &self.statuses {
            let hashes: Vec<String> = status
                .media_ids
                .iter()
                .filter_map(|id| self.media.get(id).map(|m| m.sha256.clone()))
                .collect();
            let by_key = status
                .idempotency_key
                .as_ref()
                .is_some_and(|k| !keys.insert((status.account_id.clone(), k.clone())));
            let by_content = !contents.insert((
                status.account_id.clone(),
                status.text.clone(),
                status.spoiler_text.clone(),
                hashes,
            ));
            if by_key || by_content {
                duplicates += 1;
            }
        }
        duplicates
    }
}
