//! Task state as the engine drives it: claiming (so no two processes run one
//! task), settling an attempt, and the scheduler's queries. Every change and
//! its `publish_task_events` row are written by one statement, so they commit
//! together.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use sqlx::postgres::types::PgInterval;

use super::StoreError;
use super::outbox::Handoff;
use crate::domain::ConnectionId;
use crate::domain::{JobId, TaskId, TaskStatus};

pub(crate) fn interval(duration: Duration) -> PgInterval {
    PgInterval {
        months: 0,
        days: 0,
        microseconds: i64::try_from(duration.as_micros()).unwrap_or(i64::MAX),
    }
}

/// A task this process now runs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: TaskId,
    pub job_id: JobId,
    /// `unconfirmed` means: ask the platform before publishing again.
    pub from_status: String,
    pub attempt_count: i32,
    pub content: String,
    pub created_at: DateTime<Utc>,
    /// Attachments of the post (0: a text post, no further query).
    pub media_count: i16,
    /// The key the platform gets (`None`: the task's id).
    pub platform_key: Option<String>,
    /// The exact record to write, for platforms that need one.
    pub platform_record: Option<serde_json::Value>,
    /// Where in the account it goes (a Matrix room).
    pub destination: Option<String>,
}

/// Moves the due, pending ones among `wanted` to `running` under this
/// process's lease. Each task is claimed only together with the connection it
/// belongs to, so a task announced for one connection (a stale or forged queue
/// message) never runs through another connection's worker or token. Rows
/// another process holds are skipped, not waited for.
pub async fn claim(
    pool: &PgPool,
    wanted: &[(ConnectionId, TaskId)],
    owner: &str,
    lease: Duration,
) -> Result<Vec<Claimed>, StoreError> {
    let ids: Vec<uuid::Uuid> = wanted.iter().map(|(_, t)| t.0).collect();
    let pairs: Vec<String> = wanted.iter().map(|(c, t)| format!("{t}/{c}")).collect();
    Ok(sqlx::query_as(
        "WITH old AS (
            SELECT t.id, t.status FROM publish_tasks t
            WHERE t.id = ANY($1)
              -- The task together with the connection it was delivered for.
              AND t.id::text || '/' || t.connection_id::text = ANY($4::text[])
              -- Inside CASE the status cannot steer the plan to a partial index of
              -- every pending task (the backlog); the batch is found by id.
              AND CASE WHEN t.status IN ('queued', 'retry_scheduled', 'unconfirmed') THEN true ELSE false END
              AND t.next_attempt_at <= now()
            FOR UPDATE OF t SKIP LOCKED),
         claimed AS (
            UPDATE publish_tasks t SET status = 'running', attempt_count = t.attempt_count + 1,
                   claimed_by = $2, lease_expires_at = now() + $3, updated_at = now()
            FROM old WHERE t.id = old.id
            RETURNING t.id, t.job_id, old.status AS from_status, t.attempt_count, t.created_at,
                      t.platform_key, t.platform_record, t.destination, t.content),
         events AS (INSERT INTO publish_task_events (task_id, job_id, from_status, to_status, attempt)
                    SELECT id, job_id, from_status, 'running', attempt_count FROM claimed)
         -- A target's own text (a variation) replaces the post's.
         SELECT c.id, c.job_id, c.from_status, c.attempt_count, coalesce(c.content, p.content) AS content,
                c.created_at, p.media_count,
                c.platform_key, c.platform_record, c.destination
         FROM claimed c
         JOIN publish_jobs j ON j.id = c.job_id
         JOIN posts p ON p.id = j.post_id",
    )
    .bind(&ids)
    .bind(owner)
    .bind(interval(lease))
    .bind(&pairs)
    .fetch_all(pool)
    .await?)
}

/// How one attempt ended, for the task row and its event (see [`settle_many`]).
#[derive(Debug, Clone)]
pub struct Settlement {
    pub id: TaskId,
    pub to: TaskStatus,
    /// For `retry_scheduled`/`unconfirmed`: when to try again.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Rate limits do not use up attempts.
    pub refund_attempt: bool,
    pub outcome: &'static str,
    pub error: Option<String>,
    pub platform_status: Option<i32>,
    pub latency_ms: Option<i32>,
    pub external_post_id: Option<String>,
    pub external_url: Option<String>,
}

