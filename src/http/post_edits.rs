//! `PATCH /api/v1/posts/{id}` (edit or reschedule a waiting post) and
//! `POST /api/v1/posts/{id}/duplicate` ("Post again", as a draft).

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use sqlx::PgPool;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::jobs::{JobView, load};
use super::json_object::Object;
use super::session::CurrentUser;
use crate::adapters::PostOptions;
use crate::domain::PostId;
use crate::publishing::{Draft, PostChanges, Publishing, Variation};

/// Changes to a post or a draft: a field sent replaces the stored one, a
/// field left out stays (on a new draft: empty).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = PostChanges)]
#[serde(deny_unknown_fields)]
pub struct PostChangesRequest {
    /// A draft's may be empty; a post's may not.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub content: Option<String>,
    /// The targets, each an active connection; `null`: every active connection.
    #[serde(default, deserialize_with = "super::json_object::nullable")]
    #[schema(value_type = Option<Vec<uuid::Uuid>>)]
    pub connection_ids: Option<Option<Vec<uuid::Uuid>>>,
    #[serde(default)]
    pub media_ids: Option<Vec<uuid::Uuid>>,
    /// RFC 3339 with an offset; `null`: none — publish now (a draft: when published).
    #[serde(default, deserialize_with = "super::json_object::nullable")]
    #[schema(value_type = Option<String>)]
    pub scheduled_at: Option<Option<String>>,
    /// IANA zone the time was picked in; `null` clears it.
    #[serde(default, deserialize_with = "super::json_object::nullable")]
    #[schema(value_type = Option<String>)]
    pub time_zone: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::json_object::optional")]
    pub options: Option<PostOptions>,
    /// Replaces every per-target text (`[]`: none).
    #[serde(default, deserialize_with = "super::json_object::optional_list")]
    pub variations: Option<Vec<Variation>>,
}

impl From<PostChangesRequest> for PostChanges {
    fn from(r: PostChangesRequest) -> Self {
        Self {
            content: r.content,
            connection_ids: r.connection_ids,
            media_ids: r.media_ids,
            scheduled_at: r.scheduled_at,
            time_zone: r.time_zone,
            options: r.options,
            variations: r.variations,
        }
    }
}

/// Edit or reschedule a post none of whose targets has started: checked like
/// a new publish, its tasks rewritten in one transaction.
#[utoipa::path(patch, path = "/api/v1/posts/{id}", tag = "publishing",
    params(("id" = uuid::Uuid, Path, description = "The post's id (`post_id`)")),
    request_body = PostChangesRequest,
    responses(
        (status = 200, description = "The post's job as it now is", body = JobView),
        (status = 400, description = "`malformed_json`", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Missing X-CSRF-Token (cookie sessions)", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`already_started` (names the target), `not_editable` (the post is finished or cancelled)", body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "As for publishing: `invalid_content`, `content_rejected`, `invalid_media`, `media_rejected`, `no_targets`, `invalid_targets`, `invalid_variations`, `invalid_scheduled_at`, `invalid_time_zone`, `invalid_options`", body = ErrorBody),
    ))]
pub async fn edit(
    user: CurrentUser,
    id: web::Path<uuid::Uuid>,
    body: web::Json<Object<PostChangesRequest>>,
    publishing: web::Data<Publishing>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let job = publishing
        .edit(user.id, PostId(*id), body.into_inner().0.into())
        .await?;
    Ok(HttpResponse::Ok().json(load(&pool, user, job).await?))
}

/// "Post again": a new draft holding the post's text, targets, media, options
/// and variations, with no time.
#[utoipa::path(post, path = "/api/v1/posts/{id}/duplicate", tag = "publishing",
    params(("id" = uuid::Uuid, Path, description = "The post's id (`post_id`)")),
    responses(
        (status = 201, description = "The new draft", body = Draft),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Missing X-CSRF-Token (cookie sessions)", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn duplicate(
    user: CurrentUser,
    id: web::Path<uuid::Uuid>,
    publishing: web::Data<Publishing>,
) -> Result<HttpResponse, ApiError> {
    let draft = publishing.duplicate(user.id, PostId(*id)).await?;
    Ok(HttpResponse::Created().json(draft))
}
