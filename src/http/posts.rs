//! `POST /api/v1/posts` (accept a publish) and `GET /api/v1/posts` (history).

use std::time::Instant;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody, ErrorCode};
use super::jobs::{JobView, job_views};
use super::session::CurrentUser;
use crate::actors::engine::Engine;
use crate::connections::Connections;
use crate::domain::{JobId, PostContent, PostId, TaskId};
use crate::persistence::connections::ConnectionId;
use crate::persistence::publishing::{self, CreateOutcome, NewPublish, NewTask};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
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
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    #[schema(value_type = uuid::Uuid)]
    pub post_id: PostId,
    #[schema(value_type = uuid::Uuid)]
    pub job_id: JobId,
    /// Poll this, or stream `<status_url>/events`.
    pub status_url: String,
}

const MAX_KEY_LEN: usize = 255;

fn invalid(code: ErrorCode, message: impl Into<String>) -> ApiError {
    ApiError::new(code, message)
}

/// Accept a publish: validated against every target's rules, written durably
/// (post, job, one task per target), answered before any platform is called.
#[utoipa::path(post, path = "/api/v1/posts", tag = "publishing", request_body = PublishRequest,
    params(("Idempotency-Key" = Option<String>, Header,
            description = "Same key and body within 24 h → the first answer; same key, other body → 422")),
    responses(
        (status = 202, description = "Accepted; publishing runs in the background", body = Accepted),
        (status = 400, description = "`malformed_json`, `invalid_idempotency_key`", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Missing X-CSRF-Token (cookie sessions)", body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "`invalid_content`, `content_rejected`, `no_targets`, `invalid_targets`, `invalid_scheduled_at`, `invalid_time_zone`, `idempotency_key_reused`", body = ErrorBody),
    ))]
pub async fn publish(
    request: HttpRequest,
    user: CurrentUser,
    body: web::Json<PublishRequest>,
    pool: web::Data<PgPool>,
    service: web::Data<Connections>,
    engine: web::Data<Engine>,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let body = body.into_inner();
    let key = match request.headers().get("Idempotency-Key") {
        None => None,
        Some(value) => {
            let key = value.to_str().map(str::trim).unwrap_or_default();
            if key.is_empty() || key.len() > MAX_KEY_LEN {
                return Err(invalid(
                    ErrorCode::InvalidIdempotencyKey,
                    "Idempotency-Key must be 1 to 255 visible characters",
                ));
            }
            Some(key.to_owned())
        }
    };
    // Only a keyed request is compared with an earlier one.
    let request_hash = key
        .as_ref()
        .map(|_| Sha256::digest(serde_json::to_vec(&body).unwrap_or_default()).to_vec());
    let content = PostContent::parse(body.content)
        .map_err(|e| invalid(ErrorCode::InvalidContent, e.to_string()))?;
    let scheduled_at = match body.scheduled_at.as_deref() {
        None => None,
        Some(text) => Some(
            DateTime::parse_from_rfc3339(text)
                .map_err(|_| invalid(ErrorCode::InvalidScheduledAt, "scheduled_at must be RFC 3339 with an offset, e.g. 2026-12-01T09:00:00+05:30"))?
                .with_timezone(&Utc),
        ),
    };
    if let Some(zone) = body.time_zone.as_deref()
        && zone.parse::<chrono_tz::Tz>().is_err()
    {
        return Err(invalid(
            ErrorCode::InvalidTimeZone,
            format!("`{zone}` is not an IANA time zone (e.g. Europe/Berlin)"),
        ));
    }

    let active = engine.context.targets.active(&pool, user.id).await?;
    let targets: Vec<(ConnectionId, String)> = match &body.connection_ids {
        None => active,
        Some(ids) => {
            let mut chosen = Vec::new();
            for id in ids {
                let found = active.iter().find(|(c, _)| c.0 == *id).ok_or_else(|| {
                    invalid(
                        ErrorCode::InvalidTargets,
                        format!("connection {id} is not one of your active connections"),
                    )
                })?;
                if !chosen
                    .iter()
                    .any(|(c, _): &(ConnectionId, String)| c == &found.0)
                {
                    chosen.push(found.clone());
                }
            }
            chosen
        }
    };
    if targets.is_empty() {
        return Err(invalid(
            ErrorCode::NoTargets,
            "no active connection to publish to; connect a platform first",
        ));
    }
    for (_, platform) in &targets {
        let adapter = service.registry().get(platform).ok_or_else(|| {
            invalid(
                ErrorCode::InvalidTargets,
                format!("platform {platform} is not available"),
            )
        })?;
        adapter.validate(content.as_str()).map_err(|e| {
            invalid(
                ErrorCode::ContentRejected,
                format!("{}: {}", adapter.display_name(), e),
            )
        })?;
    }

    let post_id = PostId::new();
    let job_id = JobId::new();
    let tasks: Vec<NewTask> = targets
        .iter()
        .map(|(connection_id, platform)| NewTask {
            id: TaskId::new(),
            connection_id: *connection_id,
            platform_id: platform.clone(),
        })
        .collect();
    let dispatch: Vec<(TaskId, ConnectionId)> =
        tasks.iter().map(|t| (t.id, t.connection_id)).collect();
    let publish = NewPublish {
        post_id,
        job_id,
        user_id: user.id,
        content: content.as_str().to_owned(),
        scheduled_at,
        time_zone: body.time_zone.clone(),
        tasks,
        idempotency: key.zip(request_hash),
    };
    let outcome = if publish.idempotency.is_some() {
        // The key's unique insert must decide alone: this path is never batched.
        publishing::create(&pool, &publish, engine.context.handoff).await?
    } else {
        engine
            .context
            .accepts
            .accept(publish)
            .await
            .map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
        CreateOutcome::Created
    };
    let (post_id, job_id, replayed) = match outcome {
        CreateOutcome::Created => {
            tracing::info!(job_id = %job_id, targets = dispatch.len(), "publish accepted");
            if scheduled_at.is_none_or(|at| at <= Utc::now()) {
                engine.job_accepted(job_id, dispatch);
            }
            (post_id, job_id, false)
        }
        CreateOutcome::Replayed { post_id, job_id } => (post_id, job_id, true),
        CreateOutcome::KeyConflict => {
            return Err(invalid(
                ErrorCode::IdempotencyKeyReused,
                "this Idempotency-Key was used with a different body; use a new key for a new post",
            ));
        }
    };
    engine
        .context
        .metrics
        .accept_latency
        .observe(started.elapsed().as_secs_f64());
    let mut response = HttpResponse::Accepted();
    if replayed {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(response.json(Accepted {
        post_id,
        job_id,
        status_url: format!("/api/v1/jobs/{job_id}"),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct HistoryQuery {
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
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
    responses((status = 200, body = History), (status = 400, description = "`invalid_cursor`", body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn history(
    user: CurrentUser,
    query: web::Query<HistoryQuery>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(20).clamp(1, 100);
    let cursor = match query.cursor.as_deref() {
        None => None,
        Some(text) => Some(decode_cursor(text).ok_or_else(|| {
            invalid(
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
