//! The sandbox's in-memory world: accounts, OAuth codes and grants, tokens,
//! posts, media, and the faults an operator injected.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::web::Bytes;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Codes are worth little and live briefly (DESIGN §6).
pub const CODE_TTL: Duration = Duration::from_secs(60);
/// Idempotency keys are honoured for a day.
pub const IDEMPOTENCY_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// Behaviour an operator can change at run time through `POST /_sandbox/faults`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Faults {
    /// Added before every `POST /v1/posts` and `POST /v1/media` answer.
    pub latency_ms: u64,
    /// Share of `POST /v1/posts` and `POST /v1/media` calls answered 503,
    /// from 0.0 to 1.0.
    pub error_rate: f64,
    /// Lifetime of newly issued access tokens.
    pub token_ttl_s: u64,
    /// `POST /v1/posts` per account per second before 429.
    pub rate_limit_per_s: u32,
    /// The `Retry-After` a 429 carries, in seconds (any u64: clients must cope).
    pub retry_after_s: u64,
    /// When false, a repeated `Idempotency-Key` makes a second post, as on a
    /// platform without idempotency: only the engine then stands between a
    /// retry and a double publish.
    pub honor_idempotency: bool,
    /// A new post or medium is stored, then its answer waits this long: with
    /// a client timeout below it, it exists but the client never hears of it.
    pub stall_after_create_ms: u64,
    /// How long a new video stays `processing` (fixed at upload), so clients
    /// must wait for `ready` before posting it.
    pub video_processing_ms: u64,
    /// Added before `POST /v1/posts` only (media uploads are not slowed):
    /// a client can be stopped after its uploads and before its post lands.
    pub post_delay_ms: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            latency_ms: 0,
            error_rate: 0.0,
            token_ttl_s: 3600,
            rate_limit_per_s: 100,
            retry_after_s: 1,
            honor_idempotency: true,
            stall_after_create_ms: 0,
            video_processing_ms: 300,
            post_delay_ms: 0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub handle: String,
    pub display_name: String,
}

pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub challenge: String,
    pub account_id: String,
    pub scope: String,
    pub expires: Instant,
    /// Set at the first exchange; a second exchange revokes this grant (RFC 6749 §4.1.2).
    pub grant: Option<u64>,
}

pub struct Grant {
    pub account_id: String,
    pub scope: String,
    pub revoked: bool,
}

pub struct AccessToken {
    pub grant: u64,
    pub expires: Instant,
}

pub struct RefreshToken {
    pub grant: u64,
    pub spent: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Post {
    pub id: String,
    pub account_id: String,
    pub idempotency_key: Option<String>,
    pub text: String,
    pub created_at: DateTime<Utc>,
    /// Its attachments in order, as they were when it was posted.
    pub media: Vec<Attached>,
}

/// One attachment of a post, as `/_sandbox/posts` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attached {
    pub id: String,
    pub mime: String,
    pub bytes: u64,
    pub sha256: String,
    pub alt_text: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Video,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
        }
    }
}

/// An uploaded file, checked and hashed as it streamed in.
#[derive(Debug, Clone)]
pub struct Received {
    pub kind: MediaKind,
    pub mime: &'static str,
    pub bytes: u64,
    pub sha256: String,
    /// The bytes of an image (tests read them back); a video keeps only its
    /// size and hash, as hundreds of megabytes have no place in memory.
    pub data: Option<Bytes>,
}

/// A stored medium.
#[derive(Debug, Clone)]
pub struct Media {
    pub id: String,
    pub account_id: String,
    pub idempotency_key: Option<String>,
    pub file: Received,
    pub alt_text: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Until then a video is `processing`; images are ready at once.
    pub ready_at: Instant,
}

impl Media {
    pub fn is_ready(&self) -> bool {
        Instant::now() >= self.ready_at
    }

    pub fn attached(&self) -> Attached {
        Attached {
            id: self.id.clone(),
            mime: self.file.mime.to_owned(),
            bytes: self.file.bytes,
            sha256: self.file.sha256.clone(),
            alt_text: self.alt_text.clone(),
        }
    }
}

/// What clients did, as the platform saw it: tests assert the engine's
/// promises on this record, not on the engine's own account of itself.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Calls {
    /// `POST /v1/posts` calls that made a post.
    pub creates: u64,
    /// `POST /v1/posts` calls answered with an earlier post (a repeated key):
    /// an engine that never sends a task twice makes none.
    pub replays: u64,
    /// `GET /v1/posts?idempotency_key=…` calls, and how many found a post.
    pub lookups: u64,
    pub lookups_found: u64,
    /// Calls answered 429, and calls that came while the account's last
    /// `Retry-After` was still running.
    pub rate_limited: u64,
    pub early_calls: u64,
    /// `POST /v1/posts` calls refused for their token (401).
    pub unauthorized: u64,
    /// Token endpoint calls by grant type.
    pub code_exchanges: u64,
    pub refreshes: u64,
    /// The most `POST /v1/posts` calls one account had open at once.
    pub peak_in_flight: u64,
    /// `POST /v1/media` calls that stored a medium.
    pub media_uploads: u64,
    /// `POST /v1/media` calls answered with an earlier medium (a repeated key).
    pub media_replays: u64,
    /// `GET /v1/media/{id}` calls.
    pub media_lookups: u64,
}

