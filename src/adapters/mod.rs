//! Platform adapters: the only code that knows a social platform's API.
//!
//! Each platform is one module implementing [`PlatformAdapter`] plus one line
//! in [`registry::Registry::from_settings`]. Every call returns a typed
//! [`AdapterError`] the engine can act on without knowing the platform.

mod error;
pub mod http_client;
pub mod manch;
mod registry;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::Serialize;
use url::Url;

pub use error::AdapterError;
pub use registry::Registry;

/// Content limits of one platform, for validation and the composer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ContentRules {
    /// Longest post, in Unicode scalar values.
    pub max_chars: usize,
}

/// Tokens from an authorization-code exchange or a refresh.
pub struct TokenSet {
    pub access_token: SecretString,
    /// `None` when the platform sent none (then the old refresh token stays valid).
    pub refresh_token: Option<SecretString>,
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
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
}

/// A post as the platform stored it.
#[derive(Debug, Clone)]
pub struct PublishedPost {
    pub id: String,
    pub url: String,
}

/// What the authorize step needs to build the consent URL.
pub struct AuthorizeRequest<'a> {
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
    /// Checks content against the platform's rules before anything is queued.
    fn validate(&self, content: &str) -> Result<(), AdapterError>;
    /// The consent page URL (authorization code + PKCE S256).
    fn authorize_url(&self, request: &AuthorizeRequest<'_>) -> Result<Url, AdapterError>;
    async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: &SecretString,
        redirect_uri: &Url,
    ) -> Result<TokenSet, AdapterError>;
    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, AdapterError>;
    /// Who the token belongs to.
    async fn account(&self, access_token: &SecretString) -> Result<Account, AdapterError>;
    /// Publishes `content`; `idempotency_key` makes a retried call return the first post.
    async fn publish(
        &self,
        access_token: &SecretString,
        content: &str,
        idempotency_key: &str,
    ) -> Result<PublishedPost, AdapterError>;
    /// The post published under `idempotency_key`, if the platform has one.
    async fn find_post(
        &self,
        access_token: &SecretString,
        idempotency_key: &str,
    ) -> Result<Option<PublishedPost>, AdapterError>;
    /// Ends the grant behind `token` at the platform.
    async fn revoke(&self, token: &SecretString) -> Result<(), AdapterError>;
}
