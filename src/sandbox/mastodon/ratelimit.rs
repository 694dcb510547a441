//! Mastodon's rate limits: `config/initializers/rack_attack.rb` (fixed
//! windows aligned on the period, counted before the request is served,
//! 429 at the first throttle over its limit) and the headers
//! `RateLimitHeaders` puts on every `/api` answer: the throttle closest to
//! its limit, `X-RateLimit-Reset` as ISO 8601 with microseconds.

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

use actix_web::body::BoxBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use chrono::{DateTime, TimeDelta, Utc};
use regex::Regex;

use super::Mastodon;
use super::state::{State, token_key};

/// What the rate-limit headers of one answer say.
#[derive(Debug, Clone)]
pub struct Headers {
    pub limit: u32,
    pub remaining: i64,
    pub reset: String,
}

impl Headers {
    /// `(now + (period - now.to_i % period)).iso8601(6)`: the end of the
    /// window, carrying the request's sub-second part, as Ruby computes it.
    pub fn new(limit: u32, remaining: i64, period: u64, now: DateTime<Utc>) -> Self {
        let seconds = u64::try_from(now.timestamp()).unwrap_or_default();
        let until = period - seconds % period;
        let reset = now + TimeDelta::seconds(i64::try_from(until).unwrap_or_default());
        Self {
            limit,
            remaining,
            reset: reset.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        }
    }

    pub fn apply(&self, headers: &mut HeaderMap) {
        let pairs = [
            ("x-ratelimit-limit", self.limit.to_string()),
            ("x-ratelimit-remaining", self.remaining.to_string()),
            ("x-ratelimit-reset", self.reset.clone()),
        ];
        for (name, value) in pairs {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(header::HeaderName::from_static(name), value);
            }
        }
    }

    pub fn to_builder(&self, builder: &mut actix_web::HttpResponseBuilder) {
        builder
            .insert_header(("X-RateLimit-Limit", self.limit.to_string()))
            .insert_header(("X-RateLimit-Remaining", self.remaining.to_string()))
            .insert_header(("X-RateLimit-Reset", self.reset.clone()));
    }
}

enum Decision {
    /// Served; these headers go on the answer (None off `/api`).
    Allowed(Option<Headers>),
    Throttled(Headers),
}

static MEDIA_PATH: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)\A/api/v\d+/media\z").ok());
static DELETE_STATUS: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\A/api/v1/statuses/\d+\z").ok());
static UNREBLOG: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\A/api/v1/statuses/\d+/unreblog\z").ok());

fn matches(re: &LazyLock<Option<Regex>>, path: &str) -> bool {
    re.as_ref().is_some_and(|re| re.is_match(path))
}

fn bearer(request: &ServiceRequest) -> Option<String> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn paging(request: &ServiceRequest) -> bool {
    url::form_urlencoded::parse(request.query_string().as_bytes()).any(|(k, v)| {
        matches!(k.as_ref(), "page" | "min_id" | "max_id" | "since_id") && !v.is_empty()
    })
}

