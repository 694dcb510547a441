//! The `account_links` table: single-use links sent by mail (email
//! verification, password reset), kept as SHA-256 hashes of their tokens.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::StoreError;
use crate::domain::UserId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    fn as_db(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
        }
    }
}

/// Stores a new link; earlier unused links of the same purpose stop working,
/// so only the newest mail's link opens anything.
#[tracing::instrument(skip_all, fields(user_id = %user))]
pub async fn insert(
    pool: &PgPool,
    user: UserId,
    purpose: Purpose,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE account_links SET used_at = now()
         WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
    )
    .bind(user)
    .bind(purpose.as_db())
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO account_links (token_hash, user_id, purpose, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(user)
    .bind(purpose.as_db())
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The user a live (unused, unexpired) link belongs to, without using it.
pub async fn peek(
    pool: &PgPool,
    purpose: Purpose,
    token_hash: &[u8],
) -> Result<Option<UserId>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT user_id FROM account_links
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()",
    )
    .bind(token_hash)
    .bind(purpose.as_db())
    .fetch_optional(pool)
    .await?)
}

/// Uses a verification link: marks the address verified. None when the link
/// is unknown, used or expired.
#[tracing::instrument(skip_all)]
pub async fn verify_email(pool: &PgPool, token_hash: &[u8]) -> Result<Option<UserId>, StoreError> {
    let mut tx = pool.begin().await?;
    let user = use_link(&mut tx, Purpose::VerifyEmail, token_hash).await?;
    if let Some(user) = user {
        sqlx::query(
            "UPDATE users SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1",
        )
        .bind(user)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(user)
}

/// Uses a reset link of `user`: sets the new password hash, ends every
/// session and API token of the user, and marks the address verified (the
/// mail reached its owner). False when the link was used meanwhile.
#[tracing::instrument(skip_all, fields(user_id = %user))]
pub async fn reset_password(
    pool: &PgPool,
    user: UserId,
    token_hash: &[u8],
    password_hash: &str,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    if use_link(&mut tx, Purpose::ResetPassword, token_hash).await? != Some(user) {
        tx.rollback().await?;
        return Ok(false);
    }
    sqlx::query(
        "UPDATE users SET password_hash = $2,
                          email_verified_at = coalesce(email_verified_at, now())
         WHERE id = $1",
    )
    .bind(user)
    .bind(password_hash)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

async fn use_link(
    tx: &mut sqlx::PgConnection,
    purpose: Purpose,
    token_hash: &[u8],
) -> Result<Option<UserId>, StoreError> {
    Ok(sqlx::query_scalar(
        "UPDATE account_links SET used_at = now()
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()
         RETURNING user_id",
    )
    .bind(token_hash)
    .bind(purpose.as_db())
    .fetch_optional(&mut *tx)
    .await?)
}
