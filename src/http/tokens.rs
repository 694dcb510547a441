//! `/api/v1/tokens`: personal API tokens for scripts and load testers. The
//! token is shown once; only its SHA-256 is stored.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_session::Session;
use actix_web::{HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody, ErrorCode};
use super::json_object::Object;
use super::session::{self, Credential, CurrentUser};
use crate::accounts::Accounts;
use crate::domain::{Password, Scope, Scopes, UserId};
use crate::persistence::api_tokens::{self, ApiToken, Authenticated};

const PREFIX: &str = "prs_";
/// How long a process trusts a token it has checked. A token revoked through
/// another process stops working here within this time; through this one, at once.
const CACHE_TTL: Duration = Duration::from_secs(10);
/// How long a token found unknown is remembered as such, so a flood of
/// made-up tokens costs no query each. A real token is never unknown (it
/// exists before it is shown), so this delays nothing legitimate.
const UNKNOWN_TTL: Duration = Duration::from_secs(60);
/// Entries kept per map before stale ones are swept (and, if all are fresh,
/// the map is emptied: forgetting costs a query, never correctness).
const MAX_ENTRIES: usize = 10_000;
/// Expiry when the creator names none.
const DEFAULT_EXPIRY_DAYS: u32 = 90;
const MAX_EXPIRY_DAYS: u32 = 365;
/// A cookie session older than this gives the password again to mint a token.
const REAUTH_AFTER: Duration = Duration::from_secs(600);

#[derive(Default)]
struct Entries {
    known: HashMap<Vec<u8>, (Authenticated, Instant)>,
    unknown: HashMap<Vec<u8>, Instant>,
}

/// Recently checked tokens, so a busy script costs no query per request.
#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<Entries>,
}

impl TokenCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The live token, from memory or the database.
    pub async fn authenticate(
        &self,
        pool: &PgPool,
        hash: Vec<u8>,
    ) -> Result<Option<Authenticated>, crate::persistence::StoreError> {
        {
            let entries = self.lock();
            if let Some((token, at)) = entries.known.get(&hash)
                && at.elapsed() < CACHE_TTL
                && token.expires_at.is_none_or(|t| t > Utc::now())
            {
                return Ok(Some(*token));
            }
            if entries
                .unknown
                .get(&hash)
                .is_some_and(|at| at.elapsed() < UNKNOWN_TTL)
            {
                return Ok(None);
            }
        }
        let found = api_tokens::authenticate(pool, &hash).await?;
        let mut entries = self.lock();
        match found {
            Some(token) => {
                if entries.known.len() >= MAX_ENTRIES {
                    entries.known.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
                    if entries.known.len() >= MAX_ENTRIES {
                        entries.known.clear();
                    }
                }
                entries.unknown.remove(&hash);
                entries.known.insert(hash, (token, Instant::now()));
            }
            None => {
                entries.known.remove(&hash);
                if entries.unknown.len() >= MAX_ENTRIES {
                    entries.unknown.retain(|_, at| at.elapsed() < UNKNOWN_TTL);
                    if entries.unknown.len() >= MAX_ENTRIES {
                        entries.unknown.clear();
                    }
                }
                entries.unknown.insert(hash, Instant::now());
            }
        }
        Ok(found)
    }

    fn forget(&self, id: uuid::Uuid) {
        self.lock().known.retain(|_, (token, _)| token.id != id);
    }

    /// Forgets every token of `user` (after a password reset revoked them all).
    pub fn forget_user(&self, user: UserId) {
        self.lock().known.retain(|_, (token, _)| token.user != user);
    }
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[derive(Deserialize, ToSchema)]
/// Unknown fields are refused (422 `invalid_body` naming the field), never
/// silently dropped.
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, e.g. `load test`.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// What the token may do; default `posts:write`, `posts:read`,
    /// `connections`. A token may only grant scopes it has itself.
    #[serde(default)]
    #[schema(min_items = 1)]
    pub scopes: Option<Vec<Scope>>,
    /// Days until the token stops working (1–365, default 90).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 365)]
    pub expires_in_days: Option<u32>,
    /// A token that never expires (until revoked). Not with `expires_in_days`.
    #[serde(default)]
    pub no_expiry: bool,
    /// The account password, needed when the session logged in more than
    /// ten minutes ago (`403 reauthentication_required` says so).
    #[serde(default)]
    #[schema(format = Password)]
    pub password: Option<String>,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .field("expires_in_days", &self.expires_in_days)
            .field("no_expiry", &self.no_expiry)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: uuid::Uuid,
    pub name: String,
    /// The first characters, to tell tokens apart.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    /// When it stops working; `null`: never (until revoked).
    pub expires_at: Option<DateTime<Utc>>,
    /// Past `expires_at`: it no longer works (revoke it to tidy the list).
    pub expired: bool,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<ApiToken> for TokenView {
    fn from(t: ApiToken) -> Self {
        Self {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            scopes: t.scopes.iter().collect(),
            created_at: t.created_at,
            expired: t.expires_at.is_some_and(|at| at <= Utc::now()),
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub view: TokenView,
    /// Send as `Authorization: Bearer <token>`. Shown only now.
    pub token: String,
    /// Something to know about this token (e.g. that it never expires).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenView>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidBody, message)
}

/// Create a personal API token.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewToken,
    params(("X-CSRF-Token" = Option<String>, Header, description = "The session's csrf_token (cookie sessions)")),
    responses(
        (status = 201, body = CreatedToken),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`csrf_failed`, `insufficient_scope` (the token lacks `tokens`, or a scope it would grant), `reauthentication_required` (send `password`) or `wrong_password`", body = ErrorBody),
        (status = 422, description = "`invalid_body`", body = ErrorBody),
        (status = 429, description = "`quota_exceeded` (`api_tokens`)", body = ErrorBody),
    ))]
