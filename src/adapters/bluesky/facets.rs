//! Rich-text facets found in a post's text, as Bluesky's own app finds them
//! (`detectFacets` in `@atproto/api`): links (with or without a scheme),
//! `@handle` mentions and `#tags`. Offsets are UTF-8 byte offsets into the
//! text, which is what the record's `index.byteStart/byteEnd` mean; a Rust
//! `str` is UTF-8, so a match's range is already in those units.

use std::sync::LazyLock;

use regex::Regex;

/// Where a feature sits in the text, in UTF-8 bytes (end exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub feature: Feature,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feature {
    Link(String),
    /// The handle as written (without `@`): resolved to a DID before posting.
    Mention(String),
    /// The tag without `#`.
    Tag(String),
}

// Patterns that fail to compile find nothing (the unit tests below would fail).
static MENTION: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?:^|\s|\()@([a-zA-Z0-9.-]+)\b").ok());
static LINK: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?im)(?:^|\s|\()((?:https?://\S+)|(?:(?P<domain>[a-z][a-z0-9]*(?:\.[a-z0-9]+)+)\S*))",
    )
    .ok()
});
/// Characters that never belong to a tag: whitespace and the invisible
/// joiners and hyphens Bluesky's pattern excludes.
const NOT_IN_TAG: &str = r"\s\x{00AD}\x{2060}\x{200A}\x{200B}\x{200C}\x{200D}\x{20E2}";
static TAG: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?:^|\s)([#＃])([^{NOT_IN_TAG}]*[^\d{NOT_IN_TAG}\p{{P}}]+[^{NOT_IN_TAG}]*)"
    ))
    .ok()
});

/// Longest tag Bluesky links (in characters).
const MAX_TAG_CHARS: usize = 64;

/// Top-level domains a bare `example.com` may end with: the countries' and
/// the common generic ones. Bluesky checks against the full IANA list, so a
/// rare generic one written without `https://` stays plain text here.
const COUNTRY_TLDS: &str = "ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo br bs bt bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec ee eg er es et eu fi fj fk fm fo fr ga gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm mn mo mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sk sl sm sn so sr ss st su sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw";
const GENERIC_TLDS: &[&str] = &[
    "com", "org", "net", "edu", "gov", "mil", "int", "info", "biz", "name", "pro", "app", "dev",
    "io", "ai", "social", "blog", "news", "xyz", "online", "site", "tech", "store", "cloud",
    "page", "art", "design", "space", "live", "media", "network", "world", "today", "email",
];

fn valid_domain(domain: &str, allow_test: bool) -> bool {
    let Some(tld) = domain.rsplit('.').next() else {
        return false;
    };
    let tld = tld.to_ascii_lowercase();
    domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
        && ((tld.len() == 2 && COUNTRY_TLDS.split(' ').any(|c| c == tld))
            || GENERIC_TLDS.contains(&tld.as_str())
            || (allow_test && tld == "test"))
}

