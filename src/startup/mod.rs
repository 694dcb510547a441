//! Building and running the application: the same [`Application`] serves the
//! binary and the tests (which bind port 0 and stop it through [`Application::handle`]).

mod database;
pub mod keys;
pub mod platforms;

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use sqlx::PgPool;
use tracing_actix_web::TracingLogger;
use url::Url;

pub use database::Database;

use crate::accounts::{AccountRules, Accounts, LinkSettings};
use crate::actors::engine::Engine;
use crate::actors::janitor::Janitor;
use crate::actors::{EngineSetup, start_engine};
use crate::adapters::Registry;
use crate::connections::{Connections, PublicUrl};
use crate::http::error::{json_error, path_error, query_error};
use crate::http::operators::OperatorAccess;
use crate::http::rate_limit::RateLimiters;
use crate::http::web_app::{WebApp, fallback};
use crate::http::{self, RequestSpan, request_id_header, security_headers, session};
use crate::media::{LocalStore, MediaLibrary};
use crate::persistence::sessions::PgSessionStore;
use crate::publishing::Publishing;
use crate::queue::TaskQueue;
use crate::sandbox::manch::SandboxServer;
use crate::sandbox::mastodon::MastodonSandbox;
use crate::settings::{QueueKind, Settings, load_or_create_session_key};

/// How often idle rate-limit buckets are forgotten.
const RATE_LIMIT_SWEEP: Duration = Duration::from_secs(60);

pub struct Application {
    port: u16,
    server: Server,
    /// The operator listener (`server.ops_bind`).
    ops: Server,
    ops_port: u16,
    engine: Engine,
    database: Database,
    sandboxes: Sandboxes,
}

/// The sandboxes a dev process started beside itself.
struct Sandboxes {
    manch: Option<SandboxServer>,
    mastodon: Option<MastodonSandbox>,
}

impl Sandboxes {
    async fn stop(&self) {
        if let Some(sandbox) = &self.manch {
            sandbox.save().await;
            sandbox.stop().await;
        }
        if let Some(sandbox) = &self.mastodon {
            sandbox.save().await;
            sandbox.stop().await;
        }
    }
}

/// What the HTTP workers share.
struct Services {
    pool: PgPool,
    quotas: std::sync::Arc<crate::quotas::Quotas>,
    accounts: Accounts,
    session_key: Vec<u8>,
    connections: Connections,
    engine: Engine,
    publishing: Publishing,
    media: MediaLibrary,
}

