//! The change feed (migration `change_feed`): PostgreSQL notifications on
//! task transitions, final job statuses and ended credentials, and the reads
//! that turn a notification into what changed for the jobs being watched.

use sqlx::PgPool;
use sqlx::postgres::PgListener;

use super::StoreError;
use super::publishing::EventRow;
use crate::domain::{JobId, JobStatus};

/// Task transitions were recorded or a job's status changed (no payload).
pub const TASK_CHANGES: &str = "prasaran_task_changes";
/// A session ended (`session:<hex SHA-256 of its CSRF token>`) or an API
/// token was revoked (`token:<id>`).
pub const CREDENTIALS_ENDED: &str = "prasaran_credentials_ended";

/// A listener on both channels (it reconnects by itself).
pub async fn listen(pool: &PgPool) -> Result<PgListener, StoreError> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener
        .listen_all([TASK_CHANGES, CREDENTIALS_ENDED])
        .await?;
    Ok(listener)
}

/// Transitions of `jobs` after each job's own cursor, in order.
pub async fn events_after(
    pool: &PgPool,
    cursors: &[(JobId, i64)],
) -> Result<Vec<EventRow>, StoreError> {
    let jobs: Vec<uuid::Uuid> = cursors.iter().map(|(j, _)| j.0).collect();
    let after: Vec<i64> = cursors.iter().map(|(_, a)| *a).collect();
    Ok(sqlx::query_as(
        "SELECT e.id, e.job_id, e.task_id, e.from_status, e.to_status, e.at, e.attempt, e.outcome,
                e.platform_status, e.latency_ms, e.detail
         FROM unnest($1::uuid[], $2::bigint[]) AS c(job_id, after)
         JOIN publish_task_events e ON e.job_id = c.job_id AND e.id > c.after
         ORDER BY e.id",
    )
    .bind(&jobs)
    .bind(&after)
    .fetch_all(pool)
    .await?)
}

/// The stored statuses of `jobs` (final ones are written when the job ends).
pub async fn job_statuses(
    pool: &PgPool,
    jobs: &[JobId],
) -> Result<Vec<(JobId, JobStatus)>, StoreError> {
    let ids: Vec<uuid::Uuid> = jobs.iter().map(|j| j.0).collect();
    let rows: Vec<(JobId, String)> =
        sqlx::query_as("SELECT id, status FROM publish_jobs WHERE id = ANY($1)")
            .bind(&ids)
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, status)| (id, JobStatus::parse(&status).unwrap_or(JobStatus::Pending)))
        .collect())
}
