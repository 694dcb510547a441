//! ATProto OAuth: discovery of the authorization server, the pushed
//! authorization request, the code and refresh grants, revocation, and every
//! call to the PDS with a DPoP-bound token.
//!
//! Prasaran is a public client. On a loopback deployment its `client_id` is
//! the development form (`http://localhost?redirect_uri=…&scope=…`, which
//! servers accept without fetching anything); otherwise it is the URL of the
//! client metadata document it serves (`/oauth/bluesky/client-metadata.json`).
//! The DPoP key, the `client_id` and the issuer a grant was made with are
//! kept together, sealed like a token: a refresh or revocation needs all three.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

use super::dpop::DpopKey;
use super::wire::send;
use crate::adapters::AdapterError;

/// What Prasaran asks for: its posts, their images, and who the account is.
pub const SCOPE: &str = "atproto transition:generic";

fn rejected(reason: impl Into<String>) -> AdapterError {
    AdapterError::Rejected {
        reason: reason.into(),
    }
}

fn transient(reason: impl Into<String>) -> AdapterError {
    AdapterError::Transient {
        reason: reason.into(),
        status: None,
    }
}

/// One grant's binding: its DPoP key and the client and server it was made with.
pub struct Grant {
    pub key: DpopKey,
    pub client_id: String,
    pub issuer: String,
}

#[derive(Serialize, Deserialize)]
struct StoredGrant {
    /// PKCS#8, base64.
    key: String,
    client_id: String,
    issuer: String,
}

impl Grant {
    pub fn to_secret(&self) -> SecretString {
        let stored = StoredGrant {
            key: STANDARD.encode(self.key.pkcs8()),
            client_id: self.client_id.clone(),
            issuer: self.issuer.clone(),
        };
        SecretString::from(serde_json::to_string(&stored).unwrap_or_default())
    }

    pub fn from_secret(secret: &SecretString) -> Result<Self, AdapterError> {
        let stored: StoredGrant = serde_json::from_str(secret.expose_secret())
            .map_err(|e| rejected(format!("the stored Bluesky grant is unreadable: {e}")))?;
        let pkcs8 = STANDARD
            .decode(stored.key)
            .map_err(|e| rejected(format!("the stored DPoP key is unreadable: {e}")))?;
        Ok(Self {
            key: DpopKey::from_pkcs8(&pkcs8).map_err(|e| rejected(e.to_string()))?,
            client_id: stored.client_id,
            issuer: stored.issuer,
        })
    }
}

/// The latest nonce each server handed out (servers rotate them every minute
/// or so and want the current one in the next proof).
#[derive(Default)]
pub struct Nonces(Mutex<HashMap<String, String>>);

impl Nonces {
    fn get(&self, url: &Url) -> Option<String> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&url.origin().ascii_serialization()).cloned()
    }

    fn keep(&self, url: &Url, response: &Response) {
        if let Some(nonce) = response
            .headers()
            .get("DPoP-Nonce")
            .and_then(|v| v.to_str().ok())
        {
            let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
            map.insert(url.origin().ascii_serialization(), nonce.to_owned());
        }
    }

    pub fn has(&self, url: &Url) -> bool {
        self.get(url).is_some()
    }
}

/// The endpoints of an authorization server, from its metadata.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthServer {
    pub issuer: String,
    pub pushed_authorization_request_endpoint: Url,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    #[serde(default)]
    pub revocation_endpoint: Option<Url>,
}

#[derive(Deserialize)]
struct ProtectedResource {
    #[serde(default)]
    authorization_servers: Vec<String>,
}

async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: Url,
) -> Result<T, AdapterError> {
    let response = send(http.get(url.clone())).await?;
    if !response.status().is_success() {
        return Err(transient(format!("{url} answered {}", response.status())));
    }
    response
        .json()
        .await
        .map_err(|e| transient(format!("{url}: {e}")))
}

