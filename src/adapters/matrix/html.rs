//! The HTML form of a message (`formatted_body`, `org.matrix.custom.html`):
//! the text escaped, its web links made links, its line breaks kept. Clients
//! that render HTML show clickable links; the plain `body` stays the text
//! as written.

use linkify::{LinkFinder, LinkKind};

/// `text` as Matrix's HTML subset.
pub fn formatted(text: &str) -> String {
    let mut finder = LinkFinder::new();
    finder.kinds(&[LinkKind::Url]);
    let mut out = String::with_capacity(text.len() + 16);
    let mut last = 0;
    for link in finder.links(text) {
        let href = link.as_str();
        // Only web links: a `javascript:` or `data:` "link" stays text.
        if !(href.starts_with("https://") || href.starts_with("http://")) {
            continue;
        }
        push_text(&mut out, &text[last..link.start()]);
        out.push_str("<a href=\"");
        out.push_str(&html_escape::encode_double_quoted_attribute(href));
        out.push_str("\">");
        out.push_str(&html_escape::encode_text(href));
        out.push_str("</a>");
        last = link.end();
    }
    push_text(&mut out, &text[last..]);
    out
}

fn push_text(out: &mut String, text: &str) {
    for (n, line) in text.split('\n').enumerate() {
        if n > 0 {
            out.push_str("<br>");
        }
        out.push_str(&html_escape::encode_text(line));
    }
}

#[cfg(test)]
mod tests {
    use super::formatted;

    #[test]
    fn links_become_links_and_the_rest_stays_text() {
        assert_eq!(
            formatted("see https://example.com/a?b=1&c=2, then <b>x</b>\nnext"),
            "see <a href=\"https://example.com/a?b=1&amp;c=2\">https://example.com/a?b=1&amp;c=2</a>, then &lt;b&gt;x&lt;/b&gt;<br>next"
        );
        assert_eq!(
            formatted("(https://example.org/x)."),
            "(<a href=\"https://example.org/x\">https://example.org/x</a>)."
        );
        assert_eq!(formatted("javascript://alert(1)"), "javascript://alert(1)");
        assert_eq!(formatted("नमस्ते 👍🏽"), "नमस्ते 👍🏽");
    }
}
