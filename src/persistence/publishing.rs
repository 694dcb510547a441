//! Posts and publish jobs: accepting a publish in one statement, reading jobs,
//! tasks and their events, history, and the user's retry/cancel.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::StoreError;
use super::outbox::Handoff;
use crate::domain::ConnectionId;
use crate::domain::{JobId, JobStatus, MediaId, PostId, TaskId, TaskStatus, UserId};

/// One target of a new publish.
pub struct NewTask {
    pub id: TaskId,
    pub connection_id: ConnectionId,
    pub platform_id: String,
    /// The key the platform gets (`None`: the task's id).
    pub platform_key: Option<String>,
    /// The exact record to write, for platforms that need one.
    pub platform_record: Option<serde_json::Value>,
    /// Where in the account it goes (a Matrix room), and that place's name.
    pub destination: Option<String>,
    pub destination_name: Option<String>,
    /// This target's own text (a variation); `None`: the post's.
    pub content: Option<String>,
}

pub struct NewPublish {
    pub post_id: PostId,
    pub job_id: JobId,
    pub user_id: UserId,
    pub content: String,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub time_zone: Option<String>,
    pub tasks: Vec<NewTask>,
    /// `(key, SHA-256 of the request)` when the client sent `Idempotency-Key`.
    pub idempotency: Option<(String, Vec<u8>)>,
    /// The post's attachments, in order (already checked to be the user's).
    pub media: Vec<MediaId>,
    /// Visibility, content warning, language as asked (`None`: defaults).
    pub options: Option<serde_json::Value>,
    /// Per-target texts as asked (`None`: none).
    pub variations: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    /// The same key and body were accepted before: this is that publish.
    Replayed {
        post_id: PostId,
        job_id: JobId,
    },
    /// The same key came with a different body.
    KeyConflict,
}

