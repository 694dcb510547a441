//! `/api/v1/jobs/{id}`: a job's state, its live event stream, retry and cancel.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use futures_util::{StreamExt, stream};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody, ErrorCode};
use super::session::CurrentUser;
use crate::actors::engine::Engine;
use crate::actors::live_feed::{FeedItem, Watch, WatchError};
use crate::adapters::PostOptions;
use crate::domain::{JobId, JobStatus, TaskStatus};
use crate::persistence::StoreError;
use crate::persistence::publishing::{self, EventRow, JobRow, TaskRow};
use crate::publishing::{Variation, options_of, variations_of};

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskView {
    pub id: uuid::Uuid,
    pub connection_id: uuid::Uuid,
    pub platform: String,
    pub handle: String,
    /// Where in the account it posts (a Matrix room's id), for platforms with several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// That place's name (the room's name when it was picked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_name: Option<String>,
    pub status: TaskStatus,
    pub attempts: i32,
    #[schema(required = true)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Why the last attempt did not succeed, in words.
    #[schema(required = true)]
    pub last_error: Option<String>,
    /// `rate_limited`, `transient`, `rejected`, `revoked`, `unknown`, `unauthorized`.
    #[schema(required = true)]
    pub last_error_kind: Option<String>,
    #[schema(required = true)]
    pub external_post_id: Option<String>,
    /// The published post on the platform.
    #[schema(required = true)]
    pub external_url: Option<String>,
    pub updated_at: DateTime<Utc>,
    #[schema(required = true)]
    pub completed_at: Option<DateTime<Utc>>,
    /// This target's own text (a variation), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Every state change of this target, oldest first — each attempt, its
    /// outcome and the platform's status — across retries too
    /// (`GET /api/v1/jobs/{id}` only; absent in lists).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
}

/// One state change of a target.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    #[schema(required = true)]
    pub from_status: Option<String>,
    pub to_status: String,
    pub attempt: i32,
    /// `ok`, `verified`, `rate_limited`, `transient`, `rejected`, `revoked`, `unknown`, `unauthorized`.
    #[schema(required = true)]
    pub outcome: Option<String>,
    #[schema(required = true)]
    pub platform_status: Option<i32>,
    #[schema(required = true)]
    pub latency_ms: Option<i32>,
    /// Why, in words.
    #[schema(required = true)]
    pub detail: Option<String>,
}

impl From<TaskRow> for TaskView {
    fn from(t: TaskRow) -> Self {
        let status = t.status();
        Self {
            id: t.id.0,
            connection_id: t.connection_id.0,
            platform: t.platform_id,
            handle: t.handle,
            destination: t.destination,
            destination_name: t.destination_name,
            status,
            attempts: t.attempt_count,
            next_attempt_at: (!status.is_terminal() && status != TaskStatus::Running)
                .then_some(t.next_attempt_at),
            last_error: t.last_error,
            last_error_kind: t.last_error_kind,
            external_post_id: t.external_post_id,
            external_url: t.external_url.filter(|url| is_web_link(url)),
            updated_at: t.updated_at,
            completed_at: t.completed_at,
            content: t.content,
            history: Vec::new(),
        }
    }
}

/// A platform's URL for a post is shown only when it is a web link: a
/// `javascript:` URL from a hostile server must never become a link the
/// user clicks.
fn is_web_link(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "https" | "http"))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    pub job_id: uuid::Uuid,
    pub post_id: uuid::Uuid,
    pub status: JobStatus,
    pub content: String,
    #[schema(required = true)]
    pub scheduled_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub time_zone: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[schema(required = true)]
    pub completed_at: Option<DateTime<Utc>>,
    /// The post's attachments, in order.
    pub media_ids: Vec<uuid::Uuid>,
    pub options: PostOptions,
    /// Per-target texts.
    pub variations: Vec<Variation>,
    /// Every target still waits (nothing sent yet): `PATCH /api/v1/posts/{post_id}`
    /// may change the text, media, targets or time.
    pub editable: bool,
    pub tasks: Vec<TaskView>,
}

