//! The `platform_connections` table: accounts users connected, with their
//! tokens sealed (see `crypto`); this module never sees plaintext tokens.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Transaction};

use super::StoreError;
use crate::crypto::SealedBlob;
use crate::domain::{ConnectionId, Destination, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    Active,
    NeedsReauth,
    Revoked,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Active => "active",
            ConnectionStatus::NeedsReauth => "needs_reauth",
            ConnectionStatus::Revoked => "revoked",
        }
    }

    fn from_db(value: &str) -> Option<Self> {
        match value {
            "active" => Some(ConnectionStatus::Active),
            "needs_reauth" => Some(ConnectionStatus::NeedsReauth),
            "revoked" => Some(ConnectionStatus::Revoked),
            _ => None,
        }
    }
}

/// A connection without its tokens.
#[derive(Debug, Clone)]
pub struct Connection {
    pub id: ConnectionId,
    pub user_id: UserId,
    pub platform_id: String,
    pub external_account_id: String,
    pub handle: String,
    pub display_name: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
    pub status: ConnectionStatus,
    /// The server the account lives on, for platforms with many.
    pub service_url: Option<String>,
    /// What that server allows, where that varies (read at connect).
    pub limits: Option<serde_json::Value>,
    /// Where in the account posts can go, for platforms with several.
    pub destinations: Vec<Destination>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: ConnectionId,
    user_id: UserId,
    platform_id: String,
    external_account_id: String,
    handle: String,
    display_name: String,
    expires_at: Option<DateTime<Utc>>,
    scopes: Vec<String>,
    status: String,
    service_url: Option<String>,
    limits: Option<Json<serde_json::Value>>,
    destinations: Option<Json<Vec<Destination>>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, user_id, platform_id, external_account_id, handle, display_name, \
                       expires_at, scopes, status, service_url, limits, destinations, created_at, updated_at";

impl TryFrom<Row> for Connection {
    type Error = StoreError;

    fn try_from(row: Row) -> Result<Self, StoreError> {
        let status = ConnectionStatus::from_db(&row.status).ok_or_else(|| {
            StoreError::Corrupt(format!("connection {} has status {}", row.id, row.status))
        })?;
        Ok(Connection {
            id: row.id,
            user_id: row.user_id,
            platform_id: row.platform_id,
            external_account_id: row.external_account_id,
            handle: row.handle,
            display_name: row.display_name,
            expires_at: row.expires_at,
            scopes: row.scopes,
            status,
            service_url: row.service_url,
            limits: row.limits.map(|j| j.0),
            destinations: row.destinations.map(|j| j.0).unwrap_or_default(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// The sealed tokens of one connection.
pub struct SealedTokens {
    pub access_token: Option<SealedBlob>,
    pub refresh_token: Option<SealedBlob>,
    /// What the grant needs besides its tokens, where it needs anything.
    pub grant_secret: Option<SealedBlob>,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    access_token: Option<Json<SealedBlob>>,
    refresh_token: Option<Json<SealedBlob>>,
    grant_secret: Option<Json<SealedBlob>>,
}

impl From<TokenRow> for SealedTokens {
    fn from(row: TokenRow) -> Self {
        Self {
            access_token: row.access_token.map(|j| j.0),
            refresh_token: row.refresh_token.map(|j| j.0),
            grant_secret: row.grant_secret.map(|j| j.0),
        }
    }
}

const TOKENS_QUERY: &str =
    "SELECT access_token, refresh_token, grant_secret FROM platform_connections WHERE id = $1";

/// Everything an OAuth callback learned, sealed for row `id`.
pub struct NewConnection<'a> {
    /// Where in the account posts can go, for platforms with several.
    pub destinations: Option<&'a [Destination]>,
    pub id: ConnectionId,
    pub user_id: UserId,
    pub platform_id: &'a str,
    pub external_account_id: &'a str,
    pub handle: &'a str,
    pub display_name: &'a str,
    pub access_token: SealedBlob,
    pub refresh_token: Option<SealedBlob>,
    pub grant_secret: Option<SealedBlob>,
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: &'a [String],
    pub service_url: Option<&'a str>,
    pub limits: Option<&'a serde_json::Value>,
}

#[tracing::instrument(skip_all, fields(user_id = %user))]
pub async fn list_for_user(pool: &PgPool, user: UserId) -> Result<Vec<Connection>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM platform_connections WHERE user_id = $1 ORDER BY created_at, id"
    )))
    .bind(user)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Connection::try_from).collect()
}

/// The connection if it belongs to `user`; another user's id looks absent.
#[tracing::instrument(skip_all, fields(user_id = %user, connection_id = %id))]
pub async fn find_for_user(
    pool: &PgPool,
    user: UserId,
    id: ConnectionId,
) -> Result<Option<Connection>, StoreError> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM platform_connections WHERE id = $1 AND user_id = $2"
    )))
    .bind(id)
    .bind(user)
    .fetch_optional(pool)
    .await?;
    row.map(Connection::try_from).transpose()
}