/// The one write path of accepted publishes: every publish of `batch` —
/// post, job, one task per target, their first events and (sqs mode) their
/// outbox rows — in a single statement, so many requests share one commit.
/// A publish with an idempotency key is admitted only if its key's insert
/// succeeds: among concurrent duplicates the unique key lets exactly one
/// through, and the others learn which publish holds it. `holder` is the
/// process that runs the tasks from its own mailboxes (in-process hand-off of
/// immediate posts). All or nothing: on an error the caller retries one by one.
#[tracing::instrument(skip_all, fields(publishes = batch.len()))]
pub async fn create(
    pool: &PgPool,
    batch: &[&NewPublish],
    handoff: Handoff,
    holder: Option<&str>,
) -> Result<Vec<CreateOutcome>, StoreError> {
    let posts: Vec<uuid::Uuid> = batch.iter().map(|p| p.post_id.0).collect();
    let users: Vec<uuid::Uuid> = batch.iter().map(|p| p.user_id.0).collect();
    let contents: Vec<&str> = batch.iter().map(|p| p.content.as_str()).collect();
    let scheduled: Vec<Option<DateTime<Utc>>> = batch.iter().map(|p| p.scheduled_at).collect();
    let zones: Vec<Option<&str>> = batch.iter().map(|p| p.time_zone.as_deref()).collect();
    let jobs: Vec<uuid::Uuid> = batch.iter().map(|p| p.job_id.0).collect();
    let keys: Vec<Option<&str>> = batch
        .iter()
        .map(|p| p.idempotency.as_ref().map(|(k, _)| k.as_str()))
        .collect();
    let hashes: Vec<Option<&[u8]>> = batch
        .iter()
        .map(|p| p.idempotency.as_ref().map(|(_, h)| h.as_slice()))
        .collect();
    let tasks: Vec<(&NewPublish, &NewTask)> = batch
        .iter()
        .flat_map(|p| p.tasks.iter().map(move |t| (*p, t)))
        .collect();
    let task_ids: Vec<uuid::Uuid> = tasks.iter().map(|(_, t)| t.id.0).collect();
    let task_jobs: Vec<uuid::Uuid> = tasks.iter().map(|(p, _)| p.job_id.0).collect();
    let task_connections: Vec<uuid::Uuid> = tasks.iter().map(|(_, t)| t.connection_id.0).collect();
    let task_platforms: Vec<&str> = tasks.iter().map(|(_, t)| t.platform_id.as_str()).collect();
    let task_keys: Vec<Option<&str>> = tasks
        .iter()
        .map(|(_, t)| t.platform_key.as_deref())
        .collect();
    let task_records: Vec<Option<&serde_json::Value>> = tasks
        .iter()
        .map(|(_, t)| t.platform_record.as_ref())
        .collect();
    let task_places: Vec<Option<&str>> = tasks
        .iter()
        .map(|(_, t)| t.destination.as_deref())
        .collect();
    let task_place_names: Vec<Option<&str>> = tasks
        .iter()
        .map(|(_, t)| t.destination_name.as_deref())
        .collect();
    let task_contents: Vec<Option<&str>> =
        tasks.iter().map(|(_, t)| t.content.as_deref()).collect();
    let options: Vec<Option<&serde_json::Value>> =
        batch.iter().map(|p| p.options.as_ref()).collect();
    let variations: Vec<Option<&serde_json::Value>> =
        batch.iter().map(|p| p.variations.as_ref()).collect();
    let media_counts: Vec<i16> = batch
        .iter()
        .map(|p| i16::try_from(p.media.len()).unwrap_or(i16::MAX))
        .collect();
    let attachments: Vec<(uuid::Uuid, uuid::Uuid, i16)> = batch
        .iter()
        .flat_map(|p| {
            p.media
                .iter()
                .zip(0i16..)
                .map(move |(m, position)| (p.post_id.0, m.0, position))
        })
        .collect();
    let attached_posts: Vec<uuid::Uuid> = attachments.iter().map(|a| a.0).collect();
    let attached_media: Vec<uuid::Uuid> = attachments.iter().map(|a| a.1).collect();
    let attached_positions: Vec<i16> = attachments.iter().map(|a| a.2).collect();
    let admitted: Vec<uuid::Uuid> = sqlx::query_scalar(
        "WITH input AS (
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::text[],
                                 $6::uuid[], $12::text[], $13::bytea[], $15::int2[], $23::jsonb[], $24::jsonb[])
                   AS x(post_id, user_id, content, scheduled_at, time_zone, job_id, key, hash, media_count,
                        options, variations)),
         gate AS (INSERT INTO idempotency_keys (user_id, key, request_hash, post_id, job_id)
                  SELECT user_id, key, hash, post_id, job_id FROM input WHERE key IS NOT NULL
                  ON CONFLICT DO NOTHING RETURNING job_id),
         admitted AS (SELECT * FROM input WHERE key IS NULL OR job_id IN (SELECT job_id FROM gate)),
         post AS (INSERT INTO posts (id, user_id, content, scheduled_at, time_zone, media_count,
                                     options, variations)
                  SELECT post_id, user_id, content, scheduled_at, time_zone, media_count, options, variations
                  FROM admitted
                  RETURNING id),
         attached AS (
            SELECT x.post_id, x.media_id, x.position
            FROM unnest($16::uuid[], $17::uuid[], $18::int2[]) AS x(post_id, media_id, position)
            JOIN admitted a ON a.post_id = x.post_id),
         post_media AS (INSERT INTO post_media (post_id, position, media_id)
                        -- After the post row: post_media references it.
                        SELECT post_id, position, media_id FROM attached
                        WHERE EXISTS (SELECT 1 FROM post WHERE post.id = attached.post_id)),
         media_used AS (UPDATE media SET attached_at = coalesce(attached_at, now())
                        WHERE id IN (SELECT media_id FROM attached)),
         job AS (INSERT INTO publish_jobs (id, post_id, user_id) SELECT job_id, post_id, user_id FROM admitted),
         task_input AS (
            SELECT x.t, x.j, x.c, x.p, x.k, x.r, x.d, x.dn, x.content, a.scheduled_at AS at
            FROM unnest($7::uuid[], $8::uuid[], $9::uuid[], $10::text[], $19::text[], $20::jsonb[],
                        $21::text[], $22::text[], $25::text[])
                 AS x(t, j, c, p, k, r, d, dn, content)
            JOIN admitted a ON a.job_id = x.j),
         task AS (INSERT INTO publish_tasks (id, job_id, connection_id, platform_id, next_attempt_at,
                                             dispatched_at, held_by, platform_key, platform_record,
                                             destination, destination_name, content)
                  SELECT t, j, c, p, coalesce(at, now()), CASE WHEN at IS NULL THEN now() END,
                         CASE WHEN at IS NULL THEN $14 END, k, r, d, dn, content
                  FROM task_input),
         outbox AS (INSERT INTO outbox (task_id, job_id, connection_id)
                    SELECT t, j, c FROM task_input WHERE $11 AND at IS NULL),
         events AS (INSERT INTO publish_task_events (task_id, job_id, to_status, detail)
                    SELECT t, j, 'queued', 'accepted' FROM task_input)
         SELECT job_id FROM admitted",
    )
    .bind(&posts)
    .bind(&users)
    .bind(&contents)
    .bind(&scheduled)
    .bind(&zones)
    .bind(&jobs)
    .bind(&task_ids)
    .bind(&task_jobs)
    .bind(&task_connections)
    .bind(&task_platforms)
    .bind(handoff.via_outbox())
    .bind(&keys)
    .bind(&hashes)
    .bind(holder)
    .bind(&media_counts)
    .bind(&attached_posts)
    .bind(&attached_media)
    .bind(&attached_positions)
    .bind(&task_keys)
    .bind(&task_records)
    .bind(&task_places)
    .bind(&task_place_names)
    .bind(&options)
    .bind(&variations)
    .bind(&task_contents)
    .fetch_all(pool)
    .await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for publish in batch {
        if admitted.contains(&publish.job_id.0) {
            outcomes.push(CreateOutcome::Created);
            continue;
        }
        let Some((key, hash)) = &publish.idempotency else {
            return Err(StoreError::Corrupt("publish insert wrote nothing".into()));
        };
        let existing: Option<(Vec<u8>, PostId, JobId)> = sqlx::query_as(
            "SELECT request_hash, post_id, job_id FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        )
        .bind(publish.user_id)
        .bind(key)
        .fetch_optional(pool)
        .await?;
        outcomes.push(match existing {
            Some((stored, post_id, job_id)) if stored == *hash => {
                CreateOutcome::Replayed { post_id, job_id }
            }
            Some(_) => CreateOutcome::KeyConflict,
            None => return Err(StoreError::Corrupt("idempotency key vanished".into())),
        });
    }
    Ok(outcomes)
}

