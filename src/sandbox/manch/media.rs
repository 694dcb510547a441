//! `/v1/media`: uploads streamed in, their type sniffed from the first bytes,
//! hashed chunk by chunk and held to Manch's size limits; a video stays
//! `processing` for a while before a post may carry it.

use std::time::Duration;

use actix_web::http::header;
use actix_web::web::BytesMut;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::Sandbox;
use super::api::{authenticate, idempotency_key, injected_fault, invalid_token};
use super::state::{Attached, Media, MediaKind, Received, State};
use crate::adapters::manch::{
    MAX_ALT_TEXT_CHARS, MAX_IMAGE_BYTES, MAX_MEDIA, MAX_VIDEO_BYTES, MEDIA_TYPES,
};

/// Enough of a file's head to tell every accepted type apart.
const SNIFF_BYTES: usize = 12;

/// The accepted type the first bytes announce.
fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else if head.len() >= 8 && &head[4..8] == b"ftyp" {
        Some("video/mp4")
    } else {
        None
    }
}

fn kind_of(mime: &str) -> MediaKind {
    if mime.starts_with("video/") {
        MediaKind::Video
    } else {
        MediaKind::Image
    }
}

/// Why an upload was refused, found while it streamed in.
#[derive(Debug)]
enum Refusal {
    /// 422 `invalid_media`: not a file Manch accepts, or not what it claims.
    Invalid(String),
    /// 413 `media_too_large`.
    TooLarge(String),
    /// 400: the body did not arrive whole.
    Broken(String),
}

impl Refusal {
    fn response(self) -> HttpResponse {
        match self {
            Refusal::Invalid(why) => invalid_media("invalid_media", why),
            Refusal::TooLarge(why) => HttpResponse::PayloadTooLarge()
                .json(json!({"error": "media_too_large", "error_description": why})),
            Refusal::Broken(why) => HttpResponse::BadRequest()
                .json(json!({"error": "invalid_request", "error_description": why})),
        }
    }
}

fn invalid_media(code: &str, why: String) -> HttpResponse {
    HttpResponse::UnprocessableEntity().json(json!({"error": code, "error_description": why}))
}

/// Reads what the client still sends, unseen, before any refusal: a body left
/// unread makes actix close the connection under a client still uploading,
/// which may then see a reset rather than the answer.
async fn drain(mut payload: web::Payload) {
    while let Some(Ok(_)) = payload.next().await {}
}

/// Streams the body in: counts and hashes it chunk by chunk, keeps an image's
/// bytes, and stops keeping anything at the limit of the declared type.
async fn receive(
    declared: Option<String>,
    size_hint: Option<u64>,
    mut payload: web::Payload,
) -> Result<Received, Refusal> {
    let Some(mime) = declared
        .as_deref()
        .and_then(|d| MEDIA_TYPES.iter().find(|t| **t == d).copied())
    else {
        drain(payload).await;
        return Err(Refusal::Invalid(format!(
            "Content-Type {} is not one Manch accepts ({})",
            declared.as_deref().unwrap_or("(none)"),
            MEDIA_TYPES.join(", ")
        )));
    };
    let kind = kind_of(mime);
    let limit = match kind {
        MediaKind::Image => MAX_IMAGE_BYTES,
        MediaKind::Video => MAX_VIDEO_BYTES,
    };
    let mut data = (kind == MediaKind::Image).then(|| {
        let expected = size_hint.unwrap_or(0).min(limit);
        BytesMut::with_capacity(usize::try_from(expected).unwrap_or(0))
    });
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    let mut hasher = Sha256::new();
    let mut bytes: u64 = 0;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| Refusal::Broken(format!("the body broke off: {e}")))?;
        bytes += chunk.len() as u64;
        if bytes > limit {
            drain(payload).await;
            return Err(Refusal::TooLarge(format!(
                "{}s are at most {limit} bytes",
                kind.as_str()
            )));
        }
        if head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        hasher.update(&chunk);
        if let Some(data) = &mut data {
            data.extend_from_slice(&chunk);
        }
    }
    if bytes == 0 {
        return Err(Refusal::Invalid("the body is empty".into()));
    }
    match sniff(&head) {
        Some(found) if found == mime => Ok(Received {
            kind,
            mime,
            bytes,
            sha256: hex::encode(hasher.finalize()),
            data: data.map(BytesMut::freeze),
        }),
        Some(found) => Err(Refusal::Invalid(format!(
            "the bytes are {found}, not the {mime} the Content-Type says"
        ))),
        None => Err(Refusal::Invalid(format!(
            "the bytes are not {mime}, nor any type Manch accepts"
        ))),
    }
}

fn media_body(media: &Media) -> serde_json::Value {
    json!({
        "id": media.id,
        "type": media.file.kind.as_str(),
        "mime": media.file.mime,
        "bytes": media.file.bytes,
        "sha256": media.file.sha256,
        "alt_text": media.alt_text,
        "state": if media.is_ready() { "ready" } else { "processing" },
    })
}

