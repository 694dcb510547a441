//! `/api/v1/accounts/*`, `/api/v2/instance` and `/api/v1/statuses*`: token
//! and scope checks as Doorkeeper answers them, the entities as Mastodon's
//! serializers shape them, and `PostStatusService` with its idempotency key,
//! media rules, character limit and `statuses` rate-limit family.

use std::time::Duration;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::media::media_json;
use super::oauth::VAPID_KEY;
use super::params::{self, Params};
use super::ratelimit::Headers;
use super::state::{Account, IdempotencyMode, MediaType, State, Status, Token, token_key};
use super::text::{self, Entity};
use super::{Mastodon, NO_CACHE, error, not_found};

/// Mastodon's JSON timestamps: UTC, milliseconds.
pub fn timestamp(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn bearer(request: &HttpRequest) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// A refusal, boxed: an `HttpResponse` is large.
pub(super) type Refusal = Box<HttpResponse>;

/// Doorkeeper's 401, with the description `Api::BaseController` renders.
fn unauthorized(sandbox: &Mastodon, description: &str) -> HttpResponse {
    sandbox.lock().calls.unauthorized += 1;
    HttpResponse::Unauthorized()
        .insert_header((
            header::WWW_AUTHENTICATE,
            format!(
                "Bearer realm=\"Doorkeeper\", error=\"invalid_token\", error_description=\"{description}\""
            ),
        ))
        .insert_header(NO_CACHE)
        .json(json!({ "error": description }))
}

/// `doorkeeper_authorize!(*scopes)`: a live token holding one of `scopes`.
pub(super) fn authorize(
    sandbox: &Mastodon,
    request: &HttpRequest,
    scopes: &[&str],
) -> Result<Token, Refusal> {
    let token = bearer(request).and_then(|t| sandbox.lock().tokens.get(&token_key(t)).cloned());
    let Some(token) = token else {
        return Err(Box::new(unauthorized(
            sandbox,
            "The access token is invalid",
        )));
    };
    if token.revoked {
        return Err(Box::new(unauthorized(
            sandbox,
            "The access token was revoked",
        )));
    }
    if !scopes.iter().any(|s| token.scopes.iter().any(|t| t == s)) {
        return Err(Box::new(HttpResponse::Forbidden()
            .insert_header((
                header::WWW_AUTHENTICATE,
                format!(
                    "Bearer realm=\"Doorkeeper\", error=\"insufficient_scope\", error_description=\"The request requires higher privileges than provided by the access token.\", scope=\"{}\"",
                    scopes.join(" ")
                ),
            ))
            .insert_header(NO_CACHE)
            .json(json!({"error": "This action is outside the authorized scopes"}))));
    }
    Ok(token)
}

/// `authorize_if_got_token!`: anonymous without a token, checked with one.
pub(super) fn authorize_if_got_token(
    sandbox: &Mastodon,
    request: &HttpRequest,
    scopes: &[&str],
) -> Result<Option<Token>, Refusal> {
    if request.headers().get(header::AUTHORIZATION).is_none() {
        return Ok(None);
    }
    authorize(sandbox, request, scopes).map(Some)
}

/// `require_user!`: an app-only token is not enough.
pub(super) fn require_user(sandbox: &Mastodon, token: &Token) -> Result<Account, Refusal> {
    token
        .account_id
        .as_ref()
        .and_then(|id| sandbox.lock().accounts.get(id).cloned())
        .ok_or_else(|| {
            Box::new(error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "This method requires an authenticated user",
            ))
        })
}

/// The `Account` entity (`REST::AccountSerializer`).
pub fn account_json(sandbox: &Mastodon, state: &State, account: &Account) -> Value {
    let domain = &sandbox.domain;
    let statuses: Vec<&Status> = state
        .statuses
        .iter()
        .filter(|s| s.account_id == account.id && s.deleted_at.is_none())
        .collect();
    let last_status_at = statuses
        .iter()
        .map(|s| s.created_at)
        .max()
        .map(|at| at.format("%Y-%m-%d").to_string());
    let midnight = account
        .created_at
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc())
        .unwrap_or(account.created_at);
    json!({
        "id": account.id,
        "username": account.username,
        "acct": account.username,
        "display_name": account.display_name,
        "locked": false,
        "bot": false,
        "discoverable": true,
        "indexable": false,
        "group": false,
        "created_at": timestamp(&midnight),
        "note": "",
        "url": format!("https://{domain}/@{}", account.username),
        "uri": format!("https://{domain}/users/{}", account.username),
        "avatar": format!("https://{domain}/avatars/original/missing.png"),
        "avatar_static": format!("https://{domain}/avatars/original/missing.png"),
        "header": format!("https://{domain}/headers/original/missing.png"),
        "header_static": format!("https://{domain}/headers/original/missing.png"),
        "followers_count": 0,
        "following_count": 0,
        "statuses_count": statuses.len(),
        "last_status_at": last_status_at,
        "hide_collections": false,
        "noindex": false,
        "emojis": [],
        "roles": [],
        "fields": [],
    })
}

