//! `/api/v1/tokens`: personal API tokens for scripts and load testers. The
//! token is shown once; only its SHA-256 is stored.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
use super::session::CurrentUser;
use crate::domain::UserId;
use crate::persistence::api_tokens::{self, ApiToken};

const PREFIX: &str = "prs_";
/// How long a process trusts a token it has checked. A token revoked through
/// another process stops working here within this time; through this one, at once.
const CACHE_TTL: Duration = Duration::from_secs(10);

/// Recently checked tokens, so a busy script costs no query per request.
#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<Vec<u8>, (uuid::Uuid, UserId, Instant)>>,
}

impl TokenCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, (uuid::Uuid, UserId, Instant)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The token's id and owner, from memory or the database.
    pub async fn authenticate(
        &self,
        pool: &PgPool,
        hash: Vec<u8>,
    ) -> Result<Option<(uuid::Uuid, UserId)>, crate::persistence::StoreError> {
        if let Some((id, user, at)) = self.lock().get(&hash)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(Some((*id, *user)));
        }
        let found = api_tokens::authenticate(pool, &hash).await?;
        let mut entries = self.lock();
        if entries.len() > 10_000 {
            entries.retain(|_, (_, _, at)| at.elapsed() < CACHE_TTL);
        }
        match found {
            Some((id, user)) => {
                entries.insert(hash, (id, user, Instant::now()));
                Ok(Some((id, user)))
            }
            None => {
                entries.remove(&hash);
                Ok(None)
            }
        }
    }

    fn forget(&self, id: uuid::Uuid) {
        self.lock().retain(|_, (token, _, _)| *token != id);
    }
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[derive(Debug, Deserialize, ToSchema)]
/// Unknown fields are refused (422 `invalid_body` naming the field), never
/// silently dropped.
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, e.g. `load test`.
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: uuid::Uuid,
    pub name: String,
    /// The first characters, to tell tokens apart.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<ApiToken> for TokenView {
    fn from(t: ApiToken) -> Self {
        Self {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            created_at: t.created_at,
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
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenView>,
}

/// Create a personal API token.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewToken,
    responses(
        (status = 201, body = CreatedToken),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Missing X-CSRF-Token", body = ErrorBody),
        (status = 422, description = "`invalid_body`", body = ErrorBody),
    ))]
pub async fn create(
    user: CurrentUser,
    body: web::Json<NewToken>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let name = body.name.trim();
    // NUL cannot be stored in PostgreSQL text, and no control character
    // belongs in a name shown in a list.
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::new(
            ErrorCode::InvalidBody,
            "name must be 1 to 100 characters, without control characters",
        ));
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let prefix: String = token.chars().take(PREFIX.len() + 6).collect();
    let stored = api_tokens::insert(&pool, user.id, name, &token_hash(&token), &prefix).await?;
    Ok(HttpResponse::Created().json(CreatedToken {
        view: stored.into(),
        token,
    }))
}

/// The user's live tokens (never the tokens themselves).
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
