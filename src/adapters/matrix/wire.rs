//! Matrix client-server API bodies as far as Prasaran reads them, and how its
//! answers map to [`AdapterError`]: errors are `{"errcode", "error"}`; an
//! expired access token is 401 `M_UNKNOWN_TOKEN` (`soft_logout: true`), a
//! burst over the server's message rate is 429 `M_LIMIT_EXCEEDED` with
//! `retry_after_ms`.

use serde::{Deserialize, Serialize};

use crate::adapters::{AdapterError, rate_limit};

/// What a Matrix grant needs besides its tokens: the homeserver's API base,
/// the account and the device its tokens belong to. The device is what makes
/// a retried send with the same transaction id answer the first event, so a
/// reconnect logs in to the same device again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Grant {
    pub homeserver: url::Url,
    pub user_id: String,
    pub device_id: String,
}

#[derive(Deserialize)]
pub struct Login {
    pub user_id: String,
    pub access_token: String,
    pub device_id: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub expires_in_ms: Option<u64>,
}

#[derive(Deserialize)]
pub struct Refreshed {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub expires_in_ms: Option<u64>,
}

#[derive(Deserialize)]
pub struct WhoAmI {
    pub user_id: String,
    #[serde(default)]
    pub device_id: Option<String>,
}

#[derive(Deserialize)]
pub struct WellKnown {
    #[serde(rename = "m.homeserver")]
    pub homeserver: Option<BaseUrl>,
}

#[derive(Deserialize)]
pub struct BaseUrl {
    pub base_url: String,
}

#[derive(Deserialize)]
pub struct JoinedRooms {
    pub joined_rooms: Vec<String>,
}

#[derive(Deserialize)]
pub struct Sent {
    pub event_id: String,
}

#[derive(Deserialize)]
pub struct Uploaded {
    pub content_uri: String,
}

#[derive(Deserialize)]
pub struct Messages {
    #[serde(default)]
    pub chunk: Vec<Event>,
    #[serde(default)]
    pub end: Option<String>,
}

#[derive(Deserialize)]
pub struct Event {
    pub event_id: String,
    #[serde(default)]
    pub sender: String,
    #[serde(default)]
    pub unsigned: Unsigned,
}

#[derive(Default, Deserialize)]
pub struct Unsigned {
    /// Only for the device that sent the event.
    #[serde(default)]
    pub transaction_id: Option<String>,
}

/// An uploaded attachment as the later event needs it. Matrix attaches media
/// by sending an event per file that names its `mxc://` URL with its alt text
/// and facts, so all of it travels as the platform's media id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attachment {
    pub url: String,
    pub mimetype: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub w: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errcode: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    retry_after_ms: Option<u64>,
}

/// Sends; a refused connection never reached the homeserver, a timeout may have.
pub async fn send(request: reqwest::RequestBuilder) -> Result<reqwest::Response, AdapterError> {
    crate::adapters::http_client::send(request, "the Matrix homeserver").await
}

/// Passes 2xx through; turns everything else into the matching error.
pub async fn classify(response: reqwest::Response) -> Result<reqwest::Response, AdapterError> {
    let status = response.status().as_u16();
    if response.status().is_success() {
        return Ok(response);
    }
    let headers = response.headers().clone();
    let body: Option<ErrorBody> = response.json().await.ok();
    let (errcode, error, retry_after_ms) = match body {
        Some(body) => (body.errcode, body.error, body.retry_after_ms),
        None => (String::new(), String::new(), None),
    };
    if status == 429 || errcode == "M_LIMIT_EXCEEDED" {
        return Err(rate_limit::rate_limited(
            &headers,
            retry_after_ms,
            std::time::SystemTime::now(),
        ));
    }
    let reason = if errcode.is_empty() {
        format!("the homeserver answered {status}")
    } else {
        format!("{status} {errcode}: {error}")
    };
    Err(match (status, errcode.as_str()) {
        (401, _) | (_, "M_UNKNOWN_TOKEN") | (_, "M_MISSING_TOKEN") => AdapterError::Unauthorized,
        (413, _) | (_, "M_TOO_LARGE") => AdapterError::Rejected {
            reason: format!("the homeserver refused the upload as too large ({reason})"),
        },
        (408 | 500..=599, _) => AdapterError::Transient {
            reason,
            status: Some(status),
        },
        _ => AdapterError::Rejected { reason },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attachment_travels_as_one_media_id_and_back() {
        let attachment = Attachment {
            url: "mxc://localhost/abc".into(),
            mimetype: "image/png".into(),
            size: 10,
            w: Some(2),
            h: Some(3),
            alt: Some("a red square".into()),
        };
        let id = serde_json::to_string(&attachment).unwrap();
        let back: Attachment = serde_json::from_str(&id).unwrap();
        assert_eq!(back.url, attachment.url);
        assert_eq!(back.alt.as_deref(), Some("a red square"));
        assert_eq!((back.w, back.h), (Some(2), Some(3)));
    }
}
