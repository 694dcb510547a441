//! Typed configuration: what every key means and which values it accepts.
//!
//! Values come from `config/default.toml`, then `config/<environment>.toml`, then
//! `PRASARAN__SECTION__KEY` environment variables (see [`load`]). Every struct
//! rejects unknown keys so a typo stops start-up instead of being ignored.

mod guardrails;
mod load;
mod secrets;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

pub use guardrails::check_production;
pub use load::{Environment, SettingsError, check_mode_requirements, load};
pub use secrets::{
    KeyError, MASTER_KEY_LEN, SESSION_KEY_LEN, generate_key_text, load_or_create_master_key,
    load_or_create_session_key, read_master_key_file,
};

/// The whole configuration of one `prasaran` process.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Directory for the embedded default's state: the private PostgreSQL cluster
    /// and, in dev, generated keys. Relative paths are taken from the working directory.
    pub data_dir: PathBuf,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub session: SessionSettings,
    pub rate_limits: RateLimitSettings,
    pub log: LogSettings,
    pub platforms: PlatformsSettings,
    pub keys: KeySettings,
    pub http_client: HttpClientSettings,
    pub sandbox: SandboxSettings,
    pub engine: EngineSettings,
    pub queue: QueueSettings,
    pub media: MediaSettings,
    pub mail: MailSettings,
    pub accounts: AccountSettings,
    pub quotas: QuotaSettings,
    /// Which environment these settings were loaded for; set by the loader, not by files.
    #[serde(skip, default)]
    pub environment: Environment,
}

/// Outgoing mail (verification and password-reset links).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// `outbox`: mail is written to `<data_dir>/outbox` and listed at
    /// `/dev/outbox` (the embedded default; refused in production).
    /// `smtp`: sent through `mail.smtp`.
    pub transport: MailTransport,
    /// The From header, e.g. `Prasaran <no-reply@example.com>`.
    pub from: String,
    pub smtp: SmtpSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailTransport {
    Outbox,
    Smtp,
}

/// The SMTP relay mail goes through.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// The relay's host name (also the name its TLS certificate must carry).
    #[serde(default)]
    pub host: Option<String>,
    pub port: u16,
    /// `starttls` (port 587), `tls` (port 465), or `none`: plain text, which
    /// is accepted only for a relay on a loopback address.
    pub security: SmtpSecurity,
    #[serde(default)]
    pub username: Option<String>,
    /// Secret: PRASARAN__MAIL__SMTP__PASSWORD or `password_file`.
    #[serde(default)]
    pub password: Option<SecretString>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Time for one message to be handed over.
    pub timeout_secs: NonZeroU32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    Starttls,
    Tls,
    None,
}

/// What one account may use (`GET /api/v1/me` shows each with its use; over
/// one is `429 quota_exceeded`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaSettings {
    /// Posts accepted in any hour.
    pub publishes_per_hour: u64,
    /// Posts accepted in any day.
    pub publishes_per_day: u64,
    /// Scheduled posts whose time has not come.
    pub pending_scheduled: u64,
    /// Connected platform accounts.
    pub connections: u64,
    /// Live API tokens.
    pub api_tokens: u64,
    /// Connections started (consent pages opened, sign-ins) per hour; counted
    /// per API process.
    pub authorizations_per_hour: u64,
    /// Bytes of uploads kept.
    pub media_bytes: u64,
}

/// Rules around accounts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSettings {
    /// Accounts whose email address is not verified may log in and write,
    /// but not connect platforms.
    pub verified_email_to_connect: bool,
    /// How long a verification link works.
    pub verification_link_hours: NonZeroU32,
    /// How long a password-reset link works.
    pub reset_link_minutes: NonZeroU32,
}

