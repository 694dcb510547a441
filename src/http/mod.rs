//! The HTTP surface: handlers parse requests into domain values and call the
//! layers below; every route is listed once in [`endpoints`], which both builds
//! the app and is checked against the OpenAPI document.

pub mod account;
pub mod auth;
pub mod client_ip;
pub mod connections;
mod dev_outbox;
pub mod drafts;
pub mod error;
pub mod failures;
pub mod health;
pub mod jobs;
mod json_object;
mod landing;
pub mod media;
pub mod openapi;
pub mod operators;
pub mod post_edits;
pub mod posts;
pub mod rate_limit;
pub mod recovery;
mod request_span;
pub mod scopes;
mod security_headers;
pub mod session;
pub mod tokens;
pub mod web_app;

use actix_web::http::Method;
use actix_web::{Route, web};

pub use request_span::{RequestSpan, request_id_header};
pub use security_headers::security_headers;

/// One route: method, path (actix and OpenAPI share the `{param}` syntax) and handler.
pub struct Endpoint {
    pub method: Method,
    pub path: &'static str,
    handler: fn() -> Route,
}

impl Endpoint {
    fn new(method: Method, path: &'static str, handler: fn() -> Route) -> Self {
        Self {
            method,
            path,
            handler,
        }
    }
}

/// Every route the server answers. Adding a route anywhere else would escape
/// the OpenAPI check, so don't.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::POST, "/api/v1/auth/signup", || {
            web::route().to(auth::signup)
        }),
        Endpoint::new(Method::POST, "/api/v1/auth/login", || {
            web::route().to(auth::login)
        }),
        Endpoint::new(Method::POST, "/api/v1/auth/logout", || {
            web::route().to(auth::logout)
        }),
        Endpoint::new(Method::GET, "/api/v1/me", || web::route().to(auth::me)),
        Endpoint::new(Method::POST, "/api/v1/auth/verify-email", || {
            web::route().to(recovery::verify_email)
        }),
        Endpoint::new(Method::POST, "/api/v1/auth/resend-verification", || {
            web::route().to(recovery::resend_verification)
        }),
        Endpoint::new(Method::POST, "/api/v1/auth/forgot-password", || {
            web::route().to(recovery::forgot_password)
        }),
        Endpoint::new(Method::POST, "/api/v1/auth/reset-password", || {
            web::route().to(recovery::reset_password)
        }),
        Endpoint::new(Method::GET, "/dev/outbox", || {
            web::route().to(dev_outbox::page)
        }),
        Endpoint::new(Method::POST, "/api/v1/auth/password", || {
            web::route().to(account::change_password)
        }),
        Endpoint::new(Method::POST, "/api/v1/auth/logout-everywhere", || {
            web::route().to(account::logout_everywhere)
        }),
        Endpoint::new(Method::GET, "/api/v1/sessions", || {
            web::route().to(account::list)
        }),
        Endpoint::new(Method::DELETE, "/api/v1/sessions/{id}", || {
            web::route().to(account::revoke)
        }),
        Endpoint::new(Method::GET, "/api/v1/platforms", || {
            web::route().to(connections::platforms)
        }),
        Endpoint::new(
            Method::POST,
            "/api/v1/connections/{platform}/authorize",
            || web::route().to(connections::authorize),
        ),
        Endpoint::new(Method::GET, "/api/v1/oauth/{platform}/callback", || {
            web::route().to(connections::callback)
        }),
        Endpoint::new(
            Method::GET,
            "/oauth/{platform}/client-metadata.json",
            || web::route().to(connections::client_metadata),
        ),
        Endpoint::new(
            Method::POST,
            "/api/v1/connections/{platform}/sign-in",
            || web::route().to(connections::sign_in),
        ),
        Endpoint::new(Method::GET, "/api/v1/connections", || {
            web::route().to(connections::list)
        }),
        Endpoint::new(Method::DELETE, "/api/v1/connections/{id}", || {
            web::route().to(connections::disconnect)
        }),
        Endpoint::new(Method::PUT, "/api/v1/connections/{id}/destinations", || {
            web::route().to(connections::pick_destinations)
        }),
        Endpoint::new(Method::POST, "/api/v1/tokens", || {
            web::route().to(tokens::create)
        }),
        Endpoint::new(Method::GET, "/api/v1/tokens", || {
            web::route().to(tokens::list)
        }),
        Endpoint::new(Method::DELETE, "/api/v1/tokens/{id}", || {
            web::route().to(tokens::revoke)
        }),
        Endpoint::new(Method::POST, "/api/v1/media", || {
            web::route().to(media::upload)
        }),
        Endpoint::new(Method::GET, "/api/v1/media/{id}", || {
            web::route().to(media::get)
        }),
        Endpoint::new(Method::PATCH, "/api/v1/media/{id}", || {
            web::route().to(media::update)
        }),
        Endpoint::new(Method::DELETE, "/api/v1/media/{id}", || {
            web::route().to(media::delete)
        }),
        Endpoint::new(Method::GET, "/api/v1/media/{id}/content", || {
            web::route().to(media::content)
        }),
        Endpoint::new(Method::GET, "/api/v1/media/{id}/thumbnail", || {
            web::route().to(media::thumbnail)
        }),
        Endpoint::new(Method::POST, "/api/v1/posts", || {
            web::route().to(posts::publish)
        }),
        Endpoint::new(Method::GET, "/api/v1/posts", || {
            web::route().to(posts::history)
        }),
        Endpoint::new(Method::PATCH, "/api/v1/posts/{id}", || {
            web::route().to(post_edits::edit)
        }),
        Endpoint::new(Method::POST, "/api/v1/posts/{id}/duplicate", || {
            web::route().to(post_edits::duplicate)
        }),
        Endpoint::new(Method::POST, "/api/v1/drafts", || {
            web::route().to(drafts::create)
        }),
        Endpoint::new(Method::GET, "/api/v1/drafts", || {
            web::route().to(drafts::list)
        }),
        Endpoint::new(Method::GET, "/api/v1/drafts/{id}", || {
            web::route().to(drafts::get)
        }),
        Endpoint::new(Method::PATCH, "/api/v1/drafts/{id}", || {
            web::route().to(drafts::update)
        }),
        Endpoint::new(Method::DELETE, "/api/v1/drafts/{id}", || {
            web::route().to(drafts::delete)
        }),
        Endpoint::new(Method::POST, "/api/v1/drafts/{id}/publish", || {
            web::route().to(drafts::publish)
        }),
        Endpoint::new(Method::GET, "/api/v1/jobs/{id}", || {
            web::route().to(jobs::get)
        }),
        Endpoint::new(Method::GET, "/api/v1/jobs/{id}/events", || {
            web::route().to(jobs::events)
        }),
        Endpoint::new(Method::POST, "/api/v1/jobs/{id}/retry", || {
            web::route().to(jobs::retry)
        }),
        Endpoint::new(Method::POST, "/api/v1/jobs/{id}/cancel", || {
            web::route().to(jobs::cancel)
        }),
        Endpoint::new(Method::GET, "/api/openapi.json", || {
            web::route().to(openapi::document)
        }),
        Endpoint::new(Method::GET, "/health/live", || {
            web::route().to(health::live)
        }),
        Endpoint::new(Method::GET, "/health/ready", || {
            web::route().to(health::ready)
        }),
        Endpoint::new(Method::GET, "/health/actors", || {
            web::route().to(operators::actors)
        }),
        Endpoint::new(Method::GET, "/metrics", || {
            web::route().to(operators::metrics)
        }),
    ]
}

