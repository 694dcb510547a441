//! Changing a post that is still waiting: its text, time, media, options and
//! targets, with its tasks rewritten in the same transaction. Only a post
//! whose every task is queued and never attempted may change; the rows are
//! locked first, so a process claiming a task (which skips locked rows) either
//! ran it before — and the edit is refused — or runs the edited one.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::StoreError;
use super::publishing::NewTask;
use crate::domain::{ConnectionId, JobId, MediaId, PostId, TaskId, TaskStatus, UserId};

/// A post as its author chose it, for an edit to start from or to copy.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredPost {
    pub post_id: PostId,
    pub job_id: JobId,
    pub status: String,
    pub content: String,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub time_zone: Option<String>,
    pub options: Option<serde_json::Value>,
    pub variations: Option<serde_json::Value>,
    pub media_ids: Vec<uuid::Uuid>,
    /// Its targets, each once, in the order they were made.
    pub connection_ids: Vec<uuid::Uuid>,
}

/// The post if it is `user`'s.
pub async fn find(
    pool: &PgPool,
    user: UserId,
    post: PostId,
) -> Result<Option<StoredPost>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT p.id AS post_id, j.id AS job_id, j.status, p.content, p.scheduled_at, p.time_zone,
                p.options, p.variations,
                coalesce((SELECT array_agg(pm.media_id ORDER BY pm.position)
                          FROM post_media pm WHERE pm.post_id = p.id), '{}') AS media_ids,
                coalesce((SELECT array_agg(c ORDER BY first) FROM
                            (SELECT t.connection_id AS c, min(t.created_at) AS first
                             FROM publish_tasks t WHERE t.job_id = j.id GROUP BY t.connection_id) targets),
                         '{}') AS connection_ids
         FROM posts p JOIN publish_jobs j ON j.post_id = p.id
         WHERE p.id = $1 AND p.user_id = $2",
    )
    .bind(post)
    .bind(user)
    .fetch_optional(pool)
    .await?)
}

