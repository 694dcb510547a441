//! `POST /api/v1/posts` (accept a publish) and `GET /api/v1/posts` (history).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody, ErrorCode};
use super::jobs::{JobView, job_views};
use super::session::CurrentUser;
use crate::adapters::PostOptions;
use crate::domain::{JobId, PostId};
use crate::persistence::publishing;
use crate::publishing::{Publish, Publishing};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
/// Unknown fields are refused (422 `invalid_body` naming the field): a
/// misspelled `scheduledAt` must not publish at once.
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// The post, as written; each target platform's own limit applies.
    #[schema(min_length = 1, max_length = 10000, example = "Hello from Prasaran")]
    pub content: String,
    /// Targets; default: every active connection of the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_ids: Option<Vec<uuid::Uuid>>,
    /// RFC 3339 with an offset, e.g. `2026-12-01T09:00:00+05:30`; absent: now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_at: Option<String>,
    /// IANA zone the time was picked in, e.g. `Asia/Kolkata` (kept for display).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Uploaded media (`POST /api/v1/media`) to attach, in order; each
    /// target platform's media rules apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media_ids: Vec<uuid::Uuid>,
    /// Visibility, content warning and language, where a target offers them
    /// (Mastodon all three, Bluesky the language); others ignore them.
    #[serde(default)]
    pub options: PostOptions,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Accepted)]
pub struct AcceptedView {
    #[schema(value_type = uuid::Uuid)]
    pub post_id: PostId,
    #[schema(value_type = uuid::Uuid)]
    pub job_id: JobId,
    /// Poll this, or stream `<status_url>/events`.
    pub status_url: String,
}

/// Accept a publish: validated against every target's rules and the user's
/// backlog, written durably (post, job, one task per target), answered before
/// any platform is called.
#[utoipa::path(post, path = "/api/v1/posts", tag = "publishing", request_body = PublishRequest,
    params(("Idempotency-Key" = Option<String>, Header, max_length = 255,
            pattern = "^[\\t -~]*[!-~][\\t -~]*$",
            description = "Same key and body within 24 h → the first answer; same key, other body → 422. 1 to 255 visible ASCII characters (surrounding spaces are ignored)")),
    responses(
        (status = 202, description = "Accepted; publishing runs in the background", body = AcceptedView),
        (status = 400, description = "`malformed_json`, `invalid_idempotency_key`", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Missing X-CSRF-Token (cookie sessions)", body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "`invalid_content`, `content_rejected`, `invalid_media`, `media_rejected` (names the platform and the rule), `no_targets`, `invalid_targets`, `invalid_scheduled_at`, `invalid_time_zone`, `invalid_options`, `idempotency_key_reused`", body = ErrorBody),
        (status = 429, description = "`backlog_full`: too many of your tasks wait to run; retry after `Retry-After` seconds", body = ErrorBody),
    ))]
pub async fn publish(
    request: HttpRequest,
    user: CurrentUser,
    body: web::Json<PublishRequest>,
    publishing: web::Data<Publishing>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    // A header that is not visible ASCII is as invalid as an empty one.
    let key = request
        .headers()
        .get("Idempotency-Key")
        .map(|value| value.to_str().unwrap_or_default());
    let publish = Publish {
        content: body.content,
        connection_ids: body.connection_ids,
        scheduled_at: body.scheduled_at,
        time_zone: body.time_zone,
        media_ids: body.media_ids,
        options: body.options,
    };
    let accepted = publishing.accept(user.id, publish, key).await?;
    let mut response = HttpResponse::Accepted();
    if accepted.replayed {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(response.json(AcceptedView {
        post_id: accepted.post_id,
        job_id: accepted.job_id,
        status_url: format!("/api/v1/jobs/{}", accepted.job_id),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    pub posts: Vec<JobView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

fn encode_cursor(at: DateTime<Utc>, id: JobId) -> String {
    format!("{}_{}", at.timestamp_micros(), id)
}

fn decode_cursor(text: &str) -> Option<(DateTime<Utc>, JobId)> {
    let (micros, id) = text.split_once('_')?;
    let at = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
    Some((at, JobId(id.parse().ok()?)))
}

/// The user's posts, newest first, each with its job and targets.
#[utoipa::path(get, path = "/api/v1/posts", tag = "publishing", params(HistoryQuery),
    responses((status = 200, body = History), (status = 400, description = "`invalid_cursor`, or `invalid_query` (a limit outside 1 to 100)", body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn history(
    user: CurrentUser,
    query: web::Query<HistoryQuery>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "limit must be 1 to 100 (the page size; default 20)",
        ));
    }
    let cursor = match query.cursor.as_deref() {
        None => None,
        Some(text) => Some(decode_cursor(text).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidCursor,
                "cursor is not one this API issued",
            )
        })?),
    };
    let mut jobs = publishing::history(&pool, user.id, cursor, limit + 1).await?;
    let more = jobs.len() as i64 > limit;
    jobs.truncate(limit as usize);
    let next_cursor = more
        .then(|| jobs.last().map(|j| encode_cursor(j.created_at, j.id)))
        .flatten();
    let posts = job_views(&pool, jobs).await?;
    Ok(HttpResponse::Ok().json(History { posts, next_cursor }))
}