impl Application {
    /// Opens the database (starting the embedded one if needed), starts the
    /// Manch sandbox in dev when no Manch is configured, binds the listener and
    /// prepares the server; nothing is served until [`Application::run_until_stopped`].
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with(settings, |registry| registry).await
    }

    /// As [`Application::build`], with the platform adapters passed through
    /// `adapt` first: tests wrap a platform in a scripted one to force the
    /// races and failures a real platform makes rare.
    pub async fn build_with(
        settings: Settings,
        adapt: impl FnOnce(Registry) -> Registry,
    ) -> anyhow::Result<Self> {
        crate::settings::check_mode_requirements(&settings)?;
        let session_key = load_or_create_session_key(&settings)?;
        let keyring = keys::keyring(&settings).await?;
        let listener = TcpListener::bind(settings.server.bind)
            .with_context(|| format!("binding {}", settings.server.bind))?;
        let local = listener.local_addr()?;
        let ops_listener = TcpListener::bind(settings.server.ops_bind).with_context(|| {
            format!(
                "binding the operator listener {} (server.ops_bind, or --ops-bind: another prasaran may hold it)",
                settings.server.ops_bind
            )
        })?;
        let ops_local = ops_listener.local_addr()?;
        let public_url = match &settings.server.public_url {
            Some(url) => PublicUrl {
                url: url.clone(),
                configured: true,
            },
            None => PublicUrl {
                url: Url::parse(&format!("http://{local}/")).context("public URL")?,
                configured: false,
            },
        };
        let mut manch = platforms::manch_endpoint(&settings)?;
        let sandboxes = Sandboxes {
            manch: manch.sandbox.take(),
            mastodon: platforms::dev_mastodon(&settings)?,
        };
        let registry = adapt(platforms::registry(
            &settings,
            &manch,
            sandboxes.mastodon.as_ref().map(|m| &m.base_url),
        )?);
        let database = match Database::open(&settings).await {
            Ok(database) => database,
            Err(error) => {
                sandboxes.stop().await;
                return Err(error);
            }
        };
        let queue = match settings.queue.kind {
            QueueKind::InProcess => None,
            QueueKind::Sqs => Some((
                TaskQueue::connect(&settings.queue.sqs).await?,
                settings.queue.sqs.clone(),
            )),
        };
        let media = match media_library(&settings, database.pool.clone()).await {
            Ok(media) => media,
            Err(error) => {
                database.close().await;
                sandboxes.stop().await;
                return Err(error);
            }
        };
        let engine = start_engine(
            database.pool.clone(),
            registry.clone(),
            keyring.clone(),
            EngineSetup {
                settings: settings.engine.clone(),
                role: settings.server.role,
                queue,
                media: media.store(),
                call_timeout: std::time::Duration::from_millis(u64::from(
                    settings.http_client.timeout_ms.get(),
                )),
            },
        );
        let engine_handle = engine.clone();
        let quotas = std::sync::Arc::new(crate::quotas::Quotas::new(
            database.pool.clone(),
            settings.quotas.clone(),
        ));
        let publishing = Publishing::new(
            database.pool.clone(),
            registry.clone(),
            engine.clone(),
            settings.engine.max_user_backlog.get(),
            quotas.clone(),
        );
        let accounts = accounts(&settings, database.pool.clone(), &public_url.url).await?;
        let services = Services {
            pool: database.pool.clone(),
            quotas,
            accounts,
            session_key,
            connections: Connections::new(
                database.pool.clone(),
                registry.clone(),
                keyring,
                public_url,
            ),
            engine,
            publishing,
            media,
        };
        let servers = build_server(&settings, listener, ops_listener, &registry, services).await;
        let (server, ops) = match servers {
            Ok(servers) => servers,
            Err(error) => {
                database.close().await;
                sandboxes.stop().await;
                return Err(error);
            }
        };
        tracing::info!(address = %local, operators = %ops_local, role = ?settings.server.role, queue = ?settings.queue.kind, "listening");
        Ok(Self {
            port: local.port(),
            server,
            ops,
            ops_port: ops_local.port(),
            engine: engine_handle,
            database,
            sandboxes,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The operator listener's port (`/metrics`, `/health/actors`).
    pub fn ops_port(&self) -> u16 {
        self.ops_port
    }

    /// The dev-mode sandbox, when this app started one.
    pub fn sandbox(&self) -> Option<&SandboxServer> {
        self.sandboxes.manch.as_ref()
    }

    /// The dev-mode Mastodon instance, when this app started one.
    pub fn mastodon_sandbox(&self) -> Option<&MastodonSandbox> {
        self.sandboxes.mastodon.as_ref()
    }

    /// Stops the server from outside (tests; signals are handled by actix itself).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until Ctrl-C, SIGTERM or [`ServerHandle::stop`], then stops the
    /// sandbox, closes the pool and stops the embedded database if this
    /// process started them.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let ops = self.ops.handle();
        let ops_served = actix_web::rt::spawn(self.ops);
        let served = self.server.await;
        ops.stop(true).await;
        let _ = ops_served.await;
        self.engine.shutdown().await;
        self.sandboxes.stop().await;
        self.database.close().await;
        served.context("serving HTTP")
    }
}

/// The media library over the configured store: files under the data dir, or
/// an S3 bucket (checked here, so a wrong bucket stops start-up). Either way
/// uploads in progress are kept under the data dir.
async fn media_library(settings: &Settings, pool: PgPool) -> anyhow::Result<MediaLibrary> {
    use crate::persistence::media_store_s3::S3Store;
    use crate::settings::{MediaStoreKind, Role};

    let dir = settings.data_dir.join(&settings.media.dir);
    let store: std::sync::Arc<dyn crate::media::MediaStore> = match settings.media.store {
        MediaStoreKind::Local => {
            if settings.server.role != Role::All {
                tracing::warn!(
                    dir = %dir.display(),
                    "media.store = \"local\" with separate api and worker processes: they must share this directory (or set media.store = \"s3\")"
                );
            }
            std::sync::Arc::new(
                LocalStore::open(&dir)
                    .with_context(|| format!("opening the media directory {}", dir.display()))?,
            )
        }
        MediaStoreKind::S3 => std::sync::Arc::new(
            S3Store::connect(&settings.media.s3, &dir.join("scratch"))
                .await
                .context("opening the media store (media.store = \"s3\")")?,
        ),
    };
    Ok(MediaLibrary::new(pool, store, settings.media.clone()))
}

/// The public server and the operator server.
async fn build_server(
    settings: &Settings,
    listener: TcpListener,
    ops_listener: TcpListener,
    registry: &Registry,
    services: Services,
) -> anyhow::Result<(Server, Server)> {
    let Services {
        pool,
        quotas,
        accounts,
        session_key,
        connections,
        engine,
        publishing,
        media,
    } = services;
    let platforms: Vec<(&str, &str)> = registry.all().map(|a| (a.id(), a.display_name())).collect();
    crate::persistence::platforms::sync(&pool, &platforms)
        .await
        .context("registering platforms")?;
    let accounts = web::Data::new(accounts);
    let limiters = web::Data::new(RateLimiters::new(&settings.rate_limits));
    spawn_rate_limit_sweeper(limiters.clone());
    Janitor::start_in_system(
        pool.clone(),
        media.store(),
        Duration::from_secs(u64::from(settings.media.unattached_ttl_hours.get()) * 3600),
    );

    let store = PgSessionStore::new(pool.clone(), session::absolute_lifetime(&settings.session));
    let session_settings = settings.session.clone();
    let https = settings.session.cookie_secure;
    let body_limit = settings.server.json_body_limit_bytes.get() as usize;
    let serves_api = settings.server.role.serves_api();
    let web_app = web::Data::new(if serves_api {
        WebApp::find(&settings.server.web_dir)
    } else {
        WebApp::none()
    });
    let pool = web::Data::new(pool);
    let connections = web::Data::new(connections);
    let publishing = web::Data::new(publishing);
    let media = web::Data::new(media);
    let engine = web::Data::new(engine);
    let token_cache = web::Data::new(crate::http::tokens::TokenCache::default());
    let quotas = web::Data::from(quotas);
    let ops = operator_server(
        ops_listener,
        pool.clone(),
        engine.clone(),
        settings.session.cookie_secure,
    )?;
    let trusted_proxies = web::Data::new(crate::http::client_ip::TrustedProxies(
        settings.server.trusted_proxies.clone(),
    ));
    let public_operators = web::Data::new(OperatorAccess::Token(settings.server.ops_token.clone()));

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
            .app_data(connections.clone())
            .app_data(engine.clone())
            .app_data(publishing.clone())
            .app_data(media.clone())
            .app_data(token_cache.clone())
            .app_data(quotas.clone())
            .app_data(public_operators.clone())
            .app_data(trusted_proxies.clone())
            .wrap(session::middleware(
                store.clone(),
                &session_key,
                &session_settings,
            ))
            .wrap(from_fn(crate::http::failures::json_failures))
            .wrap(security_headers(https))
            .wrap(from_fn(request_id_header))
            .wrap(TracingLogger::<RequestSpan>::new())
            .app_data(web_app.clone())
            .configure(|cfg| {
                if serves_api {
                    http::configure(cfg);
                    web_app.configure(cfg);
                } else {
                    http::configure_operators(cfg);
                }
            })
            .default_service(web::to(fallback))
    })
    .shutdown_timeout(10)
    .listen(listener)?;
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    Ok((server.run(), ops))
}

