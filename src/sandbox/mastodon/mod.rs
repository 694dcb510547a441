//! The Mastodon sandbox: a real HTTP server answering the part of the
//! Mastodon 4.3+ API a publisher uses (apps, OAuth 2 with PKCE, accounts,
//! instance, statuses, media), with Mastodon's own shapes, status codes,
//! error bodies and rate limits, plus `/_sandbox/` controls. State in memory.
//!
//! Each sandbox is one instance with its own domain, so two of them on two
//! ports are two instances. Written from docs.joinmastodon.org and the
//! mastodon/mastodon source; where Mastodon's behaviour depends on its release
//! (the idempotency lock of 2026, PKCE before 4.3) a fault selects which.
//!
//! Like the Manch sandbox it must never be what limits a benchmark: handlers
//! take one short lock and do no I/O while holding it.

mod api;
mod controls;
mod media;
mod oauth;
mod params;
mod persist;
mod ratelimit;
mod state;
mod text;

use std::net::{SocketAddr, TcpListener};
use std::sync::{Mutex, MutexGuard};

use actix_web::dev::{Server, ServerHandle};
use actix_web::http::{StatusCode, header};
use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::json;

pub use state::{Calls, Faults, IdempotencyMode, State};
pub use text::{countable_text, status_length};

/// How a sandbox instance starts.
#[derive(Debug, Clone, Default)]
pub struct MastodonConfig {
    /// The instance's domain, in account handles and entity URLs
    /// (`https://{domain}/@user`). None: `mastodon-{port}.sandbox`, so two
    /// sandboxes in one process are two instances.
    pub domain: Option<String>,
    /// The faults in force at start and after `POST /_sandbox/reset`
    /// (`max_characters`, `pkce`, rate limits, processing time, …).
    pub faults: Faults,
    /// Where its state is kept across restarts (dev); `None`: memory only.
    pub state_file: Option<std::path::PathBuf>,
}

/// Shared by every worker of one sandbox.
pub struct Mastodon {
    pub domain: String,
    /// Where the sandbox listens: OAuth endpoints, pagination links and media
    /// files are served here (entity URLs use `domain`).
    pub base_url: url::Url,
    initial: Faults,
    state: Mutex<State>,
    state_file: Option<std::path::PathBuf>,
}

impl Mastodon {
    /// A poisoned lock only means a handler panicked mid-update; the sandbox
    /// state is still usable for a test double.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `base_url` joined with an absolute path.
    pub(crate) fn local_url(&self, path: &str) -> String {
        format!("{}{}", self.base_url.as_str().trim_end_matches('/'), path)
    }
}

/// `{"error": "…"}` with `status`, as every Mastodon API error is.
pub(crate) fn error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": message }))
}

/// `Api::BaseController` when Rails' `RecordNotFound` escapes.
pub(crate) fn not_found() -> HttpResponse {
    error(StatusCode::NOT_FOUND, "Record not found")
}

/// An unknown route, as Rails answers it.
async fn no_route() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/html; charset=utf-8")
        .body("<!doctype html><title>The page you are looking for isn't here.</title><h1>404</h1><p>The page you are looking for isn't here.</p>")
}

fn json_error(
    error: actix_web::error::JsonPayloadError,
    _: &actix_web::HttpRequest,
) -> actix_web::Error {
    let response = HttpResponse::BadRequest().json(
        json!({"error": format!("Error occurred while parsing request parameters: {error}")}),
    );
    actix_web::error::InternalError::from_response(error, response).into()
}

/// A running Mastodon sandbox: its address, its state (tests may read it
/// directly) and a stop handle.
pub struct MastodonSandbox {
    pub addr: SocketAddr,
    pub base_url: url::Url,
    pub domain: String,
    pub sandbox: web::Data<Mastodon>,
    server: Option<Server>,
    handle: ServerHandle,
}

