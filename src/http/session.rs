//! Cookie sessions: the middleware configuration, and the extractor that
//! requires a logged-in user and, for state-changing requests, the CSRF token.

use std::time::Duration;

use actix_session::config::{CookieContentSecurity, PersistentSession, TtlExtensionPolicy};
use actix_session::{Session, SessionExt, SessionMiddleware};
use actix_web::cookie::{Key, SameSite};
use actix_web::{FromRequest, HttpRequest, dev::Payload};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::{ApiError, ErrorCode};
use crate::domain::{Scopes, UserId};
use crate::persistence::sessions::{
    AUTHENTICATED_AT_KEY, CSRF_KEY, IP_KEY, PgSessionStore, USER_AGENT_KEY, USER_ID_KEY,
};
use crate::settings::SessionSettings;

pub const CSRF_HEADER: &str = "X-CSRF-Token";

pub fn middleware(
    store: PgSessionStore,
    key: &[u8],
    settings: &SessionSettings,
) -> SessionMiddleware<PgSessionStore> {
    let idle =
        actix_web::cookie::time::Duration::minutes(i64::from(settings.idle_timeout_minutes.get()));
    SessionMiddleware::builder(store, Key::from(key))
        .cookie_name(settings.cookie_name.clone())
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .cookie_secure(settings.cookie_secure)
        .cookie_path("/".into())
        .cookie_content_security(CookieContentSecurity::Private)
        // Extending on every request is what makes the idle timeout an idle timeout.
        .session_lifecycle(
            PersistentSession::default()
                .session_ttl(idle)
                .session_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
        )
        .build()
}

pub fn absolute_lifetime(settings: &SessionSettings) -> Duration {
    Duration::from_secs(u64::from(settings.absolute_lifetime_hours.get()) * 3600)
}

/// Longest user agent kept with a session.
const MAX_USER_AGENT: usize = 256;

/// Starts a fresh session for `user` (new id, so a planted id is useless) and
/// returns its CSRF token. Where it came from is kept for the user's list of
/// their sessions.
pub fn log_in(session: &Session, request: &HttpRequest, user: UserId) -> Result<String, ApiError> {
    session.renew();
    let token = new_csrf_token();
    let ip = super::client_ip::client_ip(request).map(|ip| ip.to_string());
    let agent: Option<String> = request
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.chars()
                .filter(|c| !c.is_control())
                .take(MAX_USER_AGENT)
                .collect()
        });
    session
        .insert(USER_ID_KEY, user)
        .and_then(|()| session.insert(CSRF_KEY, &token))
        .and_then(|()| session.insert(IP_KEY, ip))
        .and_then(|()| session.insert(USER_AGENT_KEY, agent))
        .map_err(ApiError::internal)?;
    mark_authenticated(session)?;
    Ok(token)
}

/// Records that the password was given just now.
pub fn mark_authenticated(session: &Session) -> Result<(), ApiError> {
    session
        .insert(AUTHENTICATED_AT_KEY, chrono::Utc::now().timestamp())
        .map_err(ApiError::internal)
}

/// How long ago the password was last given in this session; None when it
/// never was (a session from before this was recorded counts as long ago).
pub fn since_authenticated(session: &Session) -> Option<Duration> {
    let at = session.get::<i64>(AUTHENTICATED_AT_KEY).ok().flatten()?;
    let elapsed = chrono::Utc::now().timestamp().saturating_sub(at);
    Some(Duration::from_secs(u64::try_from(elapsed).unwrap_or(0)))
}

pub fn csrf_token(session: &Session) -> Result<Option<String>, ApiError> {
    session.get::<String>(CSRF_KEY).map_err(ApiError::internal)
}

fn new_csrf_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The caller: a personal API token (`Authorization: Bearer …`, no CSRF needed)
/// or a cookie session. Rejects with 401 when there is neither, and with 403
/// `csrf_failed` when a cookie-authenticated state-changing request lacks the
/// session's CSRF token in `X-CSRF-Token`.
#[derive(Debug, Clone, Copy)]
pub struct CurrentUser {
    pub id: UserId,
    /// What authenticated this request; long-lived responses (event streams)
    /// end when it ends.
    pub credential: Credential,
    /// What the caller may do: everything for a session, the token's scopes
    /// for an API token (checked per route by [`super::scopes`]).
    pub scopes: Scopes,
}

/// A session or an API token, named without revealing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// SHA-256 of the session's CSRF token (unique per session, never sent back).
    Session([u8; 32]),
    /// The API token's id.
    Token(uuid::Uuid),
}

impl Credential {
    /// How the change feed names it when it ends (see migration `change_feed`).
    pub fn feed_key(&self) -> String {
        match self {
            Credential::Session(hash) => format!("session:{}", hex::encode(hash)),
            Credential::Token(id) => format!("token:{id}"),
        }
    }
}

impl CurrentUser {
    fn from_session(request: &HttpRequest) -> Result<Self, ApiError> {
        let session = request.get_session();
        let user = session
            .get::<UserId>(USER_ID_KEY)
            .map_err(ApiError::internal)?
            .ok_or_else(ApiError::unauthenticated)?;
        let expected = csrf_token(&session)?.unwrap_or_default();
        let credential = Credential::Session(Sha256::digest(expected.as_bytes()).into());
        if !request.method().is_safe() {
            let sent = request
                .headers()
                .get(CSRF_HEADER)
                .map(|v| v.as_bytes())
                .unwrap_or_default();
            let matches = !expected.is_empty() && bool::from(sent.ct_eq(expected.as_bytes()));
            if !matches {
                return Err(ApiError::new(
                    ErrorCode::CsrfFailed,
                    "missing or wrong X-CSRF-Token header: send the csrf_token from login or GET /api/v1/me",
                ));
            }
        }
        Ok(Self {
            id: user,
            credential,
            scopes: Scopes::all(),
        })
    }
}

/// The bearer token of the request, if it carries one.
fn bearer(request: &HttpRequest) -> Option<String> {
    let value = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?;
    let value = value.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(|t| t.trim().to_owned())
}

impl FromRequest for CurrentUser {
    type Error = ApiError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(token) = bearer(request) else {
            let user = Self::from_session(request);
            return Box::pin(async move { user });
        };
        let rule = super::scopes::rule(request.method(), &request.match_pattern());
        let pool = request
            .app_data::<actix_web::web::Data<sqlx::PgPool>>()
            .cloned();
        let cache = request
            .app_data::<actix_web::web::Data<super::tokens::TokenCache>>()
            .cloned();
        Box::pin(async move {
            let (Some(pool), Some(cache)) = (pool, cache) else {
                return Err(ApiError::internal(anyhow::anyhow!(
                    "token authentication is not configured"
                )));
            };
            let hash = super::tokens::token_hash(&token);
            match cache.authenticate(&pool, hash).await? {
                Some(token) => {
                    rule.allows(token.scopes)?;
                    Ok(Self {
                        id: token.user,
                        credential: Credential::Token(token.id),
                        scopes: token.scopes,
                    })
                }
                None => Err(ApiError::new(
                    ErrorCode::InvalidToken,
                    "the API token is unknown, expired or revoked; create one with POST /api/v1/tokens",
                )),
            }
        })
    }
}
