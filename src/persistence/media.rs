//! The `media`, `post_media` and `task_media` tables: uploads, the media of
//! each post in order, and what each task already uploaded to its platform.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::StoreError;
use crate::domain::{MediaId, MediaKind, TaskId, UserId};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MediaRow {
    pub id: MediaId,
    pub kind: String,
    pub mime: String,
    pub bytes: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub duration_ms: Option<i64>,
    pub sha256: Vec<u8>,
    pub clean_sha256: Vec<u8>,
    pub clean_bytes: i64,
    pub alt_text: String,
    pub created_at: DateTime<Utc>,
    pub thumb_sha256: Option<Vec<u8>>,
    pub codec: Option<String>,
}

impl MediaRow {
    pub fn kind(&self) -> MediaKind {
        MediaKind::parse(&self.kind).unwrap_or(MediaKind::Image)
    }
}

const COLUMNS: &str = "id, kind, mime, bytes, width, height, duration_ms, sha256, clean_sha256, clean_bytes, alt_text, created_at, thumb_sha256, codec";

pub struct NewMedia<'a> {
    pub id: MediaId,
    pub user: UserId,
    pub kind: MediaKind,
    pub mime: &'a str,
    pub bytes: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_ms: Option<u64>,
    pub sha256: &'a [u8],
    pub clean_sha256: &'a [u8],
    pub clean_bytes: u64,
    pub alt_text: &'a str,
    pub thumb_sha256: Option<&'a [u8]>,
    pub codec: Option<&'a str>,
}

fn int(value: Option<u32>) -> Option<i32> {
    value.and_then(|v| i32::try_from(v).ok())
}

fn big(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub async fn insert(pool: &PgPool, media: &NewMedia<'_>) -> Result<MediaRow, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO media (id, user_id, kind, mime, bytes, width, height, duration_ms, sha256,
                            clean_sha256, clean_bytes, alt_text, thumb_sha256, codec)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         RETURNING {COLUMNS}"
    )))
    .bind(media.id)
    .bind(media.user)
    .bind(media.kind.as_str())
    .bind(media.mime)
    .bind(big(media.bytes))
    .bind(int(media.width))
    .bind(int(media.height))
    .bind(media.duration_ms.map(big))
    .bind(media.sha256)
    .bind(media.clean_sha256)
    .bind(big(media.clean_bytes))
    .bind(media.alt_text)
    .bind(media.thumb_sha256)
    .bind(media.codec)
    .fetch_one(pool)
    .await?)
}

/// The user's media with these ids (others' and unknown ids are left out).
pub async fn owned(
    pool: &PgPool,
    user: UserId,
    ids: &[MediaId],
) -> Result<Vec<MediaRow>, StoreError> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|id| id.0).collect();
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM media WHERE user_id = $1 AND id = ANY($2)"
    )))
    .bind(user)
    .bind(&ids)
    .fetch_all(pool)
    .await?)
}

pub async fn find(
    pool: &PgPool,
    user: UserId,
    id: MediaId,
) -> Result<Option<MediaRow>, StoreError> {
    Ok(owned(pool, user, &[id]).await?.into_iter().next())
}

pub async fn set_alt_text(
    pool: &PgPool,
    user: UserId,
    id: MediaId,
    alt_text: &str,
) -> Result<Option<MediaRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE media SET alt_text = $3 WHERE user_id = $1 AND id = $2 RETURNING {COLUMNS}"
    )))
    .bind(user)
    .bind(id)
    .bind(alt_text)
    .fetch_optional(pool)
    .await?)
}

/// A media row's objects: the original, the clean copy, the thumbnail.
type StoredObjects = (Vec<u8>, Vec<u8>, Option<Vec<u8>>);

pub enum Deleted {
    /// Gone; these objects no other media row uses may be removed from storage.
    Gone {
        unused_objects: Vec<Vec<u8>>,
    },
    /// A post whose tasks have not all finished uses it.
    InUse,
    NotFound,
}