/// Tasks of these connections waiting to run (due within a minute, not yet
/// final): a user's backlog. Reads only the index of pending tasks.
pub async fn backlog_of(pool: &PgPool, connections: &[ConnectionId]) -> Result<i64, StoreError> {
    let ids: Vec<uuid::Uuid> = connections.iter().map(|c| c.0).collect();
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM publish_tasks
         WHERE connection_id = ANY($1) AND status IN ('queued', 'retry_scheduled', 'unconfirmed', 'running')
           AND next_attempt_at <= now() + interval '1 minute'",
    )
    .bind(&ids)
    .fetch_one(pool)
    .await?)
}

/// Keys are honoured for 24 hours.
pub async fn delete_old_idempotency_keys(pool: &PgPool) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'")
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: JobId,
    pub post_id: PostId,
    pub status: String,
    pub content: String,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub time_zone: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub options: Option<serde_json::Value>,
    pub variations: Option<serde_json::Value>,
    pub media_ids: Vec<uuid::Uuid>,
    /// When the post was written (its time in a calendar when not scheduled).
    pub post_created_at: DateTime<Utc>,
}

impl JobRow {
    pub fn status(&self) -> JobStatus {
        JobStatus::parse(&self.status).unwrap_or(JobStatus::Pending)
    }
}

const JOB_COLUMNS: &str = "j.id, j.post_id, j.status, p.content, p.scheduled_at, p.time_zone, \
                           j.created_at, j.updated_at, j.completed_at, p.options, p.variations, \
                           p.created_at AS post_created_at, \
                           coalesce((SELECT array_agg(pm.media_id ORDER BY pm.position) \
                                     FROM post_media pm WHERE pm.post_id = p.id), '{}') AS media_ids";

/// The job if it is `user`'s; another user's job looks absent.
pub async fn find_job(
    pool: &PgPool,
    user: UserId,
    job: JobId,
) -> Result<Option<JobRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {JOB_COLUMNS} FROM publish_jobs j JOIN posts p ON p.id = j.post_id
         WHERE j.id = $1 AND j.user_id = $2"
    )))
    .bind(job)
    .bind(user)
    .fetch_optional(pool)
    .await?)
}

/// How a listing is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOrder {
    /// By when the post was written, newest first (history).
    Newest,
    /// By the post's time — scheduled, or written when published at once —
    /// earliest first (calendar, queue).
    Time,
}

/// Which of the user's posts a listing holds.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// The post's time (scheduled, or written) in `[from, to)`.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// The job's stored status.
    pub status: Option<JobStatus>,
    /// A target on this platform.
    pub platform: Option<String>,
    /// Text the post holds, any case.
    pub text: Option<String>,
}