/// `GET /api/v1/accounts/verify_credentials`: the `CredentialAccount`.
pub async fn verify_credentials(
    sandbox: web::Data<Mastodon>,
    request: HttpRequest,
) -> HttpResponse {
    let token = match authorize(&sandbox, &request, &["read", "read:accounts", "profile"]) {
        Ok(token) => token,
        Err(answer) => return *answer,
    };
    let account = match require_user(&sandbox, &token) {
        Ok(account) => account,
        Err(answer) => return *answer,
    };
    let mut state = sandbox.lock();
    state.calls.verify_credentials += 1;
    let mut body = account_json(&sandbox, &state, &account);
    body["source"] = json!({
        "privacy": "public",
        "sensitive": false,
        "language": "",
        "note": "",
        "fields": [],
        "follow_requests_count": 0,
        "hide_collections": false,
        "discoverable": true,
        "indexable": false,
        "attribution_domains": [],
    });
    body["role"] = json!({
        "id": "-99",
        "name": "",
        "permissions": "0",
        "color": "",
        "highlighted": false,
    });
    HttpResponse::Ok().insert_header(NO_CACHE).json(body)
}

pub const SUPPORTED_MIME_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/heic",
    "image/heif",
    "image/webp",
    "image/avif",
    "video/webm",
    "video/mp4",
    "video/quicktime",
    "video/ogg",
    "audio/wave",
    "audio/wav",
    "audio/x-wav",
    "audio/x-pn-wave",
    "audio/vnd.wave",
    "audio/ogg",
    "audio/vorbis",
    "audio/mpeg",
    "audio/mp3",
    "audio/webm",
    "audio/flac",
    "audio/aac",
    "audio/m4a",
    "audio/x-m4a",
    "audio/mp4",
    "audio/3gpp",
    "video/x-ms-asf",
];

/// `GET /api/v2/instance`: the V2 `Instance` entity.
pub async fn instance(sandbox: web::Data<Mastodon>) -> HttpResponse {
    let state = sandbox.lock();
    let faults = &state.faults;
    let domain = &sandbox.domain;
    HttpResponse::Ok().json(json!({
        "domain": domain,
        "title": "Mastodon sandbox",
        "version": "4.3.0",
        "source_url": "https://github.com/mastodon/mastodon",
        "description": "A Mastodon stand-in run by Prasaran for tests and development.",
        "usage": {"users": {"active_month": state.accounts.len()}},
        "thumbnail": {
            "url": format!("https://{domain}/packs/media/images/preview.png"),
            "blurhash": null,
            "versions": {},
        },
        "icon": [],
        "languages": ["en"],
        "configuration": {
            "urls": {
                "streaming": format!("wss://{domain}"),
                "status": null,
                "about": format!("https://{domain}/about"),
                "privacy_policy": format!("https://{domain}/privacy-policy"),
                "terms_of_service": null,
            },
            "vapid": {"public_key": VAPID_KEY},
            "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
            "statuses": {
                "max_characters": faults.max_characters,
                "max_media_attachments": 4,
                "characters_reserved_per_url": text::URL_CHARS,
            },
            "media_attachments": {
                "supported_mime_types": SUPPORTED_MIME_TYPES,
                "description_limit": super::media::MAX_DESCRIPTION,
                "image_size_limit": faults.image_size_limit,
                "image_matrix_limit": 33_177_600,
                "video_size_limit": faults.video_size_limit,
                "video_frame_rate_limit": 120,
                "video_matrix_limit": 8_294_400,
            },
            "polls": {
                "max_options": 4,
                "max_characters_per_option": 50,
                "min_expiration": 300,
                "max_expiration": 2_629_746,
            },
            "translation": {"enabled": false},
        },
        "registrations": {
            "enabled": false,
            "approval_required": false,
            "message": null,
            "url": null,
        },
        "api_versions": {"mastodon": 2},
        "contact": {"email": format!("admin@{domain}"), "account": null},
        "rules": [],
    }))
}