struct Window {
    second: u64,
    count: u32,
}

/// What the rate limiter said about one call.
pub struct RateDecision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Epoch second when the window resets.
    pub reset: u64,
}

#[derive(Default)]
pub struct State {
    pub accounts: HashMap<String, Account>,
    pub codes: HashMap<String, AuthCode>,
    pub grants: HashMap<u64, Grant>,
    pub(super) next_grant: u64,
    /// By [`token_key`].
    pub access: HashMap<String, AccessToken>,
    /// By [`token_key`].
    pub refresh: HashMap<String, RefreshToken>,
    /// Every token issued by this process, in memory only (tests search logs for them).
    issued: Vec<String>,
    pub posts: Vec<Post>,
    pub(super) by_key: HashMap<(String, String), usize>,
    /// Posts per account, text and attachments (by content hash, so a post
    /// whose media were uploaded again is still the same post).
    pub(super) by_content: HashMap<(String, String, Vec<String>), usize>,
    /// Posts and media repeating earlier ones: double publishes and double uploads.
    pub duplicates: u64,
    pub media: HashMap<String, Media>,
    /// Per account and idempotency key: the first medium stored under it.
    media_by_key: HashMap<(String, String), String>,
    windows: HashMap<String, Window>,
    /// Per account: until when its last 429 asked it to wait.
    quiet_until: HashMap<String, Instant>,
    /// Per account: `POST /v1/posts` calls now open.
    in_flight: HashMap<String, u64>,
    pub calls: Calls,
    pub faults: Faults,
    /// Calls to the token endpoint, so tests can prove a flow never reached it.
    pub token_requests: u64,
}

