//! Where an account lives: handle → DID (`resolveHandle` at the configured
//! service, which resolves any handle) → DID document (the PLC directory for
//! `did:plc`, `/.well-known/did.json` for `did:web`) → its PDS, the
//! `#atproto_pds` service. Every call for the connection then goes to that
//! PDS, so accounts on different servers work side by side.

use std::time::Duration;

use serde::Deserialize;
use url::Url;

const TIME_ALLOWED: Duration = Duration::from_secs(5);

#[derive(Deserialize)]
struct Resolved {
    did: String,
}

#[derive(Deserialize)]
struct DidDocument {
    #[serde(default)]
    service: Vec<Service>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Service {
    id: String,
    service_endpoint: serde_json::Value,
}

/// The PDS of the account `identifier` (a handle or a DID), or why not.
pub async fn home_pds(
    http: &reqwest::Client,
    service: &Url,
    plc: &Url,
    identifier: &str,
) -> Result<Url, String> {
    let did = if identifier.starts_with("did:") {
        identifier.to_owned()
    } else {
        let mut url = service
            .join("xrpc/com.atproto.identity.resolveHandle")
            .map_err(|e| e.to_string())?;
        url.query_pairs_mut()
            .append_pair("handle", identifier.trim_start_matches('@'));
        get::<Resolved>(http, url).await?.did
    };
    let document_url = if did.starts_with("did:plc:") {
        // Not `join`: "did:plc:…" would parse as a URL of its own (scheme `did`).
        Url::parse(&format!("{}/{did}", plc.as_str().trim_end_matches('/')))
            .map_err(|e| e.to_string())?
    } else if let Some(host) = did.strip_prefix("did:web:") {
        Url::parse(&format!("https://{host}/.well-known/did.json")).map_err(|e| e.to_string())?
    } else {
        return Err(format!("{did} is not a DID Bluesky uses"));
    };
    let document: DidDocument = get(http, document_url).await?;
    pds_of(&document).ok_or_else(|| format!("{did} names no PDS"))
}

fn pds_of(document: &DidDocument) -> Option<Url> {
    let endpoint = document
        .service
        .iter()
        .find(|s| s.id.ends_with("#atproto_pds"))?
        .service_endpoint
        .as_str()?;
    let mut url = Url::parse(endpoint).ok()?;
    // Joined with `xrpc/…` later: the path must end in a slash to be kept.
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    matches!(url.scheme(), "https" | "http").then_some(url)
}

async fn get<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: Url,
) -> Result<T, String> {
    let response = http
        .get(url.clone())
        .timeout(TIME_ALLOWED)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{url} answered {}", response.status()));
    }
    response.json().await.map_err(|e| format!("{url}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pds_is_the_atproto_pds_service_of_the_document() {
        let document: DidDocument = serde_json::from_value(serde_json::json!({
            "id": "did:plc:abc",
            "service": [
                {"id": "#other", "type": "X", "serviceEndpoint": "https://other.example"},
                {"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                 "serviceEndpoint": "https://pds.example.com"}
            ]
        }))
        .unwrap();
        assert_eq!(
            pds_of(&document).unwrap().as_str(),
            "https://pds.example.com/"
        );
        let none: DidDocument =
            serde_json::from_value(serde_json::json!({"id": "did:plc:x"})).unwrap();
        assert!(pds_of(&none).is_none());
    }
}
