//! Manch's wire formats and how its HTTP answers map to [`AdapterError`].

use serde::{Deserialize, Serialize};

use crate::adapters::{AdapterError, PublishedPost, rate_limit};

#[derive(Serialize)]
pub struct NewPost<'a> {
    pub text: &'a str,
    /// Left out when empty, so a text-only post is the request it always was.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub media_ids: &'a [String],
}

#[derive(Deserialize)]
pub struct Me {
    pub id: String,
    pub handle: String,
    pub display_name: String,
}

#[derive(Deserialize)]
struct Post {
    id: String,
    url: String,
}

/// `POST /v1/media` and `GET /v1/media/{id}` answers, as far as Prasaran reads them.
#[derive(Deserialize)]
pub struct Media {
    pub id: String,
    /// `processing` (a video being transcoded) or `ready`.
    pub state: String,
}

impl Media {
    pub fn is_ready(&self) -> bool {
        self.state == "ready"
    }
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

pub async fn post(response: reqwest::Response) -> Result<PublishedPost, AdapterError> {
    let post: Post = response.json().await.map_err(|e| AdapterError::Unknown {
        reason: format!("unreadable post response: {e}"),
    })?;
    Ok(PublishedPost {
        id: post.id,
        url: post.url,
    })
}

pub async fn media(response: reqwest::Response) -> Result<Media, AdapterError> {
    response.json().await.map_err(|e| AdapterError::Unknown {
        reason: format!("unreadable media response: {e}"),
    })
}

/// A request that failed before an answer: a refused connection never reached
/// Manch; a timeout or broken connection may have.
pub fn classify_send_error(error: &reqwest::Error) -> AdapterError {
    if error.is_connect() {
        AdapterError::Transient {
            reason: "could not connect to Manch".into(),
            status: None,
        }
    } else if error.is_timeout() {
        AdapterError::Unknown {
            reason: "Manch did not answer in time".into(),
        }
    } else {
        AdapterError::Unknown {
            reason: format!("the connection to Manch failed: {}", without_url(error)),
        }
    }
}

/// reqwest's Display includes the URL, which may carry a query; keep the kind only.
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), "<url>");
    }
    text
}

/// Passes 2xx through; turns everything else into the matching error.
pub async fn classify_status(
    response: reqwest::Response,
) -> Result<reqwest::Response, AdapterError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    if status.as_u16() == 429 {
        return Err(rate_limit::rate_limited(
            response.headers(),
            None,
            std::time::SystemTime::now(),
        ));
    }
    if status.as_u16() == 401 {
        return Err(AdapterError::Unauthorized);
    }
    let body: ErrorBody = response.json().await.unwrap_or_default();
    let reason = body
        .error_description
        .unwrap_or_else(|| format!("{} {}", status.as_u16(), body.error));
    Err(match status.as_u16() {
        403 => AdapterError::Revoked { reason },
        // The server gave up waiting for our request (seen under load in a
        // 30-minute run): nothing was posted, so it is worth another try.
        408 | 500..=599 => AdapterError::Transient {
            reason,
            status: Some(status.as_u16()),
        },
        _ => AdapterError::Rejected { reason },
    })
}
