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
use crate::domain::{JobId, JobStatus, PostId};
use crate::persistence::publishing::{self, JobRow, ListFilter, ListOrder};
use crate::publishing::{Accepted, Publish, Publishing, Variation};

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
    #[serde(default, deserialize_with = "super::json_object::deserialize")]
    pub options: PostOptions,
    /// Per-target text: a target listed here publishes its own text, checked
    /// against its platform instead of `content`.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "super::json_object::list"
    )]
    pub variations: Vec<Variation>,
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

impl From<Accepted> for AcceptedView {
    fn from(accepted: Accepted) -> Self {
        Self {
            post_id: accepted.post_id,
            job_id: accepted.job_id,
            status_url: format!("/api/v1/jobs/{}", accepted.job_id),
        }
    }
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
    body: web::Json<super::json_object::Object<PublishRequest>>,
    publishing: web::Data<Publishing>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner().0;
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
        variations: body.variations,
    };
    let accepted = publishing.accept(user.id, publish, key).await?;
    let mut response = HttpResponse::Accepted();
    if accepted.replayed {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(response.json(AcceptedView::from(accepted)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// RFC 3339: only posts whose time (scheduled, or written when published
    /// at once) is at or after this.
    #[param(example = "2026-12-01T00:00:00Z")]
    from: Option<String>,
    /// RFC 3339: only posts whose time is before this.
    to: Option<String>,
    /// Only jobs with this status.
    #[param(value_type = Option<JobStatus>)]
    status: Option<String>,
    /// Only posts with a target on this platform (`manch`, `bluesky`, `mastodon`, `matrix`).
    #[param(max_length = 100)]
    platform: Option<String>,
    /// Only posts whose text holds this, in any case.
    #[param(max_length = 200)]
    q: Option<String>,
    /// `newest` (default: newest written first) or `time` (by the post's
    /// time, earliest first: calendar and queue).
    #[param(inline, value_type = Option<ListOrderParam>)]
    order: Option<String>,
}

/// The orders `GET /api/v1/posts` lists in (documentation only: the handler
/// reads the text itself, to answer an unknown one with what is allowed).
#[derive(Serialize, ToSchema)]
#[schema(as = ListOrder)]
#[allow(dead_code)]
#[serde(rename_all = "snake_case")]
enum ListOrderParam {
    Newest,
    Time,
}

fn query_error(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidQuery, message)
}

fn instant(name: &str, text: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    text.map(|text| {
        DateTime::parse_from_rfc3339(text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(|_| {
                query_error(format!(
                    "{name} must be RFC 3339 with an offset, e.g. 2026-12-01T00:00:00Z"
                ))
            })
    })
    .transpose()
}

impl HistoryQuery {
    fn filter(&self) -> Result<(ListFilter, ListOrder), ApiError> {
        let status = self
            .status
            .as_deref()
            .map(|s| {
                JobStatus::parse(s).ok_or_else(|| {
                    query_error(format!(
                        "status `{s}` is none of pending, running, succeeded, partially_failed, failed, cancelled, missed"
                    ))
                })
            })
            .transpose()?;
        let order = match self.order.as_deref() {
            None | Some("newest") => ListOrder::Newest,
            Some("time") => ListOrder::Time,
            Some(other) => {
                return Err(query_error(format!(
                    "order `{other}` is neither newest nor time"
                )));
            }
        };
        // PostgreSQL text cannot hold NUL: such a search could match nothing anyway.
        if [&self.q, &self.platform]
            .iter()
            .any(|v| v.as_deref().is_some_and(|v| v.contains('\0')))
        {
            return Err(query_error("q and platform cannot hold the NUL character"));
        }
        let text = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        if text.is_some_and(|q| q.chars().count() > 200) {
            return Err(query_error("q is at most 200 characters"));
        }
        let platform = self.platform.as_deref().filter(|p| !p.is_empty());
        if platform.is_some_and(|p| p.len() > 100) {
            return Err(query_error("platform is at most 100 characters"));
        }
        let filter = ListFilter {
            from: instant("from", self.from.as_deref())?,
            to: instant("to", self.to.as_deref())?,
            status,
            platform: platform.map(str::to_owned),
            text: text.map(str::to_owned),
        };
        Ok((filter, order))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    pub posts: Vec<JobView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

fn encode_cursor(at: DateTime<Utc>, id: uuid::Uuid) -> String {
    format!("{}_{}", at.timestamp_micros(), id)
}

fn decode_cursor(text: &str) -> Option<(DateTime<Utc>, uuid::Uuid)> {
    let (micros, id) = text.split_once('_')?;
    let at = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
    Some((at, id.parse().ok()?))
}

/// Where the next page starts: the last row's sort time and id.
fn cursor_of(job: &JobRow, order: ListOrder) -> String {
    match order {
        ListOrder::Newest => encode_cursor(job.created_at, job.id.0),
        ListOrder::Time => encode_cursor(
            job.scheduled_at.unwrap_or(job.post_created_at),
            job.post_id.0,
        ),
    }
}

/// The user's posts, each with its job and targets: newest first, or by
/// their time for a calendar; filtered by time range, status, platform and text.
#[utoipa::path(get, path = "/api/v1/posts", tag = "publishing", params(HistoryQuery),
    responses((status = 200, body = History), (status = 400, description = "`invalid_cursor`, or `invalid_query` (a limit outside 1 to 100, a time that is not RFC 3339, an unknown status or order)", body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn history(
    user: CurrentUser,
    query: web::Query<HistoryQuery>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(query_error(
            "limit must be 1 to 100 (the page size; default 20)",
        ));
    }
    let (filter, order) = query.filter()?;
    let cursor = match query.cursor.as_deref() {
        None => None,
        Some(text) => Some(decode_cursor(text).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidCursor,
                "cursor is not one this API issued",
            )
        })?),
    };
    let mut jobs = publishing::history(&pool, user.id, &filter, order, cursor, limit + 1).await?;
    let more = jobs.len() as i64 > limit;
    jobs.truncate(limit as usize);
    let next_cursor = more
        .then(|| jobs.last().map(|j| cursor_of(j, order)))
        .flatten();
    let posts = job_views(&pool, jobs).await?;
    Ok(HttpResponse::Ok().json(History { posts, next_cursor }))
}