#[derive(Deserialize)]
pub struct UploadQuery {
    alt_text: Option<String>,
}

/// `POST /v1/media`: the body is the file, `Content-Type` its type.
pub async fn upload(
    sandbox: web::Data<Sandbox>,
    request: HttpRequest,
    query: web::Query<UploadQuery>,
    payload: web::Payload,
) -> HttpResponse {
    let account = authenticate(&sandbox, &request);
    let received = match account {
        Some(_) => {
            let declared = request
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .map(|v| v.trim().to_ascii_lowercase());
            let size_hint = request
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse().ok());
            Some(receive(declared, size_hint, payload).await)
        }
        None => {
            drain(payload).await;
            None
        }
    };
    let latency = sandbox.lock().faults.latency_ms;
    if latency > 0 {
        actix_web::rt::time::sleep(Duration::from_millis(latency)).await;
    }
    let (Some(account_id), Some(received)) = (account, received) else {
        return invalid_token();
    };
    let key = idempotency_key(&request);
    let alt_text = query.into_inner().alt_text.filter(|t| !t.is_empty());
    let stored = store_media(
        &mut sandbox.lock(),
        &account_id,
        key.as_deref(),
        received,
        alt_text,
    );
    let (media, stall) = match stored {
        Ok(stored) => stored,
        Err(answer) => return *answer,
    };
    if stall > 0 {
        actix_web::rt::time::sleep(Duration::from_millis(stall)).await;
    }
    HttpResponse::Created().json(media_body(&media))
}

/// Under the sandbox's lock: faults, a known key, the file and alt text
/// rules, then the new medium and how long to hold its answer.
fn store_media(
    state: &mut State,
    account_id: &str,
    key: Option<&str>,
    received: Result<Received, Refusal>,
    alt_text: Option<String>,
) -> Result<(Media, u64), Box<HttpResponse>> {
    if let Some(fault) = injected_fault(state) {
        return Err(Box::new(fault));
    }
    let honor_idempotency = state.faults.honor_idempotency;
    if let Some(existing) = key
        .filter(|_| honor_idempotency)
        .and_then(|k| state.media_by_key(account_id, k))
    {
        let body = media_body(existing);
        state.calls.media_replays += 1;
        return Err(Box::new(
            HttpResponse::Created()
                .insert_header(("Idempotent-Replayed", "true"))
                .json(body),
        ));
    }
    let chars = alt_text.as_deref().map_or(0, |t| t.chars().count());
    if chars > MAX_ALT_TEXT_CHARS {
        return Err(Box::new(HttpResponse::UnprocessableEntity().json(json!({
            "error": "invalid_request",
            "error_description": format!("alt_text is at most {MAX_ALT_TEXT_CHARS} characters (got {chars})"),
        }))));
    }
    let file = received.map_err(|refusal| Box::new(refusal.response()))?;
    let media = state.add_media(account_id, key, file, alt_text);
    Ok((media, state.faults.stall_after_create_ms))
}

/// `GET /v1/media/{id}`: the account's own medium and its current state.
pub async fn show(
    sandbox: web::Data<Sandbox>,
    request: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let Some(account_id) = authenticate(&sandbox, &request) else {
        return invalid_token();
    };
    let mut state = sandbox.lock();
    state.calls.media_lookups += 1;
    match state.own_media(&account_id, &id) {
        Some(media) => HttpResponse::Ok().json(media_body(media)),
        None => HttpResponse::NotFound()
            .json(json!({"error": "not_found", "error_description": "no such media"})),
    }
}

/// The attachments a new post names, checked: at most [`MAX_MEDIA`], each the
/// account's own and listed once, a video alone, all ready.
pub fn attachments(
    state: &State,
    account_id: &str,
    ids: &[String],
) -> Result<Vec<Attached>, Box<HttpResponse>> {
    let refuse = |code: &str, why: String| Err(Box::new(invalid_media(code, why)));
    if ids.len() > MAX_MEDIA {
        return refuse(
            "invalid_media",
            format!(
                "a post has at most {MAX_MEDIA} attachments (got {})",
                ids.len()
            ),
        );
    }
    let mut found = Vec::with_capacity(ids.len());
    for (index, id) in ids.iter().enumerate() {
        if ids[..index].contains(id) {
            return refuse("invalid_media", format!("media {id} is attached twice"));
        }
        let Some(media) = state.own_media(account_id, id) else {
            return refuse(
                "invalid_media",
                format!("media {id} does not exist on this account"),
            );
        };
        found.push(media);
    }
    if found.len() > 1 && found.iter().any(|m| m.file.kind == MediaKind::Video) {
        return refuse(
            "invalid_media",
            "a video cannot be combined with other media".into(),
        );
    }
    if let Some(media) = found.iter().find(|m| !m.is_ready()) {
        return refuse(
            "media_not_ready",
            format!(
                "media {} is still processing; post it once its state is ready",
                media.id
            ),
        );
    }
    Ok(found.iter().map(|m| m.attached()).collect())
}