/// The `Status` entity as its author or `viewer` sees it.
pub fn status_json(sandbox: &Mastodon, state: &State, status: &Status, source: bool) -> Value {
    let domain = &sandbox.domain;
    let account = state.accounts.get(&status.account_id);
    let username = account.map_or("", |a| a.username.as_str());
    let lookup = |user: &str| state.account_by_username(user).cloned();
    let content = text::to_html(&status.text, domain, |user| {
        lookup(user).map(|a| a.username)
    });
    let mut mentions = Vec::new();
    let mut tags = Vec::new();
    for found in text::entities(&status.text) {
        match found.entity {
            Entity::Mention(user, mention_domain) => {
                let local = mention_domain
                    .as_deref()
                    .is_none_or(|d| d.eq_ignore_ascii_case(domain));
                if let Some(mentioned) = local.then(|| lookup(&user)).flatten()
                    && !mentions
                        .iter()
                        .any(|m: &Value| m["id"] == json!(mentioned.id))
                {
                    mentions.push(json!({
                        "id": mentioned.id,
                        "username": mentioned.username,
                        "url": format!("https://{domain}/@{}", mentioned.username),
                        "acct": mentioned.username,
                    }));
                }
            }
            Entity::Hashtag(tag) => {
                let name = tag.to_lowercase();
                if !tags.iter().any(|t: &Value| t["name"] == json!(name)) {
                    tags.push(
                        json!({"name": name, "url": format!("https://{domain}/tags/{name}")}),
                    );
                }
            }
            Entity::Url(_) => {}
        }
    }
    let media: Vec<Value> = status
        .media_ids
        .iter()
        .filter_map(|id| state.media.get(id))
        .map(|m| media_json(sandbox, m))
        .collect();
    let application = status
        .client_id
        .as_deref()
        .and_then(|c| state.app(c))
        .map(|app| json!({"name": app.name, "website": app.website}));
    let mut body = json!({
        "id": status.id,
        "created_at": timestamp(&status.created_at),
        "in_reply_to_id": status.in_reply_to_id,
        "in_reply_to_account_id": status.in_reply_to_account_id,
        "sensitive": status.sensitive,
        "spoiler_text": status.spoiler_text,
        "visibility": status.visibility,
        "language": status.language,
        "uri": format!("https://{domain}/users/{username}/statuses/{}", status.id),
        "url": format!("https://{domain}/@{username}/{}", status.id),
        "replies_count": state.statuses.iter().filter(|s| s.deleted_at.is_none() && s.in_reply_to_id.as_deref() == Some(status.id.as_str())).count(),
        "reblogs_count": 0,
        "favourites_count": 0,
        "edited_at": null,
        "favourited": false,
        "reblogged": false,
        "muted": false,
        "bookmarked": false,
        "pinned": false,
        "content": content,
        "filtered": [],
        "reblog": null,
        "application": application,
        "account": account.map(|a| account_json(sandbox, state, a)),
        "media_attachments": media,
        "mentions": mentions,
        "tags": tags,
        "emojis": [],
        "card": null,
        "poll": null,
    });
    if source {
        body["text"] = json!(status.text);
    }
    body
}

/// Counts a `POST /api/v1/statuses` call as open until dropped, also when
/// the client goes away mid-call and actix drops the handler.
struct OpenCall {
    sandbox: web::Data<Mastodon>,
    account_id: String,
}

