//! `/_sandbox/*`: what tests and operators use to look inside and to inject faults.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::Sandbox;
use super::state::State;

/// `GET /_sandbox/posts`: every post with its attachments, and how many posts
/// and media were stored twice.
pub async fn posts(sandbox: web::Data<Sandbox>) -> HttpResponse {
    let state = sandbox.lock();
    HttpResponse::Ok().json(json!({"posts": state.posts, "duplicates": state.duplicates}))
}

/// `GET /_sandbox/stats`: how many posts and double publishes, without the
/// posts themselves (a long benchmark makes millions).
pub async fn stats(sandbox: web::Data<Sandbox>) -> HttpResponse {
    let state = sandbox.lock();
    HttpResponse::Ok().json(json!({"posts": state.posts.len(), "duplicates": state.duplicates}))
}

/// `GET /_sandbox/calls`: what clients did, call by call kind (see [`super::state::Calls`]).
pub async fn calls(sandbox: web::Data<Sandbox>) -> HttpResponse {
    let state = sandbox.lock();
    HttpResponse::Ok().json(&state.calls)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsUpdate {
    latency_ms: Option<u64>,
    error_rate: Option<f64>,
    token_ttl_s: Option<u64>,
    rate_limit_per_s: Option<u32>,
    retry_after_s: Option<u64>,
    honor_idempotency: Option<bool>,
    stall_after_create_ms: Option<u64>,
    video_processing_ms: Option<u64>,
    post_delay_ms: Option<u64>,
}

/// `POST /_sandbox/faults`: change any subset; answers the faults now in force.
pub async fn faults(sandbox: web::Data<Sandbox>, update: web::Json<FaultsUpdate>) -> HttpResponse {
    if let Some(rate) = update.error_rate
        && !(0.0..=1.0).contains(&rate)
    {
        return HttpResponse::UnprocessableEntity()
            .json(json!({"error": "invalid_request", "error_description": "error_rate must be between 0 and 1"}));
    }
    let mut state = sandbox.lock();
    let faults = &mut state.faults;
    if let Some(v) = update.latency_ms {
        faults.latency_ms = v;
    }
    if let Some(v) = update.error_rate {
        faults.error_rate = v;
    }
    if let Some(v) = update.token_ttl_s {
        faults.token_ttl_s = v;
    }
    if let Some(v) = update.rate_limit_per_s {
        faults.rate_limit_per_s = v;
    }
    if let Some(v) = update.retry_after_s {
        faults.retry_after_s = v;
    }
    if let Some(v) = update.honor_idempotency {
        faults.honor_idempotency = v;
    }
    if let Some(v) = update.stall_after_create_ms {
        faults.stall_after_create_ms = v;
    }
    if let Some(v) = update.video_processing_ms {
        faults.video_processing_ms = v;
    }
    if let Some(v) = update.post_delay_ms {
        faults.post_delay_ms = v;
    }
    HttpResponse::Ok().json(&state.faults)
}

/// `GET /_sandbox/media/{id}`: the stored bytes of an image, as uploaded, so
/// tests can see what reached the platform (a video keeps no bytes: 404).
pub async fn media(sandbox: web::Data<Sandbox>, id: web::Path<String>) -> HttpResponse {
    let state = sandbox.lock();
    let stored = state
        .media
        .get(id.as_str())
        .and_then(|m| Some((m.file.mime, m.file.data.clone()?)));
    match stored {
        Some((mime, data)) => HttpResponse::Ok().content_type(mime).body(data),
        None => HttpResponse::NotFound().json(
            json!({"error": "not_found", "error_description": "no stored image with that id"}),
        ),
    }
}

/// `POST /_sandbox/reset`: forget everything.
pub async fn reset(sandbox: web::Data<Sandbox>) -> HttpResponse {
    *sandbox.lock() = State::default();
    HttpResponse::NoContent().finish()
}
