//! The outbox of task hand-offs to SQS: rows written together with the tasks
//! they announce, leased by a relay, marked sent once SQS took them.

use std::time::Duration;

use sqlx::PgPool;

use super::StoreError;
use super::tasks::interval;
use crate::domain::ConnectionId;
use crate::domain::{JobId, TaskId};

/// The holder of tasks whose announcement waits in the outbox: the scheduler
/// leaves them alone until the relay has sent them.
pub const OUTBOX_HOLDER: &str = "outbox";

/// How a runnable task reaches the process that runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handoff {
    /// The accepting process's own actors (its mailboxes; Postgres for recovery).
    InProcess,
    /// An outbox row in the same statement, relayed to SQS.
    Outbox,
}

impl Handoff {
    /// The SQL flag the publishing statements take.
    pub(crate) fn via_outbox(self) -> bool {
        self == Handoff::Outbox
    }
}

/// One task to announce on the queue.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub task_id: TaskId,
    pub job_id: JobId,
    pub connection_id: ConnectionId,
}

/// Leases up to `limit` unsent rows for `lease` (other relays skip them meanwhile).
pub async fn take(
    pool: &PgPool,
    limit: i64,
    lease: Duration,
) -> Result<Vec<OutboxRow>, StoreError> {
    Ok(sqlx::query_as(
        "UPDATE outbox o SET available_at = now() + $2, attempts = o.attempts + 1
         FROM (SELECT id FROM outbox WHERE sent_at IS NULL AND available_at <= now()
               ORDER BY available_at, id LIMIT $1 FOR UPDATE SKIP LOCKED) due
         WHERE o.id = due.id
         RETURNING o.id, o.task_id, o.job_id, o.connection_id",
    )
    .bind(limit)
    .bind(interval(lease))
    .fetch_all(pool)
    .await?)
}

/// SQS accepted these: the rows are sent and their tasks no longer held by the outbox.
pub async fn mark_sent(pool: &PgPool, ids: &[i64]) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    // One transaction: a row marked sent always frees its task for the
    // scheduler's lost-message check.
    let mut tx = pool.begin().await?;
    let tasks: Vec<uuid::Uuid> = sqlx::query_scalar(
        "UPDATE outbox SET sent_at = now() WHERE id = ANY($1) RETURNING task_id",
    )
    .bind(ids)
    .fetch_all(&mut *tx)
    .await?;
    // Their tasks are now in the queue's hands: staleness counts from now.
    sqlx::query(
        "UPDATE publish_tasks SET held_by = NULL, dispatched_at = now()
         WHERE id = ANY($1) AND held_by = $2",
    )
    .bind(&tasks)
    .bind(OUTBOX_HOLDER)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sending these failed: try again after `delay`.
pub async fn retry_later(pool: &PgPool, ids: &[i64], delay: Duration) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query("UPDATE outbox SET available_at = now() + $2 WHERE id = ANY($1)")
        .bind(ids)
        .bind(interval(delay))
        .execute(pool)
        .await?;
    Ok(())
}

/// Rows not yet sent (operators watch this grow during a queue outage).
pub async fn backlog(pool: &PgPool) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            .fetch_one(pool)
            .await?,
    )
}

/// Sent rows are kept an hour for inspection, then deleted.
pub async fn purge_sent(pool: &PgPool) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM outbox WHERE sent_at < now() - interval '1 hour'")
            .execute(pool)
            .await?
            .rows_affected(),
    )
}
