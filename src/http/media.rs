//! `/api/v1/media`: upload (the body streamed to storage), look at, fetch,
//! describe (alt text) and delete images and videos.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody, ErrorCode};
use super::json_object::Object;
use super::session::CurrentUser;
use crate::domain::MediaId;
use crate::media::{MediaLibrary, MediaView};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// Describes the image for people who cannot see it (≤ 1,500 characters).
    alt_text: Option<String>,
}

/// Upload one image or video: the raw file as the body, or a
/// `multipart/form-data` form with a `file` field (and optionally `alt_text`).
/// Its type is read from the bytes (JPEG, PNG, GIF, WebP, MP4), whatever the
/// name or Content-Type say; images are checked and re-encoded without
/// metadata (GPS included).
#[utoipa::path(post, path = "/api/v1/media", tag = "media", params(UploadQuery),
    request_body(content = String, content_type = "application/octet-stream",
                 description = "The file's bytes (any Content-Type; the type is sniffed), or a multipart/form-data form with a `file` field"),
    responses(
        (status = 201, body = MediaView),
        (status = 400, description = "`upload_interrupted`", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Missing X-CSRF-Token (cookie sessions)", body = ErrorBody),
        (status = 413, description = "`media_too_large`: over `media.max_image_bytes` / `max_video_bytes`", body = ErrorBody),
        (status = 422, description = "`unsupported_media`, `invalid_media` (truncated or corrupt), `image_too_large` (too many pixels), `empty_upload`, `invalid_alt_text`, `invalid_body` (a form without a `file` field)", body = ErrorBody),
        (status = 429, description = "`quota_exceeded` (`media_bytes`)", body = ErrorBody),
    ))]
pub async fn upload(
    user: CurrentUser,
    request: HttpRequest,
    query: web::Query<UploadQuery>,
    body: web::Payload,
    media: web::Data<MediaLibrary>,
    quotas: web::Data<crate::quotas::Quotas>,
) -> Result<HttpResponse, ApiError> {
    // The declared length, when there is one, is checked before a byte is
    // stored; without one only an already full quota refuses.
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    quotas.admit_media(user.id, declared).await?;
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    let view = if multipart {
        upload_form(
            &media,
            user,
            request.headers(),
            body,
            query.alt_text.clone(),
        )
        .await?
    } else {
        media
            .upload(user.id, body, query.alt_text.as_deref())
            .await?
    };
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/media/{}", view.id)))
        .json(view))
}

/// Longest `alt_text` form field read (the rule itself is 1,500 characters).
const MAX_ALT_FIELD_BYTES: usize = 8 * 1024;

/// A `multipart/form-data` upload: an optional `alt_text` field, then the
/// `file` field, streamed like a raw body; other fields are skipped.
async fn upload_form(
    media: &MediaLibrary,
    user: CurrentUser,
    headers: &actix_web::http::header::HeaderMap,
    body: web::Payload,
    mut alt_text: Option<String>,
) -> Result<MediaView, ApiError> {
    let bad_form = |e: actix_multipart::MultipartError| {
        ApiError::new(
            ErrorCode::InvalidBody,
            format!("the multipart form could not be read: {e}"),
        )
    };
    let mut form = Multipart::new(headers, body);
    while let Some(field) = form.next().await {
        let mut field = field.map_err(bad_form)?;
        match field.name() {
            Some("file") => {
                return Ok(media.upload(user.id, field, alt_text.as_deref()).await?);
            }
            Some("alt_text") => {
                let mut text = Vec::new();
                while let Some(chunk) = field.next().await {
                    text.extend_from_slice(&chunk.map_err(bad_form)?);
                    if text.len() > MAX_ALT_FIELD_BYTES {
                        return Err(ApiError::new(
                            ErrorCode::InvalidAltText,
                            "alt text must be at most 1500 characters",
                        ));
                    }
                }
                alt_text = Some(String::from_utf8(text).map_err(|_| {
                    ApiError::new(ErrorCode::InvalidAltText, "alt text must be UTF-8")
                })?);
            }
            _ => while field.next().await.is_some() {},
        }
    }
    Err(ApiError::new(
        ErrorCode::InvalidBody,
        "the form has no `file` field; send the file as `file` (or the raw file as the body)",
    ))
}

