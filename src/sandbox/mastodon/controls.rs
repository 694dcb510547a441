//! `/_sandbox/*`: what tests and operators use to look inside the instance
//! and to change how it behaves.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Mastodon;
use super::api::timestamp;
use super::state::{IdempotencyMode, State};

/// `GET /_sandbox/posts`: every status ever created (deleted ones marked),
/// with its account, text and media as they arrived, and how many statuses
/// repeat an earlier one (same account and idempotency key, or same text,
/// content warning and media content): double publishes.
pub async fn posts(sandbox: web::Data<Mastodon>) -> HttpResponse {
    let state = sandbox.lock();
    let posts: Vec<Value> = state
        .statuses
        .iter()
        .map(|status| {
            let account = state.accounts.get(&status.account_id);
            let media: Vec<Value> = status
                .media_ids
                .iter()
                .filter_map(|id| state.media.get(id))
                .map(|m| {
                    json!({
                        "id": m.id,
                        "type": m.kind.as_str(),
                        "mime": m.mime,
                        "declared_mime": m.declared,
                        "bytes": m.bytes,
                        "sha256": m.sha256,
                        "description": m.description,
                        "focus": m.focus.map(|(x, y)| json!({"x": x, "y": y})),
                        "width": m.width,
                        "height": m.height,
                    })
                })
                .collect();
            json!({
                "id": status.id,
                "account": account.map(|a| json!({
                    "id": a.id,
                    "username": a.username,
                    "acct": format!("{}@{}", a.username, sandbox.domain),
                })),
                "application": status.client_id.as_deref().and_then(|c| state.app(c)).map(|a| a.name.clone()),
                "text": status.text,
                "spoiler_text": status.spoiler_text,
                "visibility": status.visibility,
                "sensitive": status.sensitive,
                "language": status.language,
                "in_reply_to_id": status.in_reply_to_id,
                "media": media,
                "idempotency_key": status.idempotency_key,
                "created_at": timestamp(&status.created_at),
                "deleted": status.deleted_at.is_some(),
            })
        })
        .collect();
    HttpResponse::Ok().json(json!({"posts": posts, "duplicates": state.duplicates()}))
}

/// `GET /_sandbox/calls`: what clients did (see [`super::state::Calls`]).
pub async fn calls(sandbox: web::Data<Mastodon>) -> HttpResponse {
    HttpResponse::Ok().json(&sandbox.lock().calls)
}

/// `GET /_sandbox/apps`: the registered apps (no secrets).
pub async fn apps(sandbox: web::Data<Mastodon>) -> HttpResponse {
    HttpResponse::Ok().json(&sandbox.lock().apps)
}

/// `GET /_sandbox/media/{id}`: the stored bytes of an image (video and audio
/// keep none: 404).
pub async fn media(sandbox: web::Data<Mastodon>, id: web::Path<String>) -> HttpResponse {
    let stored = sandbox
        .lock()
        .media
        .get(id.as_str())
        .and_then(|m| Some((m.mime, m.data.clone()?)));
    match stored {
        Some((mime, data)) => HttpResponse::Ok().content_type(mime).body(data),
        None => HttpResponse::NotFound().json(json!({"error": "Record not found"})),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsUpdate {
    pkce: Option<bool>,
    max_characters: Option<usize>,
    video_processing_ms: Option<u64>,
    rate_limit_per_5min: Option<u32>,
    account_rate_limit_per_5min: Option<u32>,
    unauthenticated_rate_limit_per_5min: Option<u32>,
    api_period_secs: Option<u64>,
    media_rate_limit_per_30min: Option<u32>,
    delete_rate_limit_per_30min: Option<u32>,
    paging_rate_limit_per_15min: Option<u32>,
    statuses_per_3h: Option<u32>,
    image_size_limit: Option<u64>,
    video_size_limit: Option<u64>,
    error_rate: Option<f64>,
    latency_ms: Option<u64>,
    create_delay_ms: Option<u64>,
    stall_after_create_ms: Option<u64>,
    honor_idempotency: Option<bool>,
    idempotency: Option<IdempotencyMode>,
}

/// `GET /_sandbox/faults`: the faults in force.
pub async fn current_faults(sandbox: web::Data<Mastodon>) -> HttpResponse {
    HttpResponse::Ok().json(&sandbox.lock().faults)
}

/// `POST /_sandbox/faults`: change any subset; answers the faults now in force.
pub async fn faults(sandbox: web::Data<Mastodon>, update: web::Json<FaultsUpdate>) -> HttpResponse {
    if let Some(rate) = update.error_rate
        && !(0.0..=1.0).contains(&rate)
    {
        return HttpResponse::UnprocessableEntity()
            .json(json!({"error": "error_rate must be between 0 and 1"}));
    }
    let update = update.into_inner();
    let mut state = sandbox.lock();
    let faults = &mut state.faults;
    macro_rules! set {
        ($($field:ident),*) => {
            $(if let Some(v) = update.$field { faults.$field = v; })*
        };
    }
    set!(
        pkce,
        max_characters,
        video_processing_ms,
        rate_limit_per_5min,
        account_rate_limit_per_5min,
        unauthenticated_rate_limit_per_5min,
        api_period_secs,
        media_rate_limit_per_30min,
        delete_rate_limit_per_30min,
        paging_rate_limit_per_15min,
        statuses_per_3h,
        image_size_limit,
        video_size_limit,
        error_rate,
        latency_ms,
        create_delay_ms,
        stall_after_create_ms,
        honor_idempotency,
        idempotency
    );
    HttpResponse::Ok().json(&state.faults)
}

#[derive(Debug, Deserialize)]
pub struct RevokeRequest {
    username: String,
    /// Only this app's tokens (as when the user removes one app in their
    /// settings); all apps' without it.
    client_id: Option<String>,
}

/// `POST /_sandbox/revoke {username, client_id?}`: the user revokes access
/// in their settings; every such token then answers 401.
pub async fn revoke(sandbox: web::Data<Mastodon>, body: web::Json<RevokeRequest>) -> HttpResponse {
    let mut state = sandbox.lock();
    let Some(account_id) = state
        .account_by_username(&body.username)
        .map(|a| a.id.clone())
    else {
        return HttpResponse::NotFound().json(json!({"error": "Record not found"}));
    };
    let revoked = state.revoke_all_for(&account_id, body.client_id.as_deref());
    HttpResponse::Ok().json(json!({"revoked": revoked}))
}

/// `POST /_sandbox/reset`: forget everything; the faults return to the
/// sandbox's configuration.
pub async fn reset(sandbox: web::Data<Mastodon>) -> HttpResponse {
    let initial = sandbox.initial.clone();
    *sandbox.lock() = State::new(initial);
    HttpResponse::NoContent().finish()
}
