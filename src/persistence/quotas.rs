//! What each user has used of their quotas, counted from the tables that
//! hold it.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::StoreError;
use crate::domain::UserId;

/// Posts made in the last hour and day, and when the oldest of each window
/// was made (one leaves the window, and room frees, when it ages out).
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub struct PostCounts {
    pub last_hour: i64,
    pub last_day: i64,
    pub oldest_in_hour: Option<DateTime<Utc>>,
    pub oldest_in_day: Option<DateTime<Utc>>,
    /// Scheduled posts whose time has not come and that are not cancelled.
    pub scheduled_pending: i64,
}

pub async fn post_counts(pool: &PgPool, user: UserId) -> Result<PostCounts, StoreError> {
    Ok(sqlx::query_as(
        "SELECT w.last_hour, w.last_day, w.oldest_in_hour, w.oldest_in_day, s.scheduled_pending
         FROM (SELECT count(*) FILTER (WHERE created_at > now() - interval '1 hour') AS last_hour,
                      count(*) AS last_day,
                      min(created_at) FILTER (WHERE created_at > now() - interval '1 hour') AS oldest_in_hour,
                      min(created_at) AS oldest_in_day
               FROM posts WHERE user_id = $1 AND created_at > now() - interval '1 day') w,
              (SELECT count(*) AS scheduled_pending
               FROM posts p JOIN publish_jobs j ON j.post_id = p.id
               WHERE p.user_id = $1 AND p.scheduled_at > now() AND j.status = 'pending') s",
    )
    .bind(user)
    .fetch_one(pool)
    .await?)
}

/// Active connections (a revoked one frees its place).
pub async fn connections(pool: &PgPool, user: UserId) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM platform_connections WHERE user_id = $1 AND status <> 'revoked'",
    )
    .bind(user)
    .fetch_one(pool)
    .await?)
}

/// Bytes of the user's uploads as received.
pub async fn media_bytes(pool: &PgPool, user: UserId) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT coalesce(sum(bytes), 0)::bigint FROM media WHERE user_id = $1")
            .bind(user)
            .fetch_one(pool)
            .await?,
    )
}
