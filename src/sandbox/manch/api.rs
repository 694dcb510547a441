//! `/v1/*`: the account and posting API, with idempotency keys, the 500
//! character limit, attachments, per-account rate limits and injected faults.
//! Uploads themselves are in [`super::media`].

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::media::attachments;
use super::state::{Post, RateDecision, State};
use super::{Sandbox, oauth_error};
use crate::adapters::manch::MAX_CHARS;

fn bearer(request: &HttpRequest) -> Option<&str> {
    request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

pub(super) fn invalid_token() -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""))
        .json(json!({"error": "invalid_token", "error_description": "the access token is invalid, expired or revoked"}))
}

/// The account id behind the request's token.
pub(super) fn authenticate(sandbox: &Sandbox, request: &HttpRequest) -> Option<String> {
    let token = bearer(request)?;
    let state = sandbox.lock();
    state
        .account_of_token(token)
        .map(|account| account.id.clone())
}

pub(super) fn idempotency_key(request: &HttpRequest) -> Option<String> {
    request
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The `error_rate` fault's answer, when it strikes.
pub(super) fn injected_fault(state: &State) -> Option<HttpResponse> {
    (state.faults.error_rate > 0.0 && rand::random::<f64>() < state.faults.error_rate).then(|| {
        HttpResponse::ServiceUnavailable().json(
            json!({"error": "unavailable", "error_description": "injected fault: try again later"}),
        )
    })
}

fn post_url(request: &HttpRequest, id: &str) -> String {
    let info = request.connection_info();
    format!("{}://{}/posts/{id}", info.scheme(), info.host())
}

fn post_body(request: &HttpRequest, post: &Post) -> serde_json::Value {
    json!({"id": post.id, "url": post_url(request, &post.id), "created_at": post.created_at})
}

fn rate_headers(response: &mut actix_web::HttpResponseBuilder, decision: &RateDecision) {
    response
        .insert_header(("X-RateLimit-Limit", decision.limit.to_string()))
        .insert_header(("X-RateLimit-Remaining", decision.remaining.to_string()))
        .insert_header(("X-RateLimit-Reset", decision.reset.to_string()));
}

/// `GET /v1/me`.
pub async fn me(sandbox: web::Data<Sandbox>, request: HttpRequest) -> HttpResponse {
    let Some(account_id) = authenticate(&sandbox, &request) else {
        return invalid_token();
    };
    let state = sandbox.lock();
    match state.accounts.get(&account_id) {
        Some(account) => HttpResponse::Ok()
            .json(json!({"id": account.id, "handle": account.handle, "display_name": account.display_name})),
        None => invalid_token(),
    }
}

#[derive(Deserialize)]
pub struct NewPost {
    text: Option<String>,
    /// Uploaded media ids, in order.
    #[serde(default)]
    media_ids: Vec<String>,
}

/// Counts a `POST /v1/posts` call as open until dropped, also when the
/// client goes away mid-call and actix drops the handler.
struct OpenCall {
    sandbox: web::Data<Sandbox>,
    account_id: String,
}

impl OpenCall {
    fn new(sandbox: &web::Data<Sandbox>, account_id: &str) -> Self {
        sandbox.lock().in_flight(account_id, true);
        Self {
            sandbox: sandbox.clone(),
            account_id: account_id.to_owned(),
        }
    }
}

impl Drop for OpenCall {
    fn drop(&mut self) {
        self.sandbox.lock().in_flight(&self.account_id, false);
    }
}

/// `POST /v1/posts`.
pub async fn create_post(
    sandbox: web::Data<Sandbox>,
    request: HttpRequest,
    body: web::Json<NewPost>,
) -> HttpResponse {
    let account = authenticate(&sandbox, &request);
    let _open = account.as_deref().map(|id| OpenCall::new(&sandbox, id));
    // Slow for every answer, refusals too: calls sent together meet a bad
    // token together, as they would on a slow platform.
    let latency = {
        let faults = &sandbox.lock().faults;
        faults.latency_ms + faults.post_delay_ms
    };
    if latency > 0 {
        actix_web::rt::time::sleep(Duration::from_millis(latency)).await;
    }
    let Some(account_id) = account else {
        sandbox.lock().calls.unauthorized += 1;
        return invalid_token();
    };
    let key = idempotency_key(&request);
    let stored = store_post(
        &mut sandbox.lock(),
        &request,
        &account_id,
        key.as_deref(),
        body.text.as_deref().unwrap_or_default(),
        &body.media_ids,
    );
    let (post, decision, stall) = match stored {
        Ok(stored) => stored,
        Err(answer) => return *answer,
    };
    if stall > 0 {
        actix_web::rt::time::sleep(Duration::from_millis(stall)).await;
    }
    let mut response = HttpResponse::Created();
    rate_headers(&mut response, &decision);
    response.json(post_body(&request, &post))
}

/// Under the sandbox's lock: faults, the rate limit, a known key, the text
/// and attachment rules, then the new post, its rate figures and how long to
/// hold its answer.
fn store_post(
    state: &mut State,
    request: &HttpRequest,
    account_id: &str,
    key: Option<&str>,
    text: &str,
    media_ids: &[String],
) -> Result<(Post, RateDecision, u64), Box<HttpResponse>> {
    if let Some(fault) = injected_fault(state) {
        return Err(Box::new(fault));
    }
    let decision = state.rate_check(account_id);
    if !decision.allowed {
        let mut response = HttpResponse::TooManyRequests();
        rate_headers(&mut response, &decision);
        return Err(Box::new(response
            .insert_header((header::RETRY_AFTER, state.faults.retry_after_s.to_string()))
            .json(json!({"error": "rate_limited", "error_description": "too many posts; see Retry-After"}))));
    }
    let honor_idempotency = state.faults.honor_idempotency;
    if let Some(existing) = key
        .filter(|_| honor_idempotency)
        .and_then(|k| state.post_by_key(account_id, k))
    {
        let body = post_body(request, existing);
        state.calls.replays += 1;
        let mut response = HttpResponse::Created();
        rate_headers(&mut response, &decision);
        return Err(Box::new(
            response
                .insert_header(("Idempotent-Replayed", "true"))
                .json(body),
        ));
    }
    // With an attachment the text may be empty.
    let least = usize::from(media_ids.is_empty());
    let chars = text.chars().count();
    if (least > 0 && text.trim().is_empty()) || chars > MAX_CHARS {
        return Err(Box::new(HttpResponse::UnprocessableEntity().json(json!({
            "error": "invalid_text",
            "error_description": format!("text must be {least} to {MAX_CHARS} characters (got {chars})"),
        }))));
    }
    let media = attachments(state, account_id, media_ids)?;
    let post = state.add_post(account_id, key, text, media);
    Ok((post, decision, state.faults.stall_after_create_ms))
}

#[derive(Deserialize)]
pub struct Lookup {
    idempotency_key: Option<String>,
}

/// `GET /v1/posts?idempotency_key=…`.
pub async fn find_post(
    sandbox: web::Data<Sandbox>,
    request: HttpRequest,
    query: web::Query<Lookup>,
) -> HttpResponse {
    let Some(account_id) = authenticate(&sandbox, &request) else {
        return invalid_token();
    };
    let Some(key) = query.idempotency_key.as_deref() else {
        return oauth_error("invalid_request", "idempotency_key is required");
    };
    let mut state = sandbox.lock();
    state.calls.lookups += 1;
    let found = state.post_by_key(&account_id, key).cloned();
    if found.is_some() {
        state.calls.lookups_found += 1;
    }
    match found {
        Some(post) => HttpResponse::Ok().json(post_body(&request, &post)),
        None => HttpResponse::NotFound().json(
            json!({"error": "not_found", "error_description": "no post with that idempotency key"}),
        ),
    }
}

/// `GET /posts/{id}`: the public page a post's URL points at.
pub async fn show_post(sandbox: web::Data<Sandbox>, id: web::Path<String>) -> HttpResponse {
    let state = sandbox.lock();
    let Some(post) = state.posts.iter().find(|p| p.id == *id) else {
        return HttpResponse::NotFound().body("no such post");
    };
    let handle = state
        .accounts
        .get(&post.account_id)
        .map(|a| a.handle.as_str())
        .unwrap_or("unknown");
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(format!(
        "<!doctype html><title>@{handle} on Manch</title><article><h1>@{handle}</h1><p>{}</p><time>{}</time></article>",
        html_escape::encode_text(&post.text),
        post.created_at.to_rfc3339(),
        handle = html_escape::encode_text(handle),
    ))
}