/// The authorization servers a PDS (or entryway) trusts.
pub async fn authorization_servers(
    http: &reqwest::Client,
    resource: &Url,
) -> Result<Vec<String>, AdapterError> {
    let url = resource
        .join(".well-known/oauth-protected-resource")
        .map_err(|e| rejected(e.to_string()))?;
    Ok(get_json::<ProtectedResource>(http, url)
        .await?
        .authorization_servers)
}

/// The authorization server of `resource` and its endpoints.
pub async fn discover(http: &reqwest::Client, resource: &Url) -> Result<AuthServer, AdapterError> {
    let issuer = authorization_servers(http, resource)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| rejected(format!("{resource} names no authorization server")))?;
    let metadata = Url::parse(&format!(
        "{}/.well-known/oauth-authorization-server",
        issuer.trim_end_matches('/')
    ))
    .map_err(|e| rejected(e.to_string()))?;
    let server: AuthServer = get_json(http, metadata).await?;
    if server.issuer != issuer {
        return Err(rejected(format!(
            "the authorization server at {issuer} calls itself {}",
            server.issuer
        )));
    }
    Ok(server)
}

/// The `client_id` for a grant that returns to `redirect_uri`: the loopback
/// development form when Prasaran runs on loopback, else its metadata URL.
pub fn client_id(redirect_uri: &Url, metadata_url: Option<&Url>) -> Result<String, AdapterError> {
    let loopback = matches!(
        redirect_uri.host(),
        Some(url::Host::Ipv4(ip)) if ip.is_loopback()
    ) || matches!(redirect_uri.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
    if loopback {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("redirect_uri", redirect_uri.as_str())
            .append_pair("scope", SCOPE)
            .finish();
        Ok(format!("http://localhost?{query}"))
    } else {
        metadata_url.map(Url::to_string).ok_or_else(|| {
            rejected("signing in with Bluesky needs server.public_url (its client metadata is served there)")
        })
    }
}

/// The S256 challenge of a PKCE verifier.
pub fn challenge(verifier: &SecretString) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.expose_secret().as_bytes()))
}

/// Whether the server asked for (another) nonce: 400 from an authorization
/// server, 401 with `WWW-Authenticate: DPoP error="use_dpop_nonce"` from a PDS.
fn wants_nonce(status: StatusCode, headers: &reqwest::header::HeaderMap, body: &[u8]) -> bool {
    if !matches!(status.as_u16(), 400 | 401) {
        return false;
    }
    let in_header = headers
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("use_dpop_nonce"));
    let in_body = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
        .is_some_and(|e| e == "use_dpop_nonce");
    in_header || in_body
}

/// Sends a request with a DPoP proof (and the bound token, if given), once
/// more with the server's fresh nonce if it asks for one. `build` adds the
/// body and headers; it runs once per attempt.
pub async fn send_with_proof(
    http: &reqwest::Client,
    nonces: &Nonces,
    key: &DpopKey,
    method: Method,
    url: &Url,
    token: Option<&SecretString>,
    build: impl Fn(RequestBuilder) -> RequestBuilder,
) -> Result<Response, AdapterError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let proof = key
            .proof(
                method.as_str(),
                url,
                nonces.get(url).as_deref(),
                token.map(|t| t.expose_secret()),
            )
            .map_err(|e| transient(e.to_string()))?;
        let mut request = build(http.request(method.clone(), url.clone())).header("DPoP", proof);
        if let Some(token) = token {
            request = request.header(
                reqwest::header::AUTHORIZATION,
                format!("DPoP {}", token.expose_secret()),
            );
        }
        let response = send(request).await?;
        nonces.keep(url, &response);
        if response.status().is_success() || attempt > 1 {
            return Ok(response);
        }
        // Read to see why; handed back whole when it is not about the nonce.
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap_or_default();
        if !wants_nonce(status, &headers, &body) {
            let mut rebuilt = http::Response::new(body);
            *rebuilt.status_mut() = status;
            *rebuilt.headers_mut() = headers;
            return Ok(Response::from(rebuilt));
        }
    }
}

