//! The `api_tokens` table: personal tokens for scripts, stored as SHA-256 hashes.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::StoreError;
use crate::domain::UserId;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

pub async fn insert(
    pool: &PgPool,
    user: UserId,
    name: &str,
    token_hash: &[u8],
    prefix: &str,
) -> Result<ApiToken, StoreError> {
    Ok(sqlx::query_as(
        "INSERT INTO api_tokens (id, user_id, name, token_hash, prefix) VALUES ($1, $2, $3, $4, $5)
         RETURNING id, name, prefix, created_at, last_used_at",
    )
    .bind(Uuid::new_v4())
    .bind(user)
    .bind(name)
    .bind(token_hash)
    .bind(prefix)
    .fetch_one(pool)
    .await?)
}

pub async fn list(pool: &PgPool, user: UserId) -> Result<Vec<ApiToken>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, name, prefix, created_at, last_used_at FROM api_tokens
         WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at, id",
    )
    .bind(user)
    .fetch_all(pool)
    .await?)
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

/// The token's id and owner, if it is live. `last_used_at` is refreshed at most
/// once a minute so a busy script does not turn every request into a write.
pub async fn authenticate(
    pool: &PgPool,
    token_hash: &[u8],
) -> Result<Option<(Uuid, UserId)>, StoreError> {
    Ok(sqlx::query_as(
        "WITH hit AS (SELECT id, user_id, last_used_at FROM api_tokens
                      WHERE token_hash = $1 AND revoked_at IS NULL),
              touch AS (UPDATE api_tokens SET last_used_at = now()
                        WHERE id IN (SELECT id FROM hit
                                     WHERE last_used_at IS NULL OR last_used_at < now() - interval '1 minute'))
         SELECT id, user_id FROM hit",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await?)
}
