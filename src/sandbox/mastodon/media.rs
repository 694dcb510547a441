//! `/api/v2/media`, `/api/v1/media`: multipart uploads streamed in, their
//! type sniffed from the first bytes, hashed and held to the instance's size
//! limits. Images (and GIFs, which become `gifv` when animated) are processed
//! at once; video and audio stay `processing` for a while (v2 answers 202
//! with `url: null`, `GET /api/v1/media/:id` 206 until done).

use std::io::Cursor;
use std::time::{Duration, Instant};

use actix_multipart::Multipart;
use actix_web::http::{StatusCode, header};
use actix_web::web::{Bytes, BytesMut};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use futures_util::StreamExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::api::{authorize, require_user};
use super::params::{self, Params};
use super::state::{Media, MediaType, State, random_token};
use super::{Mastodon, NO_CACHE, error, not_found};

/// `MediaAttachment::MAX_DESCRIPTION_LENGTH`.
pub const MAX_DESCRIPTION: usize = 1500;

/// Enough of a file's head to tell the accepted types apart.
const SNIFF_BYTES: usize = 16;

/// What the bytes are: type, kind and the extension Mastodon stores it under
/// (video becomes MP4, audio MP3, HEIC/AVIF JPEG).
fn sniff(head: &[u8]) -> Option<(&'static str, MediaType, &'static str)> {
    let at = |range: std::ops::Range<usize>| head.get(range).unwrap_or_default();
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("image/jpeg", MediaType::Image, "jpeg"))
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("image/png", MediaType::Image, "png"))
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some(("image/gif", MediaType::Image, "gif"))
    } else if head.starts_with(b"RIFF") && at(8..12) == b"WEBP" {
        Some(("image/webp", MediaType::Image, "webp"))
    } else if head.starts_with(b"RIFF") && at(8..12) == b"WAVE" {
        Some(("audio/wave", MediaType::Audio, "mp3"))
    } else if at(4..8) == b"ftyp" {
        match at(8..12) {
            b"avif" | b"avis" => Some(("image/avif", MediaType::Image, "jpeg")),
            b"heic" | b"heix" | b"mif1" | b"msf1" | b"heif" => {
                Some(("image/heic", MediaType::Image, "jpeg"))
            }
            b"qt  " => Some(("video/quicktime", MediaType::Video, "mp4")),
            b"M4A " => Some(("audio/mp4", MediaType::Audio, "mp3")),
            _ => Some(("video/mp4", MediaType::Video, "mp4")),
        }
    } else if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        Some(("video/webm", MediaType::Video, "mp4"))
    } else if head.starts_with(b"OggS") {
        Some(("audio/ogg", MediaType::Audio, "mp3"))
    } else if head.starts_with(b"fLaC") {
        Some(("audio/flac", MediaType::Audio, "mp3"))
    } else if head.starts_with(b"ID3") || head.starts_with(&[0xFF, 0xFB]) {
        Some(("audio/mpeg", MediaType::Audio, "mp3"))
    } else {
        None
    }
}

/// More than one Graphic Control Extension: an animation.
fn animated_gif(data: &[u8]) -> bool {
    data.windows(3).filter(|w| *w == [0x21, 0xF9, 0x04]).count() > 1
}

/// Rails' `number_to_human_size`, as the size error prints it.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} Bytes");
    }
    #[allow(clippy::cast_precision_loss)]
    let mut value = bytes as f64;
    let mut unit = "Bytes";
    for next in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    // Three significant digits, insignificant zeros stripped.
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{value:.digits$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    format!("{text} {unit}")
}

const BASE83: &[u8] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