/// Jobs with their tasks, in the order given.
pub async fn job_views(pool: &PgPool, jobs: Vec<JobRow>) -> Result<Vec<JobView>, StoreError> {
    let ids: Vec<JobId> = jobs.iter().map(|j| j.id).collect();
    let mut tasks = publishing::tasks_of_jobs(pool, &ids).await?;
    Ok(jobs
        .into_iter()
        .map(|job| {
            let (mine, rest): (Vec<TaskRow>, Vec<TaskRow>) =
                tasks.drain(..).partition(|t| t.job_id == job.id);
            tasks = rest;
            // A final status is stored; a running job's follows from its tasks.
            let status = match job.status() {
                stored if stored.is_terminal() => stored,
                _ if mine.is_empty() => JobStatus::Pending,
                _ => JobStatus::derive(mine.iter().map(TaskRow::status)),
            };
            let editable = status == JobStatus::Pending
                && mine.iter().all(|t| t.status().not_started(t.attempt_count));
            JobView {
                job_id: job.id.0,
                post_id: job.post_id.0,
                status,
                content: job.content,
                scheduled_at: job.scheduled_at,
                time_zone: job.time_zone,
                created_at: job.created_at,
                updated_at: job.updated_at,
                completed_at: job.completed_at,
                media_ids: job.media_ids,
                options: options_of(job.options),
                variations: variations_of(job.variations),
                editable,
                tasks: mine.into_iter().map(TaskView::from).collect(),
            }
        })
        .collect())
}

/// The job if it is the caller's; 404 otherwise (another user's job looks absent).
async fn owned_job(pool: &PgPool, user: CurrentUser, job: JobId) -> Result<JobRow, ApiError> {
    publishing::find_job(pool, user.id, job)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such job"))
}

pub(super) async fn load(
    pool: &PgPool,
    user: CurrentUser,
    job: JobId,
) -> Result<JobView, ApiError> {
    let row = owned_job(pool, user, job).await?;
    let mut views = job_views(pool, vec![row]).await?;
    views
        .pop()
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such job"))
}

/// The job with each target's history of state changes.
async fn load_with_history(
    pool: &PgPool,
    user: CurrentUser,
    job: JobId,
) -> Result<JobView, ApiError> {
    let mut view = load(pool, user, job).await?;
    for event in publishing::events_of_job(pool, job, 0).await? {
        if let Some(task) = view.tasks.iter_mut().find(|t| t.id == event.task_id.0) {
            task.history.push(HistoryEntry {
                at: event.at,
                from_status: event.from_status,
                to_status: event.to_status,
                attempt: event.attempt,
                outcome: event.outcome,
                platform_status: event.platform_status,
                latency_ms: event.latency_ms,
                detail: event.detail,
            });
        }
    }
    Ok(view)
}