/// Deletes the user's media unless a pending post uses it.
pub async fn delete(pool: &PgPool, user: UserId, id: MediaId) -> Result<Deleted, StoreError> {
    let mut tx = pool.begin().await?;
    let row: Option<StoredObjects> = sqlx::query_as(
        "SELECT sha256, clean_sha256, thumb_sha256 FROM media WHERE user_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(user)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((original, clean, thumb)) = row else {
        tx.rollback().await?;
        return Ok(Deleted::NotFound);
    };
    let in_use: bool = sqlx::query_scalar(
        "SELECT EXISTS (
            SELECT 1 FROM post_media pm
            JOIN publish_jobs j ON j.post_id = pm.post_id
            JOIN publish_tasks t ON t.job_id = j.id
            WHERE pm.media_id = $1
              AND t.status IN ('queued', 'running', 'retry_scheduled', 'unconfirmed'))",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    if in_use {
        // Now, not when the connection is next used: the row stays locked until then.
        tx.rollback().await?;
        return Ok(Deleted::InUse);
    }
    let variants: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT sha256 FROM media_variants WHERE media_id = $1")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
    sqlx::query("DELETE FROM media WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let mut unused_objects = Vec::new();
    let objects = [Some(original), Some(clean), thumb]
        .into_iter()
        .flatten()
        .chain(variants);
    for object in objects {
        let used: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM media
                            WHERE sha256 = $1 OR clean_sha256 = $1 OR thumb_sha256 = $1)
                 OR EXISTS (SELECT 1 FROM media_variants WHERE sha256 = $1)",
        )
        .bind(&object)
        .fetch_one(&mut *tx)
        .await?;
        if !used && !unused_objects.contains(&object) {
            unused_objects.push(object);
        }
    }
    tx.commit().await?;
    Ok(Deleted::Gone { unused_objects })
}

/// One attachment of a task's post, and what the task already uploaded of it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskMedia {
    pub media_id: MediaId,
    pub kind: String,
    pub position: i16,
    pub mime: String,
    pub clean_sha256: Vec<u8>,
    pub clean_bytes: i64,
    pub alt_text: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub platform_media_id: Option<String>,
}

pub async fn for_task(pool: &PgPool, task: TaskId) -> Result<Vec<TaskMedia>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT m.id AS media_id, m.kind, pm.position, m.mime, m.clean_sha256, m.clean_bytes, m.alt_text,
                m.width, m.height, tm.platform_media_id
         FROM publish_tasks t
         JOIN publish_jobs j ON j.id = t.job_id
         JOIN post_media pm ON pm.post_id = j.post_id
         JOIN media m ON m.id = pm.media_id
         LEFT JOIN task_media tm ON tm.task_id = t.id AND tm.position = pm.position
         WHERE t.id = $1
         ORDER BY pm.position",
    )
    .bind(task)
    .fetch_all(pool)
    .await?)
}

/// Records that the platform has this attachment of the task (before posting,
/// so a retry never uploads it again).
pub async fn record_upload(
    pool: &PgPool,
    task: TaskId,
    position: i16,
    platform_media_id: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO task_media (task_id, position, platform_media_id) VALUES ($1, $2, $3)
         ON CONFLICT (task_id, position) DO NOTHING",
    )
    .bind(task)
    .bind(position)
    .bind(platform_media_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Deletes uploads no post used, older than `older_than`; returns the objects
/// no remaining media row uses (to remove from storage).
pub async fn expire_unattached(
    pool: &PgPool,
    older_than: std::time::Duration,
) -> Result<Vec<Vec<u8>>, StoreError> {
    Ok(sqlx::query_scalar(
        "WITH gone AS (
            DELETE FROM media WHERE attached_at IS NULL AND created_at < now() - $1
            RETURNING id, sha256, clean_sha256, thumb_sha256),
         objects AS (SELECT sha256 AS object FROM gone UNION SELECT clean_sha256 FROM gone
                     UNION SELECT thumb_sha256 FROM gone WHERE thumb_sha256 IS NOT NULL)
         -- The statement still sees the rows it deletes: leave them out.
         SELECT object FROM objects o
         WHERE NOT EXISTS (SELECT 1 FROM media m
                           WHERE (m.sha256 = o.object OR m.clean_sha256 = o.object
                                  OR m.thumb_sha256 = o.object)
                             AND m.id NOT IN (SELECT id FROM gone))",
    )
    .bind(super::tasks::interval(older_than))
    .fetch_all(pool)
    .await?)
}

/// A copy of an image that fits `max_bytes`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Variant {
    pub sha256: Vec<u8>,
    pub bytes: i64,
    pub mime: String,
}

pub async fn variant(
    pool: &PgPool,
    media: MediaId,
    max_bytes: u64,
) -> Result<Option<Variant>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT sha256, bytes, mime FROM media_variants WHERE media_id = $1 AND max_bytes = $2",
    )
    .bind(media)
    .bind(big(max_bytes))
    .fetch_optional(pool)
    .await?)
}

pub async fn save_variant(
    pool: &PgPool,
    media: MediaId,
    max_bytes: u64,
    variant: &Variant,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO media_variants (media_id, max_bytes, sha256, bytes, mime) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (media_id, max_bytes) DO NOTHING",
    )
    .bind(media)
    .bind(big(max_bytes))
    .bind(&variant.sha256)
    .bind(variant.bytes)
    .bind(&variant.mime)
    .execute(pool)
    .await?;
    Ok(())
}