pub async fn create(
    user: CurrentUser,
    body: web::Json<Object<NewToken>>,
    pool: web::Data<PgPool>,
    accounts: web::Data<Accounts>,
    quotas: web::Data<crate::quotas::Quotas>,
    session: Session,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner().0;
    let name = body.name.trim();
    // NUL cannot be stored in PostgreSQL text, and no control character
    // belongs in a name shown in a list.
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(invalid(
            "name must be 1 to 100 characters, without control characters",
        ));
    }
    let scopes: Scopes = match &body.scopes {
        Some(list) if list.is_empty() => {
            return Err(invalid(
                "scopes: name at least one (posts:write, posts:read, connections, tokens)",
            ));
        }
        Some(list) => list.iter().copied().collect(),
        None => Scope::DEFAULT.into_iter().collect(),
    };
    if !scopes.is_subset_of(user.scopes) {
        return Err(ApiError::new(
            ErrorCode::InsufficientScope,
            "a token can only grant the scopes it has itself",
        ));
    }
    let expires_at = match (body.no_expiry, body.expires_in_days) {
        (true, Some(_)) => {
            return Err(invalid(
                "give either expires_in_days or no_expiry, not both",
            ));
        }
        (true, None) => None,
        (false, days) => {
            let days = days.unwrap_or(DEFAULT_EXPIRY_DAYS);
            if !(1..=MAX_EXPIRY_DAYS).contains(&days) {
                return Err(invalid(format!(
                    "expires_in_days must be 1 to {MAX_EXPIRY_DAYS} (or no_expiry: true)"
                )));
            }
            Some(Utc::now() + chrono::Duration::days(i64::from(days)))
        }
    };
    if let Credential::Session(_) = user.credential {
        let recent = session::since_authenticated(&session).is_some_and(|d| d < REAUTH_AFTER);
        if !recent {
            let Some(password) = body.password else {
                return Err(ApiError::new(
                    ErrorCode::ReauthenticationRequired,
                    "you logged in more than ten minutes ago: enter your password again to create a token",
                ));
            };
            accounts
                .check_password(user.id, Password::unchecked(password))
                .await?;
            session::mark_authenticated(&session)?;
        }
    }
    quotas.admit_token(user.id).await?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let prefix: String = token.chars().take(PREFIX.len() + 6).collect();
    let stored = api_tokens::insert(
        &pool,
        api_tokens::NewToken {
            user: user.id,
            name,
            token_hash: &token_hash(&token),
            prefix: &prefix,
            scopes,
            expires_at,
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(CreatedToken {
        view: stored.into(),
        token,
        warning: body.no_expiry.then(|| {
            "this token never expires: it works until you revoke it. Prefer an expiry where you can".to_owned()
        }),
    }))
}

/// The user's unrevoked tokens, expired ones marked (never the tokens themselves).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses((status = 200, body = TokenList), (status = 401, body = ErrorBody)))]
pub async fn list(user: CurrentUser, pool: web::Data<PgPool>) -> Result<HttpResponse, ApiError> {
    let tokens = api_tokens::list(&pool, user.id).await?;
    Ok(HttpResponse::Ok().json(TokenList {
        tokens: tokens.into_iter().map(TokenView::from).collect(),
    }))
}

/// Revoke a token.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    user: CurrentUser,
    id: web::Path<uuid::Uuid>,
    pool: web::Data<PgPool>,
    cache: web::Data<TokenCache>,
) -> Result<HttpResponse, ApiError> {
    if api_tokens::revoke(&pool, user.id, *id).await? {
        cache.forget(*id);
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::new(ErrorCode::NotFound, "no such token"))
    }
}
