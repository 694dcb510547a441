//! `GET /` when the web app has not been built: it says how to build it, shows
//! the outcome of an OAuth callback and points at the API.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Outcome {
    connected: Option<String>,
    handle: Option<String>,
    connect_error: Option<String>,
    message: Option<String>,
}

pub async fn page(outcome: web::Query<Outcome>) -> HttpResponse {
    let esc = |s: &str| html_escape::encode_text(s).into_owned();
    let status = match (&outcome.connected, &outcome.connect_error) {
        (Some(platform), _) => format!(
            "<p role=\"status\">Connected {} as @{}. See <code>GET /api/v1/connections</code>.</p>",
            esc(platform),
            esc(outcome.handle.as_deref().unwrap_or("?"))
        ),
        (None, Some(code)) => format!(
            "<p role=\"alert\">Not connected ({}): {}</p>",
            esc(code),
            esc(outcome.message.as_deref().unwrap_or("no reason given"))
        ),
        _ => String::new(),
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Prasaran</title>\
         <main><h1>Prasaran</h1>{status}<p>The web app is not built yet: run \
         <code>scripts/serve</code> (or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>) \
         and reload this page.</p><p>The API is described at \
         <a href=\"/api/openapi.json\">/api/openapi.json</a>.</p></main></html>"
        ))
}
