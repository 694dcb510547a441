//! `/api/v1/drafts`: posts saved to finish later — created, listed, read,
//! changed, deleted, and published (or scheduled) when ready.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::json_object::Object;
use super::post_edits::PostChangesRequest;
use super::posts::AcceptedView;
use super::session::CurrentUser;
use crate::domain::DraftId;
use crate::publishing::{Draft, Publishing};

#[derive(Debug, Serialize, ToSchema)]
pub struct DraftList {
    /// Those not yet published, the most recently changed first (at most 200).
    pub drafts: Vec<Draft>,
}

/// Save a draft: its form is checked and its targets and media must be
/// yours; each platform's rules apply when it is published.
#[utoipa::path(post, path = "/api/v1/drafts", tag = "drafts", request_body = PostChangesRequest,
    responses(
        (status = 201, body = Draft),
        (status = 400, description = "`malformed_json`", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Missing X-CSRF-Token (cookie sessions)", body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "`invalid_content`, `invalid_targets`, `invalid_media`, `invalid_variations`, `invalid_scheduled_at`, `invalid_time_zone`, `invalid_options`", body = ErrorBody),
    ))]
pub async fn create(
    user: CurrentUser,
    body: web::Json<Object<PostChangesRequest>>,
    publishing: web::Data<Publishing>,
) -> Result<HttpResponse, ApiError> {
    let draft = publishing
        .create_draft(user.id, body.into_inner().0.into())
        .await?;
    Ok(HttpResponse::Created().json(draft))
}

/// Your drafts.
#[utoipa::path(get, path = "/api/v1/drafts", tag = "drafts",
    responses((status = 200, body = DraftList), (status = 401, body = ErrorBody)))]
pub async fn list(
    user: CurrentUser,
    publishing: web::Data<Publishing>,
) -> Result<HttpResponse, ApiError> {
    let drafts = publishing.drafts(user.id).await?;
    Ok(HttpResponse::Ok().json(DraftList { drafts }))
}

#[utoipa::path(get, path = "/api/v1/drafts/{id}", tag = "drafts", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Draft), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    user: CurrentUser,
    id: web::Path<uuid::Uuid>,
    publishing: web::Data<Publishing>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(publishing.draft(user.id, DraftId(*id)).await?))
}

/// Change a draft: each field sent replaces the stored one.
#[utoipa::path(patch, path = "/api/v1/drafts/{id}", tag = "drafts", params(("id" = uuid::Uuid, Path)),
    request_body = PostChangesRequest,
    responses(
        (status = 200, body = Draft),
        (status = 400, description = "`malformed_json`", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Missing X-CSRF-Token (cookie sessions)", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`not_editable`: the draft was published", body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "As for saving a draft", body = ErrorBody),
    ))]
pub async fn update(
    user: CurrentUser,
    id: web::Path<uuid::Uuid>,
    body: web::Json<Object<PostChangesRequest>>,
    publishing: web::Data<Publishing>,
) -> Result<HttpResponse, ApiError> {
    let draft = publishing
        .update_draft(user.id, DraftId(*id), body.into_inner().0.into())
        .await?;
    Ok(HttpResponse::Ok().json(draft))
}

#[utoipa::path(delete, path = "/api/v1/drafts/{id}", tag = "drafts", params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Missing X-CSRF-Token (cookie sessions)", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn delete(
    user: CurrentUser,
    id: web::Path<uuid::Uuid>,
    publishing: web::Data<Publishing>,
) -> Result<HttpResponse, ApiError> {
    publishing.delete_draft(user.id, DraftId(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Publish the draft — or schedule it, when it holds a time — checked like
/// any publish. Once accepted the draft is `published` and names its post and
/// job (it leaves the list and can no longer change); asking again answers
/// that publish.
#[utoipa::path(post, path = "/api/v1/drafts/{id}/publish", tag = "drafts", params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 202, description = "Accepted; publishing runs in the background", body = AcceptedView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Missing X-CSRF-Token (cookie sessions)", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "As for publishing (`invalid_content` for an empty draft, `content_rejected`, `no_targets`, …)", body = ErrorBody),
        (status = 429, description = "`backlog_full`, `quota_exceeded`", body = ErrorBody),
    ))]
pub async fn publish(
    user: CurrentUser,
    id: web::Path<uuid::Uuid>,
    publishing: web::Data<Publishing>,
) -> Result<HttpResponse, ApiError> {
    let accepted = publishing.publish_draft(user.id, DraftId(*id)).await?;
    Ok(HttpResponse::Accepted().json(AcceptedView::from(accepted)))
}
