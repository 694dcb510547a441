//! The `drafts` table: posts saved to finish later, which nothing runs.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::StoreError;
use crate::domain::{DraftId, JobId, PostId, UserId};

/// Most drafts listed at once.
pub const LIST_LIMIT: i64 = 200;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DraftRow {
    pub id: DraftId,
    #[sqlx(flatten)]
    pub fields: DraftFields,
    /// What it became, once published.
    pub published_post_id: Option<PostId>,
    pub published_job_id: Option<JobId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A draft's fields as the user chose them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DraftFields {
    pub content: String,
    pub connection_ids: Option<Vec<uuid::Uuid>>,
    pub media_ids: Vec<uuid::Uuid>,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub time_zone: Option<String>,
    pub options: Option<serde_json::Value>,
    pub variations: Option<serde_json::Value>,
}

const COLUMNS: &str = "id, content, connection_ids, media_ids, scheduled_at, time_zone, options, \
                       variations, published_post_id, published_job_id, created_at, updated_at";

/// Media in a draft count as used: the janitor keeps them.
const MARK_MEDIA: &str = "UPDATE media SET attached_at = coalesce(attached_at, now())
                          WHERE user_id = $1 AND id = ANY($2)";

pub async fn insert(
    pool: &PgPool,
    user: UserId,
    id: DraftId,
    fields: &DraftFields,
) -> Result<DraftRow, StoreError> {
    let sql = format!(
        "INSERT INTO drafts (id, user_id, content, connection_ids, media_ids, scheduled_at, time_zone,
                             options, variations)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLUMNS}"
    );
    write(pool, user, id, fields, sql)
        .await?
        .ok_or_else(|| StoreError::Corrupt("a draft insert returned nothing".into()))
}

/// Replaces the draft's fields; `None` when it is not the user's or was published.
pub async fn update(
    pool: &PgPool,
    user: UserId,
    id: DraftId,
    fields: &DraftFields,
) -> Result<Option<DraftRow>, StoreError> {
    let sql = format!(
        "UPDATE drafts SET content = $3, connection_ids = $4, media_ids = $5, scheduled_at = $6,
                           time_zone = $7, options = $8, variations = $9, updated_at = now()
         WHERE id = $1 AND user_id = $2 AND published_job_id IS NULL RETURNING {COLUMNS}"
    );
    write(pool, user, id, fields, sql).await
}

/// Runs `sql` (binding id, user and the fields as `$1`…`$9`) and marks the
/// draft's media as used, in one transaction.
async fn write(
    pool: &PgPool,
    user: UserId,
    id: DraftId,
    fields: &DraftFields,
    sql: String,
) -> Result<Option<DraftRow>, StoreError> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(user)
        .bind(&fields.content)
        .bind(&fields.connection_ids)
        .bind(&fields.media_ids)
        .bind(fields.scheduled_at)
        .bind(&fields.time_zone)
        .bind(&fields.options)
        .bind(&fields.variations)
        .fetch_optional(&mut *tx)
        .await?;
    if row.is_some() && !fields.media_ids.is_empty() {
        sqlx::query(MARK_MEDIA)
            .bind(user)
            .bind(&fields.media_ids)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(row)
}

pub async fn find(
    pool: &PgPool,
    user: UserId,
    id: DraftId,
) -> Result<Option<DraftRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM drafts WHERE id = $1 AND user_id = $2"
    )))
    .bind(id)
    .bind(user)
    .fetch_optional(pool)
    .await?)
}

/// Records what the draft became; false when it was published before.
pub async fn mark_published(
    pool: &PgPool,
    user: UserId,
    id: DraftId,
    post: PostId,
    job: JobId,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE drafts SET published_post_id = $3, published_job_id = $4, updated_at = now()
         WHERE id = $1 AND user_id = $2 AND published_job_id IS NULL",
    )
    .bind(id)
    .bind(user)
    .bind(post)
    .bind(job)
    .execute(pool)
    .await?
    .rows_affected()
        > 0)
}

/// The user's drafts not yet published, the most recently changed first.
pub async fn list(pool: &PgPool, user: UserId) -> Result<Vec<DraftRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM drafts WHERE user_id = $1 AND published_job_id IS NULL
         ORDER BY updated_at DESC, id LIMIT $2"
    )))
    .bind(user)
    .bind(LIST_LIMIT)
    .fetch_all(pool)
    .await?)
}

/// Whether the draft was the user's (and is now gone).
pub async fn delete(pool: &PgPool, user: UserId, id: DraftId) -> Result<bool, StoreError> {
    Ok(
        sqlx::query("DELETE FROM drafts WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user)
            .execute(pool)
            .await?
            .rows_affected()
            > 0,
    )
}