/// Uploaded images and videos: limits and where they are kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaSettings {
    /// Largest image (or GIF) upload, in bytes.
    pub max_image_bytes: u64,
    /// Largest video upload, in bytes.
    pub max_video_bytes: u64,
    /// Most pixels an image may have (width × height); more is refused
    /// before decoding (a decompression bomb).
    pub max_image_pixels: u64,
    /// Uploads no post uses are removed after this many hours.
    pub unattached_ttl_hours: NonZeroU32,
    /// The local directory of the media store; relative to `data_dir`
    /// (default `media`). With `store = "local"` the objects live here; with
    /// `s3`, only uploads in progress (they are hashed while they arrive).
    pub dir: PathBuf,
    /// Where the objects live: `local` (files under `dir`, one machine) or
    /// `s3` (a bucket every api and worker process reads and writes).
    pub store: MediaStoreKind,
    pub s3: MediaS3Settings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaStoreKind {
    Local,
    S3,
}

/// The S3 bucket of media objects. Credentials come from the standard AWS
/// environment variables and profiles, never from these files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaS3Settings {
    /// The bucket's name. Required when `media.store = "s3"`; it must exist
    /// (start-up checks that it answers).
    #[serde(default)]
    pub bucket: Option<String>,
    /// A local stand-in such as moto_server or MinIO (addressed path-style:
    /// `<endpoint>/<bucket>/<key>`); unset means the AWS endpoint of `region`.
    #[serde(default)]
    pub endpoint_url: Option<url::Url>,
    pub region: String,
    /// Prepended to every object key (`<prefix>ab/cdef…`), so the bucket can
    /// hold other things, or several installations.
    pub prefix: String,
}

/// The HTTP listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// What this process runs: `api` (HTTP API, accepting publishes), `worker`
    /// (queue ingress, platform workers, scheduler; HTTP only for health and
    /// metrics) or `all`. `api` and `worker` need `queue.kind = "sqs"`.
    pub role: Role,
    /// The built web app (`web/dist`, relative to the working directory); `/`
    /// explains how to build it when it is missing.
    pub web_dir: PathBuf,
    /// Address to listen on; port 0 picks a free port (tests use that).
    pub bind: SocketAddr,
    /// The operator listener: `/metrics`, `/health/actors` (and the probes).
    /// Keep it on loopback or a private network; the public listener does
    /// not serve those two unless `ops_token` is set.
    pub ops_bind: SocketAddr,
    /// Lets `/metrics` and `/health/actors` be read on the public listener
    /// too, with `Authorization: Bearer <ops_token>` (environment only:
    /// PRASARAN__SERVER__OPS_TOKEN; at least 32 characters).
    #[serde(default)]
    pub ops_token: Option<SecretString>,
    /// Proxies (addresses or CIDR networks) whose `X-Forwarded-For` names the
    /// client, for rate limits and the sessions list; from anyone else the
    /// header is ignored. E.g. `["10.0.0.0/8"]` behind a load balancer.
    #[serde(default)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Let dev settings listen on a non-loopback address (a closed network
    /// only; production refuses it).
    #[serde(default)]
    pub allow_insecure_dev: bool,
    /// actix-web worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// Largest JSON request body accepted, in bytes; larger bodies get 413.
    pub json_body_limit_bytes: NonZeroU32,
    /// The URL browsers reach this server at; OAuth redirect URIs are built from
    /// it. Unset: `http://<bind address>` with the port actually bound.
    #[serde(default)]
    pub public_url: Option<url::Url>,
}

/// Where the data lives.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// PostgreSQL connection URL. Unset means the embedded default: a private
    /// cluster started from the machine's PostgreSQL server binaries.
    #[serde(default)]
    pub url: Option<SecretString>,
    /// File holding the database password, for URLs that carry none. Kept out of
    /// the URL so the password can live in a secrets mount.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Upper bound of pooled connections per process.
    pub max_connections: NonZeroU32,
    /// How long a request may wait for a pooled connection before failing.
    pub acquire_timeout_secs: NonZeroU32,
    pub embedded: EmbeddedDatabaseSettings,
}

