//! Status text as Mastodon reads it: the entities it extracts (URLs with a
//! scheme, `@mentions`, `#hashtags`), the length `StatusLengthValidator`
//! counts, and the HTML `TextFormatter` renders.

use std::sync::LazyLock;

use regex::Regex;
use unicode_segmentation::UnicodeSegmentation;

/// `StatusLengthValidator::URL_PLACEHOLDER_CHARS`.
pub const URL_CHARS: usize = 23;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entity {
    Url(String),
    /// `@user` or `@user@domain`: the username and the domain, if any.
    Mention(String, Option<String>),
    Hashtag(String),
}

/// An entity and its byte range in the text.
#[derive(Debug, Clone)]
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub entity: Entity,
}

static URL: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"(?i)\bhttps?://[^\s<>"]+"#).ok());
static MENTION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^@([A-Za-z0-9_]+(?:[.\-]+[A-Za-z0-9_]+)*)(?:@([\w\-]+(?:\.[\w\-]+)*\w))?").ok()
});
static HASHTAG: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^#([\w·]*[\p{L}_·][\w·]*)").ok());

/// Trailing characters a URL does not end with (twitter-text's rules, roughly):
/// sentence punctuation, and a closing bracket with no opening one inside.
fn trim_url(candidate: &str) -> &str {
    let mut url = candidate;
    loop {
        let Some(last) = url.chars().last() else {
            return url;
        };
        let unbalanced = |open: char, close: char| {
            last == close && url.matches(open).count() < url.matches(close).count()
        };
        if matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '"' | '*')
            || unbalanced('(', ')')
            || unbalanced('[', ']')
            || unbalanced('{', '}')
        {
            url = &url[..url.len() - last.len_utf8()];
        } else {
            return url;
        }
    }
}

/// A URL needs a host with a dot (a TLD) or `localhost`.
fn plausible_host(url: &str) -> bool {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .is_some_and(|host| host.contains('.') || host == "localhost")
}

fn word_before(text: &str, at: usize) -> Option<char> {
    text[..at].chars().last()
}

/// Every entity, left to right, none overlapping (URLs win).
pub fn entities(text: &str) -> Vec<Found> {
    let mut found: Vec<Found> = Vec::new();
    if let Some(url_re) = URL.as_ref() {
        for m in url_re.find_iter(text) {
            let url = trim_url(m.as_str());
            if plausible_host(url) {
                found.push(Found {
                    start: m.start(),
                    end: m.start() + url.len(),
                    entity: Entity::Url(url.to_owned()),
                });
            }
        }
    }
    let overlaps = |found: &[Found], start: usize, end: usize| {
        found.iter().any(|f| start < f.end && f.start < end)
    };
    let mut extra = Vec::new();
    for (at, ch) in text.char_indices() {
        let before = word_before(text, at);
        match ch {
            // Account::MENTION_RE: not after `=`, `/` or a word character.
            '@' if !before
                .is_some_and(|c| c == '=' || c == '/' || c.is_alphanumeric() || c == '_') =>
            {
                if let Some(caps) = MENTION.as_ref().and_then(|re| re.captures(&text[at..])) {
                    let end = at + caps.get(0).map_or(0, |m| m.end());
                    if !overlaps(&found, at, end) {
                        extra.push(Found {
                            start: at,
                            end,
                            entity: Entity::Mention(
                                caps.get(1).map_or("", |m| m.as_str()).to_owned(),
                                caps.get(2).map(|m| m.as_str().to_owned()),
                            ),
                        });
                    }
                }
            }
            // Tag::HASHTAG_RE: not after `/`, `)` or a word character.
            '#' if !before
                .is_some_and(|c| c == '/' || c == ')' || c.is_alphanumeric() || c == '_') =>
            {
                if let Some(caps) = HASHTAG.as_ref().and_then(|re| re.captures(&text[at..])) {
                    let end = at + caps.get(0).map_or(0, |m| m.end());
                    if !overlaps(&found, at, end) {
                        extra.push(Found {
                            start: at,
                            end,
                            entity: Entity::Hashtag(
                                caps.get(1).map_or("", |m| m.as_str()).to_owned(),
                            ),
                        });
                    }
                }
            }
            _ => {}
        }
    }
    found.extend(extra);
    found.sort_by_key(|f| f.start);
    found
}

/// `StatusLengthValidator#countable_text`: every URL becomes 23 characters,
/// every mention its `@username` without the domain.
pub fn countable_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for found in entities(text) {
        let replacement = match &found.entity {
            Entity::Url(_) => "x".repeat(URL_CHARS),
            Entity::Mention(user, _) => format!("@{user}"),
            Entity::Hashtag(_) => continue,
        };
        out.push_str(&text[last..found.start]);
        out.push_str(&replacement);
        last = found.end;
    }
    out.push_str(&text[last..]);
    out
}

