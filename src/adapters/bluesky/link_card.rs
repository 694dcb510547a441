//! The link card of a post with one link: Bluesky shows none unless the
//! client sends it (`app.bsky.embed.external`), so the page is read once,
//! when the task is created, for its title and description (Open Graph tags,
//! else `<title>` and the description meta tag).
//!
//! The URL is the user's, so reading it must not become a way into the
//! network Prasaran runs in: by default only public addresses are read, each
//! redirect is checked again, the connection goes to the address that was
//! checked, and at most [`MAX_PAGE_BYTES`] are read within [`TIME_ALLOWED`].

use std::net::SocketAddr;
use std::sync::LazyLock;
use std::time::Duration;

use futures_util::StreamExt;
use regex::Regex;
use url::Url;

use crate::adapters::address::public_address;
pub use crate::settings::LinkCards;

const MAX_PAGE_BYTES: usize = 512 * 1024;
const TIME_ALLOWED: Duration = Duration::from_secs(3);
const MAX_REDIRECTS: usize = 3;
const MAX_TITLE_CHARS: usize = 300;
const MAX_DESCRIPTION_CHARS: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    pub uri: String,
    pub title: String,
    pub description: String,
}

/// The card for `uri`, or `None` when the page cannot be read (or may not be).
pub async fn fetch(uri: &str, policy: LinkCards) -> Option<Card> {
    if policy == LinkCards::Off {
        return None;
    }
    let outcome = tokio::time::timeout(TIME_ALLOWED, read_page(uri, policy)).await;
    let html = match outcome {
        Ok(Ok(html)) => html,
        Ok(Err(why)) => {
            tracing::info!(%why, "no link card");
            return None;
        }
        Err(_) => {
            tracing::info!("no link card: the page did not answer in time");
            return None;
        }
    };
    let (title, description) = card_text(&html);
    let title = title?;
    Some(Card {
        uri: uri.to_owned(),
        title: truncate(&title, MAX_TITLE_CHARS),
        description: truncate(&description.unwrap_or_default(), MAX_DESCRIPTION_CHARS),
    })
}

async fn read_page(uri: &str, policy: LinkCards) -> Result<String, String> {
    let mut url = Url::parse(uri).map_err(|e| e.to_string())?;
    for _ in 0..=MAX_REDIRECTS {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{} is not a web address", url.scheme()));
        }
        let host = url.host_str().ok_or("no host")?.to_owned();
        let port = url.port_or_known_default().ok_or("no port")?;
        let address = checked_address(&host, port, policy).await?;
        // Pinned to the address just checked: no second lookup can point elsewhere.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .resolve(&host, address)
            .user_agent(concat!(
                "prasaran/",
                env!("CARGO_PKG_VERSION"),
                " (link card)"
            ))
            .build()
            .map_err(|e| e.to_string())?;
        let response = client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "text/html")
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if response.status().is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or("a redirect without a location")?;
            url = url.join(location).map_err(|e| e.to_string())?;
            continue;
        }
        if !response.status().is_success() {
            return Err(format!("the page answered {}", response.status()));
        }
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            body.extend_from_slice(&chunk.map_err(|e| e.to_string())?);
            if body.len() >= MAX_PAGE_BYTES {
                break;
            }
        }
        return Ok(String::from_utf8_lossy(&body).into_owned());
    }
    Err("too many redirects".into())
}

/// The first address of `host` when every address it has may be read.
async fn checked_address(host: &str, port: u16, policy: LinkCards) -> Result<SocketAddr, String> {
    public_address(host, port, policy == LinkCards::Public).await
}

static META: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"(?is)<meta\s[^>]*>").ok());
static ATTRIBUTE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"(?is)([a-z:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')"#).ok());
static TITLE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?is)<title[^>]*>(.*?)</title>").ok());

/// The page's title and description, Open Graph first.
fn card_text(html: &str) -> (Option<String>, Option<String>) {
    let (Some(meta), Some(attribute), Some(title_tag)) = (&*META, &*ATTRIBUTE, &*TITLE) else {
        return (None, None);
    };
    let mut found: Vec<(String, String)> = Vec::new();
    for tag in meta.find_iter(html) {
        let mut name = None;
        let mut content = None;
        for caps in attribute.captures_iter(tag.as_str()) {
            let key = caps.get(1).map(|m| m.as_str().to_ascii_lowercase());
            let value = caps.get(2).or(caps.get(3)).map(|m| m.as_str().to_owned());
            match key.as_deref() {
                Some("property" | "name") => name = value.map(|v| v.to_ascii_lowercase()),
                Some("content") => content = value,
                _ => {}
            }
        }
        if let (Some(name), Some(content)) = (name, content) {
            found.push((name, unescape(content.trim())));
        }
    }
    let first = |names: &[&str]| {
        names.iter().find_map(|n| {
            found
                .iter()
                .find(|(name, content)| name == n && !content.is_empty())
                .map(|(_, content)| content.clone())
        })
    };
    let title = first(&["og:title", "twitter:title"]).or_else(|| {
        title_tag
            .captures(html)
            .and_then(|c| c.get(1))
            .map(|m| unescape(m.as_str().trim()))
            .filter(|t| !t.is_empty())
    });
    let description = first(&["og:description", "twitter:description", "description"]);
    (title, description)
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_graph_comes_first_then_title_and_description() {
        let page = r#"<html><head><title>Plain &amp; simple</title>
            <meta name="description" content="From the meta tag">
            <meta content='The OG title' property='og:title'/></head></html>"#;
        assert_eq!(
            card_text(page),
            (
                Some("The OG title".into()),
                Some("From the meta tag".into())
            )
        );
        assert_eq!(
            card_text("<title> Plain &amp; simple </title>"),
            (Some("Plain & simple".into()), None)
        );
        assert_eq!(card_text("<p>no head</p>"), (None, None));
    }

    #[tokio::test]
    async fn a_loopback_page_is_not_read_unless_allowed() {
        assert_eq!(
            checked_address("127.0.0.1", 80, LinkCards::Public)
                .await
                .unwrap_err(),
            "127.0.0.1 is not on a public address"
        );
        assert!(
            checked_address("127.0.0.1", 80, LinkCards::AnyAddress)
                .await
                .is_ok()
        );
        assert_eq!(fetch("http://127.0.0.1:9/", LinkCards::Public).await, None);
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