/// A task the scheduler hands to the dispatcher.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueTask {
    pub id: TaskId,
    pub job_id: JobId,
    pub connection_id: ConnectionId,
}

/// Due pending tasks nobody holds: scheduled posts whose time came, tasks a
/// dead process held, retries released by a shutdown, and (sqs mode) tasks
/// whose announcement was sent `stale_after` ago and never run (a lost
/// message). Tasks a live process holds in memory are never handed out again,
/// however long its backlog. `holder` (in-process hand-off) becomes their
/// holder; with [`Handoff::Outbox`] their outbox rows are written instead
/// (skipping tasks whose announcement is still waiting to be sent, so an SQS
/// outage adds no duplicates).
pub async fn pick_due(
    pool: &PgPool,
    stale_after: Duration,
    limit: i64,
    handoff: Handoff,
    holder: Option<&str>,
) -> Result<Vec<DueTask>, StoreError> {
    Ok(sqlx::query_as(
        "WITH due AS (
            UPDATE publish_tasks t SET dispatched_at = now(), held_by = $4
            FROM (SELECT p.id FROM publish_tasks p
                  WHERE p.status IN ('queued', 'retry_scheduled', 'unconfirmed') AND p.held_by IS NULL
                    AND p.next_attempt_at <= now()
                    AND (p.dispatched_at IS NULL OR p.dispatched_at < now() - $1)
                    AND NOT ($3 AND EXISTS (SELECT 1 FROM outbox o WHERE o.task_id = p.id AND o.sent_at IS NULL))
                  ORDER BY p.next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED) picked
            WHERE t.id = picked.id
            RETURNING t.id, t.job_id, t.connection_id),
         announced AS (INSERT INTO outbox (task_id, job_id, connection_id)
                       SELECT id, job_id, connection_id FROM due WHERE $3)
         SELECT id, job_id, connection_id FROM due",
    )
    .bind(interval(stale_after))
    .bind(limit)
    .bind(handoff.via_outbox())
    .bind(holder)
    .fetch_all(pool)
    .await?)
}

/// This process is alive (every few seconds, from its scheduler).
pub async fn heartbeat(pool: &PgPool, owner: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO engine_processes (owner) VALUES ($1)
         ON CONFLICT (owner) DO UPDATE SET heartbeat_at = now()",
    )
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(())
}

/// Processes silent for `silent_for` are gone: their pending tasks are
/// released for the scheduler. Returns how many tasks.
pub async fn release_dead_holders(pool: &PgPool, silent_for: Duration) -> Result<u64, StoreError> {
    let dead: Vec<String> = sqlx::query_scalar(
        "DELETE FROM engine_processes WHERE heartbeat_at < now() - $1 RETURNING owner",
    )
    .bind(interval(silent_for))
    .fetch_all(pool)
    .await?;
    if dead.is_empty() {
        // The common case costs one look at a tiny table, never a scan of the tasks.
        return Ok(0);
    }
    let released = sqlx::query(
        "UPDATE publish_tasks SET held_by = NULL, dispatched_at = NULL
         WHERE held_by = ANY($1) AND status IN ('queued', 'retry_scheduled', 'unconfirmed')",
    )
    .bind(&dead)
    .execute(pool)
    .await?;
    Ok(released.rows_affected())
}

/// Pending tasks a live process holds but has not run for `overdue`: its
/// mailbox copy was lost (a claim skipped a row another statement had locked,
/// or clocks disagree). Released for the scheduler; a process that still has
/// them queued ignores the second hand-out. Returns how many.
pub async fn release_overdue(pool: &PgPool, overdue: Duration) -> Result<u64, StoreError> {
    let released = sqlx::query(
        "UPDATE publish_tasks SET held_by = NULL, dispatched_at = NULL
         WHERE status IN ('queued', 'retry_scheduled', 'unconfirmed')
           AND held_by IS NOT NULL AND held_by <> $2 AND next_attempt_at < now() - $1",
    )
    .bind(interval(overdue))
    .bind(super::outbox::OUTBOX_HOLDER)
    .execute(pool)
    .await?;
    Ok(released.rows_affected())
}

