//! Building and running the application: the same [`Application`] serves the
//! binary and the tests (which bind port 0 and stop it through [`Application::handle`]).

mod database;

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use sqlx::PgPool;
use tracing_actix_web::TracingLogger;

pub use database::Database;

use crate::accounts::Accounts;
use crate::actors::session_reaper::SessionReaper;
use crate::http::error::{json_error, not_found, path_error, query_error};
use crate::http::rate_limit::RateLimiters;
use crate::http::{self, RequestSpan, request_id_header, security_headers, session};
use crate::persistence::sessions::PgSessionStore;
use crate::settings::{Settings, load_or_create_session_key};

/// How often idle rate-limit buckets are forgotten.
const RATE_LIMIT_SWEEP: Duration = Duration::from_secs(60);

pub struct Application {
    port: u16,
    server: Server,
    database: Database,
}

impl Application {
    /// Opens the database (starting the embedded one if needed), binds the
    /// listener and prepares the server; nothing is served until
    /// [`Application::run_until_stopped`].
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let key = load_or_create_session_key(&settings)?;
        let listener = TcpListener::bind(settings.server.bind)
            .with_context(|| format!("binding {}", settings.server.bind))?;
        let port = listener.local_addr()?.port();
        let database = Database::open(&settings).await?;
        let server = match build_server(&settings, listener, database.pool.clone(), key).await {
            Ok(server) => server,
            Err(error) => {
                database.close().await;
                return Err(error);
            }
        };
        tracing::info!(address = %settings.server.bind.ip(), port, "listening");
        Ok(Self {
            port,
            server,
            database,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server from outside (tests; signals are handled by actix itself).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until Ctrl-C, SIGTERM or [`ServerHandle::stop`], then closes the
    /// pool and stops the embedded database if this process started it.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let served = self.server.await;
        self.database.close().await;
        served.context("serving HTTP")
    }
}

async fn build_server(
    settings: &Settings,
    listener: TcpListener,
    pool: PgPool,
    key: Vec<u8>,
) -> anyhow::Result<Server> {
    let accounts = web::Data::new(
        Accounts::new(pool.clone())
            .await
            .context("preparing password hashing")?,
    );
    let limiters = web::Data::new(RateLimiters::new(&settings.rate_limits));
    spawn_rate_limit_sweeper(limiters.clone());
    SessionReaper::start_in_system(pool.clone());

    let store = PgSessionStore::new(pool.clone(), session::absolute_lifetime(&settings.session));
    let session_settings = settings.session.clone();
    let https = settings.session.cookie_secure;
    let body_limit = settings.server.json_body_limit_bytes.get() as usize;
    let pool = web::Data::new(pool);

    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(
                web::JsonConfig::default()
                    .limit(body_limit)
                    .error_handler(json_error),
            )
            .app_data(web::PayloadConfig::new(body_limit))
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .app_data(web::PathConfig::default().error_handler(path_error))
            .app_data(accounts.clone())
            .app_data(limiters.clone())
            .app_data(pool.clone())
            .wrap(session::middleware(store.clone(), &key, &session_settings))
            .wrap(security_headers(https))
            .wrap(from_fn(request_id_header))
            .wrap(TracingLogger::<RequestSpan>::new())
            .configure(http::configure)
            .default_service(web::to(not_found))
    })
    .shutdown_timeout(10)
    .listen(listener)?;
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    Ok(server.run())
}

fn spawn_rate_limit_sweeper(limiters: web::Data<RateLimiters>) {
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(RATE_LIMIT_SWEEP);
        loop {
            tick.tick().await;
            limiters.forget_idle();
        }
    });
}
