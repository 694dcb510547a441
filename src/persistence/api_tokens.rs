//! The `api_tokens` table: personal tokens for scripts, stored as SHA-256
//! hashes, each with its scopes and (usually) an expiry.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::StoreError;
use crate::domain::{Scope, Scopes, UserId};

#[derive(Debug, Clone, sqlx::FromRow)]
struct Row {
    id: Uuid,
    name: String,
    prefix: String,
    scopes: Vec<String>,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub scopes: Scopes,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<Row> for ApiToken {
    fn from(row: Row) -> Self {
        Self {
            id: row.id,
            name: row.name,
            prefix: row.prefix,
            scopes: parse_scopes(&row.scopes),
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
        }
    }
}

/// Unknown names grant nothing (a newer version's scope read by an older one).
fn parse_scopes(names: &[String]) -> Scopes {
    names.iter().filter_map(|n| Scope::parse(n)).collect()
}

/// What a new token is.
pub struct NewToken<'a> {
    pub user: UserId,
    pub name: &'a str,
    pub token_hash: &'a [u8],
    pub prefix: &'a str,
    pub scopes: Scopes,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn insert(pool: &PgPool, token: NewToken<'_>) -> Result<ApiToken, StoreError> {
    let scopes: Vec<&str> = token.scopes.iter().map(Scope::as_str).collect();
    let row: Row = sqlx::query_as(
        "INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, scopes, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING id, name, prefix, scopes, created_at, expires_at, last_used_at",
    )
    .bind(Uuid::new_v4())
    .bind(token.user)
    .bind(token.name)
    .bind(token.token_hash)
    .bind(token.prefix)
    .bind(scopes)
    .bind(token.expires_at)
    .fetch_one(pool)
    .await?;
    Ok(row.into())
}

/// The user's unrevoked tokens, expired ones included (so the list can say so).
pub async fn list(pool: &PgPool, user: UserId) -> Result<Vec<ApiToken>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, name, prefix, scopes, created_at, expires_at, last_used_at FROM api_tokens
         WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at, id",
    )
    .bind(user)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(ApiToken::from).collect())
}

/// Revokes the user's token; false when there is no such live token of theirs.
pub async fn revoke(pool: &PgPool, user: UserId, id: Uuid) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(user)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A live token as authentication needs it.
#[derive(Debug, Clone, Copy)]
pub struct Authenticated {
    pub id: Uuid,
    pub user: UserId,
    pub scopes: Scopes,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The token, if it is live (not revoked, not expired). `last_used_at` is
/// refreshed at most once a minute so a busy script does not turn every
/// request into a write.
pub async fn authenticate(
    pool: &PgPool,
    token_hash: &[u8],
) -> Result<Option<Authenticated>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Hit {
        id: Uuid,
        user_id: UserId,
        scopes: Vec<String>,
        expires_at: Option<DateTime<Utc>>,
    }
    let row: Option<Hit> = sqlx::query_as(
        "WITH hit AS (SELECT id, user_id, scopes, expires_at, last_used_at FROM api_tokens
                      WHERE token_hash = $1 AND revoked_at IS NULL
                        AND (expires_at IS NULL OR expires_at > now())),
              touch AS (UPDATE api_tokens SET last_used_at = now()
                        WHERE id IN (SELECT id FROM hit
                                     WHERE last_used_at IS NULL OR last_used_at < now() - interval '1 minute'))
         SELECT id, user_id, scopes, expires_at FROM hit",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|hit| Authenticated {
        id: hit.id,
        user: hit.user_id,
        scopes: parse_scopes(&hit.scopes),
        expires_at: hit.expires_at,
    }))
}

/// Live (unrevoked, unexpired) tokens of `user`.
pub async fn count_live(pool: &PgPool, user: UserId) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL
           AND (expires_at IS NULL OR expires_at > now())",
    )
    .bind(user)
    .fetch_one(pool)
    .await?)
}
