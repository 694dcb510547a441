//! Server-side browser sessions: actix-session's `SessionStore` over the
//! `sessions` table, so sessions survive restarts and can be ended from the server.
//!
//! The cookie carries a random session key; only its SHA-256 is stored. Idle
//! expiry is `expires_at` (pushed forward on use); `absolute_expires_at` is
//! fixed when the session is created and caps every extension.

use std::collections::HashMap;

use actix_session::storage::{
    LoadError, SaveError, SessionKey, SessionStore, UpdateError, generate_session_key,
};
use actix_web::cookie::time::Duration as CookieDuration;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use sqlx::postgres::types::PgInterval;

use super::StoreError;
use crate::domain::UserId;

/// The session-state entry that names the logged-in user; mirrored into `user_id`.
pub const USER_ID_KEY: &str = "user_id";
/// Session-state entries set at log-in, shown in the user's list of sessions.
pub const IP_KEY: &str = "ip";
pub const USER_AGENT_KEY: &str = "user_agent";
/// The session's CSRF token, which also tells the caller's own session apart.
pub const CSRF_KEY: &str = "csrf_token";
/// When the password was last given in this session (Unix seconds): at
/// log-in, or again before something sensitive.
pub const AUTHENTICATED_AT_KEY: &str = "authenticated_at";

type SessionState = HashMap<String, String>;

#[derive(Clone)]
pub struct PgSessionStore {
    pool: PgPool,
    absolute_lifetime: std::time::Duration,
}

impl PgSessionStore {
    pub fn new(pool: PgPool, absolute_lifetime: std::time::Duration) -> Self {
        Self {
            pool,
            absolute_lifetime,
        }
    }
}

fn key_hash(key: &SessionKey) -> Vec<u8> {
    Sha256::digest(key.as_ref().as_bytes()).to_vec()
}

fn interval(duration: &CookieDuration) -> PgInterval {
    PgInterval {
        months: 0,
        days: 0,
        microseconds: duration.whole_microseconds().clamp(0, i64::MAX as i128) as i64,
    }
}

fn std_interval(duration: std::time::Duration) -> PgInterval {
    PgInterval {
        months: 0,
        days: 0,
        microseconds: i64::try_from(duration.as_micros()).unwrap_or(i64::MAX),
    }
}

/// actix-session stores each value JSON-encoded; the user id is a JSON string.
fn user_id_of(state: &SessionState) -> Option<UserId> {
    state
        .get(USER_ID_KEY)
        .and_then(|value| serde_json::from_str(value).ok())
}

impl SessionStore for PgSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        let state: Option<serde_json::Value> = sqlx::query_scalar(
            "SELECT state FROM sessions
             WHERE key_hash = $1 AND expires_at > now() AND absolute_expires_at > now()",
        )
        .bind(key_hash(session_key))
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| LoadError::Other(e.into()))?;
        state
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| LoadError::Deserialization(e.into()))
    }

    async fn save(
        &self,
        session_state: SessionState,
        ttl: &CookieDuration,
    ) -> Result<SessionKey, SaveError> {
        let state =
            serde_json::to_value(&session_state).map_err(|e| SaveError::Serialization(e.into()))?;
        let key = generate_session_key();
        sqlx::query(
            "INSERT INTO sessions (key_hash, user_id, state, expires_at, absolute_expires_at)
             VALUES ($1, $2, $3, now() + least($4, $5), now() + $5)",
        )
        .bind(key_hash(&key))
        .bind(user_id_of(&session_state))
        .bind(state)
        .bind(interval(ttl))
        .bind(std_interval(self.absolute_lifetime))
        .execute(&self.pool)
        .await
        .map_err(|e| SaveError::Other(e.into()))?;
        Ok(key)
    }

    async fn update(
        &self,
        session_key: SessionKey,
        session_state: SessionState,
        ttl: &CookieDuration,
    ) -> Result<SessionKey, UpdateError> {
        let state = serde_json::to_value(&session_state)
            .map_err(|e| UpdateError::Serialization(e.into()))?;
        let updated = sqlx::query(
            "UPDATE sessions
             SET state = $2, user_id = $3, expires_at = least(now() + $4, absolute_expires_at),
                 last_seen_at = now()
             WHERE key_hash = $1 AND expires_at > now() AND absolute_expires_at > now()",
        )
        .bind(key_hash(&session_key))
        .bind(state)
        .bind(user_id_of(&session_state))
        .bind(interval(ttl))
        .execute(&self.pool)
        .await
        .map_err(|e| UpdateError::Other(e.into()))?;
        if updated.rows_affected() == 1 {
            return Ok(session_key);
        }
        // The session expired between load and update: start a fresh one.
        self.save(session_state, ttl).await.map_err(|e| match e {
            SaveError::Serialization(e) => UpdateError::Serialization(e),
            SaveError::Other(e) => UpdateError::Other(e),
        })
    }

    async fn update_ttl(
        &self,
        session_key: &SessionKey,
        ttl: &CookieDuration,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE sessions SET expires_at = least(now() + $2, absolute_expires_at),
                    last_seen_at = now()
             WHERE key_hash = $1",
        )
        .bind(key_hash(session_key))
        .bind(interval(ttl))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE key_hash = $1")
            .bind(key_hash(session_key))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Ends every session of `user` (e.g. after a password change); returns how many.
