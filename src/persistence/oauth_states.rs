//! The `oauth_states` table: authorizations in flight, each usable once.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use sqlx::types::Json;

use super::StoreError;
use crate::crypto::SealedBlob;
use crate::domain::UserId;

pub struct NewState<'a> {
    pub state_hash: &'a [u8],
    pub user_id: UserId,
    pub platform_id: &'a str,
    pub pkce_verifier: SealedBlob,
    /// What the grant will need besides its tokens, where it needs anything.
    pub grant_secret: Option<SealedBlob>,
    pub redirect_uri: &'a str,
    pub expires_at: DateTime<Utc>,
}

/// The sealed secrets a pending authorization holds.
#[derive(Debug, Clone, Copy)]
pub enum StateSecret {
    PkceVerifier,
    GrantSecret,
}

impl StateSecret {
    pub fn column(self) -> &'static str {
        match self {
            StateSecret::PkceVerifier => "pkce_verifier",
            StateSecret::GrantSecret => "grant_secret",
        }
    }
}

pub async fn insert(pool: &PgPool, new: NewState<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO oauth_states (state_hash, user_id, platform_id, pkce_verifier, redirect_uri, expires_at, grant_secret)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new.state_hash)
    .bind(new.user_id)
    .bind(new.platform_id)
    .bind(Json(new.pkce_verifier))
    .bind(new.redirect_uri)
    .bind(new.expires_at)
    .bind(new.grant_secret.map(Json))
    .execute(pool)
    .await?;
    Ok(())
}

/// Why a presented state cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateRefusal {
    /// Never issued, or already used.
    Unknown,
    Expired,
    OtherUser,
    OtherPlatform,
}

pub struct ConsumedState {
    pub pkce_verifier: SealedBlob,
    pub grant_secret: Option<SealedBlob>,
    pub redirect_uri: String,
}

/// Takes the state out of the table if it is this user's, for this platform,
/// and unexpired; one caller wins, so a state works once.
#[tracing::instrument(skip_all, fields(user_id = %user, platform = platform_id))]
pub async fn consume(
    pool: &PgPool,
    state_hash: &[u8],
    user: UserId,
    platform_id: &str,
) -> Result<Result<ConsumedState, StateRefusal>, StoreError> {
    let taken: Option<(Json<SealedBlob>, String, Option<Json<SealedBlob>>)> = sqlx::query_as(
        "DELETE FROM oauth_states
         WHERE state_hash = $1 AND user_id = $2 AND platform_id = $3 AND expires_at > now()
         RETURNING pkce_verifier, redirect_uri, grant_secret",
    )
    .bind(state_hash)
    .bind(user)
    .bind(platform_id)
    .fetch_optional(pool)
    .await?;
    if let Some((verifier, redirect_uri, grant_secret)) = taken {
        return Ok(Ok(ConsumedState {
            pkce_verifier: verifier.0,
            grant_secret: grant_secret.map(|j| j.0),
            redirect_uri,
        }));
    }
    let other: Option<(UserId, String, bool)> = sqlx::query_as(
        "SELECT user_id, platform_id, expires_at <= now() FROM oauth_states WHERE state_hash = $1",
    )
    .bind(state_hash)
    .fetch_optional(pool)
    .await?;
    Ok(Err(match other {
        None => StateRefusal::Unknown,
        Some((owner, _, _)) if owner != user => StateRefusal::OtherUser,
        Some((_, platform, _)) if platform != platform_id => StateRefusal::OtherPlatform,
        Some(_) => StateRefusal::Expired,
    }))
}

pub async fn delete_expired(pool: &PgPool) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM oauth_states WHERE expires_at <= now()")
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

/// Every live state's sealed `secret` (for key rotation).
pub async fn all_sealed(
    pool: &PgPool,
    secret: StateSecret,
) -> Result<Vec<(Vec<u8>, SealedBlob)>, StoreError> {
    let rows: Vec<(Vec<u8>, Json<SealedBlob>)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT state_hash, {0} FROM oauth_states WHERE expires_at > now() AND {0} IS NOT NULL",
        secret.column()
    )))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(hash, blob)| (hash, blob.0))
        .collect())
}

/// Swaps the sealed `secret` if it is still `old`.
pub async fn replace_sealed(
    pool: &PgPool,
    secret: StateSecret,
    state_hash: &[u8],
    old: &SealedBlob,
    new: SealedBlob,
) -> Result<(), StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE oauth_states SET {0} = $3 WHERE state_hash = $1 AND {0} = $2",
        secret.column()
    )))
    .bind(state_hash)
    .bind(Json(old))
    .bind(Json(new))
    .execute(pool)
    .await?;
    Ok(())
}