/// The operator listener: probes, `/health/actors` and `/metrics`, to
/// whoever reaches it (it is meant for loopback or a private network).
fn operator_server(
    listener: TcpListener,
    pool: web::Data<PgPool>,
    engine: web::Data<Engine>,
    https: bool,
) -> anyhow::Result<Server> {
    let access = web::Data::new(OperatorAccess::Listener);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(pool.clone())
            .app_data(engine.clone())
            .app_data(access.clone())
            .wrap(security_headers(https))
            .wrap(from_fn(request_id_header))
            .configure(http::configure_operators)
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, _>(crate::http::error::ApiError::new(
                    crate::http::error::ErrorCode::NotFound,
                    "the operator listener serves /metrics, /health/actors, /health/live and /health/ready",
                ))
            }))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(5)
    .listen(listener)?;
    Ok(server.run())
}

/// Accounts with the mailer and link rules the settings ask for.
async fn accounts(settings: &Settings, pool: PgPool, public_url: &Url) -> anyhow::Result<Accounts> {
    let mailer = crate::mail::from_settings(&settings.mail, &settings.data_dir)
        .context("setting up mail")?;
    let rules = AccountRules {
        links: LinkSettings {
            base: public_url.clone(),
            verification_ttl: Duration::from_secs(
                u64::from(settings.accounts.verification_link_hours.get()) * 3600,
            ),
            reset_ttl: Duration::from_secs(
                u64::from(settings.accounts.reset_link_minutes.get()) * 60,
            ),
        },
        verified_email_to_connect: settings.accounts.verified_email_to_connect,
    };
    Accounts::new(pool, mailer, rules)
        .await
        .context("preparing password hashing")
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
