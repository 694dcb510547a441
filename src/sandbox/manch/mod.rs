//! The Manch sandbox (DESIGN §6): a real HTTP server with the whole Manch API
//! (media included) and its `/_sandbox/` controls, state in memory (in dev
//! also kept in a file across restarts: see `persist`).
//!
//! It must never be what limits a benchmark: handlers take one short lock and
//! do no I/O while holding it, and nothing is logged per request.

mod api;
mod controls;
mod media;
mod oauth;
mod persist;
mod state;

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::json;

use crate::sandbox::kept;

pub use state::{Calls, Faults, State, token_key};

/// The one OAuth client the sandbox knows (DESIGN §6 defaults).
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub client_id: String,
    pub client_secret: String,
    /// Where its state is kept across restarts (dev); `None`: memory only.
    pub state_file: Option<PathBuf>,
}

pub const DEFAULT_CLIENT_ID: &str = "prasaran-dev";
/// Public by design: it only opens the sandbox, which holds nothing real.
pub const DEFAULT_CLIENT_SECRET: &str = "prasaran-dev-secret";

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            state_file: None,
        }
    }
}

/// Shared by every worker of the sandbox server.
pub struct Sandbox {
    config: SandboxConfig,
    state: Mutex<State>,
}

impl Sandbox {
    /// A poisoned lock only means a handler panicked mid-update; the sandbox
    /// state is still usable for a test double.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) fn oauth_error(code: &str, description: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": code, "error_description": description}))
}

fn json_error(
    error: actix_web::error::JsonPayloadError,
    _: &actix_web::HttpRequest,
) -> actix_web::Error {
    let response = HttpResponse::UnprocessableEntity()
        .json(json!({"error": "invalid_request", "error_description": error.to_string()}));
    actix_web::error::InternalError::from_response(error, response).into()
}

fn form_error(
    error: actix_web::error::UrlencodedError,
    _: &actix_web::HttpRequest,
) -> actix_web::Error {
    let response = oauth_error("invalid_request", &error.to_string());
    actix_web::error::InternalError::from_response(error, response).into()
}

/// A running sandbox: its address, its state (tests read it directly) and a stop handle.
pub struct SandboxServer {
    pub addr: SocketAddr,
    pub base_url: url::Url,
    pub sandbox: web::Data<Sandbox>,
    server: Option<Server>,
    handle: ServerHandle,
}

impl SandboxServer {
    /// Binds `bind` (port 0 for a free one) and prepares `workers` workers.
    pub fn bind(bind: SocketAddr, config: SandboxConfig, workers: usize) -> std::io::Result<Self> {
        let listener = TcpListener::bind(bind)?;
        let addr = listener.local_addr()?;
        let base_url =
            url::Url::parse(&format!("http://{addr}/")).map_err(std::io::Error::other)?;
        let state = config
            .state_file
            .as_deref()
            .and_then(crate::sandbox::kept::load)
            .map(State::restored)
            .unwrap_or_default();
        let sandbox = web::Data::new(Sandbox {
            config,
            state: Mutex::new(state),
        });
        let shared = sandbox.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(64 * 1024)
                        .error_handler(json_error),
                )
                .app_data(
                    web::FormConfig::default()
                        .limit(16 * 1024)
                        .error_handler(form_error),
                )
                .route("/oauth/authorize", web::get().to(oauth::consent))
                .route("/oauth/authorize", web::post().to(oauth::decide))
                .route("/oauth/token", web::post().to(oauth::token))
                .route("/oauth/revoke", web::post().to(oauth::revoke))
                .route("/v1/me", web::get().to(api::me))
                .route("/v1/posts", web::post().to(api::create_post))
                .route("/v1/posts", web::get().to(api::find_post))
                .route("/v1/media", web::post().to(media::upload))
                .route("/v1/media/{id}", web::get().to(media::show))
                .route("/posts/{id}", web::get().to(api::show_post))
                .route("/_sandbox/posts", web::get().to(controls::posts))
                .route("/_sandbox/stats", web::get().to(controls::stats))
                .route("/_sandbox/calls", web::get().to(controls::calls))
                .route("/_sandbox/media/{id}", web::get().to(controls::media))
                .route("/_sandbox/faults", web::post().to(controls::faults))
                .route("/_sandbox/reset", web::post().to(controls::reset))
        })
        .workers(workers.max(1))
        .disable_signals()
        .listen(listener)?
        .run();
        let handle = server.handle();
        Ok(Self {
            addr,
            base_url,
            sandbox,
            server: Some(server),
            handle,
        })
    }

    /// Serves in the background of the current actix System.
    pub fn spawn(&mut self) {
        if let Some(server) = self.server.take() {
            actix_web::rt::spawn(server);
            if let Some(path) = self.sandbox.config.state_file.clone() {
                actix_web::rt::spawn(kept::keep_saving(self.sandbox.clone(), path));
            }
        }
    }

    /// Saves the state now (at shutdown), when it is kept.
    pub async fn save(&self) {
        if let Some(path) = self.sandbox.config.state_file.clone() {
            kept::save_if_changed(self.sandbox.get_ref(), &path, &mut Vec::new()).await;
        }
    }

    /// Serves until stopped (the `prasaran sandbox manch` command).
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
