//! The adapter registry for this process, and the dev-mode Manch sandbox that
//! stands in for Manch when no `platforms.manch.base_url` is configured.

use std::sync::Arc;

use anyhow::Context;
use secrecy::SecretString;
use url::Url;

use crate::adapters::bluesky::BlueskyAdapter;
use crate::adapters::manch::ManchAdapter;
use crate::adapters::mastodon::MastodonAdapter;
use crate::adapters::matrix::MatrixAdapter;
use crate::adapters::{Registry, http_client};
use crate::sandbox::manch::{DEFAULT_CLIENT_SECRET, SandboxConfig, SandboxServer};
use crate::sandbox::mastodon::{MastodonConfig, MastodonSandbox};
use crate::settings::{Environment, Settings};

/// Where Manch is for this process, and the sandbox if we started one.
pub struct ManchEndpoint {
    pub base_url: Url,
    pub client_secret: SecretString,
    pub sandbox: Option<SandboxServer>,
}

/// The configured Manch, or (dev only) a sandbox started beside the app.
pub fn manch_endpoint(settings: &Settings) -> anyhow::Result<ManchEndpoint> {
    let manch = &settings.platforms.manch;
    if let Some(base_url) = &manch.base_url {
        let client_secret = manch.client_secret.clone().context(
            "configuration error: `platforms.manch.client_secret` is required with `platforms.manch.base_url` (set PRASARAN__PLATFORMS__MANCH__CLIENT_SECRET)",
        )?;
        return Ok(ManchEndpoint {
            base_url: base_url.clone(),
            client_secret,
            sandbox: None,
        });
    }
    anyhow::ensure!(
        settings.environment == Environment::Dev,
        "configuration error: `platforms.manch.base_url` is required outside dev"
    );
    let config = SandboxConfig {
        client_id: manch.client_id.clone(),
        client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
        state_file: settings
            .sandbox
            .keep_state
            .then(|| settings.data_dir.join("sandbox").join("manch.json")),
    };
    let mut sandbox = on_port_or_free(settings.sandbox.bind, "Manch", |addr| {
        SandboxServer::bind(addr, config.clone(), 1)
    })?;
    sandbox.spawn();
    tracing::info!(url = %sandbox.base_url, "Manch sandbox started (dev); connect accounts through its consent page");
    Ok(ManchEndpoint {
        base_url: sandbox.base_url.clone(),
        client_secret: SecretString::from(DEFAULT_CLIENT_SECRET),
        sandbox: Some(sandbox),
    })
}

/// In dev, a Mastodon instance (the sandbox) beside the app, when
/// `sandbox.mastodon_bind` is set and Mastodon is offered.
pub fn dev_mastodon(settings: &Settings) -> anyhow::Result<Option<MastodonSandbox>> {
    let Some(bind) = settings.sandbox.mastodon_bind else {
        return Ok(None);
    };
    if settings.environment != Environment::Dev || !settings.platforms.mastodon.enabled {
        return Ok(None);
    }
    let mut sandbox = on_port_or_free(bind, "Mastodon", |addr| {
        let config = MastodonConfig {
            state_file: settings
                .sandbox
                .keep_state
                .then(|| settings.data_dir.join("sandbox").join("mastodon.json")),
            ..MastodonConfig::default()
        };
        MastodonSandbox::bind(addr, config, 1)
    })?;
    sandbox.spawn();
    tracing::info!(url = %sandbox.base_url, "Mastodon sandbox started (dev); connect Mastodon with this instance address");
    Ok(Some(sandbox))
}

/// Every platform this process can publish to. A new platform is one line here.
/// `dev_instance`: a Mastodon instance to suggest (the dev sandbox).
pub fn registry(
    settings: &Settings,
    manch: &ManchEndpoint,
    dev_instance: Option<&Url>,
) -> anyhow::Result<Registry> {
    let http = http_client::build(&settings.http_client).context("building the HTTP client")?;
    let manch_adapter = ManchAdapter::new(
        manch.base_url.clone(),
        &settings.platforms.manch.client_id,
        &manch.client_secret,
        http,
    )
    .context("`platforms.manch.base_url` cannot be joined with API paths")?;
    let mut registry = Registry::default().with(Arc::new(manch_adapter));
    if let Some(service) = &settings.platforms.bluesky.service_url {
        let http = http_client::build(&settings.http_client).context("building the HTTP client")?;
        registry = registry.with(Arc::new(
            BlueskyAdapter::new(service.clone(), http)
                .with_link_cards(settings.platforms.bluesky.link_cards)
                .with_plc(settings.platforms.bluesky.plc_url.clone())
                .with_public_url(settings.server.public_url.as_ref()),
        ));
    }
    if settings.platforms.mastodon.enabled {
        let http = http_client::build(&settings.http_client).context("building the HTTP client")?;
        registry = registry.with(Arc::new(
            MastodonAdapter::new(http, settings.platforms.mastodon.allow_http_instances)
                .with_suggested_server(dev_instance.cloned()),
        ));
    }
    if settings.platforms.matrix.enabled {
        let http = http_client::build(&settings.http_client).context("building the HTTP client")?;
        registry = registry.with(Arc::new(MatrixAdapter::new(
            http,
            settings.platforms.matrix.allow_http_homeservers,
        )));
    }
    Ok(registry)
}

/// Binds a dev sandbox on its fixed port, or — when another process holds
/// it (a second dev server) — on a free one, saying so.
fn on_port_or_free<T>(
    bind: std::net::SocketAddr,
    name: &str,
    start: impl Fn(std::net::SocketAddr) -> std::io::Result<T>,
) -> anyhow::Result<T> {
    match start(bind) {
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse && bind.port() != 0 => {
            tracing::warn!(%bind, "the {name} sandbox's port is in use; using a free one (its accounts must be connected again there)");
            let free = std::net::SocketAddr::new(bind.ip(), 0);
            start(free).with_context(|| format!("starting the {name} sandbox on {free}"))
        }
        other => other.with_context(|| format!("starting the {name} sandbox on {bind}")),
    }
}