/// `text` as a `LIKE` pattern that matches it anywhere, its own `%` and `_` literal.
fn contains_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// A page of the user's jobs matching `filter`, in `order`, after `cursor`
/// (the last row's sort time and id: the job's for `Newest`, the post's for `Time`).
pub async fn history(
    pool: &PgPool,
    user: UserId,
    filter: &ListFilter,
    order: ListOrder,
    cursor: Option<(DateTime<Utc>, uuid::Uuid)>,
    limit: i64,
) -> Result<Vec<JobRow>, StoreError> {
    let (at, id) = match cursor {
        Some((at, id)) => (Some(at), Some(id)),
        None => (None, None),
    };
    let (after, sort) = match order {
        ListOrder::Newest => (
            "(j.created_at, j.id) < ($2, $3)",
            "j.created_at DESC, j.id DESC",
        ),
        ListOrder::Time => (
            "(coalesce(p.scheduled_at, p.created_at), p.id) > ($2, $3)",
            "coalesce(p.scheduled_at, p.created_at), p.id",
        ),
    };
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {JOB_COLUMNS} FROM publish_jobs j JOIN posts p ON p.id = j.post_id
         WHERE j.user_id = $1 AND p.user_id = $1 AND ($2::timestamptz IS NULL OR {after})
           AND ($5::timestamptz IS NULL OR coalesce(p.scheduled_at, p.created_at) >= $5)
           AND ($6::timestamptz IS NULL OR coalesce(p.scheduled_at, p.created_at) < $6)
           AND ($7::text IS NULL OR j.status = $7)
           AND ($8::text IS NULL OR EXISTS (SELECT 1 FROM publish_tasks t
                                             WHERE t.job_id = j.id AND t.platform_id = $8))
           AND ($9::text IS NULL OR p.content ILIKE $9)
         ORDER BY {sort} LIMIT $4"
    )))
    .bind(user)
    .bind(at)
    .bind(id)
    .bind(limit)
    .bind(filter.from)
    .bind(filter.to)
    .bind(filter.status.map(JobStatus::as_str))
    .bind(filter.platform.as_deref())
    .bind(filter.text.as_deref().map(contains_pattern))
    .fetch_all(pool)
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskRow {
    pub id: TaskId,
    pub job_id: JobId,
    pub connection_id: ConnectionId,
    pub platform_id: String,
    pub handle: String,
    pub destination: Option<String>,
    pub destination_name: Option<String>,
    pub status: String,
    pub attempt_count: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub last_error_kind: Option<String>,
    pub external_post_id: Option<String>,
    pub external_url: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// This target's own text (a variation).
    pub content: Option<String>,
}

impl TaskRow {
    pub fn status(&self) -> TaskStatus {
        TaskStatus::parse(&self.status).unwrap_or(TaskStatus::Queued)
    }
}

pub async fn tasks_of_jobs(pool: &PgPool, jobs: &[JobId]) -> Result<Vec<TaskRow>, StoreError> {
    let ids: Vec<uuid::Uuid> = jobs.iter().map(|j| j.0).collect();
    Ok(sqlx::query_as(
        "SELECT t.id, t.job_id, t.connection_id, t.platform_id, c.handle, t.destination,
                t.destination_name, t.status, t.attempt_count,
                t.next_attempt_at, t.last_error, t.last_error_kind, t.external_post_id, t.external_url,
                t.updated_at, t.completed_at, t.content
         FROM publish_tasks t JOIN platform_connections c ON c.id = t.connection_id
         WHERE t.job_id = ANY($1) ORDER BY t.job_id, c.created_at, t.id",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub job_id: JobId,
    pub task_id: TaskId,
    pub from_status: Option<String>,
    pub to_status: String,
    pub at: DateTime<Utc>,
    pub attempt: i32,
    pub outcome: Option<String>,
    pub platform_status: Option<i32>,
    pub latency_ms: Option<i32>,
    pub detail: Option<String>,
}

/// The job's transitions after event `after`, in the order they happened.
pub async fn events_of_job(
    pool: &PgPool,
    job: JobId,
    after: i64,
) -> Result<Vec<EventRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, job_id, task_id, from_status, to_status, at, attempt, outcome, platform_status, latency_ms, detail
         FROM publish_task_events WHERE job_id = $1 AND id > $2 ORDER BY id",
    )
    .bind(job)
    .bind(after)
    .fetch_all(pool)
    .await?)
}