/// Every link, mention and tag in `text`, in order, none overlapping.
pub fn detect(text: &str) -> Vec<Found> {
    let mut found = Vec::new();
    let (Some(mention), Some(link), Some(tag)) = (&*MENTION, &*LINK, &*TAG) else {
        return Vec::new();
    };
    for caps in mention.captures_iter(text) {
        let Some(handle) = caps.get(1) else { continue };
        // Handles on a development PDS end in `.test`, as Bluesky's app allows.
        if valid_domain(handle.as_str(), true) {
            found.push(Found {
                start: handle.start() - 1,
                end: handle.end(),
                feature: Feature::Mention(handle.as_str().to_owned()),
            });
        }
    }
    for caps in link.captures_iter(text) {
        let Some(whole) = caps.get(1) else { continue };
        let mut uri = whole.as_str().to_owned();
        if !uri.to_ascii_lowercase().starts_with("http") {
            match caps.name("domain") {
                Some(domain) if valid_domain(domain.as_str(), false) => {}
                _ => continue,
            }
            uri = format!("https://{uri}");
        }
        let mut end = whole.end();
        // A sentence's full stop (or a closing bracket it did not open) is not the link's.
        if uri.ends_with(['.', ',', ';', ':', '!', '?']) {
            uri.pop();
            end -= 1;
        }
        if uri.ends_with(')') && !uri.contains('(') {
            uri.pop();
            end -= 1;
        }
        found.push(Found {
            start: whole.start(),
            end,
            feature: Feature::Link(uri),
        });
    }
    for caps in tag.captures_iter(text) {
        let (Some(hash), Some(body)) = (caps.get(1), caps.get(2)) else {
            continue;
        };
        let body = body.as_str();
        // A keycap (#️⃣) is an emoji, not a tag.
        if body.starts_with('\u{FE0F}') {
            continue;
        }
        let tag = body.trim_end_matches(|c: char| c.is_ascii_punctuation() || is_punctuation(c));
        if tag.is_empty() || tag.chars().count() > MAX_TAG_CHARS {
            continue;
        }
        found.push(Found {
            start: hash.start(),
            end: hash.end() + tag.len(),
            feature: Feature::Tag(tag.to_owned()),
        });
    }
    found.sort_by_key(|f| (f.start, f.end));
    // Facets may not overlap: the first to start wins.
    let mut kept: Vec<Found> = Vec::with_capacity(found.len());
    for f in found {
        if kept.last().is_none_or(|last| f.start >= last.end) {
            kept.push(f);
        }
    }
    kept
}

/// Unicode punctuation beyond ASCII that ends a sentence after a tag.
fn is_punctuation(c: char) -> bool {
    static PUNCTUATION: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"^\p{P}$").ok());
    let mut buffer = [0u8; 4];
    PUNCTUATION
        .as_ref()
        .is_some_and(|p| p.is_match(c.encode_utf8(&mut buffer)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str) -> Vec<(&str, Feature)> {
        detect(text)
            .into_iter()
            .map(|f| (&text[f.start..f.end], f.feature))
            .collect()
    }

    #[test]
    fn offsets_are_utf8_bytes_past_emoji_and_devanagari() {
        let text = "नमस्ते 👋🏽 @alice.test see https://example.com/a?b=c. #हिंदी #rust!";
        let found = detect(text);
        assert_eq!(
            spans(text),
            vec![
                ("@alice.test", Feature::Mention("alice.test".into())),
                (
                    "https://example.com/a?b=c",
                    Feature::Link("https://example.com/a?b=c".into())
                ),
                ("#हिंदी", Feature::Tag("हिंदी".into())),
                ("#rust", Feature::Tag("rust".into())),
            ]
        );
        // "नमस्ते " is 19 bytes and "👋🏽 " 9: the mention starts at byte 28,
        // though it is the 9th character (a JavaScript index would say 10).
        assert_eq!((found[0].start, found[0].end), (28, 39));
    }

    #[test]
    fn bare_domains_need_a_known_ending_and_get_https() {
        assert_eq!(
            spans("read example.com/x, or bsky.app"),
            vec![
                (
                    "example.com/x",
                    Feature::Link("https://example.com/x".into())
                ),
                ("bsky.app", Feature::Link("https://bsky.app".into())),
            ]
        );
        assert!(detect("node.js and file.txt and e.g").is_empty());
    }

    #[test]
    fn what_is_not_a_facet() {
        // An address is not a mention, a bare number not a tag, a keycap not a tag,
        // and a word without a dot not a handle.
        assert!(detect("mail bob@example.org about #1 and #️⃣ or @bob").is_empty());
        // A bracket the link did not open is the sentence's.
        assert_eq!(
            spans("(see https://example.com/page)"),
            vec![(
                "https://example.com/page",
                Feature::Link("https://example.com/page".into())
            )]
        );
        assert_eq!(
            spans("https://en.wikipedia.org/wiki/Rust_(language)")[0].0,
            "https://en.wikipedia.org/wiki/Rust_(language)"
        );
    }

    #[test]
    fn facets_never_overlap() {
        let found = detect("https://example.com/#tag @a.test #x https://b.org");
        for pair in found.windows(2) {
            assert!(pair[0].end <= pair[1].start, "{found:?}");
        }
        assert_eq!(found.len(), 4, "{found:?}");
    }
}