/// At start-up: pending tasks held by a process that is not alive (one that
/// died before its first heartbeat, say) are released. Returns how many.
pub async fn release_orphans(pool: &PgPool, silent_for: Duration) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "WITH released AS (
            UPDATE publish_tasks SET held_by = NULL, dispatched_at = NULL
            WHERE status IN ('queued', 'retry_scheduled', 'unconfirmed') AND held_by IS NOT NULL
              AND held_by <> $2
              AND held_by NOT IN (SELECT owner FROM engine_processes WHERE heartbeat_at >= now() - $1)
            RETURNING 1)
         SELECT count(*) FROM released",
    )
    .bind(interval(silent_for))
    .bind(super::outbox::OUTBOX_HOLDER)
    .fetch_one(pool)
    .await?;
    Ok(n as u64)
}

/// This process is stopping: it holds nothing any more. Returns how many tasks it let go.
pub async fn release_held(pool: &PgPool, owner: &str) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "WITH gone AS (DELETE FROM engine_processes WHERE owner = $1),
              released AS (
                UPDATE publish_tasks SET held_by = NULL, dispatched_at = NULL
                WHERE held_by = $1 AND status IN ('queued', 'retry_scheduled', 'unconfirmed')
                RETURNING 1)
         SELECT count(*) FROM released",
    )
    .bind(owner)
    .fetch_one(pool)
    .await?;
    Ok(n as u64)
}

/// Where a delivered task stands, for a queue message that could not claim it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskFate {
    /// Terminal, gone, or durably scheduled for later: the message has done its job.
    Settled,
    /// Running in another process, or locked right now: ask again later.
    Held,
    /// The message named another connection than the task's own (stale or
    /// forged): it is dropped; the task's own announcement runs it.
    Misrouted,
}

/// Why the tasks among `ids`, delivered for `connection`, could not be claimed just now.
pub async fn fates(
    pool: &PgPool,
    ids: &[TaskId],
    connection: ConnectionId,
) -> Result<Vec<(TaskId, TaskFate)>, StoreError> {
    let raw: Vec<uuid::Uuid> = ids.iter().map(|t| t.0).collect();
    let rows: Vec<(TaskId, bool, bool)> = sqlx::query_as(
        "SELECT id, connection_id = $2,
                status = 'running' OR (status IN ('queued', 'retry_scheduled', 'unconfirmed')
                                       AND next_attempt_at <= now())
         FROM publish_tasks WHERE id = ANY($1)",
    )
    .bind(&raw)
    .bind(connection)
    .fetch_all(pool)
    .await?;
    Ok(ids
        .iter()
        .map(|id| {
            let fate = match rows.iter().find(|(t, _, _)| t == id) {
                Some((_, false, _)) => TaskFate::Misrouted,
                Some((_, true, true)) => TaskFate::Held,
                _ => TaskFate::Settled,
            };
            (*id, fate)
        })
        .collect())
}

/// Every running task this process holds goes back to `unconfirmed`
/// (graceful shutdown after the grace period), checked with the platform
/// elsewhere once `check_after` has passed: its call may still be on its way
/// and land after a check made at once, which would then find nothing and
/// send it again. Returns how many.
pub async fn release_all_owned(
    pool: &PgPool,
    owner: &str,
    check_after: Duration,
) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "WITH moved AS (
            UPDATE publish_tasks SET status = 'unconfirmed', claimed_by = NULL, lease_expires_at = NULL,
                   dispatched_at = NULL, held_by = NULL, next_attempt_at = now() + $2, updated_at = now()
            WHERE status = 'running' AND claimed_by = $1
            RETURNING id, job_id, attempt_count),
         events AS (INSERT INTO publish_task_events (task_id, job_id, from_status, to_status, attempt, detail)
                    SELECT id, job_id, 'running', 'unconfirmed', attempt_count,
                           'the process running it shut down; checking with the platform before retrying'
                    FROM moved)
         SELECT count(*) FROM moved",
    )
    .bind(owner)
    .bind(interval(check_after))
    .fetch_one(pool)
    .await?;
    Ok(n as u64)
}