/// The id of the row for this platform account, if the user connected it before.
pub async fn existing_id(
    pool: &PgPool,
    user: UserId,
    platform_id: &str,
    external_account_id: &str,
) -> Result<Option<ConnectionId>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM platform_connections
         WHERE user_id = $1 AND platform_id = $2 AND external_account_id = $3",
    )
    .bind(user)
    .bind(platform_id)
    .bind(external_account_id)
    .fetch_optional(pool)
    .await?)
}

/// Inserts the connection, or refreshes the user's existing row for the same
/// platform account. `None` when a concurrent connect created that row under
/// another id first (the blobs are sealed for `new.id`): look the id up and retry.
#[tracing::instrument(skip_all, fields(user_id = %new.user_id, connection_id = %new.id, platform = new.platform_id))]
pub async fn upsert(
    pool: &PgPool,
    new: NewConnection<'_>,
) -> Result<Option<Connection>, StoreError> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO platform_connections
           (id, user_id, platform_id, external_account_id, handle, display_name,
            access_token, refresh_token, expires_at, scopes, status, service_url, grant_secret, limits,
            limits_read_at, destinations)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'active', $11, $12, $13,
                 CASE WHEN $13::jsonb IS NULL THEN NULL ELSE now() END, $14)
         ON CONFLICT (user_id, platform_id, external_account_id) DO UPDATE SET
           handle = EXCLUDED.handle,
           display_name = EXCLUDED.display_name,
           access_token = EXCLUDED.access_token,
           refresh_token = EXCLUDED.refresh_token,
           expires_at = EXCLUDED.expires_at,
           scopes = EXCLUDED.scopes,
           service_url = EXCLUDED.service_url,
           grant_secret = EXCLUDED.grant_secret,
           limits = EXCLUDED.limits,
           limits_read_at = EXCLUDED.limits_read_at,
           destinations = EXCLUDED.destinations,
           status = 'active',
           updated_at = now()
         WHERE platform_connections.id = EXCLUDED.id
         RETURNING {COLUMNS}"
    )))
    .bind(new.id)
    .bind(new.user_id)
    .bind(new.platform_id)
    .bind(new.external_account_id)
    .bind(new.handle)
    .bind(new.display_name)
    .bind(Json(new.access_token))
    .bind(new.refresh_token.map(Json))
    .bind(new.expires_at)
    .bind(new.scopes)
    .bind(new.service_url)
    .bind(new.grant_secret.map(Json))
    .bind(new.limits.map(Json))
    .bind(new.destinations.map(Json))
    .fetch_optional(pool)
    .await?;
    row.map(Connection::try_from).transpose()
}

/// Records which of the connection's destinations the user picked (all of
/// `picked` must be among them; the caller checked).
pub async fn set_destinations(
    pool: &PgPool,
    user: UserId,
    id: ConnectionId,
    destinations: &[Destination],
) -> Result<Option<Connection>, StoreError> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE platform_connections SET destinations = $3, updated_at = now()
         WHERE id = $1 AND user_id = $2
         RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(user)
    .bind(Json(destinations))
    .fetch_optional(pool)
    .await?;
    row.map(Connection::try_from).transpose()
}

/// The account's handle, for messages about the connection.
pub async fn handle_of(pool: &PgPool, id: ConnectionId) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT handle FROM platform_connections WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?,
    )
}

/// The destinations the user picked, of those of these connections that have any.
pub async fn picked_destinations(
    pool: &PgPool,
    ids: &[ConnectionId],
) -> Result<std::collections::HashMap<ConnectionId, Vec<Destination>>, StoreError> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|c| c.0).collect();
    let rows: Vec<(ConnectionId, Json<Vec<Destination>>)> = sqlx::query_as(
        "SELECT id, destinations FROM platform_connections
         WHERE id = ANY($1) AND destinations IS NOT NULL",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, all)| (id, all.0.into_iter().filter(|d| d.selected).collect()))
        .collect())
}

pub async fn sealed_tokens(
    pool: &PgPool,
    id: ConnectionId,
) -> Result<Option<SealedTokens>, StoreError> {
    let row: Option<TokenRow> = sqlx::query_as(TOKENS_QUERY)
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(SealedTokens::from))
}

/// Wipes the tokens and marks the connection revoked (inside the
/// transaction that holds its row lock: see [`lock_tokens`]).
#[tracing::instrument(skip_all, fields(connection_id = %id))]
pub async fn mark_revoked(
    tx: &mut Transaction<'_, Postgres>,
    id: ConnectionId,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE platform_connections
         SET access_token = NULL, refresh_token = NULL, grant_secret = NULL, expires_at = NULL,
             status = 'revoked', updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Ids of connections holding any sealed token (for key rotation).
pub async fn ids_with_tokens(pool: &PgPool) -> Result<Vec<ConnectionId>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM platform_connections
         WHERE access_token IS NOT NULL OR refresh_token IS NOT NULL OR grant_secret IS NOT NULL
         ORDER BY id",
    )
    .fetch_all(pool)
    .await?)
}