/// Tokens are kept by their SHA-256, as a platform would, so the state saved
/// to disk in dev (see `persist`) holds no usable token.
pub fn token_key(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl State {
    /// The account for `handle`, created on first consent. Ids are stable per handle,
    /// so approving again as the same handle is the same Manch account.
    pub fn account_for(&mut self, handle: &str) -> Account {
        let id = format!(
            "acct_{}",
            &hex::encode(Sha256::digest(handle.as_bytes()))[..12]
        );
        self.accounts
            .entry(id.clone())
            .or_insert_with(|| Account {
                id,
                handle: handle.to_owned(),
                display_name: format!("{handle} (Manch sandbox)"),
            })
            .clone()
    }

    /// A new grant with a fresh token pair: (access, refresh, expires_in seconds).
    pub fn issue(&mut self, account_id: &str, scope: &str) -> (u64, String, String, u64) {
        self.next_grant += 1;
        let grant = self.next_grant;
        self.grants.insert(
            grant,
            Grant {
                account_id: account_id.to_owned(),
                scope: scope.to_owned(),
                revoked: false,
            },
        );
        let (access, refresh, ttl) = self.tokens_for(grant);
        (grant, access, refresh, ttl)
    }

    /// A fresh token pair for an existing grant.
    pub fn tokens_for(&mut self, grant: u64) -> (String, String, u64) {
        let ttl = self.faults.token_ttl_s;
        let access = random_token();
        let refresh = random_token();
        self.issued.push(access.clone());
        self.issued.push(refresh.clone());
        self.access.insert(
            token_key(&access),
            AccessToken {
                grant,
                expires: Instant::now() + Duration::from_secs(ttl),
            },
        );
        self.refresh.insert(
            token_key(&refresh),
            RefreshToken {
                grant,
                spent: false,
            },
        );
        (access, refresh, ttl)
    }

    /// Every access and refresh token ever issued (tests search logs and rows for them).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.issued.clone()
    }

    pub fn revoke_grant(&mut self, grant: u64) {
        if let Some(g) = self.grants.get_mut(&grant) {
            g.revoked = true;
        }
    }

    /// The account behind a live access token.
    pub fn account_of_token(&self, token: &str) -> Option<&Account> {
        let access = self.access.get(&token_key(token))?;
        if access.expires <= Instant::now() {
            return None;
        }
        let grant = self.grants.get(&access.grant).filter(|g| !g.revoked)?;
        self.accounts.get(&grant.account_id)
    }

    pub fn rate_check(&mut self, account_id: &str) -> RateDecision {
        let second = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let limit = self.faults.rate_limit_per_s;
        let window = self
            .windows
            .entry(account_id.to_owned())
            .or_insert(Window { second, count: 0 });
        if window.second != second {
            window.second = second;
            window.count = 0;
        }
        let allowed = window.count < limit;
        if allowed {
            window.count += 1;
        }
        if self
            .quiet_until
            .get(account_id)
            .is_some_and(|until| Instant::now() < *until)
        {
            self.calls.early_calls += 1;
        }
        if !allowed {
            self.calls.rate_limited += 1;
            let wait = Duration::from_secs(self.faults.retry_after_s.min(3600));
            self.quiet_until
                .insert(account_id.to_owned(), Instant::now() + wait);
        }
        RateDecision {
            allowed,
            limit,
            remaining: limit.saturating_sub(window.count),
            reset: second + 1,
        }
    }

    /// A `POST /v1/posts` call of `account_id` opened (`true`) or closed.
    pub fn in_flight(&mut self, account_id: &str, open: bool) {
        // Looked up before inserting: no allocation on the hot path.
        if !self.in_flight.contains_key(account_id) {
            self.in_flight.insert(account_id.to_owned(), 0);
        }
        let Some(open_now) = self.in_flight.get_mut(account_id) else {
            return;
        };
        if open {
            *open_now += 1;
            self.calls.peak_in_flight = self.calls.peak_in_flight.max(*open_now);
        } else {
            *open_now = open_now.saturating_sub(1);
        }
    }

    /// The post already made under this key in the last 24 h.
    pub fn post_by_key(&self, account_id: &str, key: &str) -> Option<&Post> {
        let index = self.by_key.get(&(account_id.to_owned(), key.to_owned()))?;
        let post = self.posts.get(*index)?;
        (Utc::now() - post.created_at < IDEMPOTENCY_WINDOW).then_some(post)
    }

    pub fn add_post(
        &mut self,
        account_id: &str,
        key: Option<&str>,
        text: &str,
        media: Vec<Attached>,
    ) -> Post {
        let hashes = media.iter().map(|m| m.sha256.clone()).collect();
        let post = Post {
            id: format!("{:016x}", rand::random::<u64>()),
            account_id: account_id.to_owned(),
            idempotency_key: key.map(str::to_owned),
            text: text.to_owned(),
            created_at: Utc::now(),
            media,
        };
        let index = self.posts.len();
        self.calls.creates += 1;
        // A post repeating an earlier one's account, text and attachments, or
        // its key (made when idempotency is off), is a double publish:
        // `duplicates` counts them.
        let seen = self
            .by_content
            .entry((account_id.to_owned(), text.to_owned(), hashes))
            .or_insert(0);
        let key_seen = key.is_some_and(|k| {
            self.by_key
                .contains_key(&(account_id.to_owned(), k.to_owned()))
        });
        if *seen > 0 || key_seen {
            self.duplicates += 1;
        }
        *seen += 1;
        if let Some(key) = key {
            // The first post under a key stays the one a look-up finds.
            self.by_key
                .entry((account_id.to_owned(), key.to_owned()))
                .or_insert(index);
        }
        self.posts.push(post.clone());
        post
    }

    /// The medium already stored under this key in the last 24 h.
    pub fn media_by_key(&self, account_id: &str, key: &str) -> Option<&Media> {
        let id = self
            .media_by_key
            .get(&(account_id.to_owned(), key.to_owned()))?;
        let media = self.media.get(id)?;
        (Utc::now() - media.created_at < IDEMPOTENCY_WINDOW).then_some(media)
    }

    /// `account_id`'s medium `id`: other accounts' media do not exist for it.
    pub fn own_media(&self, account_id: &str, id: &str) -> Option<&Media> {
        self.media.get(id).filter(|m| m.account_id == account_id)
    }

    pub fn add_media(
        &mut self,
        account_id: &str,
        key: Option<&str>,
        file: Received,
        alt_text: Option<String>,
    ) -> Media {
        let processing = match file.kind {
            MediaKind::Image => Duration::ZERO,
            MediaKind::Video => Duration::from_millis(self.faults.video_processing_ms),
        };
        let media = Media {
            id: format!("med_{:016x}", rand::random::<u64>()),
            account_id: account_id.to_owned(),
            idempotency_key: key.map(str::to_owned),
            file,
            alt_text,
            created_at: Utc::now(),
            ready_at: Instant::now() + processing,
        };
        self.calls.media_uploads += 1;
        if let Some(key) = key {
            // A second medium under a key (made when idempotency is off) is a
            // double upload; the first stays the one the key answers.
            match self
                .media_by_key
                .entry((account_id.to_owned(), key.to_owned()))
            {
                Entry::Occupied(_) => self.duplicates += 1,
                Entry::Vacant(entry) => {
                    entry.insert(media.id.clone());
                }
            }
        }
        self.media.insert(media.id.clone(), media.clone());
        media
    }
}