/// Running tasks whose process's lease ran out: their last call may have
/// reached the platform, so they become `unconfirmed`. Returns how many.
pub async fn recover_expired_leases(pool: &PgPool) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "WITH moved AS (
            UPDATE publish_tasks SET status = 'unconfirmed', claimed_by = NULL, lease_expires_at = NULL,
                   dispatched_at = NULL, held_by = NULL, next_attempt_at = now(), updated_at = now()
            WHERE status = 'running' AND lease_expires_at < now()
            RETURNING id, job_id, attempt_count),
         events AS (INSERT INTO publish_task_events (task_id, job_id, from_status, to_status, attempt, detail)
                    SELECT id, job_id, 'running', 'unconfirmed', attempt_count,
                           'the process running it stopped; checking with the platform before retrying'
                    FROM moved)
         SELECT count(*) FROM moved",
    )
    .fetch_one(pool)
    .await?;
    Ok(n as u64)
}

/// Running tasks this process claimed whose call broke off (a panic): back to
/// `unconfirmed`, so they are checked with the platform and finished. Returns their ids.
pub async fn release_claimed(
    pool: &PgPool,
    ids: &[TaskId],
    owner: &str,
) -> Result<Vec<TaskId>, StoreError> {
    let raw: Vec<uuid::Uuid> = ids.iter().map(|t| t.0).collect();
    Ok(sqlx::query_scalar(
        "WITH moved AS (
            UPDATE publish_tasks SET status = 'unconfirmed', claimed_by = NULL, lease_expires_at = NULL,
                   next_attempt_at = now(), updated_at = now()
            WHERE id = ANY($1) AND status = 'running' AND claimed_by = $2
            RETURNING id, job_id, attempt_count),
         events AS (INSERT INTO publish_task_events (task_id, job_id, from_status, to_status, attempt, detail)
                    SELECT id, job_id, 'running', 'unconfirmed', attempt_count,
                           'the platform call broke off; checking with the platform before retrying'
                    FROM moved)
         SELECT id FROM moved",
    )
    .bind(&raw)
    .bind(owner)
    .fetch_all(pool)
    .await?)
}

/// Scheduled tasks more than `grace` overdue become `missed`; the jobs touched.
pub async fn mark_missed(pool: &PgPool, grace: Duration) -> Result<Vec<JobId>, StoreError> {
    Ok(sqlx::query_scalar(
        "WITH moved AS (
            UPDATE publish_tasks t SET status = 'missed', completed_at = now(), updated_at = now(),
                   last_error = 'its scheduled time passed while Prasaran was not running'
            FROM posts p, publish_jobs j
            WHERE j.id = t.job_id AND p.id = j.post_id AND p.scheduled_at IS NOT NULL
              AND t.status = 'queued' AND t.next_attempt_at < now() - $1
            RETURNING t.id, t.job_id),
         events AS (INSERT INTO publish_task_events (task_id, job_id, from_status, to_status, detail)
                    SELECT id, job_id, 'queued', 'missed', 'scheduled time passed beyond the grace period'
                    FROM moved)
         SELECT DISTINCT job_id FROM moved",
    )
    .bind(interval(grace))
    .fetch_all(pool)
    .await?)
}

/// Fails every pending task of a connection whose grant is gone; the jobs touched.
pub async fn fail_for_connection(
    pool: &PgPool,
    connection: ConnectionId,
    reason: &str,
) -> Result<Vec<JobId>, StoreError> {
    Ok(sqlx::query_scalar(
        "WITH moved AS (
            UPDATE publish_tasks t SET status = 'failed', completed_at = now(), updated_at = now(),
                   last_error = $2, last_error_kind = 'revoked'
            FROM publish_tasks old
            WHERE t.id = old.id AND t.connection_id = $1
              AND old.status IN ('queued', 'retry_scheduled', 'unconfirmed')
            RETURNING t.id, t.job_id, old.status AS from_status),
         events AS (INSERT INTO publish_task_events (task_id, job_id, from_status, to_status, outcome, detail)
                    SELECT id, job_id, from_status, 'failed', 'revoked', $2 FROM moved)
         SELECT DISTINCT job_id FROM moved",
    )
    .bind(connection)
    .bind(reason)
    .fetch_all(pool)
    .await?)
}

