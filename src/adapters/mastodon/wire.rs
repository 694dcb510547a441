//! Mastodon's entities as far as Prasaran reads them, and how its answers map
//! to [`AdapterError`]: errors are `{"error": "…"}`; a 401 means the token is
//! gone (Mastodon tokens never expire, so there is nothing to refresh).

use serde::{Deserialize, Serialize};

use crate::adapters::{AdapterError, rate_limit};

/// An instance's app registration, kept sealed per instance and redirect URI.
#[derive(Serialize, Deserialize)]
pub struct App {
    pub client_id: String,
    pub client_secret: String,
}

/// What a Mastodon grant needs besides its token: the instance and the app
/// it was made with (for revocation), and whether the instance took PKCE.
#[derive(Serialize, Deserialize)]
pub struct Grant {
    pub instance: url::Url,
    pub client_id: String,
    pub client_secret: String,
    pub pkce: bool,
}

#[derive(Deserialize)]
pub struct Token {
    pub access_token: String,
    #[serde(default)]
    pub scope: String,
}

#[derive(Deserialize)]
pub struct Me {
    pub id: String,
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    /// The profile page, `https://{domain}/@{username}`: its host is the
    /// account's domain, which may differ from the host the API is on.
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Deserialize)]
pub struct Status {
    pub id: String,
    #[serde(default)]
    pub url: Option<String>,
    pub uri: String,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub media_attachments: Vec<Attachment>,
}

#[derive(Deserialize)]
pub struct Attachment {
    pub id: String,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: String,
}

/// Sends; a refused connection never reached the instance, a timeout may have.
pub async fn send(request: reqwest::RequestBuilder) -> Result<reqwest::Response, AdapterError> {
    crate::adapters::http_client::send(request, "the Mastodon instance").await
}

/// Passes 2xx through; turns everything else into the matching error.
pub async fn classify(response: reqwest::Response) -> Result<reqwest::Response, AdapterError> {
    let status = response.status().as_u16();
    if response.status().is_success() {
        return Ok(response);
    }
    if status == 429 {
        return Err(rate_limit::rate_limited(
            response.headers(),
            None,
            std::time::SystemTime::now(),
        ));
    }
    let body: Option<ErrorBody> = response.json().await.ok();
    let reason = match body {
        Some(body) if !body.error.is_empty() => format!("{status}: {}", body.error),
        _ => format!("the instance answered {status}"),
    };
    Err(match status {
        401 => AdapterError::Unauthorized,
        403 => AdapterError::Revoked { reason },
        408 | 500..=599 => AdapterError::Transient {
            reason,
            status: Some(status),
        },
        _ => AdapterError::Rejected { reason },
    })
}

/// The text of a status's HTML `content`, as it was written: tags dropped,
/// paragraphs and line breaks back to newlines, entities decoded.
pub fn plain_text(html: &str) -> String {
    let mut text = html
        .replace("</p><p>", "\n\n")
        .replace("<br>", "\n")
        .replace("<br/>", "\n")
        .replace("<br />", "\n");
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.drain(..) {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_content_reads_back_as_the_text_written() {
        assert_eq!(
            plain_text("<p>Fish &amp; chips &lt;3</p><p>second<br />line</p>"),
            "Fish & chips <3\n\nsecond\nline"
        );
        assert_eq!(
            plain_text(
                r#"<p>see <a href="https://example.com/" rel="nofollow"><span class="invisible">https://</span><span class="">example.com/</span></a></p>"#
            ),
            "see https://example.com/"
        );
    }
}