/// A 1×1-component blurhash of the image's average colour.
fn blurhash(data: &[u8]) -> Option<String> {
    let image = image::load_from_memory(data)
        .ok()?
        .thumbnail(16, 16)
        .to_rgb8();
    let to_linear = |c: u8| {
        let v = f64::from(c) / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let to_srgb = |v: f64| -> u32 {
        let v = v.clamp(0.0, 1.0);
        let s = if v <= 0.003_130_8 {
            v * 12.92
        } else {
            1.055 * v.powf(1.0 / 2.4) - 0.055
        };
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let byte = (s * 255.0 + 0.5) as u32;
        byte.min(255)
    };
    let mut sum = [0.0f64; 3];
    let mut count = 0.0;
    for pixel in image.pixels() {
        for (total, channel) in sum.iter_mut().zip(pixel.0) {
            *total += to_linear(channel);
        }
        count += 1.0;
    }
    if count == 0.0 {
        return None;
    }
    let dc =
        (to_srgb(sum[0] / count) << 16) + (to_srgb(sum[1] / count) << 8) + to_srgb(sum[2] / count);
    let mut out = String::from("00");
    for power in (0..4).rev() {
        let digit = (dc / 83u32.pow(power)) % 83;
        out.push(char::from(*BASE83.get(digit as usize)?));
    }
    Some(out)
}

/// Paperclip's `id_partition` of a snowflake id: groups of three digits.
fn id_partition(id: &str) -> String {
    let width = id.len().div_ceil(3).max(3) * 3;
    let padded = format!("{id:0>width$}");
    padded
        .as_bytes()
        .chunks(3)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn file_url(sandbox: &Mastodon, media: &Media, style: &str, extension: &str) -> String {
    sandbox.local_url(&format!(
        "/system/media_attachments/files/{}/{style}/{}.{extension}",
        id_partition(&media.id),
        media.file_key
    ))
}

fn dimensions(width: u32, height: u32) -> Value {
    json!({
        "width": width,
        "height": height,
        "size": format!("{width}x{height}"),
        "aspect": f64::from(width) / f64::from(height.max(1)),
    })
}

/// The `MediaAttachment` entity.
pub fn media_json(sandbox: &Mastodon, media: &Media) -> Value {
    let ready = media.is_ready();
    let preview_extension = if media.kind == MediaType::Image {
        media.extension
    } else {
        "png"
    };
    let mut meta = serde_json::Map::new();
    if let (Some(w), Some(h)) = (media.width, media.height) {
        meta.insert("original".into(), dimensions(w, h));
        // The `small` style: at most 640×360 worth of pixels.
        let pixels = f64::from(w) * f64::from(h);
        let scale = (230_400.0 / pixels).sqrt().min(1.0);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let (sw, sh) = (
            ((f64::from(w) * scale).round() as u32).max(1),
            ((f64::from(h) * scale).round() as u32).max(1),
        );
        meta.insert("small".into(), dimensions(sw, sh));
    }
    if let Some((x, y)) = media.focus {
        meta.insert("focus".into(), json!({"x": x, "y": y}));
    }
    json!({
        "id": media.id,
        "type": media.kind.as_str(),
        "url": ready.then(|| file_url(sandbox, media, "original", media.extension)),
        "preview_url": file_url(sandbox, media, "small", preview_extension),
        "remote_url": null,
        "preview_remote_url": null,
        "text_url": null,
        "meta": if ready && !meta.is_empty() { Value::Object(meta) } else if ready { json!({}) } else { Value::Null },
        "description": media.description,
        "blurhash": media.blurhash,
    })
}

/// A refused upload, found while it streamed in.
fn invalid_file() -> HttpResponse {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Validation failed: File content type is invalid, File is invalid",
    )
}

/// Reads what the client still sends before any refusal: a body left unread
/// makes actix close the connection under a client still uploading.
async fn drain(mut payload: web::Payload) {
    while let Some(Ok(_)) = payload.next().await {}
}

/// One uploaded `file` part.
struct Received {
    declared: Option<String>,
    head: Vec<u8>,
    bytes: u64,
    sha256: String,
    data: Option<Bytes>,
}

/// The form of an upload: the file (streamed), `description`, `focus`.
struct Upload {
    file: Option<Received>,
    params: Params,
    text: Vec<(String, String)>,
}

async fn read_upload(
    request: &HttpRequest,
    payload: web::Payload,
    keep: u64,
) -> Result<Upload, HttpResponse> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !multipart {
        let params = params::read(request, payload).await?;
        return Ok(Upload {
            file: None,
            params,
            text: Vec::new(),
        });
    }
    let broken = |e: actix_multipart::MultipartError| {
        error(StatusCode::BAD_REQUEST, &format!("Invalid request: {e}"))
    };
    let mut form = Multipart::new(request.headers(), payload);
    let mut upload = Upload {
        file: None,
        params: Params::from_query(request),
        text: Vec::new(),
    };
    while let Some(field) = form.next().await {
        let mut field = field.map_err(broken)?;
        let name = field.name().map(str::to_owned).unwrap_or_default();
        if name == "file" && upload.file.is_none() {
            let declared = field
                .content_type()
                .map(|m| m.essence_str().to_ascii_lowercase());
            let mut head = Vec::with_capacity(SNIFF_BYTES);
            let mut hasher = Sha256::new();
            let mut bytes: u64 = 0;
            let mut data = Some(BytesMut::new());
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(broken)?;
                bytes += chunk.len() as u64;
                if head.len() < SNIFF_BYTES {
                    let take = (SNIFF_BYTES - head.len()).min(chunk.len());
                    head.extend_from_slice(&chunk[..take]);
                }
                hasher.update(&chunk);
                if bytes > keep {
                    data = None;
                } else if let Some(data) = &mut data {
                    data.extend_from_slice(&chunk);
                }
            }
            upload.file = Some(Received {
                declared,
                head,
                bytes,
                sha256: hex::encode(hasher.finalize()),
                data: data.map(BytesMut::freeze),
            });
        } else {
            let mut value = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(broken)?;
                if value.len() < 64 * 1024 {
                    value.extend_from_slice(&chunk);
                }
            }
            if name != "thumbnail" {
                upload
                    .text
                    .push((name, String::from_utf8_lossy(&value).into_owned()));
            }
        }
    }
    Ok(upload)
}

