//! Settings that are fine on a laptop and dangerous facing a network: dev
//! settings refuse a non-loopback address, and production refuses each
//! development convenience, naming it in one line.

use super::load::{Environment, SettingsError};
use super::{LinkCards, Settings};

/// Dev and test settings (plain-HTTP cookies, generated keys, the mail
/// outbox, the sandboxes) must not face a network.
pub fn check_exposure(settings: &Settings) -> Result<(), SettingsError> {
    if settings.environment == Environment::Production || settings.server.allow_insecure_dev {
        return Ok(());
    }
    for (key, address) in [
        ("server.bind", settings.server.bind),
        ("server.ops_bind", settings.server.ops_bind),
    ] {
        if !address.ip().is_loopback() {
            return Err(SettingsError::Invalid(format!(
                "`{key}` = {address} is not a loopback address, and these are {} settings (plain-HTTP cookies, generated keys, the mail outbox): run with PRASARAN_ENV=production, or set server.allow_insecure_dev = true on a closed network",
                settings.environment
            )));
        }
    }
    Ok(())
}

/// Production refuses every development convenience.
pub fn check_production(settings: &Settings) -> Result<(), SettingsError> {
    if settings.environment != Environment::Production {
        return Ok(());
    }
    let refuse = |key: &str, why: &str| {
        Err(SettingsError::Invalid(format!(
            "`{key}` in production: {why}"
        )))
    };
    if settings.server.allow_insecure_dev {
        return refuse(
            "server.allow_insecure_dev",
            "it is for closed development networks only",
        );
    }
    if !settings.session.cookie_secure {
        return refuse(
            "session.cookie_secure = false",
            "session cookies would travel over plain HTTP; serve HTTPS (a TLS-terminating proxy) and keep it true",
        );
    }
    if !settings.session.cookie_name.starts_with("__Host-") {
        return refuse(
            "session.cookie_name",
            "use a `__Host-` name (the default), so no subdomain can set or read the cookie",
        );
    }
    match &settings.server.public_url {
        None => {
            return refuse(
                "server.public_url",
                "required: mailed links and OAuth redirects are built from it (PRASARAN__SERVER__PUBLIC_URL=https://…)",
            );
        }
        Some(url) if url.scheme() != "https" => {
            return refuse("server.public_url", "must be an https:// URL");
        }
        Some(_) => {}
    }
    if settings.engine.panic_marker.is_some() {
        return refuse(
            "engine.panic_marker",
            "it makes posts with that text crash a worker; it is for tests",
        );
    }
    let platform_urls = [
        (
            "platforms.manch.base_url",
            settings.platforms.manch.base_url.as_ref(),
        ),
        (
            "platforms.bluesky.service_url",
            settings.platforms.bluesky.service_url.as_ref(),
        ),
        (
            "platforms.bluesky.plc_url",
            settings.platforms.bluesky.plc_url.as_ref(),
        ),
    ];
    for (key, url) in platform_urls {
        if url.is_some_and(|u| u.scheme() != "https") {
            return refuse(key, "platform URLs must be https://: tokens travel on them");
        }
    }
    if settings.platforms.mastodon.allow_http_instances {
        return refuse(
            "platforms.mastodon.allow_http_instances",
            "plain-HTTP and private-address instances are for local sandboxes",
        );
    }
    if settings.platforms.matrix.allow_http_homeservers {
        return refuse(
            "platforms.matrix.allow_http_homeservers",
            "plain-HTTP and private-address homeservers are for local servers",
        );
    }
    if settings.platforms.bluesky.link_cards == LinkCards::AnyAddress {
        return refuse(
            "platforms.bluesky.link_cards = \"any_address\"",
            "posts could make Prasaran read pages on its own network",
        );
    }
    Ok(())
}