/// One matched throttle: name, limit, period, discriminator.
type Rule = (&'static str, u32, u64, String);

fn rules(state: &State, request: &ServiceRequest) -> Vec<Rule> {
    let path = request.path();
    let faults = &state.faults;
    // `Doorkeeper::OAuth::Token.authenticate`: the token as stored, revoked or not.
    let token = bearer(request).and_then(|t| state.tokens.get(&token_key(&t)).cloned());
    let user = token.as_ref().and_then(|t| t.account_id.clone());
    let ip = request
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let method = request.method();
    let mut rules = Vec::with_capacity(4);
    let api_period = faults.api_period_secs.max(1);
    if let Some(user) = &user {
        rules.push((
            "throttle_authenticated_api",
            faults.account_rate_limit_per_5min,
            api_period,
            user.clone(),
        ));
    }
    if let Some(token) = &token {
        rules.push((
            "throttle_per_token_api",
            faults.rate_limit_per_5min,
            api_period,
            token.id.to_string(),
        ));
    }
    if user.is_none() {
        rules.push((
            "throttle_unauthenticated_api",
            faults.unauthenticated_rate_limit_per_5min,
            api_period,
            ip.clone(),
        ));
    }
    if let Some(user) = &user {
        if method == Method::POST && matches(&MEDIA_PATH, path) {
            rules.push((
                "throttle_api_media",
                faults.media_rate_limit_per_30min,
                1800,
                user.clone(),
            ));
        }
        if paging(request) {
            rules.push((
                "throttle_authenticated_paging",
                faults.paging_rate_limit_per_15min,
                900,
                user.clone(),
            ));
        }
    } else if paging(request) {
        rules.push((
            "throttle_unauthenticated_paging",
            faults.paging_rate_limit_per_15min,
            900,
            ip,
        ));
    }
    if let Some(user) = user
        && ((method == Method::DELETE && matches(&DELETE_STATUS, path))
            || (method == Method::POST && matches(&UNREBLOG, path)))
    {
        rules.push((
            "throttle_api_delete",
            faults.delete_rate_limit_per_30min,
            1800,
            user,
        ));
    }
    rules
}

fn check(sandbox: &Mastodon, request: &ServiceRequest) -> Decision {
    if !request.path().starts_with("/api") {
        return Decision::Allowed(None);
    }
    let now = Utc::now();
    let seconds = u64::try_from(now.timestamp()).unwrap_or_default();
    let mut state = sandbox.lock();
    let mut closest: Option<(i64, Headers)> = None;
    for (name, limit, period, discriminator) in rules(&state, request) {
        let count = state
            .throttles
            .entry((name, discriminator, seconds / period))
            .or_insert(0);
        *count += 1;
        let count = *count;
        if count > limit {
            state.calls.rate_limited += 1;
            return Decision::Throttled(Headers::new(limit, 0, period, now));
        }
        let remaining = i64::from(limit) - i64::from(count);
        if closest.as_ref().is_none_or(|(r, _)| remaining < *r) {
            closest = Some((remaining, Headers::new(limit, remaining, period, now)));
        }
    }
    Decision::Allowed(closest.map(|(_, h)| h))
}

/// The answer of a throttle (`Rack::Attack.throttled_responder`).
pub fn too_many(headers: &Headers) -> HttpResponse {
    let mut response = HttpResponse::build(StatusCode::TOO_MANY_REQUESTS);
    headers.to_builder(&mut response);
    response.json(serde_json::json!({"error": "Too many requests"}))
}

type Answer = Pin<Box<dyn Future<Output = Result<ServiceResponse<BoxBody>, actix_web::Error>>>>;

/// Middleware: counts the request against every matching throttle, answers
/// 429 at the first one over its limit, else serves it and puts the closest
/// throttle's figures on the answer — unless the handler set lower ones of
/// its own (`override_rate_limit_headers`, for `POST /api/v1/statuses`).
pub fn throttle<S, B>(sandbox: web::Data<Mastodon>, request: ServiceRequest, service: &S) -> Answer
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: actix_web::body::MessageBody + 'static,
{
    match check(&sandbox, &request) {
        Decision::Throttled(headers) => {
            let response = request.into_response(too_many(&headers));
            Box::pin(async move { Ok(response) })
        }
        Decision::Allowed(headers) => {
            let served = service.call(request);
            Box::pin(async move {
                let mut response = served.await?.map_into_boxed_body();
                if let Some(headers) = headers {
                    let own = response
                        .headers()
                        .get("x-ratelimit-remaining")
                        .and_then(|v| v.to_str().ok()?.parse::<i64>().ok());
                    // The handler's (family) figures stay when they are the
                    // tighter ones.
                    if own.is_none_or(|own| own > headers.remaining) {
                        headers.apply(response.headers_mut());
                    }
                }
                Ok(response)
            })
        }
    }
}