/// Puts the job's failed tasks back in the queue (a fresh budget of attempts).
pub async fn retry_failed(
    pool: &PgPool,
    job: JobId,
    handoff: Handoff,
    holder: Option<&str>,
) -> Result<Vec<(TaskId, ConnectionId)>, StoreError> {
    Ok(sqlx::query_as(
        "WITH moved AS (
            UPDATE publish_tasks t SET status = 'queued', attempt_count = 0, next_attempt_at = now(),
                   dispatched_at = now(), held_by = $3, last_error = NULL, last_error_kind = NULL,
                   completed_at = NULL, updated_at = now()
            FROM platform_connections c
            WHERE t.job_id = $1 AND t.status = 'failed' AND c.id = t.connection_id AND c.status = 'active'
            RETURNING t.id, t.connection_id),
         events AS (INSERT INTO publish_task_events (task_id, job_id, from_status, to_status, detail)
                    SELECT id, $1, 'failed', 'queued', 'retried by the user' FROM moved),
         outbox AS (INSERT INTO outbox (task_id, job_id, connection_id)
                    SELECT id, $1, connection_id FROM moved WHERE $2)
         SELECT id, connection_id FROM moved",
    )
    .bind(job)
    .bind(handoff.via_outbox())
    .bind(holder)
    .fetch_all(pool)
    .await?)
}

/// Cancels the job's tasks that have not started; returns how many.
pub async fn cancel_pending(pool: &PgPool, job: JobId, reason: &str) -> Result<u64, StoreError> {
    let cancelled: i64 = sqlx::query_scalar(
        "WITH moved AS (
            UPDATE publish_tasks t SET status = 'cancelled', completed_at = now(), updated_at = now(),
                   last_error = $2
            FROM publish_tasks old
            WHERE t.id = old.id AND t.job_id = $1 AND old.status IN ('queued', 'retry_scheduled')
            RETURNING t.id, old.status AS from_status),
         events AS (INSERT INTO publish_task_events (task_id, job_id, from_status, to_status, detail)
                    SELECT id, $1, from_status, 'cancelled', $2 FROM moved)
         SELECT count(*) FROM moved",
    )
    .bind(job)
    .bind(reason)
    .fetch_one(pool)
    .await?;
    Ok(cancelled as u64)
}

/// Cancels every not-started task on a connection (it was disconnected); the jobs touched.
pub async fn cancel_for_connection(
    pool: &PgPool,
    connection: ConnectionId,
    reason: &str,
) -> Result<Vec<JobId>, StoreError> {
    Ok(sqlx::query_scalar(
        "WITH moved AS (
            UPDATE publish_tasks t SET status = 'cancelled', completed_at = now(), updated_at = now(),
                   last_error = $2
            FROM publish_tasks old
            WHERE t.id = old.id AND t.connection_id = $1 AND old.status IN ('queued', 'retry_scheduled')
            RETURNING t.id, t.job_id, old.status AS from_status),
         events AS (INSERT INTO publish_task_events (task_id, job_id, from_status, to_status, detail)
                    SELECT id, job_id, from_status, 'cancelled', $2 FROM moved)
         SELECT DISTINCT job_id FROM moved",
    )
    .bind(connection)
    .bind(reason)
    .fetch_all(pool)
    .await?)
}

/// Records the job's derived status.
pub async fn set_job_status(
    pool: &PgPool,
    job: JobId,
    status: JobStatus,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE publish_jobs SET status = $2, updated_at = now(),
                completed_at = CASE WHEN $3 THEN now() ELSE NULL END
         WHERE id = $1 AND status IS DISTINCT FROM $2",
    )
    .bind(job)
    .bind(status.as_str())
    .bind(status.is_terminal())
    .execute(pool)
    .await?;
    Ok(())
}

/// Records the final status of many jobs in one statement.
pub async fn set_jobs_final(pool: &PgPool, jobs: &[(JobId, JobStatus)]) -> Result<(), StoreError> {
    let ids: Vec<uuid::Uuid> = jobs.iter().map(|(j, _)| j.0).collect();
    let statuses: Vec<&str> = jobs.iter().map(|(_, s)| s.as_str()).collect();
    sqlx::query(
        "UPDATE publish_jobs j SET status = x.status, updated_at = now(), completed_at = now()
         FROM unnest($1::uuid[], $2::text[]) AS x(id, status)
         WHERE j.id = x.id AND j.status IS DISTINCT FROM x.status",
    )
    .bind(&ids)
    .bind(&statuses)
    .execute(pool)
    .await?;
    Ok(())
}