/// Registers every endpoint, grouping methods by path so a wrong method gets
/// a JSON 405 instead of actix's empty one.
pub fn configure(cfg: &mut web::ServiceConfig) {
    register(cfg, endpoints());
}

/// Only what operators watch (`/health/*`, `/metrics`): a worker process's surface.
pub fn configure_operators(cfg: &mut web::ServiceConfig) {
    let operators = endpoints()
        .into_iter()
        .filter(|e| e.path.starts_with("/health/") || e.path == "/metrics")
        .collect();
    register(cfg, operators);
}

fn register(cfg: &mut web::ServiceConfig, all: Vec<Endpoint>) {
    let mut paths: Vec<&'static str> = Vec::new();
    for endpoint in &all {
        if !paths.contains(&endpoint.path) {
            paths.push(endpoint.path);
        }
    }
    for path in paths {
        let allowed: Vec<&str> = all
            .iter()
            .filter(|e| e.path == path)
            .map(|e| e.method.as_str())
            .collect();
        let allow = allowed.join(", ");
        let mut resource = web::resource(path).default_service(web::to(move || {
            let allow = allow.clone();
            async move { error::method_not_allowed(&allow) }
        }));
        for endpoint in all.iter().filter(|e| e.path == path) {
            resource = resource.route((endpoint.handler)().method(endpoint.method.clone()));
        }
        cfg.service(resource);
    }
}