impl MastodonSandbox {
    /// Binds `bind` (port 0 for a free one) and prepares `workers` workers.
    pub fn bind(bind: SocketAddr, config: MastodonConfig, workers: usize) -> std::io::Result<Self> {
        let listener = TcpListener::bind(bind)?;
        let addr = listener.local_addr()?;
        let base_url =
            url::Url::parse(&format!("http://{addr}/")).map_err(std::io::Error::other)?;
        let domain = config
            .domain
            .clone()
            .unwrap_or_else(|| format!("mastodon-{}.sandbox", addr.port()));
        let sandbox = web::Data::new(Mastodon {
            domain: domain.clone(),
            base_url: base_url.clone(),
            initial: config.faults.clone(),
            state: Mutex::new(
                match config
                    .state_file
                    .as_deref()
                    .and_then(crate::sandbox::kept::load)
                {
                    Some(saved) => State::restored(saved, config.faults),
                    None => State::new(config.faults),
                },
            ),
            state_file: config.state_file,
        });
        let shared = sandbox.clone();
        let server = HttpServer::new(move || {
            let limiter = shared.clone();
            App::new()
                .app_data(shared.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(64 * 1024)
                        .error_handler(json_error),
                )
                .wrap_fn(move |request, service| {
                    ratelimit::throttle(limiter.clone(), request, service)
                })
                .route(
                    "/.well-known/oauth-authorization-server",
                    web::get().to(oauth::metadata),
                )
                .route("/api/v1/apps", web::post().to(oauth::register))
                .route("/oauth/authorize", web::get().to(oauth::consent))
                .route("/oauth/authorize", web::post().to(oauth::decide))
                .route("/oauth/authorize/native", web::get().to(oauth::native))
                .route("/oauth/token", web::post().to(oauth::token))
                .route("/oauth/revoke", web::post().to(oauth::revoke))
                .route(
                    "/api/v1/accounts/verify_credentials",
                    web::get().to(api::verify_credentials),
                )
                .route(
                    "/api/v1/accounts/{id}/statuses",
                    web::get().to(api::account_statuses),
                )
                .route("/api/v2/instance", web::get().to(api::instance))
                .route("/api/v1/statuses", web::post().to(api::create_status))
                .route("/api/v1/statuses/{id}", web::get().to(api::show_status))
                .route(
                    "/api/v1/statuses/{id}",
                    web::delete().to(api::delete_status),
                )
                .route("/api/v2/media", web::post().to(media::upload_v2))
                .route("/api/v1/media", web::post().to(media::upload_v1))
                .route("/api/v1/media/{id}", web::get().to(media::show))
                .route("/api/v1/media/{id}", web::put().to(media::update))
                .route(
                    "/system/media_attachments/files/{tail:.*}",
                    web::get().to(media::file),
                )
                .route("/_sandbox/posts", web::get().to(controls::posts))
                .route("/_sandbox/calls", web::get().to(controls::calls))
                .route("/_sandbox/apps", web::get().to(controls::apps))
                .route("/_sandbox/media/{id}", web::get().to(controls::media))
                .route("/_sandbox/faults", web::get().to(controls::current_faults))
                .route("/_sandbox/faults", web::post().to(controls::faults))
                .route("/_sandbox/revoke", web::post().to(controls::revoke))
                .route("/_sandbox/reset", web::post().to(controls::reset))
                .default_service(web::to(no_route))
        })
        .workers(workers.max(1))
        .disable_signals()
        .listen(listener)?
        .run();
        let handle = server.handle();
        Ok(Self {
            addr,
            base_url,
            domain,
            sandbox,
            server: Some(server),
            handle,
        })
    }

    /// Serves in the background of the current actix System.
    pub fn spawn(&mut self) {
        if let Some(server) = self.server.take() {
            actix_web::rt::spawn(server);
            if let Some(path) = self.sandbox.state_file.clone() {
                actix_web::rt::spawn(crate::sandbox::kept::keep_saving(
                    self.sandbox.clone(),
                    path,
                ));
            }
        }
    }

    /// Saves the state now (at shutdown), when it is kept.
    pub async fn save(&self) {
        if let Some(path) = &self.sandbox.state_file {
            crate::sandbox::kept::save_if_changed(self.sandbox.get_ref(), path, &mut Vec::new())
                .await;
        }
    }

    /// Serves until stopped (the `prasaran sandbox mastodon` command).
    pub async fn run(mut self) -> std::io::Result<()> {
        match self.server.take() {
            Some(server) => server.await,
            None => Ok(()),
        }
    }

    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

/// `Cache-Control` of every API answer (`Api::BaseController#set_cache_headers`).
pub(crate) const NO_CACHE: (header::HeaderName, &str) = (
    header::CACHE_CONTROL,
    "no-cache, no-store, max-age=0, must-revalidate",
);
