//! Connecting platform accounts: the OAuth2 authorization-code flow with PKCE,
//! sealing tokens at rest, listing and disconnecting. Sits between the HTTP
//! handlers and the adapters, crypto and persistence.

pub mod rotation;
mod tokens;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use url::Url;

use crate::adapters::{
    Account, AdapterError, AuthorizeRequest, Binding, CodeExchange, ConnectKind, Credentials,
    PlatformAdapter, Registry, TokenSet,
};
use crate::crypto::{Aad, CryptoError, Keyring, open, seal};
use crate::domain::UserId;
use crate::domain::{ConnectionId, Destination, carry_over};
use crate::persistence::StoreError;
use crate::persistence::connections::{self, Connection, NewConnection};
use crate::persistence::oauth_states::{self, NewState, StateRefusal, StateSecret};
use crate::persistence::platform_clients::{self, ClientKey};

pub use tokens::{TokenKind, open_token, seal_token};

/// How long a user has to approve at the platform.
const STATE_TTL_MINUTES: i64 = 10;
/// Attempts at storing a connection when concurrent connects race for its row.
const UPSERT_ATTEMPTS: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("unknown platform `{0}`")]
    UnknownPlatform(String),
    #[error("the callback has no state parameter")]
    StateMissing,
    #[error("the authorization state is not usable: {0:?}")]
    State(StateRefusal),
    /// The user said no at the platform (or the platform refused).
    #[error("the platform did not authorize: {reason}")]
    Denied { code: String, reason: String },
    #[error("the callback has no authorization code")]
    CodeMissing,
    #[error("the platform refused the exchange: {0}")]
    Exchange(AdapterError),
    #[error("no such connection")]
    NotFound,
    /// The platform asks which of its servers the account is on.
    #[error("{0} needs the server your account is on (e.g. mastodon.social)")]
    ServerRequired(String),
    #[error("that server cannot be used: {0}")]
    InvalidServer(String),
    /// The platform connects through its own page, not with credentials.
    #[error("{0} connects through its own sign-in page")]
    NotCredentials(String),
    #[error("{0}")]
    InvalidDestination(String),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub(crate) fn client_aad(key: &ClientKey<'_>) -> Aad {
    Aad::new("platform_clients", key.label(), "secret")
}

fn state_aad(hash: &[u8], secret: StateSecret) -> Aad {
    Aad::new("oauth_states", hex::encode(hash), secret.column())
}

/// A credentials sign-in as the user typed it.
pub struct SignIn<'a> {
    pub identifier: &'a str,
    pub password: SecretString,
    /// The server, for platforms where the user may name one (Matrix).
    pub server: Option<&'a str>,
}

/// What is kept with a connection besides its tokens and account.
struct Stored<'a> {
    grant_secret: Option<&'a SecretString>,
    limits: Option<&'a serde_json::Value>,
    destinations: Option<&'a [Destination]>,
}

/// What the platform appended to the redirect URI.
#[derive(Debug, Default)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub issuer: Option<String>,
}

/// One platform and the user's connections to it.
pub struct PlatformState {
    pub adapter: Arc<dyn PlatformAdapter>,
    pub connections: Vec<Connection>,
}

#[derive(Clone)]
pub struct Connections {
    pool: PgPool,
    registry: Registry,
    keyring: Keyring,
    /// This server's public URL; callbacks are `<public>/api/v1/oauth/<platform>/callback`.
    public_url: PublicUrl,
}

/// The server's public URL, and whether an operator configured it. When not,
/// a loopback origin the browser used is preferred, so its session cookie
/// (bound to the host name it typed) comes back with the callback.
#[derive(Debug, Clone)]
pub struct PublicUrl {
    pub url: Url,
    pub configured: bool,
}