impl Upload {
    fn get(&self, key: &str) -> Option<&str> {
        self.text
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .or_else(|| self.params.get(key))
    }
}

/// `MediaAttachment#focus=`: "x,y", each `to_f` (so junk is 0.0).
fn parse_focus(value: &str) -> (f64, f64) {
    let mut parts = value
        .split(',')
        .map(|p| p.trim().parse::<f64>().unwrap_or(0.0));
    (parts.next().unwrap_or(0.0), parts.next().unwrap_or(0.0))
}

fn description_too_long(description: Option<&str>) -> bool {
    description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
}

fn description_error() -> HttpResponse {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        &format!(
            "Validation failed: Description is too long (maximum is {MAX_DESCRIPTION} characters)"
        ),
    )
}

/// `POST /api/v2/media`: 200 when processed at once, 202 (`url: null`) when not.
pub async fn upload_v2(
    sandbox: web::Data<Mastodon>,
    request: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    upload(sandbox, request, payload, true).await
}

/// `POST /api/v1/media` (deprecated): everything processed before answering.
pub async fn upload_v1(
    sandbox: web::Data<Mastodon>,
    request: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    upload(sandbox, request, payload, false).await
}

async fn upload(
    sandbox: web::Data<Mastodon>,
    request: HttpRequest,
    payload: web::Payload,
    delay_processing: bool,
) -> HttpResponse {
    let account = match authorize(&sandbox, &request, &["write", "write:media"])
        .and_then(|token| require_user(&sandbox, &token))
    {
        Ok(account) => account,
        Err(answer) => {
            drain(payload).await;
            return *answer;
        }
    };
    let (image_limit, video_limit, latency) = {
        let faults = &sandbox.lock().faults;
        (
            faults.image_size_limit,
            faults.video_size_limit,
            faults.latency_ms,
        )
    };
    let upload = match read_upload(&request, payload, image_limit).await {
        Ok(upload) => upload,
        Err(answer) => return answer,
    };
    if latency > 0 {
        actix_web::rt::time::sleep(Duration::from_millis(latency)).await;
    }
    let Some(file) = upload.file.as_ref() else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation failed: File can't be blank",
        );
    };
    let declared_ok = file.declared.as_deref().is_none_or(|d| {
        d == "application/octet-stream" || super::api::SUPPORTED_MIME_TYPES.contains(&d)
    });
    let Some((mime, mut kind, extension)) = sniff(&file.head).filter(|_| declared_ok) else {
        return invalid_file();
    };
    let limit = if kind.larger() {
        video_limit
    } else {
        image_limit
    };
    if file.bytes > limit {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!(
                "Validation failed: File file size must be less than {}",
                human_size(limit)
            ),
        );
    }
    let description = upload
        .get("description")
        .filter(|d| !d.is_empty())
        .map(str::to_owned);
    if description_too_long(description.as_deref()) {
        return description_error();
    }
    let data = file.data.clone().filter(|_| kind == MediaType::Image);
    let (mut width, mut height, mut hash) = (None, None, None);
    if let Some(data) = &data {
        if mime == "image/gif" && animated_gif(data) {
            kind = MediaType::Gifv;
        }
        if let Ok((w, h)) = image::ImageReader::new(Cursor::new(data.as_ref()))
            .with_guessed_format()
            .map_err(image::ImageError::IoError)
            .and_then(image::ImageReader::into_dimensions)
        {
            width = Some(w);
            height = Some(h);
        }
        hash = blurhash(data);
    }
    let focus = upload.get("focus").map(parse_focus);
    let stored = {
        let mut state = sandbox.lock();
        if let Some(fault) = injected_error(&mut state) {
            return fault;
        }
        let processing = if delay_processing && kind.larger() {
            Duration::from_millis(state.faults.video_processing_ms)
        } else {
            Duration::ZERO
        };
        let media = Media {
            id: state.next_id(),
            account_id: account.id.clone(),
            kind,
            mime,
            declared: file.declared.clone(),
            bytes: file.bytes,
            sha256: file.sha256.clone(),
            data,
            width,
            height,
            blurhash: hash,
            description,
            focus,
            file_key: hex::encode(&random_token().as_bytes()[..8]),
            extension,
            created_at: Utc::now(),
            ready_at: Instant::now() + processing,
            status_id: None,
        };
        state.calls.media_uploads += 1;
        state.media.insert(media.id.clone(), media.clone());
        (media, state.faults.stall_after_create_ms)
    };
    let (media, stall) = stored;
    if stall > 0 {
        actix_web::rt::time::sleep(Duration::from_millis(stall)).await;
    }
    let status = if media.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    HttpResponse::build(status)
        .insert_header(NO_CACHE)
        .json(media_json(&sandbox, &media))
}