/// The post as it becomes.
pub struct Edit {
    pub post_id: PostId,
    pub user_id: UserId,
    pub content: String,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub time_zone: Option<String>,
    pub options: Option<serde_json::Value>,
    pub variations: Option<serde_json::Value>,
    pub media: Vec<MediaId>,
    /// Its tasks as planned anew; a task for a target it already had keeps
    /// that task's id (see [`apply`]).
    pub tasks: Vec<NewTask>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditOutcome {
    Applied(JobId),
    NotFound,
    /// The job is no longer waiting: its status.
    NotEditable(String),
    /// A target has started: its platform and handle.
    Started {
        platform_id: String,
        handle: String,
    },
}

#[derive(sqlx::FromRow)]
struct CurrentTask {
    id: TaskId,
    connection_id: ConnectionId,
    destination: Option<String>,
    status: String,
    attempt_count: i32,
    platform_id: String,
    handle: String,
}

/// Rewrites the post and its tasks in one transaction, or says why not.
pub async fn apply(pool: &PgPool, mut edit: Edit) -> Result<EditOutcome, StoreError> {
    let mut tx = pool.begin().await?;
    let job: Option<(JobId, String)> = sqlx::query_as(
        "SELECT id, status FROM publish_jobs WHERE post_id = $1 AND user_id = $2 FOR UPDATE",
    )
    .bind(edit.post_id)
    .bind(edit.user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((job, status)) = job else {
        tx.rollback().await?;
        return Ok(EditOutcome::NotFound);
    };
    // A running job is told apart below, by the target that has started.
    if status != "pending" && status != "running" {
        // Explicitly: a dropped transaction's rollback waits for the
        // connection's next use, and its row locks with it — the engine's
        // claims skip locked tasks, so a refused edit would stall them.
        tx.rollback().await?;
        return Ok(EditOutcome::NotEditable(status));
    }
    let current: Vec<CurrentTask> = sqlx::query_as(
        "SELECT t.id, t.connection_id, t.destination, t.status, t.attempt_count, t.platform_id, c.handle
         FROM publish_tasks t JOIN platform_connections c ON c.id = t.connection_id
         WHERE t.job_id = $1 ORDER BY t.created_at, t.id FOR UPDATE OF t",
    )
    .bind(job)
    .fetch_all(&mut *tx)
    .await?;
    if let Some(started) = current.iter().find(|t| {
        TaskStatus::parse(&t.status).is_none_or(|status| !status.not_started(t.attempt_count))
    }) {
        tx.rollback().await?;
        return Ok(EditOutcome::Started {
            platform_id: started.platform_id.clone(),
            handle: started.handle.clone(),
        });
    }
    // A target kept keeps its task (and so the key its platform will get).
    let mut kept: Vec<TaskId> = Vec::new();
    for task in &mut edit.tasks {
        if let Some(old) = current.iter().find(|old| {
            old.connection_id == task.connection_id
                && old.destination == task.destination
                && !kept.contains(&old.id)
        }) {
            task.id = old.id;
            kept.push(old.id);
        }
    }
    let removed: Vec<uuid::Uuid> = current
        .iter()
        .filter(|t| !kept.contains(&t.id))
        .map(|t| t.id.0)
        .collect();
    write_post(&mut tx, &edit).await?;
    sqlx::query(
        "WITH gone_outbox AS (DELETE FROM outbox WHERE task_id = ANY($1)),
              gone_events AS (DELETE FROM publish_task_events WHERE task_id = ANY($1))
         DELETE FROM publish_tasks WHERE id = ANY($1)",
    )
    .bind(&removed)
    .execute(&mut *tx)
    .await?;
    write_tasks(&mut tx, job, &edit, &kept).await?;
    sqlx::query("UPDATE publish_jobs SET updated_at = now() WHERE id = $1")
        .bind(job)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(EditOutcome::Applied(job))
}

async fn write_post(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    edit: &Edit,
) -> Result<(), StoreError> {
    let media: Vec<uuid::Uuid> = edit.media.iter().map(|m| m.0).collect();
    sqlx::query(
        "WITH post AS (UPDATE posts SET content = $2, scheduled_at = $3, time_zone = $4, options = $5,
                                        variations = $6, media_count = cardinality($7::uuid[]),
                                        edited_at = now()
                       WHERE id = $1),
              gone AS (DELETE FROM post_media WHERE post_id = $1),
              used AS (UPDATE media SET attached_at = coalesce(attached_at, now())
                       WHERE id = ANY($7))
         SELECT 1",
    )
    .bind(edit.post_id)
    .bind(&edit.content)
    .bind(edit.scheduled_at)
    .bind(&edit.time_zone)
    .bind(&edit.options)
    .bind(&edit.variations)
    .bind(&media)
    .execute(&mut **tx)
    .await?;
    // After the delete above has run: a position may be reused.
    sqlx::query(
        "INSERT INTO post_media (post_id, position, media_id)
         SELECT $1, (n - 1)::int2, m FROM unnest($2::uuid[]) WITH ORDINALITY AS x(m, n)",
    )
    .bind(edit.post_id)
    .bind(&media)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Updates the kept tasks and inserts the new ones, each with an event (the
/// job page's history shows the edit). Tasks go back to nobody's hands: the
/// scheduler hands them out when they are due.
async fn write_tasks(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    job: JobId,
    edit: &Edit,
    kept: &[TaskId],
) -> Result<(), StoreError> {
    let ids: Vec<uuid::Uuid> = edit.tasks.iter().map(|t| t.id.0).collect();
    let is_kept: Vec<bool> = edit.tasks.iter().map(|t| kept.contains(&t.id)).collect();
    let connections: Vec<uuid::Uuid> = edit.tasks.iter().map(|t| t.connection_id.0).collect();
    let platforms: Vec<&str> = edit.tasks.iter().map(|t| t.platform_id.as_str()).collect();
    let keys: Vec<Option<&str>> = edit
        .tasks
        .iter()
        .map(|t| t.platform_key.as_deref())
        .collect();
    let records: Vec<Option<&serde_json::Value>> = edit
        .tasks
        .iter()
        .map(|t| t.platform_record.as_ref())
        .collect();
    let places: Vec<Option<&str>> = edit
        .tasks
        .iter()
        .map(|t| t.destination.as_deref())
        .collect();
    let place_names: Vec<Option<&str>> = edit
        .tasks
        .iter()
        .map(|t| t.destination_name.as_deref())
        .collect();
    let contents: Vec<Option<&str>> = edit.tasks.iter().map(|t| t.content.as_deref()).collect();
    sqlx::query(
        "WITH input AS (
            SELECT * FROM unnest($2::uuid[], $3::bool[], $4::uuid[], $5::text[], $6::text[],
                                 $7::jsonb[], $8::text[], $9::text[], $10::text[])
                   AS x(id, kept, connection_id, platform_id, platform_key, platform_record,
                        destination, destination_name, content)),
         updated AS (
            UPDATE publish_tasks t SET next_attempt_at = coalesce($11, now()), held_by = NULL,
                   dispatched_at = NULL, platform_key = i.platform_key,
                   platform_record = i.platform_record, destination_name = i.destination_name,
                   content = i.content, updated_at = now()
            FROM input i WHERE i.kept AND t.id = i.id),
         added AS (
            INSERT INTO publish_tasks (id, job_id, connection_id, platform_id, next_attempt_at,
                                       platform_key, platform_record, destination, destination_name,
                                       content)
            SELECT id, $1, connection_id, platform_id, coalesce($11, now()), platform_key,
                   platform_record, destination, destination_name, content
            FROM input WHERE NOT kept)
         INSERT INTO publish_task_events (task_id, job_id, from_status, to_status, detail)
         SELECT id, $1, CASE WHEN kept THEN 'queued' END, 'queued',
                CASE WHEN kept THEN 'edited' ELSE 'added by an edit' END
         FROM input",
    )
    .bind(job)
    .bind(&ids)
    .bind(&is_kept)
    .bind(&connections)
    .bind(&platforms)
    .bind(&keys)
    .bind(&records)
    .bind(&places)
    .bind(&place_names)
    .bind(&contents)
    .bind(edit.scheduled_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