/// A job with each target's status, attempts, last error and post URL.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "publishing", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = JobView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    user: CurrentUser,
    id: web::Path<uuid::Uuid>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(load_with_history(&pool, user, JobId(*id)).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransitionView {
    pub id: i64,
    pub task_id: uuid::Uuid,
    #[schema(required = true)]
    pub from: Option<String>,
    pub to: String,
    pub at: DateTime<Utc>,
    pub attempt: i32,
    #[schema(required = true)]
    pub outcome: Option<String>,
    #[schema(required = true)]
    pub platform_status: Option<i32>,
    #[schema(required = true)]
    pub latency_ms: Option<i32>,
    #[schema(required = true)]
    pub detail: Option<String>,
}

impl From<EventRow> for TransitionView {
    fn from(e: EventRow) -> Self {
        Self {
            id: e.id,
            task_id: e.task_id.0,
            from: e.from_status,
            to: e.to_status,
            at: e.at,
            attempt: e.attempt,
            outcome: e.outcome,
            platform_status: e.platform_status,
            latency_ms: e.latency_ms,
            detail: e.detail,
        }
    }
}

fn sse(event: &str, id: Option<i64>, data: &impl Serialize) -> web::Bytes {
    let json = serde_json::to_string(data).unwrap_or_else(|_| "{}".into());
    let id = id.map(|i| format!("id: {i}\n")).unwrap_or_default();
    web::Bytes::from(format!("{id}event: {event}\ndata: {json}\n\n"))
}

/// How long an event stream stays silent before it sends a keep-alive comment.
const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(5);

/// Server-Sent Events: `snapshot` (the job now), then one `transition` per
/// task state change in order, then `end` once the job is final. Reconnect
/// with `Last-Event-ID` to resume. Fed by the change feed, not by polling; a
/// stream also ends (`event: closed`) when its session logs out or its API
/// token is revoked. Each user may hold a limited number open (429 `too_many_streams`).
#[utoipa::path(get, path = "/api/v1/jobs/{id}/events", tag = "publishing", params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "text/event-stream: `snapshot`, `transition`…, `end` (or `closed`)", content_type = "text/event-stream"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "`too_many_streams`: close another stream first", body = ErrorBody)))]
pub async fn events(
    request: HttpRequest,
    user: CurrentUser,
    id: web::Path<uuid::Uuid>,
    pool: web::Data<PgPool>,
    engine: web::Data<Engine>,
) -> Result<HttpResponse, ApiError> {
    let job = JobId(*id);
    let snapshot = load(&pool, user, job).await?;
    let after = request
        .headers()
        .get("Last-Event-ID")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let items = engine
        .watch(Watch {
            user: user.id,
            job,
            after,
            credential: user.credential.feed_key(),
        })
        .await
        .map_err(|error| match error {
            WatchError::TooMany(_) => ApiError {
                retry_after: Some(5),
                ..ApiError::new(ErrorCode::TooManyStreams, error.to_string())
            },
            WatchError::Unavailable => ApiError::internal(error),
        })?;
    let first =
        stream::once(async move { Ok::<_, actix_web::Error>(sse("snapshot", None, &snapshot)) });
    let rest = stream::unfold(items, |mut items| async move {
        let item = match tokio::time::timeout(KEEP_ALIVE, items.recv()).await {
            Ok(item) => item?,
            // A comment line keeps proxies from closing an idle stream, and lets
            // the server notice a client that went away (the write fails).
            Err(_) => return Some((Ok(web::Bytes::from_static(b": keep-alive\n\n")), items)),
        };
        let chunk = match item {
            FeedItem::Transitions(events) => {
                let mut chunk = Vec::new();
                for event in events {
                    let id = event.id;
                    chunk.extend_from_slice(&sse(
                        "transition",
                        Some(id),
                        &TransitionView::from(event),
                    ));
                }
                web::Bytes::from(chunk)
            }
            FeedItem::End(status) => sse("end", None, &serde_json::json!({"status": status})),
            FeedItem::CredentialEnded => sse(
                "closed",
                None,
                &serde_json::json!({"reason": "the session or API token that opened this stream has ended"}),
            ),
        };
        Some((Ok(chunk), items))
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(first.chain(rest)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Steered {
    /// Tasks retried or cancelled.
    pub tasks: u64,
}

/// Retry the job's failed targets.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/retry", tag = "publishing", params(("id" = uuid::Uuid, Path)),
    responses((status = 202, body = Steered), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, description = "`nothing_to_retry`", body = ErrorBody)))]
pub async fn retry(
    user: CurrentUser,
    id: web::Path<uuid::Uuid>,
    pool: web::Data<PgPool>,
    engine: web::Data<Engine>,
) -> Result<HttpResponse, ApiError> {
    let job = JobId(*id);
    owned_job(&pool, user, job).await?;
    let count = engine.retry_failed(job).await? as u64;
    if count == 0 {
        return Err(ApiError::new(
            ErrorCode::NothingToRetry,
            "no failed target to retry (targets whose connection needs reconnecting are skipped: reconnect first)",
        ));
    }
    Ok(HttpResponse::Accepted().json(Steered { tasks: count }))
}

/// Cancel the job's targets that have not started.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "publishing", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Steered), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn cancel(
    user: CurrentUser,
    id: web::Path<uuid::Uuid>,
    pool: web::Data<PgPool>,
    engine: web::Data<Engine>,
) -> Result<HttpResponse, ApiError> {
    let job = JobId(*id);
    owned_job(&pool, user, job).await?;
    let cancelled = engine.cancel(job, "cancelled by the user").await?;
    Ok(HttpResponse::Ok().json(Steered { tasks: cancelled }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_web_links_are_shown() {
        assert!(super::is_web_link("https://bsky.app/profile/x/post/1"));
        assert!(super::is_web_link("http://127.0.0.1:8081/posts/1"));
        assert!(!super::is_web_link("javascript:alert(1)"));
        assert!(!super::is_web_link("data:text/html,hi"));
        assert!(!super::is_web_link("not a url"));
    }
}
