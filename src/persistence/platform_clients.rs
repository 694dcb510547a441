//! The `platform_clients` table: Prasaran's registration as an OAuth client
//! at one server of a platform with many (a Mastodon instance's app), made
//! once per server and redirect URI and reused.

use sqlx::PgPool;
use sqlx::types::Json;

use super::StoreError;
use crate::crypto::SealedBlob;

/// Which registration: a platform, one of its servers, and where it returns.
#[derive(Debug, Clone, Copy)]
pub struct ClientKey<'a> {
    pub platform_id: &'a str,
    pub service_url: &'a str,
    pub redirect_uri: &'a str,
}

impl ClientKey<'_> {
    /// Names the sealed value (its associated data): a blob cannot be moved
    /// to another row.
    pub fn label(&self) -> String {
        format!(
            "{} {} {}",
            self.platform_id, self.service_url, self.redirect_uri
        )
    }
}

pub async fn find(pool: &PgPool, key: ClientKey<'_>) -> Result<Option<SealedBlob>, StoreError> {
    let row: Option<Json<SealedBlob>> = sqlx::query_scalar(
        "SELECT secret FROM platform_clients
         WHERE platform_id = $1 AND service_url = $2 AND redirect_uri = $3",
    )
    .bind(key.platform_id)
    .bind(key.service_url)
    .bind(key.redirect_uri)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|j| j.0))
}

/// Keeps a new registration; when another connect registered first, theirs
/// stays and is answered (ours is left unused at the server).
pub async fn keep(
    pool: &PgPool,
    key: ClientKey<'_>,
    secret: SealedBlob,
) -> Result<SealedBlob, StoreError> {
    let inserted: Option<Json<SealedBlob>> = sqlx::query_scalar(
        "INSERT INTO platform_clients (platform_id, service_url, redirect_uri, secret)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING secret",
    )
    .bind(key.platform_id)
    .bind(key.service_url)
    .bind(key.redirect_uri)
    .bind(Json(&secret))
    .fetch_optional(pool)
    .await?;
    match inserted {
        Some(_) => Ok(secret),
        None => find(pool, key)
            .await?
            .ok_or_else(|| StoreError::Corrupt("a client registration vanished".into())),
    }
}

/// Every registration's sealed secret (for key rotation).
pub async fn all_sealed(
    pool: &PgPool,
) -> Result<Vec<(String, String, String, SealedBlob)>, StoreError> {
    let rows: Vec<(String, String, String, Json<SealedBlob>)> = sqlx::query_as(
        "SELECT platform_id, service_url, redirect_uri, secret FROM platform_clients",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(p, s, r, blob)| (p, s, r, blob.0))
        .collect())
}

/// Swaps the sealed secret if it is still `old`.
pub async fn replace_sealed(
    pool: &PgPool,
    key: ClientKey<'_>,
    old: &SealedBlob,
    new: SealedBlob,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE platform_clients SET secret = $5
         WHERE platform_id = $1 AND service_url = $2 AND redirect_uri = $3 AND secret = $4",
    )
    .bind(key.platform_id)
    .bind(key.service_url)
    .bind(key.redirect_uri)
    .bind(Json(old))
    .bind(Json(new))
    .execute(pool)
    .await?;
    Ok(())
}