/// Every task status of a job (a coordinator rebuilding itself).
pub async fn statuses_of_job(
    pool: &PgPool,
    job: JobId,
) -> Result<Vec<(TaskId, TaskStatus)>, StoreError> {
    let rows: Vec<(TaskId, String)> =
        sqlx::query_as("SELECT id, status FROM publish_tasks WHERE job_id = $1")
            .bind(job)
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, status)| TaskStatus::parse(&status).map(|s| (id, s)))
        .collect())
}

/// Many settlements in one statement (one commit): the worker-side hot path.
/// Returns the ids this process still held and has now written.
pub async fn settle_many(
    pool: &PgPool,
    owner: &str,
    batch: &[Settlement],
) -> Result<Vec<TaskId>, StoreError> {
    let ids: Vec<uuid::Uuid> = batch.iter().map(|s| s.id.0).collect();
    let to: Vec<&str> = batch.iter().map(|s| s.to.as_str()).collect();
    let next: Vec<Option<DateTime<Utc>>> = batch.iter().map(|s| s.next_attempt_at).collect();
    let refund: Vec<bool> = batch.iter().map(|s| s.refund_attempt).collect();
    let outcome: Vec<&str> = batch.iter().map(|s| s.outcome).collect();
    let error: Vec<Option<&str>> = batch.iter().map(|s| s.error.as_deref()).collect();
    let status: Vec<Option<i32>> = batch.iter().map(|s| s.platform_status).collect();
    let latency: Vec<Option<i32>> = batch.iter().map(|s| s.latency_ms).collect();
    let ext_id: Vec<Option<&str>> = batch
        .iter()
        .map(|s| s.external_post_id.as_deref())
        .collect();
    let ext_url: Vec<Option<&str>> = batch.iter().map(|s| s.external_url.as_deref()).collect();
    Ok(sqlx::query_scalar(
        "WITH input AS (
            SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::bool[], $5::text[],
                                 $6::text[], $7::int[], $8::int[], $9::text[], $10::text[])
                   AS x(id, to_status, next_at, refund, outcome, error, platform_status, latency_ms, ext_id, ext_url)),
         moved AS (
            UPDATE publish_tasks t SET status = i.to_status,
                   attempt_count = t.attempt_count - CASE WHEN i.refund THEN 1 ELSE 0 END,
                   next_attempt_at = coalesce(i.next_at, t.next_attempt_at),
                   dispatched_at = CASE WHEN i.next_at IS NULL THEN t.dispatched_at ELSE i.next_at END,
                   last_error = coalesce(i.error, t.last_error),
                   last_error_kind = CASE WHEN i.error IS NULL THEN t.last_error_kind ELSE i.outcome END,
                   external_post_id = coalesce(i.ext_id, t.external_post_id),
                   external_url = coalesce(i.ext_url, t.external_url),
                   claimed_by = NULL, lease_expires_at = NULL, updated_at = now(),
                   completed_at = CASE WHEN i.to_status IN ('succeeded', 'failed', 'cancelled', 'missed') THEN now() END
            FROM input i
            -- claimed_by is set exactly while a task runs (the claim sets it with
            -- `running`; every way out of `running` clears it), so this is the
            -- lease check. Naming the status here would let the planner walk
            -- every running task through a partial index, by a count it knows
            -- only from stale statistics (seen: 816 ms for one batch), instead
            -- of looking the batch up by id.
            WHERE t.id = i.id AND t.claimed_by = $11
            RETURNING t.id, t.job_id, t.attempt_count, i.to_status, i.outcome, i.platform_status, i.latency_ms, i.error),
         events AS (INSERT INTO publish_task_events
                      (task_id, job_id, from_status, to_status, attempt, outcome, platform_status, latency_ms, detail)
                    SELECT id, job_id, 'running', to_status, attempt_count, outcome, platform_status, latency_ms, error
                    FROM moved)
         SELECT id FROM moved",
    )
    .bind(&ids)
    .bind(&to)
    .bind(&next)
    .bind(&refund)
    .bind(&outcome)
    .bind(&error)
    .bind(&status)
    .bind(&latency)
    .bind(&ext_id)
    .bind(&ext_url)
    .bind(owner)
    .fetch_all(pool)
    .await?)
}