impl OpenCall {
    fn new(sandbox: &web::Data<Mastodon>, account_id: &str) -> Self {
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

/// The Redis lock of one account and key (locked mode), released when dropped.
struct KeyLock {
    sandbox: web::Data<Mastodon>,
    key: (String, String),
}

impl Drop for KeyLock {
    fn drop(&mut self) {
        self.sandbox.lock().idempotency_locks.remove(&self.key);
    }
}

/// What a `POST /api/v1/statuses` asked for.
struct NewStatus {
    text: String,
    spoiler_text: String,
    visibility: Option<String>,
    sensitive: Option<bool>,
    language: Option<String>,
    media_ids: Option<Vec<String>>,
    in_reply_to: Option<(String, String)>,
    key: Option<String>,
}

fn injected_error(state: &mut State) -> Option<HttpResponse> {
    let rate = state.faults.error_rate;
    (rate > 0.0 && rand::random::<f64>() < rate).then(|| {
        state.calls.injected_errors += 1;
        error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    })
}

/// `POST /api/v1/statuses`.
pub async fn create_status(
    sandbox: web::Data<Mastodon>,
    request: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let params = match params::read(&request, payload).await {
        Ok(params) => params,
        Err(answer) => return answer,
    };
    let token = match authorize(&sandbox, &request, &["write", "write:statuses"]) {
        Ok(token) => token,
        Err(answer) => return *answer,
    };
    let account = match require_user(&sandbox, &token) {
        Ok(account) => account,
        Err(answer) => return *answer,
    };
    let _open = OpenCall::new(&sandbox, &account.id);
    let new = match read_new_status(&sandbox, &request, &params) {
        Ok(new) => new,
        Err(answer) => return *answer,
    };
    let latency = sandbox.lock().faults.latency_ms;
    if latency > 0 {
        actix_web::rt::time::sleep(Duration::from_millis(latency)).await;
    }
    // Puma finishes a request whose client went away: the work runs on its
    // own so a dropped connection cannot cut it between the status and its key.
    let worker = actix_web::rt::spawn(post_status(
        sandbox.clone(),
        account.clone(),
        token.client_id.clone(),
        new,
    ));
    let Ok((outcome, family)) = worker.await else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    let mut response = match outcome {
        Outcome::Status(id, stall) => {
            if stall > 0 {
                actix_web::rt::time::sleep(Duration::from_millis(stall)).await;
            }
            let state = sandbox.lock();
            match state.statuses.iter().find(|s| s.id == id) {
                Some(status) => {
                    let body = status_json(&sandbox, &state, status, false);
                    let mut response = HttpResponse::Ok();
                    response.insert_header(NO_CACHE);
                    if let Some(family) = &family {
                        family.to_builder(&mut response);
                    }
                    return response.json(body);
                }
                None => not_found(),
            }
        }
        Outcome::Refused(response) => response,
    };
    if let Some(family) = family {
        family.apply(response.headers_mut());
    }
    response
}

fn read_new_status(
    sandbox: &Mastodon,
    request: &HttpRequest,
    params: &Params,
) -> Result<NewStatus, Refusal> {
    // `set_thread` (a before_action): the post replied to must exist.
    let in_reply_to = match params.present("in_reply_to_id") {
        None => None,
        Some(id) => {
            let state = sandbox.lock();
            match state.status(id) {
                Some(parent) => Some((parent.id.clone(), parent.account_id.clone())),
                None => {
                    return Err(Box::new(error(
                        StatusCode::NOT_FOUND,
                        "The post you are trying to reply to does not appear to exist.",
                    )));
                }
            }
        }
    };
    let language = params.present("language").map(|l| l.trim().to_owned());
    Ok(NewStatus {
        text: params.get("status").unwrap_or_default().to_owned(),
        spoiler_text: params.get("spoiler_text").unwrap_or_default().to_owned(),
        visibility: params.present("visibility").map(str::to_owned),
        sensitive: params.flag("sensitive"),
        language,
        media_ids: params.all("media_ids").map(<[String]>::to_vec),
        in_reply_to,
        key: request
            .headers()
            .get("Idempotency-Key")
            .and_then(|v| v.to_str().ok())
            .filter(|k| !k.trim().is_empty())
            .map(str::to_owned),
    })
}

enum Outcome {
    /// The status to answer with, and how long to hold the answer.
    Status(String, u64),
    Refused(HttpResponse),
}

/// `PostStatusService#call` with `with_rate_limit: true`.
async fn post_status(
    sandbox: web::Data<Mastodon>,
    account: Account,
    client_id: String,
    new: NewStatus,
) -> (Outcome, Option<Headers>) {
    let refused = |r: HttpResponse| (Outcome::Refused(r), None);
    let (honor, mode) = {
        let mut state = sandbox.lock();
        if let Some(fault) = injected_error(&mut state) {
            return refused(fault);
        }
        (state.faults.honor_idempotency, state.faults.idempotency)
    };
    let key = new.key.clone().filter(|_| honor);
    let mut _lock = None;
    if let Some(key) = &key {
        let mut state = sandbox.lock();
        if mode != IdempotencyMode::Unlocked {
            let lock_key = (account.id.clone(), key.clone());
            if !state.idempotency_locks.insert(lock_key.clone()) {
                state.calls.idempotency_conflicts += 1;
                return refused(error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "There was a temporary problem serving your request, please try again",
                ));
            }
            _lock = Some(KeyLock {
                sandbox: sandbox.clone(),
                key: lock_key,
            });
        }
        if let Some(existing) = state.idempotent_status(&account.id, key) {
            state.calls.idempotent_replays += 1;
            if mode == IdempotencyMode::LockedReplay500 {
                return refused(error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal Server Error",
                ));
            }
            // `@account.statuses.find(id)`: a deleted one is gone.
            return match state.status(&existing) {
                Some(status) if status.account_id == account.id => {
                    (Outcome::Status(existing, 0), None)
                }
                _ => refused(not_found()),
            };
        }
    }
    let (status_id, family, delay, stall) = {
        let mut state = sandbox.lock();
        let created = create(&mut state, &account, &client_id, &new, key.as_deref());
        match created {
            Ok((id, family)) => (
                id,
                family,
                state.faults.create_delay_ms,
                state.faults.stall_after_create_ms,
            ),
            Err((answer, family)) => return (Outcome::Refused(*answer), family),
        }
    };
    if let Some(key) = &key {
        if delay > 0 {
            actix_web::rt::time::sleep(Duration::from_millis(delay)).await;
        }
        sandbox
            .lock()
            .store_idempotency(&account.id, key, &status_id);
    }
    (Outcome::Status(status_id, stall), Some(family))
}