/// What the limit is compared with: the content warning and the countable
/// text, in grapheme clusters (`each_grapheme_cluster.size`).
pub fn status_length(text: &str, spoiler_text: &str) -> usize {
    let countable = if text.trim().is_empty() {
        String::new()
    } else {
        countable_text(text)
    };
    spoiler_text.graphemes(true).count() + countable.graphemes(true).count()
}

/// Rails' `ERB::Util.html_escape`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// `TextFormatter.shortened_link`.
fn link(url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    let prefix_len = ["https://www.", "http://www.", "https://", "http://"]
        .iter()
        .find(|p| lower.starts_with(*p))
        .map_or(0, |p| p.len());
    let (prefix, rest) = url.split_at(prefix_len);
    let cut = rest.char_indices().nth(30).map_or(rest.len(), |(i, _)| i);
    let (display, suffix) = rest.split_at(cut);
    format!(
        r#"<a href="{href}" target="_blank" rel="nofollow noopener" translate="no"><span class="invisible">{prefix}</span><span class="{class}">{display}</span><span class="invisible">{suffix}</span></a>"#,
        href = escape(url),
        prefix = escape(prefix),
        class = if suffix.is_empty() { "" } else { "ellipsis" },
        display = escape(display),
        suffix = escape(suffix),
    )
}

/// `TextFormatter#to_s` for a local status: entities linked (a mention only
/// when `local_account` knows the username), then `simple_format` with the
/// newlines dropped.
pub fn to_html(text: &str, domain: &str, local_account: impl Fn(&str) -> Option<String>) -> String {
    if text.trim().is_empty() {
        return String::new();
    }
    let mut html = String::with_capacity(text.len() * 2);
    let mut last = 0;
    for found in entities(text) {
        let rendered = match &found.entity {
            Entity::Url(url) => link(url),
            Entity::Hashtag(tag) => format!(
                r#"<a href="https://{domain}/tags/{lower}" class="mention hashtag" rel="tag">#<span>{tag}</span></a>"#,
                lower = escape(&tag.to_lowercase()),
                tag = escape(tag),
            ),
            Entity::Mention(user, mention_domain) => {
                let local = mention_domain
                    .as_deref()
                    .is_none_or(|d| d.eq_ignore_ascii_case(domain));
                match local.then(|| local_account(user)).flatten() {
                    Some(username) => format!(
                        r#"<span class="h-card" translate="no"><a href="https://{domain}/@{u}" class="u-url mention">@<span>{u}</span></a></span>"#,
                        u = escape(&username),
                    ),
                    None => continue,
                }
            }
        };
        html.push_str(&escape(&text[last..found.start]));
        html.push_str(&rendered);
        last = found.end;
    }
    html.push_str(&escape(&text[last..]));
    simple_format(&html)
}

/// Rails' `simple_format`: paragraphs at blank lines, `<br />` at single
/// newlines; Mastodon then deletes the newlines.
fn simple_format(html: &str) -> String {
    let normalized = html.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::new();
    let mut paragraph = String::new();
    let mut blank_run = false;
    let flush = |paragraph: &mut String, out: &mut String| {
        let trimmed = paragraph.trim_matches('\n');
        if !trimmed.is_empty() {
            out.push_str("<p>");
            out.push_str(&trimmed.replace('\n', "<br />"));
            out.push_str("</p>");
        }
        paragraph.clear();
    };
    for line in normalized.split('\n') {
        if line.trim().is_empty() && !paragraph.is_empty() {
            if !blank_run {
                flush(&mut paragraph, &mut out);
            }
            blank_run = true;
            continue;
        }
        blank_run = false;
        if !paragraph.is_empty() {
            paragraph.push('\n');
        }
        paragraph.push_str(line);
    }
    flush(&mut paragraph, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_count_23_and_mentions_only_their_username() {
        assert_eq!(
            status_length("see https://example.com/a/very/long/path/indeed", ""),
            4 + 23
        );
        assert_eq!(
            status_length("@alice@far.example hi", ""),
            "@alice hi".len()
        );
        assert_eq!(status_length("http://localhost:8080/x.", ""), 24);
        // Grapheme clusters, not code points: a family emoji is one.
        assert_eq!(status_length("👨‍👩‍👧", ""), 1);
        assert_eq!(status_length("abc", "cw"), 5);
    }

    #[test]
    fn html_escapes_links_and_breaks_paragraphs() {
        let html = to_html(
            "a <b> & \"c\"\nnext\n\nhttps://example.com #Tag",
            "x.test",
            |_| None,
        );
        assert_eq!(
            html,
            "<p>a &lt;b&gt; &amp; &quot;c&quot;<br />next</p><p><a href=\"https://example.com\" target=\"_blank\" rel=\"nofollow noopener\" translate=\"no\"><span class=\"invisible\">https://</span><span class=\"\">example.com</span><span class=\"invisible\"></span></a> <a href=\"https://x.test/tags/tag\" class=\"mention hashtag\" rel=\"tag\">#<span>Tag</span></a></p>"
        );
    }
}