/// Locks a connection's token columns for a read-modify-write (rotation, refresh).
pub async fn lock_tokens(
    tx: &mut Transaction<'_, Postgres>,
    id: ConnectionId,
) -> Result<Option<SealedTokens>, StoreError> {
    let row: Option<TokenRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{TOKENS_QUERY} FOR UPDATE")))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.map(SealedTokens::from))
}

pub async fn store_tokens(
    tx: &mut Transaction<'_, Postgres>,
    id: ConnectionId,
    tokens: SealedTokens,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE platform_connections SET access_token = $2, refresh_token = $3, grant_secret = $4
         WHERE id = $1",
    )
    .bind(id)
    .bind(tokens.access_token.map(Json))
    .bind(tokens.refresh_token.map(Json))
    .bind(tokens.grant_secret.map(Json))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What a worker needs to hold a usable access token.
pub struct TokenState {
    pub platform_id: String,
    pub status: ConnectionStatus,
    pub service_url: Option<String>,
    /// When the server's limits were last read (`None`: never).
    pub limits_read_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub tokens: SealedTokens,
}

#[derive(sqlx::FromRow)]
struct TokenStateRow {
    platform_id: String,
    status: String,
    service_url: Option<String>,
    limits_read_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    #[sqlx(flatten)]
    tokens: TokenRow,
}

impl TryFrom<TokenStateRow> for TokenState {
    type Error = StoreError;

    fn try_from(row: TokenStateRow) -> Result<Self, StoreError> {
        Ok(TokenState {
            platform_id: row.platform_id,
            status: ConnectionStatus::from_db(&row.status)
                .ok_or_else(|| StoreError::Corrupt(format!("connection status {}", row.status)))?,
            service_url: row.service_url,
            limits_read_at: row.limits_read_at,
            expires_at: row.expires_at,
            tokens: row.tokens.into(),
        })
    }
}

const TOKEN_STATE_QUERY: &str = "SELECT platform_id, status, service_url, limits_read_at, expires_at, access_token, refresh_token, grant_secret \
                                 FROM platform_connections WHERE id = $1";

pub async fn token_state(
    pool: &PgPool,
    id: ConnectionId,
) -> Result<Option<TokenState>, StoreError> {
    let row: Option<TokenStateRow> = sqlx::query_as(TOKEN_STATE_QUERY)
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.map(TokenState::try_from).transpose()
}

/// The same, with the row locked until `tx` ends: refreshing is single-flight
/// across processes because every refresher takes this lock first.
pub async fn lock_token_state(
    tx: &mut Transaction<'_, Postgres>,
    id: ConnectionId,
) -> Result<Option<TokenState>, StoreError> {
    let row: Option<TokenStateRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{TOKEN_STATE_QUERY} FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(TokenState::try_from).transpose()
}

/// Stores refreshed tokens; without a new refresh token the old one stays.
pub async fn store_refreshed(
    tx: &mut Transaction<'_, Postgres>,
    id: ConnectionId,
    access: SealedBlob,
    refresh: Option<SealedBlob>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE platform_connections
         SET access_token = $2, refresh_token = coalesce($3, refresh_token), expires_at = $4, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(Json(access))
    .bind(refresh.map(Json))
    .bind(expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The grant is gone at the platform: the user must reconnect.
pub async fn mark_needs_reauth(pool: &PgPool, id: ConnectionId) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE platform_connections SET status = 'needs_reauth', updated_at = now()
         WHERE id = $1 AND status = 'active'",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// The user's active connections among `ids` (all of them when `ids` is empty).
pub async fn active_for_user(
    pool: &PgPool,
    user: UserId,
) -> Result<Vec<(ConnectionId, String)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, platform_id FROM platform_connections WHERE user_id = $1 AND status = 'active'
         ORDER BY created_at, id",
    )
    .bind(user)
    .fetch_all(pool)
    .await?)
}

/// What the servers of these connections allow, for those that stored any.
pub async fn limits_of(
    pool: &PgPool,
    ids: &[ConnectionId],
) -> Result<std::collections::HashMap<ConnectionId, serde_json::Value>, StoreError> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|c| c.0).collect();
    let rows: Vec<(ConnectionId, Json<serde_json::Value>)> = sqlx::query_as(
        "SELECT id, limits FROM platform_connections WHERE id = ANY($1) AND limits IS NOT NULL",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, limits)| (id, limits.0))
        .collect())
}

/// Keeps what the connection's server allows now.
pub async fn store_limits(
    pool: &PgPool,
    id: ConnectionId,
    limits: &serde_json::Value,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE platform_connections SET limits = $2, limits_read_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(Json(limits))
    .execute(pool)
    .await?;
    Ok(())
}