fn injected_error(state: &mut State) -> Option<HttpResponse> {
    let rate = state.faults.error_rate;
    (rate > 0.0 && rand::random::<f64>() < rate).then(|| {
        state.calls.injected_errors += 1;
        error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    })
}

/// 206 while processing, else 200.
fn media_answer(sandbox: &Mastodon, media: &Media) -> HttpResponse {
    let status = if media.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::PARTIAL_CONTENT
    };
    HttpResponse::build(status)
        .insert_header(NO_CACHE)
        .json(media_json(sandbox, media))
}

/// `GET /api/v1/media/:id`: the account's own medium.
pub async fn show(
    sandbox: web::Data<Mastodon>,
    request: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let account = match authorize(&sandbox, &request, &["write", "write:media"])
        .and_then(|token| require_user(&sandbox, &token))
    {
        Ok(account) => account,
        Err(answer) => return *answer,
    };
    let mut state = sandbox.lock();
    state.calls.media_lookups += 1;
    match state
        .media
        .get(id.as_str())
        .filter(|m| m.account_id == account.id)
    {
        Some(media) => media_answer(&sandbox, media),
        None => not_found(),
    }
}

/// `PUT /api/v1/media/:id`: `description`, `focus`.
pub async fn update(
    sandbox: web::Data<Mastodon>,
    request: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let account = match authorize(&sandbox, &request, &["write", "write:media"])
        .and_then(|token| require_user(&sandbox, &token))
    {
        Ok(account) => account,
        Err(answer) => {
            drain(payload).await;
            return *answer;
        }
    };
    let upload = match read_upload(&request, payload, 0).await {
        Ok(upload) => upload,
        Err(answer) => return answer,
    };
    let description = upload.get("description").map(str::to_owned);
    if description_too_long(description.as_deref()) {
        return description_error();
    }
    let focus = upload.get("focus").map(parse_focus);
    let mut state = sandbox.lock();
    let Some(media) = state
        .media
        .get_mut(id.as_str())
        .filter(|m| m.account_id == account.id)
    else {
        return not_found();
    };
    if let Some(description) = description {
        media.description = Some(description).filter(|d| !d.is_empty());
    }
    if focus.is_some() {
        media.focus = focus;
    }
    let media = media.clone();
    state.calls.media_updates += 1;
    media_answer(&sandbox, &media)
}

/// `GET /system/media_attachments/files/…/{style}/{key}.{ext}`: the stored
/// file (images keep their bytes; video and audio only their hash: 404).
pub async fn file(sandbox: web::Data<Mastodon>, tail: web::Path<String>) -> HttpResponse {
    let key = tail
        .rsplit('/')
        .next()
        .and_then(|name| name.split('.').next())
        .unwrap_or_default()
        .to_owned();
    let found = sandbox
        .lock()
        .media
        .values()
        .find(|m| m.file_key == key)
        .and_then(|m| Some((m.mime, m.data.clone()?)));
    match found {
        Some((mime, data)) => HttpResponse::Ok().content_type(mime).body(data),
        None => super::no_route().await,
    }
}