type Refused = (Box<HttpResponse>, Option<Headers>);

fn unprocessable(message: &str) -> Refused {
    (
        Box::new(error(StatusCode::UNPROCESSABLE_ENTITY, message)),
        None,
    )
}

/// Under the sandbox lock: media rules, attributes, validations, the
/// `statuses` family limit (`after_create`), then the new status.
fn create(
    state: &mut State,
    account: &Account,
    client_id: &str,
    new: &NewStatus,
    key: Option<&str>,
) -> Result<(String, Headers), Refused> {
    // validate_media!
    let mut media_ids: Vec<String> = Vec::new();
    if let Some(ids) = new.media_ids.as_ref().filter(|ids| !ids.is_empty()) {
        if ids.len() > 4 {
            return Err(unprocessable("Cannot attach more than 4 files"));
        }
        let mut missing = Vec::new();
        for id in ids {
            let usable = state
                .media
                .get(id)
                .is_some_and(|m| m.account_id == account.id && m.status_id.is_none());
            if usable {
                if !media_ids.contains(id) {
                    media_ids.push(id.clone());
                }
            } else {
                missing.push(id.clone());
            }
        }
        if !missing.is_empty() {
            return Err(unprocessable(&format!(
                "Media {} not found or already attached to another post",
                missing.join(", ")
            )));
        }
        let kinds: Vec<MediaType> = media_ids
            .iter()
            .filter_map(|id| state.media.get(id).map(|m| m.kind))
            .collect();
        if kinds.len() > 1 && kinds.iter().any(|k| k.larger()) {
            return Err(unprocessable(
                "Cannot attach a video to a post that already contains images",
            ));
        }
        if media_ids
            .iter()
            .any(|id| state.media.get(id).is_some_and(|m| !m.is_ready()))
        {
            return Err(unprocessable(
                "Cannot attach files that have not finished processing. Try again in a moment!",
            ));
        }
    }
    // preprocess_attributes! (fill_blank_text! first)
    let mut body = new.text.clone();
    if body.trim().is_empty() && !new.spoiler_text.trim().is_empty() {
        let kinds: Vec<MediaType> = media_ids
            .iter()
            .filter_map(|id| state.media.get(id).map(|m| m.kind))
            .collect();
        body = if kinds
            .iter()
            .any(|k| matches!(k, MediaType::Video | MediaType::Gifv))
        {
            "📹"
        } else if kinds.contains(&MediaType::Audio) {
            "🎵"
        } else if kinds.contains(&MediaType::Image) {
            "🖼"
        } else {
            "."
        }
        .to_owned();
    }
    let visibility = new
        .visibility
        .clone()
        .unwrap_or_else(|| "public".to_owned());
    let mut problems = Vec::new();
    if !matches!(
        visibility.as_str(),
        "public" | "unlisted" | "private" | "direct"
    ) {
        problems.push("Visibility is not included in the list".to_owned());
    }
    if body.trim().is_empty() && media_ids.is_empty() {
        problems.push("Text can't be blank".to_owned());
    }
    let max = state.faults.max_characters;
    if text::status_length(&body, &new.spoiler_text) > max {
        problems.push(format!("Text character limit of {max} exceeded"));
    }
    if !problems.is_empty() {
        return Err(unprocessable(&format!(
            "Validation failed: {}",
            problems.join(", ")
        )));
    }
    // RateLimiter family `statuses`, recorded after create (rolled back on 429).
    let period: u64 = 3 * 3600;
    let now = Utc::now();
    let window = u64::try_from(now.timestamp()).unwrap_or_default() / period;
    let limit = state.faults.statuses_per_3h;
    let count = state
        .status_family
        .entry((account.id.clone(), window))
        .or_insert(0);
    if *count >= limit {
        let headers = Headers::new(limit, i64::from(limit) - i64::from(*count), period, now);
        state.calls.rate_limited += 1;
        return Err((
            Box::new(error(StatusCode::TOO_MANY_REQUESTS, "Too many requests")),
            Some(headers),
        ));
    }
    *count += 1;
    let family = Headers::new(limit, i64::from(limit) - i64::from(*count), period, now);
    let language = new
        .language
        .as_deref()
        .filter(|l| valid_language(l))
        .unwrap_or("en")
        .to_owned();
    let id = state.next_id();
    for media_id in &media_ids {
        if let Some(m) = state.media.get_mut(media_id) {
            m.status_id = Some(id.clone());
        }
    }
    let status = Status {
        id: id.clone(),
        account_id: account.id.clone(),
        client_id: Some(client_id.to_owned()),
        text: body,
        spoiler_text: new.spoiler_text.clone(),
        visibility,
        sensitive: new.sensitive.unwrap_or(false) || !new.spoiler_text.trim().is_empty(),
        language,
        in_reply_to_id: new.in_reply_to.as_ref().map(|(id, _)| id.clone()),
        in_reply_to_account_id: new.in_reply_to.as_ref().map(|(_, a)| a.clone()),
        media_ids,
        idempotency_key: key.map(str::to_owned),
        created_at: now,
        deleted_at: None,
    };
    state.statuses.push(status);
    state.calls.statuses_created += 1;
    Ok((id, family))
}

