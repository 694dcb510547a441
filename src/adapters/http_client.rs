//! The HTTP client adapters share: no redirects (a redirect from a token
//! endpoint is an attack or a misconfiguration, never a success), bounded
//! connect and total time, pooled keep-alive connections.

use std::time::Duration;

use super::AdapterError;
use crate::settings::HttpClientSettings;

pub fn build(settings: &HttpClientSettings) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_millis(u64::from(
            settings.connect_timeout_ms.get(),
        )))
        .timeout(Duration::from_millis(u64::from(settings.timeout_ms.get())))
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_keepalive(Duration::from_secs(60))
        .user_agent(concat!("prasaran/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Sends one request to `whom` (`"Bluesky"`, `"the Matrix homeserver"`): a
/// refused connection never reached it (retry freely), a timeout or a broken
/// connection may have (check before retrying).
pub async fn send(
    request: reqwest::RequestBuilder,
    whom: &str,
) -> Result<reqwest::Response, AdapterError> {
    request.send().await.map_err(|e| {
        if e.is_connect() {
            AdapterError::Transient {
                reason: format!("could not connect to {whom}"),
                status: None,
            }
        } else {
            AdapterError::Unknown {
                reason: if e.is_timeout() {
                    format!("{whom} did not answer in time")
                } else {
                    format!("the connection to {whom} failed")
                },
            }
        }
    })
}