/// One of your uploads.
#[utoipa::path(get, path = "/api/v1/media/{id}", tag = "media",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = MediaView), (status = 401, body = ErrorBody),
              (status = 404, description = "No such media (or another user's)", body = ErrorBody)))]
pub async fn get(
    user: CurrentUser,
    id: web::Path<uuid::Uuid>,
    media: web::Data<MediaLibrary>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(media.get(user.id, MediaId(*id)).await?))
}

/// The file as uploaded, streamed.
#[utoipa::path(get, path = "/api/v1/media/{id}/content", tag = "media",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "The bytes, with their sniffed type", content_type = "application/octet-stream"),
              (status = 401, body = ErrorBody),
              (status = 404, description = "No such media (or another user's)", body = ErrorBody)))]
pub async fn content(
    user: CurrentUser,
    id: web::Path<uuid::Uuid>,
    media: web::Data<MediaLibrary>,
) -> Result<HttpResponse, ApiError> {
    let (mime, object) = media.content(user.id, MediaId(*id)).await?;
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .no_chunking(object.len)
        .insert_header((header::CACHE_CONTROL, "private, max-age=86400"))
        .streaming(object.body))
}

/// A small JPEG of an image (a GIF's first frame), at most 320 pixels a side.
#[utoipa::path(get, path = "/api/v1/media/{id}/thumbnail", tag = "media",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "A JPEG", content_type = "image/jpeg"),
              (status = 401, body = ErrorBody),
              (status = 404, description = "No such media (or another user's), or a video", body = ErrorBody)))]
pub async fn thumbnail(
    user: CurrentUser,
    id: web::Path<uuid::Uuid>,
    media: web::Data<MediaLibrary>,
) -> Result<HttpResponse, ApiError> {
    let object = media.thumbnail(user.id, MediaId(*id)).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/jpeg")
        .no_chunking(object.len)
        .insert_header((header::CACHE_CONTROL, "private, max-age=86400"))
        .streaming(object.body))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaUpdate {
    /// ≤ 1,500 characters, no control characters but line breaks;
    /// empty removes it.
    #[schema(
        max_length = 1500,
        pattern = "^[^\\u0000-\\u0009\\u000B-\\u001F\\u007F-\\u009F]*$"
    )]
    pub alt_text: String,
}

/// Change the alt text.
#[utoipa::path(patch, path = "/api/v1/media/{id}", tag = "media", request_body = MediaUpdate,
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = MediaView), (status = 401, body = ErrorBody),
              (status = 403, description = "Missing X-CSRF-Token (cookie sessions)", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 422, description = "`invalid_alt_text`", body = ErrorBody)))]
pub async fn update(
    user: CurrentUser,
    id: web::Path<uuid::Uuid>,
    body: web::Json<Object<MediaUpdate>>,
    media: web::Data<MediaLibrary>,
) -> Result<HttpResponse, ApiError> {
    let view = media
        .set_alt_text(user.id, MediaId(*id), &body.alt_text)
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Delete an upload; refused while a post that has not finished uses it.
#[utoipa::path(delete, path = "/api/v1/media/{id}", tag = "media",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody),
              (status = 403, description = "Missing X-CSRF-Token (cookie sessions)", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "`media_in_use`", body = ErrorBody)))]
pub async fn delete(
    user: CurrentUser,
    id: web::Path<uuid::Uuid>,
    media: web::Data<MediaLibrary>,
) -> Result<HttpResponse, ApiError> {
    media.delete(user.id, MediaId(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