/// The private cluster used when no database URL is configured.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddedDatabaseSettings {
    /// Directory with `initdb`, `pg_ctl` and `postgres`. Unset: searched on PATH,
    /// then under /usr/lib/postgresql/*/bin (newest version first).
    #[serde(default)]
    pub bin_dir: Option<PathBuf>,
    /// Unprivileged OS user that owns and runs the cluster when prasaran runs as
    /// root (PostgreSQL refuses to run as root).
    pub os_user: String,
    /// Database created inside the cluster for prasaran's tables.
    pub database_name: String,
    /// How long to wait for the cluster to accept connections.
    pub start_timeout_secs: NonZeroU32,
}

/// Browser sessions (cookie + server-side row).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    /// Name of the session cookie.
    pub cookie_name: String,
    /// Mark the cookie `Secure` (HTTPS only) and send HSTS. Only dev on plain
    /// loopback HTTP turns this off.
    pub cookie_secure: bool,
    /// A session unused for this long ends.
    pub idle_timeout_minutes: NonZeroU32,
    /// A session ends this long after login however active it is.
    pub absolute_lifetime_hours: NonZeroU32,
    /// Base64 of the 64-byte key that signs and encrypts the cookie. Secret: set
    /// it through PRASARAN__SESSION__KEY, never in a file in the repository.
    #[serde(default)]
    pub key: Option<SecretString>,
    /// File holding the base64 key, as an alternative to `key`. In dev, when
    /// neither is set, a key is generated into `<data_dir>/session.key`.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
}

/// Brute-force protection on the account endpoints. Each limit is a burst that
/// refills evenly over its period.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Login attempts per client IP per minute.
    pub login_per_ip_per_minute: NonZeroU32,
    /// Login attempts per email address per minute, whichever IP they come from.
    pub login_per_account_per_minute: NonZeroU32,
    /// Signups per client IP per hour.
    pub signup_per_ip_per_hour: NonZeroU32,
    /// Signup attempts per email address per hour.
    pub signup_per_account_per_hour: NonZeroU32,
}

/// Log output.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `text` for people, `json` for log collectors.
    pub format: LogFormat,
    /// Default filter (tracing `EnvFilter` syntax); `RUST_LOG` overrides it.
    pub level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

/// One section per platform adapter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformsSettings {
    pub manch: ManchSettings,
    #[serde(default)]
    pub bluesky: BlueskySettings,
    #[serde(default)]
    pub mastodon: MastodonSettings,
    #[serde(default)]
    pub matrix: MatrixSettings,
}

/// Matrix: rooms on any homeserver, connected with a Matrix ID and password.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixSettings {
    /// Offer Matrix.
    #[serde(default)]
    pub enabled: bool,
    /// Accept homeservers on plain `http://` and on loopback or private
    /// addresses (a local Synapse); never in production.
    #[serde(default)]
    pub allow_http_homeservers: bool,
}

/// Mastodon: any instance the user names.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MastodonSettings {
    /// Offer Mastodon.
    #[serde(default)]
    pub enabled: bool,
    /// Accept instances on plain `http://` and on loopback or private
    /// addresses (a local sandbox); never in production.
    #[serde(default)]
    pub allow_http_instances: bool,
}

/// Bluesky: offered when a service is set (this machine reaches no real one).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlueskySettings {
    /// The PDS or entryway to sign in at, e.g. `https://bsky.social`; unset:
    /// Bluesky is not offered.
    #[serde(default)]
    pub service_url: Option<url::Url>,
    /// The PLC directory that says which PDS a `did:plc` account lives on;
    /// each connection then talks to its own PDS.
    #[serde(default = "default_plc_url")]
    pub plc_url: Option<url::Url>,
    /// Which pages a post's link card may be read from.
    #[serde(default)]
    pub link_cards: LinkCards,
}

impl Default for BlueskySettings {
    fn default() -> Self {
        Self {
            service_url: None,
            plc_url: default_plc_url(),
            link_cards: LinkCards::default(),
        }
    }
}

fn default_plc_url() -> Option<url::Url> {
    url::Url::parse("https://plc.directory/").ok()
}