#[tracing::instrument(skip_all, fields(user_id = %user))]
pub async fn delete_all_for_user(pool: &PgPool, user: UserId) -> Result<u64, StoreError> {
    let deleted = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user)
        .execute(pool)
        .await?;
    Ok(deleted.rows_affected())
}

/// Removes expired rows; expired sessions are already refused on load.
pub async fn delete_expired(pool: &PgPool) -> Result<u64, StoreError> {
    let deleted = sqlx::query(
        "DELETE FROM sessions WHERE expires_at <= now() OR absolute_expires_at <= now()",
    )
    .execute(pool)
    .await?;
    Ok(deleted.rows_affected())
}

/// Live sessions of `user` (tests and operators use it).
pub async fn count_for_user(pool: &PgPool, user: UserId) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM sessions WHERE user_id = $1 AND expires_at > now() AND absolute_expires_at > now()",
    )
    .bind(user)
    .fetch_one(pool)
    .await?)
}

/// One live session as its user sees it.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub id: uuid::Uuid,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_seen_at: chrono::DateTime<chrono::Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The session asking (its CSRF token matched).
    pub current: bool,
}

/// A state entry as actix-session keeps it: JSON inside the string.
fn entry(state: &serde_json::Value, key: &str) -> Option<String> {
    serde_json::from_str(state.get(key)?.as_str()?).ok()
}

/// The live sessions of `user`, the last used first; `current_csrf` marks
/// the one asking.
pub async fn list_for_user(
    pool: &PgPool,
    user: UserId,
    current_csrf: Option<&str>,
) -> Result<Vec<SessionInfo>, StoreError> {
    let rows: Vec<(
        uuid::Uuid,
        chrono::DateTime<chrono::Utc>,
        chrono::DateTime<chrono::Utc>,
        serde_json::Value,
    )> = sqlx::query_as(
        "SELECT id, created_at, last_seen_at, state FROM sessions
         WHERE user_id = $1 AND expires_at > now() AND absolute_expires_at > now()
         ORDER BY last_seen_at DESC, id",
    )
    .bind(user)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, created_at, last_seen_at, state)| SessionInfo {
            id,
            created_at,
            last_seen_at,
            ip: entry(&state, IP_KEY),
            user_agent: entry(&state, USER_AGENT_KEY),
            current: current_csrf
                .is_some_and(|csrf| entry(&state, CSRF_KEY).as_deref() == Some(csrf)),
        })
        .collect())
}

/// Ends one session of `user`; false when it has no such session.
pub async fn delete_one(pool: &PgPool, user: UserId, id: uuid::Uuid) -> Result<bool, StoreError> {
    let deleted = sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user)
        .execute(pool)
        .await?;
    Ok(deleted.rows_affected() == 1)
}

/// Ends every session of `user` but the one whose CSRF token is `keep_csrf`
/// (all of them when `None`); returns how many.
pub async fn delete_others(
    pool: &PgPool,
    user: UserId,
    keep_csrf: Option<&str>,
) -> Result<u64, StoreError> {
    let keep = keep_csrf.map(|csrf| serde_json::Value::String(csrf.to_owned()).to_string());
    let deleted = sqlx::query(
        "DELETE FROM sessions WHERE user_id = $1
           AND ($2::text IS NULL OR state->>'csrf_token' IS DISTINCT FROM $2)",
    )
    .bind(user)
    .bind(keep)
    .execute(pool)
    .await?;
    Ok(deleted.rows_affected())
}