/// What a token endpoint answers.
#[derive(Deserialize)]
pub struct TokenAnswer {
    pub access_token: String,
    #[serde(default)]
    pub token_type: String,
    pub refresh_token: Option<String>,
    pub expires_in: Option<i64>,
    #[serde(default)]
    pub scope: String,
    pub sub: String,
}

/// Posts a form to an authorization server's endpoint with a proof.
pub async fn post_form(
    http: &reqwest::Client,
    nonces: &Nonces,
    key: &DpopKey,
    endpoint: &Url,
    form: &[(&str, &str)],
) -> Result<Value, AdapterError> {
    let response = send_with_proof(http, nonces, key, Method::POST, endpoint, None, |r| {
        r.form(form)
    })
    .await?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(body);
    }
    let error = body.get("error").and_then(Value::as_str).unwrap_or("error");
    let description = body
        .get("error_description")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let reason = format!("{endpoint} answered {status}: {error} {description}");
    Err(match (status.as_u16(), error) {
        (_, "invalid_grant") => AdapterError::Revoked { reason },
        (500..=599, _) => AdapterError::Transient {
            reason,
            status: Some(status.as_u16()),
        },
        _ => AdapterError::Rejected { reason },
    })
}

/// A token grant (authorization code or refresh): the answer, which must be
/// a DPoP-bound token.
pub async fn token_grant(
    http: &reqwest::Client,
    nonces: &Nonces,
    key: &DpopKey,
    endpoint: &Url,
    form: &[(&str, &str)],
) -> Result<TokenAnswer, AdapterError> {
    let answer: TokenAnswer =
        serde_json::from_value(post_form(http, nonces, key, endpoint, form).await?)
            .map_err(|e| transient(format!("unreadable Bluesky token answer: {e}")))?;
    if !answer.token_type.eq_ignore_ascii_case("dpop") {
        return Err(rejected(format!(
            "Bluesky issued a {} token, not DPoP",
            answer.token_type
        )));
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_deployments_use_the_development_client_id() {
        let metadata =
            Url::parse("https://prasaran.example/oauth/bluesky/client-metadata.json").unwrap();
        let local = Url::parse("http://127.0.0.1:8080/api/v1/oauth/bluesky/callback").unwrap();
        let id = client_id(&local, Some(&metadata)).unwrap();
        assert!(id.starts_with("http://localhost?redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2F"));
        assert!(id.ends_with("&scope=atproto+transition%3Ageneric"), "{id}");
        let public = Url::parse("https://prasaran.example/api/v1/oauth/bluesky/callback").unwrap();
        assert_eq!(
            client_id(&public, Some(&metadata)).unwrap(),
            metadata.as_str()
        );
        assert!(client_id(&public, None).is_err());
    }

    #[test]
    fn a_grant_survives_being_stored() {
        let grant = Grant {
            key: DpopKey::generate().unwrap(),
            client_id: "http://localhost?scope=atproto".into(),
            issuer: "http://localhost:2583".into(),
        };
        let again = Grant::from_secret(&grant.to_secret()).unwrap();
        assert_eq!(again.key.jwk(), grant.key.jwk());
        assert_eq!(again.client_id, grant.client_id);
        assert_eq!(again.issuer, grant.issuer);
        assert!(Grant::from_secret(&SecretString::from("{}")).is_err());
    }

    #[test]
    fn a_nonce_request_is_told_apart_from_other_refusals() {
        let empty = reqwest::header::HeaderMap::new();
        assert!(wants_nonce(
            StatusCode::BAD_REQUEST,
            &empty,
            br#"{"error":"use_dpop_nonce"}"#
        ));
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::WWW_AUTHENTICATE,
            r#"DPoP error="use_dpop_nonce""#.parse().unwrap(),
        );
        assert!(wants_nonce(StatusCode::UNAUTHORIZED, &headers, b"{}"));
        assert!(!wants_nonce(
            StatusCode::BAD_REQUEST,
            &empty,
            br#"{"error":"invalid_grant"}"#
        ));
        assert!(!wants_nonce(StatusCode::OK, &headers, b""));
    }
}