/// Which pages link cards may read (the URL is the user's: reading any
/// address would let a post probe the network Prasaran runs in).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkCards {
    /// No cards.
    Off,
    /// Pages on public addresses only.
    #[default]
    Public,
    /// Also loopback and private addresses: for tests and closed networks.
    AnyAddress,
}

/// Where Manch is and who Prasaran is to it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManchSettings {
    /// Manch's base URL. Unset in dev: the sandbox is started beside the app and
    /// used (with its own client id and secret). Unset in production: an error.
    #[serde(default)]
    pub base_url: Option<url::Url>,
    /// OAuth client id registered at Manch.
    pub client_id: String,
    /// OAuth client secret (environment only: PRASARAN__PLATFORMS__MANCH__CLIENT_SECRET).
    #[serde(default)]
    pub client_secret: Option<SecretString>,
}

/// How secrets at rest are protected.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySettings {
    /// Which provider wraps new data keys: `local` (a master key file) or
    /// `kms` (AWS KMS). Blobs of the other provider stay readable while the
    /// local key is configured; `prasaran keys rotate` moves them over.
    pub provider: KeyProviderKind,
    pub local: LocalKeySettings,
    pub kms: KmsSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyProviderKind {
    Local,
    Kms,
}

/// AWS KMS for wrapping data keys. Credentials come from the standard AWS
/// environment variables and profiles, never from these files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KmsSettings {
    /// Key id, ARN or alias (`alias/prasaran`). Required when `keys.provider = "kms"`.
    #[serde(default)]
    pub key_id: Option<String>,
    /// A local stand-in such as moto_server; unset means the AWS endpoint of `region`.
    #[serde(default)]
    pub endpoint_url: Option<url::Url>,
    pub region: String,
    /// How long an unwrapped data key is kept in memory to spare KMS calls.
    pub data_key_cache_secs: u32,
}

/// What a `serve` process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Api,
    Worker,
    All,
}

impl Role {
    /// Accepts publishes and serves the user API.
    pub fn serves_api(self) -> bool {
        matches!(self, Role::Api | Role::All)
    }

    /// Runs tasks: platform workers, the scheduler, the queue ingress.
    pub fn runs_tasks(self) -> bool {
        matches!(self, Role::Worker | Role::All)
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "api" => Ok(Role::Api),
            "worker" => Ok(Role::Worker),
            "all" => Ok(Role::All),
            other => Err(format!("unknown role `{other}`: use api, worker or all")),
        }
    }
}

/// How accepted tasks reach the processes that run them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSettings {
    /// `in_process`: the accepting process runs its tasks (one machine).
    /// `sqs`: tasks go through an SQS queue to worker processes (`serve --role worker`).
    pub kind: QueueKind,
    pub sqs: SqsSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueKind {
    InProcess,
    Sqs,
}

/// The SQS queue of task messages (ids only; Postgres holds the truth).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqsSettings {
    /// The queue's URL. Required when `queue.kind = "sqs"`. Give it a redrive
    /// policy to a dead-letter queue: malformed messages are left for it.
    #[serde(default)]
    pub queue_url: Option<url::Url>,
    /// A local stand-in such as moto_server; unset means the AWS endpoint of `region`.
    #[serde(default)]
    pub endpoint_url: Option<url::Url>,
    pub region: String,
    /// Long-poll wait of each receive (0–20 s).
    pub wait_time_secs: u8,
    /// The queue's visibility timeout; messages still in work are extended before it runs out.
    pub visibility_timeout_secs: NonZeroU32,
    /// Tasks a worker process holds in work at once; it stops receiving beyond this (backpressure).
    pub max_in_flight: NonZeroU32,
    /// Receive calls in flight at once per worker process.
    pub receivers: NonZeroU32,
    /// Tasks announced per message (1–100): fewer, fuller messages cost fewer
    /// SQS requests; a message is deleted once all its tasks are settled.
    pub tasks_per_message: NonZeroU32,
    /// A message whose task another process holds comes back after this long.
    pub busy_retry_secs: u32,
    /// On shutdown, in-flight work gets this long to finish before it is released.
    pub shutdown_grace_secs: u32,
    /// Messages the relay lets wait in the queue at most: beyond it, the
    /// backlog stays in PostgreSQL (cheap, ordered) and is sent as workers
    /// take what is queued, so the queue carries a window, not the backlog.
    pub max_queued_messages: NonZeroU32,
}

