//! `/dev/outbox`: the mails the embedded default kept instead of sending,
//! newest first, with their links clickable. Served only while mail goes to
//! the outbox (which production refuses).

use std::fmt::Write;

use actix_web::{HttpResponse, web};
use html_escape::{encode_double_quoted_attribute, encode_text};

use super::error::{ApiError, ErrorBody, ErrorCode};
use crate::accounts::Accounts;
use crate::mail::StoredMail;

/// Mails shown at most.
const SHOWN: usize = 50;

/// The development outbox (HTML).
#[utoipa::path(
    get, path = "/dev/outbox", tag = "dev",
    responses(
        (status = 200, description = "The newest mails, as an HTML page", content_type = "text/html"),
        (status = 404, description = "Mail is sent by SMTP: there is no outbox", body = ErrorBody),
    )
)]
pub async fn page(accounts: web::Data<Accounts>) -> Result<HttpResponse, ApiError> {
    let outbox = accounts.mailer().outbox().ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            "there is no outbox: mail is sent through SMTP",
        )
    })?;
    let mails = outbox.newest(SHOWN).await;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(render(&mails)))
}

fn render(mails: &[StoredMail]) -> String {
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Outbox — Prasaran (development)</title></head><body>\
         <h1>Outbox</h1><p>Development only: mail Prasaran would have sent, newest first. \
         In production it goes through SMTP (<code>mail.transport = \"smtp\"</code>).</p>",
    );
    if mails.is_empty() {
        html.push_str("<p>No mail yet. Sign up, or ask for a password reset, and reload.</p>");
    }
    for mail in mails {
        let _ = write!(
            html,
            "<article><hr><p><strong>To:</strong> {}<br><strong>Subject:</strong> {}<br><small>{}</small></p><pre>{}</pre></article>",
            encode_text(&mail.to),
            encode_text(&mail.subject),
            mail.sent_at.to_rfc3339(),
            with_links(&mail.text),
        );
    }
    html.push_str("</body></html>");
    html
}

/// The text, escaped, with every http(s) URL made a link.
fn with_links(text: &str) -> String {
    let mut finder = linkify::LinkFinder::new();
    finder.kinds(&[linkify::LinkKind::Url]);
    let mut out = String::with_capacity(text.len());
    for span in finder.spans(text) {
        let part = span.as_str();
        let is_web = part.starts_with("http://") || part.starts_with("https://");
        if span.kind().is_some() && is_web {
            let _ = write!(
                out,
                "<a href=\"{}\">{}</a>",
                encode_double_quoted_attribute(part),
                encode_text(part)
            );
        } else {
            out.push_str(&encode_text(part));
        }
    }
    out
}