/// An ISO 639 code Mastodon knows (two or three letters, optional region).
fn valid_language(language: &str) -> bool {
    let (base, region) = language.split_once('-').unwrap_or((language, ""));
    (2..=3).contains(&base.len())
        && base.bytes().all(|b| b.is_ascii_lowercase())
        && region.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Who may see `status`: its author always; others public and unlisted ones.
fn visible(status: &Status, viewer: Option<&str>) -> bool {
    status.deleted_at.is_none()
        && (viewer == Some(status.account_id.as_str())
            || matches!(status.visibility.as_str(), "public" | "unlisted"))
}

/// `GET /api/v1/statuses/:id`.
pub async fn show_status(
    sandbox: web::Data<Mastodon>,
    request: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let token = match authorize_if_got_token(&sandbox, &request, &["read", "read:statuses"]) {
        Ok(token) => token,
        Err(answer) => return *answer,
    };
    let viewer = token.and_then(|t| t.account_id);
    let mut state = sandbox.lock();
    state.calls.status_reads += 1;
    match state
        .statuses
        .iter()
        .find(|s| s.id == *id && visible(s, viewer.as_deref()))
    {
        Some(status) => HttpResponse::Ok()
            .insert_header(NO_CACHE)
            .json(status_json(&sandbox, &state, status, false)),
        None => not_found(),
    }
}

/// `DELETE /api/v1/statuses/:id`: the deleted status, with its source `text`.
pub async fn delete_status(
    sandbox: web::Data<Mastodon>,
    request: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let token = match authorize(&sandbox, &request, &["write", "write:statuses"]) {
        Ok(token) => token,
        Err(answer) => return *answer,
    };
    let account = match require_user(&sandbox, &token) {
        Ok(account) => account,
        Err(answer) => return *answer,
    };
    let mut state = sandbox.lock();
    let Some(index) = state
        .statuses
        .iter()
        .position(|s| s.id == *id && s.account_id == account.id && s.deleted_at.is_none())
    else {
        return not_found();
    };
    let body = state
        .statuses
        .get(index)
        .map(|s| status_json(&sandbox, &state, s, true));
    if let Some(status) = state.statuses.get_mut(index) {
        status.deleted_at = Some(Utc::now());
    }
    state.calls.deletes += 1;
    HttpResponse::Ok().insert_header(NO_CACHE).json(body)
}

/// `GET /api/v1/accounts/:id/statuses`: newest first, `limit` (default 20,
/// at most 40), `max_id` / `since_id` / `min_id`, and a `Link` header.
pub async fn account_statuses(
    sandbox: web::Data<Mastodon>,
    request: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let token = match authorize_if_got_token(&sandbox, &request, &["read", "read:statuses"]) {
        Ok(token) => token,
        Err(answer) => return *answer,
    };
    let viewer = token.and_then(|t| t.account_id);
    let params = Params::from_query(&request);
    let limit = params.get("limit").map_or(20, |l| {
        l.trim().parse::<i64>().unwrap_or(0).unsigned_abs().min(40)
    });
    let limit = usize::try_from(limit).unwrap_or(40);
    let number = |key: &str| {
        params
            .present(key)
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let (max_id, since_id, min_id) = (number("max_id"), number("since_id"), number("min_id"));
    let only_media = params.flag("only_media").unwrap_or(false);
    let exclude_replies = params.flag("exclude_replies").unwrap_or(false);
    let pinned = params.flag("pinned").unwrap_or(false);
    let tagged = params.present("tagged").map(str::to_lowercase);
    let mut state = sandbox.lock();
    state.calls.lookups += 1;
    if !state.accounts.contains_key(id.as_str()) {
        return not_found();
    }
    let numeric = |s: &Status| s.id.parse::<u64>().unwrap_or_default();
    let mut page: Vec<&Status> = state
        .statuses
        .iter()
        .filter(|s| s.account_id == *id && visible(s, viewer.as_deref()))
        .filter(|_| !pinned)
        .filter(|s| !only_media || !s.media_ids.is_empty())
        .filter(|s| {
            !exclude_replies
                || s.in_reply_to_account_id
                    .as_ref()
                    .is_none_or(|a| *a == s.account_id)
        })
        .filter(|s| {
            tagged.as_ref().is_none_or(|tag| {
                text::entities(&s.text)
                    .iter()
                    .any(|f| matches!(&f.entity, Entity::Hashtag(t) if t.to_lowercase() == *tag))
            })
        })
        .filter(|s| max_id.is_none_or(|m| numeric(s) < m))
        .filter(|s| since_id.is_none_or(|m| numeric(s) > m))
        .filter(|s| min_id.is_none_or(|m| numeric(s) > m))
        .collect();
    if min_id.is_some() {
        // Immediately newer than min_id: the oldest `limit` of those, newest first.
        page.sort_by_key(|s| numeric(s));
        page.truncate(limit);
        page.reverse();
    } else {
        page.sort_by_key(|s| std::cmp::Reverse(numeric(s)));
        page.truncate(limit);
    }
    let body: Vec<Value> = page
        .iter()
        .map(|s| status_json(&sandbox, &state, s, false))
        .collect();
    let mut response = HttpResponse::Ok();
    response.insert_header(NO_CACHE);
    if let (Some(first), Some(last)) = (page.first(), page.last()) {
        let base = sandbox.local_url(&format!("/api/v1/accounts/{id}/statuses"));
        let with = |key: &str, value: &str| {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            if let Some(limit) = params.get("limit") {
                query.append_pair("limit", limit);
            }
            for flag in [
                "only_media",
                "exclude_replies",
                "exclude_reblogs",
                "pinned",
                "tagged",
            ] {
                if let Some(v) = params.get(flag) {
                    query.append_pair(flag, v);
                }
            }
            query.append_pair(key, value);
            format!("{base}?{}", query.finish())
        };
        let mut links = Vec::new();
        if page.len() == limit {
            links.push(format!("<{}>; rel=\"next\"", with("max_id", &last.id)));
        }
        links.push(format!("<{}>; rel=\"prev\"", with("min_id", &first.id)));
        response.insert_header((header::LINK, links.join(", ")));
    }
    response.json(body)
}