/// The local master key (base64 of 32 bytes).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalKeySettings {
    /// The current master key, base64 (environment only).
    #[serde(default)]
    pub master_key: Option<SecretString>,
    /// File holding the current master key. Dev, when neither is set: generated
    /// into `<data_dir>/master.key` (0600). Production refuses to start without one.
    #[serde(default)]
    pub master_key_file: Option<PathBuf>,
    /// Files of earlier master keys, still needed to open blobs until
    /// `prasaran keys rotate` has re-wrapped them under the current key.
    #[serde(default)]
    pub retired_key_files: Vec<PathBuf>,
}

/// The outbound HTTP client adapters use.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpClientSettings {
    /// Time to establish a connection.
    pub connect_timeout_ms: NonZeroU32,
    /// Time for a whole request, answer included.
    pub timeout_ms: NonZeroU32,
}

/// The dev-mode Manch sandbox started beside the app.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxSettings {
    /// Where the embedded sandbox listens; port 0 picks a free one.
    pub bind: SocketAddr,
    /// Where a Mastodon sandbox listens beside the app in dev (when Mastodon
    /// is offered); unset: none is started.
    #[serde(default)]
    pub mastodon_bind: Option<SocketAddr>,
    /// Keep the Manch sandbox's accounts, grants, tokens (by hash) and posts
    /// in `<data_dir>/sandbox/manch.json` across restarts (dev), so connected
    /// accounts stay connected.
    #[serde(default)]
    pub keep_state: bool,
}

/// The publishing engine: retries, leases, per-connection limits, scheduling.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSettings {
    /// Attempts per task before it fails (rate-limited calls do not count).
    pub max_attempts: NonZeroU32,
    /// First retry delay; doubles per attempt, with full jitter.
    pub backoff_base_ms: NonZeroU32,
    /// Longest retry delay.
    pub backoff_cap_ms: NonZeroU32,
    /// How long a claimed task belongs to this process before another may recover it.
    /// Must exceed the longest platform call (http_client.timeout_ms) plus a token refresh.
    pub lease_secs: NonZeroU32,
    /// Platform calls in flight per connection.
    pub worker_concurrency: NonZeroU32,
    /// Threads (actix arbiters) the PlatformWorkers are spread over; 0 means one per core.
    pub worker_arbiters: usize,
    /// Calls per second per connection before the platform has said anything.
    pub rate_limit_per_s: NonZeroU32,
    /// A worker with nothing to do for this long stops (it is restarted on demand).
    pub idle_stop_secs: NonZeroU32,
    /// How often the scheduler looks for due tasks (scheduled posts, orphaned retries).
    pub scheduler_tick_ms: NonZeroU32,
    /// sqs mode: a task whose announcement was sent this long ago and never ran
    /// (a lost message) is announced again. (In-process, tasks a live process
    /// holds are never handed out twice; a dead process's are released.)
    pub stale_dispatch_secs: NonZeroU32,
    /// Tasks one user may have waiting to run (due now, not yet final); a
    /// publish beyond it answers `429 backlog_full` with `Retry-After`, so one
    /// user's burst cannot grow everyone's completion latency without bound.
    pub max_user_backlog: NonZeroU32,
    /// Live event streams (`GET /api/v1/jobs/{id}/events`) one user may hold open at once.
    pub max_streams_per_user: NonZeroU32,
    /// A scheduled post found this overdue at start-up is marked `missed`, not published.
    pub missed_grace_secs: NonZeroU32,
    /// Refresh an access token this long before it expires.
    pub refresh_before_expiry_secs: NonZeroU32,
    /// Dev and tests only: a post whose content contains this text makes the
    /// worker panic once inside the platform call (to prove supervision works).
    #[serde(default)]
    pub panic_marker: Option<String>,
}