fn state_hash(state: &str) -> Vec<u8> {
    Sha256::digest(state.as_bytes()).to_vec()
}

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Connections {
    pub fn new(pool: PgPool, registry: Registry, keyring: Keyring, public_url: PublicUrl) -> Self {
        Self {
            pool,
            registry,
            keyring,
            public_url,
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    fn adapter(&self, platform_id: &str) -> Result<&Arc<dyn PlatformAdapter>, ConnectError> {
        self.registry
            .get(platform_id)
            .ok_or_else(|| ConnectError::UnknownPlatform(platform_id.to_owned()))
    }

    /// Prasaran's registration at `service`: the one made before, or a new one
    /// (kept sealed, so every later connect to that server reuses it).
    async fn client_at(
        &self,
        adapter: &dyn PlatformAdapter,
        platform_id: &str,
        service: &Url,
        redirect_uri: &Url,
    ) -> Result<SecretString, ConnectError> {
        let key = ClientKey {
            platform_id,
            service_url: service.as_str(),
            redirect_uri: redirect_uri.as_str(),
        };
        let aad = client_aad(&key);
        let sealed = match platform_clients::find(&self.pool, key).await? {
            Some(sealed) => sealed,
            None => {
                let secret = adapter
                    .register_client(service, redirect_uri)
                    .await
                    .map_err(ConnectError::Exchange)?;
                tracing::info!(platform = platform_id, service = %service, "registered Prasaran at a new server");
                let sealed = seal(&self.keyring, secret.expose_secret().as_bytes(), &aad).await?;
                platform_clients::keep(&self.pool, key, sealed).await?
            }
        };
        let secret = open(&self.keyring, &sealed, &aad).await?;
        Ok(SecretString::from(
            String::from_utf8_lossy(&secret).into_owned(),
        ))
    }

    /// The platform's OAuth client metadata for this deployment, if it has one.
    pub fn client_metadata(
        &self,
        platform_id: &str,
    ) -> Result<Option<serde_json::Value>, ConnectError> {
        let adapter = self.adapter(platform_id)?;
        Ok(adapter.client_metadata(&self.redirect_uri(platform_id, None)?))
    }

    fn redirect_uri(&self, platform_id: &str, origin: Option<Url>) -> Result<Url, ConnectError> {
        let base = match origin {
            Some(origin) if !self.public_url.configured => origin,
            _ => self.public_url.url.clone(),
        };
        base.join(&format!("api/v1/oauth/{platform_id}/callback"))
            .map_err(|_| ConnectError::UnknownPlatform(platform_id.to_owned()))
    }

    /// Starts a connection: stores a single-use state with its PKCE verifier
    /// (sealed) and returns the platform's consent URL. `origin` is the loopback
    /// origin the browser used, if any.
    #[tracing::instrument(skip_all, fields(user_id = %user, platform = platform_id))]
    pub async fn authorize(
        &self,
        user: UserId,
        platform_id: &str,
        origin: Option<Url>,
        server: Option<&str>,
    ) -> Result<Url, ConnectError> {
        let adapter = self.adapter(platform_id)?;
        let redirect_uri = self.redirect_uri(platform_id, origin)?;
        let (service, client) = if adapter.asks_for_server() {
            let typed = server
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| ConnectError::ServerRequired(adapter.display_name().to_owned()))?;
            let invalid = |e| match e {
                AdapterError::Rejected { reason } => ConnectError::InvalidServer(reason),
                other => ConnectError::Exchange(other),
            };
            let service = adapter.server_of(typed).map_err(invalid)?;
            adapter.check_server(&service).await.map_err(invalid)?;
            let client = self
                .client_at(adapter.as_ref(), platform_id, &service, &redirect_uri)
                .await?;
            (Some(service), Some(client))
        } else {
            (None, None)
        };
        let state = random_secret();
        let verifier = SecretString::from(random_secret());
        // Asked first: some platforms make a call here (a pushed request) and
        // hand back a secret the grant will need, kept with the state.
        let authorization = adapter
            .authorize(&AuthorizeRequest {
                service: service.as_ref(),
                client: client.as_ref(),
                state: &state,
                pkce_verifier: &verifier,
                redirect_uri: &redirect_uri,
            })
            .await
            .map_err(ConnectError::Exchange)?;
        let hash = state_hash(&state);
        let sealed = seal(
            &self.keyring,
            verifier.expose_secret().as_bytes(),
            &state_aad(&hash, StateSecret::PkceVerifier),
        )
        .await?;
        let grant_secret = match &authorization.grant_secret {
            Some(key) => Some(
                seal(
                    &self.keyring,
                    key.expose_secret().as_bytes(),
                    &state_aad(&hash, StateSecret::GrantSecret),
                )
                .await?,
            ),
            None => None,
        };
        oauth_states::insert(
            &self.pool,
            NewState {
                state_hash: &hash,
                user_id: user,
                platform_id,
                pkce_verifier: sealed,
                grant_secret,
                redirect_uri: redirect_uri.as_str(),
                expires_at: Utc::now() + Duration::minutes(STATE_TTL_MINUTES),
            },
        )
        .await?;
        Ok(authorization.url)
    }

    /// Finishes a connection from the platform's redirect. A bad state stops
    /// here, before any call to the platform.
    #[tracing::instrument(skip_all, fields(user_id = %user, platform = platform_id))]
    pub async fn complete(
        &self,
        user: UserId,
        platform_id: &str,
        params: CallbackParams,
    ) -> Result<Connection, ConnectError> {
        let adapter = self.adapter(platform_id)?;
        let state = params
            .state
            .filter(|s| !s.is_empty())
            .ok_or(ConnectError::StateMissing)?;
        let hash = state_hash(&state);
        let consumed = oauth_states::consume(&self.pool, &hash, user, platform_id)
            .await?
            .map_err(ConnectError::State)?;
        if let Some(code) = params.error {
            let reason = params
                .error_description
                .unwrap_or_else(|| format!("{} answered `{code}`", adapter.display_name()));
            return Err(ConnectError::Denied { code, reason });
        }
        let code = params
            .code
            .filter(|c| !c.is_empty())
            .ok_or(ConnectError::CodeMissing)?;
        let verifier = open(
            &self.keyring,
            &consumed.pkce_verifier,
            &state_aad(&hash, StateSecret::PkceVerifier),
        )
        .await?;
        let verifier = SecretString::from(String::from_utf8_lossy(&verifier).into_owned());
        let grant_secret = match &consumed.grant_secret {
            Some(blob) => {
                let key = open(
                    &self.keyring,
                    blob,
                    &state_aad(&hash, StateSecret::GrantSecret),
                )
                .await?;
                Some(SecretString::from(
                    String::from_utf8_lossy(&key).into_owned(),
                ))
            }
            None => None,
        };
        let redirect_uri =
            Url::parse(&consumed.redirect_uri).map_err(|_| ConnectError::StateMissing)?;

        let tokens = adapter
            .exchange_code(&CodeExchange {
                code: &code,
                pkce_verifier: &verifier,
                redirect_uri: &redirect_uri,
                issuer: params.issuer.as_deref(),
                grant_secret: grant_secret.as_ref(),
            })
            .await
            .map_err(ConnectError::Exchange)?;
        // Asked where the tokens belong, with the secret the grant needs.
        let bound = adapter
            .bind(&Binding {
                service: tokens.service.as_ref(),
                grant_secret: grant_secret.as_ref(),
            })
            .unwrap_or_else(|| adapter.clone());
        let account = bound
            .account(&tokens.access_token)
            .await
            .map_err(ConnectError::Exchange)?;
        let limits = match bound.limits(&tokens.access_token).await {
            Ok(limits) => limits,
            Err(error) => {
                // The platform's defaults apply until the next connect.
                tracing::warn!(%error, "the server's limits could not be read");
                None
            }
        };
        self.store(
            user,
            platform_id,
            &tokens,
            &account,
            Stored {
                grant_secret: grant_secret.as_ref(),
                limits: limits.as_ref(),
                destinations: None,
            },
        )
        .await
    }

    /// Connects a credentials platform: the password is sent to the platform
    /// once, for tokens, and dropped; only the sealed tokens are stored. The
    /// same account connected before continues its grant where the platform
    /// keeps something per sign-in (a Matrix device).
    #[tracing::instrument(skip_all, fields(user_id = %user, platform = platform_id))]
    pub async fn sign_in(
        &self,
        user: UserId,
        platform_id: &str,
        sign_in: SignIn<'_>,
    ) -> Result<Connection, ConnectError> {
        let adapter = self.adapter(platform_id)?;
        if !adapter.connect_kinds().contains(&ConnectKind::Credentials) {
            return Err(ConnectError::NotCredentials(
                adapter.display_name().to_owned(),
            ));
        }
        if sign_in.server.is_some() && !adapter.sign_in_names_server() {
            return Err(ConnectError::InvalidServer(format!(
                "{} has one server; leave the server out",
                adapter.display_name()
            )));
        }
        let before =
            match connections::existing_id(&self.pool, user, platform_id, sign_in.identifier)
                .await?
            {
                Some(id) => self.previous_grant(user, id).await?,
                None => None,
            };
        let signed_in = adapter
            .sign_in(&Credentials {
                identifier: sign_in.identifier,
                password: &sign_in.password,
                server: sign_in.server,
                previous: before.as_ref().and_then(|(secret, _)| secret.as_ref()),
            })
            .await
            .map_err(ConnectError::Exchange)?;
        drop(sign_in.password);
        let destinations = adapter.has_destinations().then(|| {
            let picked = before
                .as_ref()
                .map(|(_, d)| d.as_slice())
                .unwrap_or_default();
            carry_over(signed_in.destinations, picked)
        });
        self.store(
            user,
            platform_id,
            &signed_in.tokens,
            &signed_in.account,
            Stored {
                grant_secret: signed_in.grant_secret.as_ref(),
                limits: None,
                destinations: destinations.as_deref(),
            },
        )
        .await
    }

    /// The grant secret and destinations of a connection being connected again.
    async fn previous_grant(
        &self,
        user: UserId,
        id: ConnectionId,
    ) -> Result<Option<(Option<SecretString>, Vec<Destination>)>, ConnectError> {
        let Some(connection) = connections::find_for_user(&self.pool, user, id).await? else {
            return Ok(None);
        };
        let secret = match connections::sealed_tokens(&self.pool, id)
            .await?
            .and_then(|t| t.grant_secret)
        {
            Some(blob) => Some(open_token(&self.keyring, id, TokenKind::GrantSecret, &blob).await?),
            None => None,
        };
        Ok(Some((secret, connection.destinations)))
    }

    /// Picks where posts to this connection go, among its destinations.
    #[tracing::instrument(skip_all, fields(user_id = %user, connection_id = %id))]
    pub async fn pick_destinations(
        &self,
        user: UserId,
        id: ConnectionId,
        picked: &[String],
    ) -> Result<Connection, ConnectError> {
        let connection = connections::find_for_user(&self.pool, user, id)
            .await?
            .ok_or(ConnectError::NotFound)?;
        let has = self
            .registry
            .get(&connection.platform_id)
            .is_some_and(|a| a.has_destinations());
        if !has {
            return Err(ConnectError::InvalidDestination(format!(
                "{} posts have no destinations to pick",
                connection.platform_id
            )));
        }
        if let Some(unknown) = picked
            .iter()
            .find(|p| !connection.destinations.iter().any(|d| &d.id == *p))
        {
            return Err(ConnectError::InvalidDestination(format!(
                "`{unknown}` is not one of this account's rooms; join it, then reconnect to list it"
            )));
        }
        let destinations: Vec<Destination> = connection
            .destinations
            .into_iter()
            .map(|d| Destination {
                selected: picked.contains(&d.id),
                ..d
            })
            .collect();
        connections::set_destinations(&self.pool, user, id, &destinations)
            .await?
            .ok_or(ConnectError::NotFound)
    }

    /// Seals the tokens and stores the connection (a new one, or the same
    /// account connected again).
    async fn store(
        &self,
        user: UserId,
        platform_id: &str,
        tokens: &TokenSet,
        account: &Account,
        stored: Stored<'_>,
    ) -> Result<Connection, ConnectError> {
        let Stored {
            grant_secret,
            limits,
            destinations,
        } = stored;
        for _ in 0..UPSERT_ATTEMPTS {
            let id = connections::existing_id(&self.pool, user, platform_id, &account.id)
                .await?
                .unwrap_or_else(|| ConnectionId(uuid::Uuid::new_v4()));
            let access =
                seal_token(&self.keyring, id, TokenKind::Access, &tokens.access_token).await?;
            let refresh = match &tokens.refresh_token {
                Some(token) => {
                    Some(seal_token(&self.keyring, id, TokenKind::Refresh, token).await?)
                }
                None => None,
            };
            let grant_secret = match grant_secret {
                Some(key) => {
                    Some(seal_token(&self.keyring, id, TokenKind::GrantSecret, key).await?)
                }
                None => None,
            };
            let stored = connections::upsert(
                &self.pool,
                NewConnection {
                    id,
                    user_id: user,
                    platform_id,
                    external_account_id: &account.id,
                    handle: &account.handle,
                    display_name: &account.display_name,
                    access_token: access,
                    refresh_token: refresh,
                    grant_secret,
                    expires_at: tokens.expires_at,
                    scopes: &tokens.scopes,
                    service_url: account.service.as_ref().map(Url::as_str),
                    limits,
                    destinations,
                },
            )
            .await?;
            if let Some(connection) = stored {
                tracing::info!(connection_id = %connection.id, "platform account connected");
                return Ok(connection);
            }
        }
        Err(ConnectError::Store(StoreError::Duplicate("connection")))
    }

    pub async fn list(&self, user: UserId) -> Result<Vec<Connection>, ConnectError> {
        Ok(connections::list_for_user(&self.pool, user).await?)
    }

    /// Every registered platform with this user's connections to it.
    pub async fn platforms(&self, user: UserId) -> Result<Vec<PlatformState>, ConnectError> {
        let all = self.list(user).await?;
        Ok(self
            .registry
            .all()
            .map(|adapter| PlatformState {
                adapter: adapter.clone(),
                connections: all
                    .iter()
                    .filter(|c| c.platform_id == adapter.id())
                    .cloned()
                    .collect(),
            })
            .collect())
    }

    /// Revokes the grant at the platform (best effort: the local tokens are
    /// wiped either way), then marks the connection revoked.
    #[tracing::instrument(skip_all, fields(user_id = %user, connection_id = %id))]
    pub async fn disconnect(
        &self,
        user: UserId,
        id: ConnectionId,
    ) -> Result<(Connection, Revocation), ConnectError> {
        let connection = connections::find_for_user(&self.pool, user, id)
            .await?
            .ok_or(ConnectError::NotFound)?;
        // The row lock is the one a token refresh holds across its platform
        // call: taking it waits for a refresh in flight, so the tokens read
        // here are the newest, and no refresh can start until the row says
        // revoked. Otherwise a refresh finishing after the revocation would
        // leave a live grant at the platform.
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        let mut revocation = Revocation::NotNeeded;
        if let Some(sealed) = connections::lock_tokens(&mut tx, id).await? {
            let grant_secret = match &sealed.grant_secret {
                Some(blob) => {
                    Some(open_token(&self.keyring, id, TokenKind::GrantSecret, blob).await?)
                }
                None => None,
            };
            let adapter = self.registry.for_connection(
                &connection.platform_id,
                connection.service_url.as_deref(),
                grant_secret.as_ref(),
            );
            // Revoking the refresh token ends the whole grant; fall back to the access token.
            let (kind, blob) = match (sealed.refresh_token, sealed.access_token) {
                (Some(refresh), _) => (TokenKind::Refresh, Some(refresh)),
                (None, access) => (TokenKind::Access, access),
            };
            if let (Some(adapter), Some(blob)) = (adapter, blob) {
                let token = open_token(&self.keyring, id, kind, &blob).await?;
                revocation = revoke_with_retries(adapter.as_ref(), &token).await;
            }
        }
        connections::mark_revoked(&mut tx, id).await?;
        tx.commit().await.map_err(StoreError::from)?;
        tracing::info!(?revocation, "connection revoked");
        let connection = connections::find_for_user(&self.pool, user, id)
            .await?
            .ok_or(ConnectError::NotFound)?;
        Ok((connection, revocation))
    }
}

/// What the platform said when asked to end the grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// The platform ended the grant.
    Revoked,
    /// Nothing to revoke (no tokens held, or a platform without revocation).
    NotNeeded,
    /// The platform could not be reached or refused, after retries; the local
    /// tokens are wiped anyway, and the user is told to end it there.
    Failed(String),
}

/// Attempts at revoking, and the pauses before the second and third.
const REVOKE_PAUSES: [std::time::Duration; 2] = [
    std::time::Duration::from_millis(250),
    std::time::Duration::from_secs(1),
];

async fn revoke_with_retries(
    adapter: &dyn crate::adapters::PlatformAdapter,
    token: &secrecy::SecretString,
) -> Revocation {
    let mut pauses = REVOKE_PAUSES.iter();
    loop {
        match adapter.revoke(token).await {
            Ok(()) => return Revocation::Revoked,
            Err(error) => match pauses.next() {
                Some(pause) => {
                    tracing::warn!(%error, "revoking at the platform failed; trying again");
                    tokio::time::sleep(*pause).await;
                }
                None => {
                    tracing::warn!(%error, "revoking at the platform failed; wiping local tokens anyway");
                    return Revocation::Failed(error.to_string());
                }
            },
        }
    }
}
