//! App registration (`POST /api/v1/apps`) and OAuth 2 as Mastodon's
//! Doorkeeper serves it: RFC 8414 metadata, the consent page with PKCE S256
//! (4.3+), the token endpoint (authorization_code, client_credentials; no
//! refresh tokens, tokens never expire, a live token is reused), revocation.

use std::time::Instant;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use url::Url;

use super::params::{self, Params};
use super::state::{App, CODE_TTL, Grant, random_token, token_key};
use super::{Mastodon, error};

/// `urn:ietf:wg:oauth:2.0:oob`: show the code instead of redirecting.
pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

/// Doorkeeper's `default_scopes` + `optional_scopes` in Mastodon 4.3.
pub const SCOPES: &[&str] = &[
    "read",
    "write",
    "write:accounts",
    "write:blocks",
    "write:bookmarks",
    "write:conversations",
    "write:favourites",
    "write:filters",
    "write:follows",
    "write:lists",
    "write:media",
    "write:mutes",
    "write:notifications",
    "write:reports",
    "write:statuses",
    "read:accounts",
    "read:blocks",
    "read:bookmarks",
    "read:favourites",
    "read:filters",
    "read:follows",
    "read:lists",
    "read:mutes",
    "read:notifications",
    "read:search",
    "read:statuses",
    "follow",
    "push",
    "profile",
    "admin:read",
    "admin:read:accounts",
    "admin:read:reports",
    "admin:read:domain_allows",
    "admin:read:domain_blocks",
    "admin:read:ip_blocks",
    "admin:read:email_domain_blocks",
    "admin:read:canonical_email_blocks",
    "admin:write",
    "admin:write:accounts",
    "admin:write:reports",
    "admin:write:domain_allows",
    "admin:write:domain_blocks",
    "admin:write:ip_blocks",
    "admin:write:email_domain_blocks",
    "admin:write:canonical_email_blocks",
];

/// A public, fixed VAPID key (the sandbox sends no Web Push).
pub const VAPID_KEY: &str =
    "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M=";

const INVALID_GRANT: &str = "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.";
const INVALID_CLIENT: &str = "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.";
const INVALID_SCOPE: &str = "The requested scope is invalid, unknown, or malformed.";
const INVALID_REDIRECT: &str =
    "The requested redirect uri is malformed or doesn't match client redirect URI.";
const ACCESS_DENIED: &str = "The resource owner or authorization server denied the request.";

fn split_scopes(scopes: &str) -> Vec<String> {
    scopes.split_whitespace().map(str::to_owned).collect()
}

fn validation_failed(messages: &[String]) -> HttpResponse {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        &format!("Validation failed: {}", messages.join(", ")),
    )
}

/// The `CredentialApplication` entity.
fn credential_application(app: &App) -> serde_json::Value {
    json!({
        "id": app.id,
        "name": app.name,
        "website": app.website,
        "scopes": app.scopes,
        "redirect_uri": app.redirect_uris.join("\n"),
        "redirect_uris": app.redirect_uris,
        "vapid_key": VAPID_KEY,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "client_secret_expires_at": 0,
    })
}

/// `POST /api/v1/apps`: form, multipart or JSON; `redirect_uris` a string
/// (URIs separated by whitespace) or an array.
pub async fn register(
    sandbox: web::Data<Mastodon>,
    request: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let params = match params::read(&request, payload).await {
        Ok(params) => params,
        Err(answer) => return answer,
    };
    let name = params.present("client_name").map(|n| n.trim().to_owned());
    let redirect_uris: Vec<String> = params
        .all("redirect_uris")
        .unwrap_or_default()
        .iter()
        .flat_map(|v| v.split_whitespace())
        .map(str::to_owned)
        .collect();
    let scopes = split_scopes(params.present("scopes").unwrap_or("read"));
    let website = params.present("website").map(str::to_owned);
    let mut problems = Vec::new();
    match &name {
        None => problems.push("Name can't be blank".to_owned()),
        Some(n) if n.chars().count() > 60 => {
            problems.push("Name is too long (maximum is 60 characters)".to_owned());
        }
        Some(_) => {}
    }
    if redirect_uris.is_empty() {
        problems.push("Redirect URI can't be blank".to_owned());
    }
    for uri in &redirect_uris {
        if uri == OOB {
            continue;
        }
        match Url::parse(uri) {
            Err(_) => problems.push("Redirect URI must be an absolute URI.".to_owned()),
            Ok(u) if u.fragment().is_some() => {
                problems.push("Redirect URI cannot contain a fragment.".to_owned());
            }
            Ok(u) if matches!(u.scheme(), "data" | "vbscript" | "javascript") => {
                problems.push("Redirect URI is forbidden by the server.".to_owned());
            }
            Ok(_) => {}
        }
    }
    if scopes.is_empty() || scopes.iter().any(|s| !SCOPES.contains(&s.as_str())) {
        problems.push("Scopes doesn't match configured on the server.".to_owned());
    }
    if let Some(site) = &website
        && !Url::parse(site).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
    {
        problems.push("Website is not a valid URL".to_owned());
    }
    problems.dedup();
    if !problems.is_empty() {
        return validation_failed(&problems);
    }
    let app = sandbox
        .lock()
        .register_app(name.unwrap_or_default(), website, redirect_uris, scopes);
    HttpResponse::Ok()
        .insert_header(super::NO_CACHE)
        .json(credential_application(&app))
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414, Mastodon 4.3+).
pub async fn metadata(sandbox: web::Data<Mastodon>) -> HttpResponse {
    if !sandbox.lock().faults.pkce {
        return super::no_route().await;
    }
    let url = |path: &str| sandbox.local_url(path);
    HttpResponse::Ok().json(json!({
        "issuer": sandbox.base_url.as_str(),
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": url("/oauth/authorize"),
        "token_endpoint": url("/oauth/token"),
        "app_registration_endpoint": url("/api/v1/apps"),
        "revocation_endpoint": url("/oauth/revoke"),
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }))
}

/// An authorization request that passed Doorkeeper's checks.
struct Checked {
    app: App,
    redirect_uri: String,
    scopes: Vec<String>,
    state: Option<String>,
    challenge: Option<String>,
}

/// Why a request was refused: before the redirect URI is trusted the user
/// sees an error page; after, the client is redirected with the error.
enum Refusal {
    Page(StatusCode, &'static str, &'static str),
    Redirect(String, Option<String>, &'static str, &'static str),
}

impl Refusal {
    fn response(self) -> HttpResponse {
        match self {
            Refusal::Page(status, code, description) => error_page(status, code, description),
            Refusal::Redirect(uri, state, code, description) => {
                if uri == OOB {
                    return error_page(StatusCode::BAD_REQUEST, code, description);
                }
                let mut target = match Url::parse(&uri) {
                    Ok(target) => target,
                    Err(_) => return error_page(StatusCode::BAD_REQUEST, code, description),
                };
                {
                    let mut pairs = target.query_pairs_mut();
                    pairs
                        .append_pair("error", code)
                        .append_pair("error_description", description);
                    if let Some(state) = &state {
                        pairs.append_pair("state", state);
                    }
                }
                HttpResponse::Found()
                    .insert_header((header::LOCATION, target.to_string()))
                    .finish()
            }
        }
    }
}

fn error_page(status: StatusCode, code: &str, description: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><title>Mastodon sandbox</title><h1>An error has occurred</h1><p>{}</p><pre>{}</pre>",
            html_escape::encode_text(description),
            html_escape::encode_text(code),
        ))
}

/// Doorkeeper's `PreAuthorization` validations, in its order.
fn check(sandbox: &Mastodon, params: &Params) -> Result<Checked, Refusal> {
    let Some(client_id) = params.present("client_id") else {
        return Err(Refusal::Page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: client_id.",
        ));
    };
    let (app, pkce) = {
        let state = sandbox.lock();
        (state.app(client_id).cloned(), state.faults.pkce)
    };
    let Some(app) = app else {
        return Err(Refusal::Page(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            INVALID_CLIENT,
        ));
    };
    let redirect_uri = params.get("redirect_uri").unwrap_or_default().to_owned();
    if !app.redirect_uris.contains(&redirect_uri) {
        return Err(Refusal::Page(
            StatusCode::BAD_REQUEST,
            "invalid_redirect_uri",
            INVALID_REDIRECT,
        ));
    }
    let state = params.get("state").map(str::to_owned);
    let refuse = |code, description| {
        Err(Refusal::Redirect(
            redirect_uri.clone(),
            state.clone(),
            code,
            description,
        ))
    };
    match params.get("response_type") {
        None | Some("") => {
            return refuse(
                "invalid_request",
                "Missing required parameter: response_type.",
            );
        }
        Some("code") => {}
        Some(_) => {
            return refuse(
                "unsupported_response_type",
                "The authorization server does not support this response type.",
            );
        }
    }
    let scopes = split_scopes(params.present("scope").unwrap_or("read"));
    if scopes
        .iter()
        .any(|s| !app.scopes.contains(s) || !SCOPES.contains(&s.as_str()))
    {
        return refuse("invalid_scope", INVALID_SCOPE);
    }
    let challenge = if pkce {
        match params.present("code_challenge") {
            None => None,
            Some(challenge) => {
                if params.get("code_challenge_method") != Some("S256") {
                    return refuse(
                        "invalid_code_challenge_method",
                        "The code_challenge_method must be S256.",
                    );
                }
                Some(challenge.to_owned())
            }
        }
    } else {
        // Before 4.3 Doorkeeper had no PKCE columns: the parameters are ignored.
        None
    };
    Ok(Checked {
        app,
        redirect_uri,
        scopes,
        state,
        challenge,
    })
}

/// `GET /oauth/authorize`: the consent page. The sandbox has no sign-in: the
/// person types the username to act as (the account is made on first use).
pub async fn consent(sandbox: web::Data<Mastodon>, request: HttpRequest) -> HttpResponse {
    let params = Params::from_query(&request);
    let checked = match check(&sandbox, &params) {
        Ok(checked) => checked,
        Err(refusal) => return refusal.response(),
    };
    let hidden = |name: &str, value: &str| {
        format!(
            r#"<input type="hidden" name="{name}" value="{}">"#,
            html_escape::encode_double_quoted_attribute(value)
        )
    };
    let mut fields = vec![
        hidden("response_type", "code"),
        hidden("client_id", &checked.app.client_id),
        hidden("redirect_uri", &checked.redirect_uri),
        hidden("scope", &checked.scopes.join(" ")),
    ];
    if let Some(state) = &checked.state {
        fields.push(hidden("state", state));
    }
    if let Some(challenge) = &checked.challenge {
        fields.push(hidden("code_challenge", challenge));
        fields.push(hidden("code_challenge_method", "S256"));
    }
    let scopes: String = checked
        .scopes
        .iter()
        .map(|s| format!("<li><code>{}</code></li>", html_escape::encode_text(s)))
        .collect();
    let page = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Authorization required - {domain}</title></head>
<body>
<main>
<h1>Authorization required</h1>
<p><strong>{app}</strong> would like permission to access your account on <strong>{domain}</strong>. It is a third-party application. If you do not trust it, then you should not authorize it.</p>
<h2>Review permissions</h2>
<ul>{scopes}</ul>
<form method="post" action="/oauth/authorize">
{fields}
<p><label for="handle">Username on {domain}</label>
<input id="handle" name="handle" value="sandbox_user" required pattern="[A-Za-z0-9_]([A-Za-z0-9_.\-]{{0,28}}[A-Za-z0-9_])?"></p>
<p><button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button></p>
</form>
</main>
</body></html>"#,
        domain = html_escape::encode_text(&sandbox.domain),
        app = html_escape::encode_text(&checked.app.name),
        fields = fields.concat(),
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page)
}

/// Mastodon's username rule (`Account::USERNAME_ONLY_RE`, 30 characters).
fn valid_username(username: &str) -> bool {
    let bytes = username.as_bytes();
    let edge = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    (1..=30).contains(&bytes.len())
        && bytes.first().is_some_and(edge)
        && bytes.last().is_some_and(edge)
        && bytes.iter().all(|b| edge(b) || *b == b'.' || *b == b'-')
}

/// `POST /oauth/authorize`: the consent decision; redirects back to the client
/// (or, for `urn:ietf:wg:oauth:2.0:oob`, to a page showing the code).
pub async fn decide(
    sandbox: web::Data<Mastodon>,
    request: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let params = match params::read(&request, payload).await {
        Ok(params) => params,
        Err(answer) => return answer,
    };
    let checked = match check(&sandbox, &params) {
        Ok(checked) => checked,
        Err(refusal) => return refusal.response(),
    };
    if params.get("decision") != Some("approve") {
        sandbox.lock().calls.denials += 1;
        return Refusal::Redirect(
            checked.redirect_uri,
            checked.state,
            "access_denied",
            ACCESS_DENIED,
        )
        .response();
    }
    let username = params
        .present("handle")
        .or_else(|| params.present("username"))
        .unwrap_or_default()
        .trim();
    if !valid_username(username) {
        return error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_username",
            "A username is 1 to 30 letters, digits and underscores (dots and dashes inside).",
        );
    }
    let code = random_token();
    {
        let mut state = sandbox.lock();
        state.calls.approvals += 1;
        let account = state.account_for(username);
        state.grants.insert(
            code.clone(),
            Grant {
                client_id: checked.app.client_id.clone(),
                account_id: account.id,
                redirect_uri: checked.redirect_uri.clone(),
                scopes: checked.scopes,
                challenge: checked.challenge,
                expires: Instant::now() + CODE_TTL,
                used: false,
            },
        );
    }
    let target = if checked.redirect_uri == OOB {
        let mut target = sandbox
            .base_url
            .join("/oauth/authorize/native")
            .unwrap_or_else(|_| sandbox.base_url.clone());
        target.query_pairs_mut().append_pair("code", &code);
        target
    } else {
        let Ok(mut target) = Url::parse(&checked.redirect_uri) else {
            return error_page(
                StatusCode::BAD_REQUEST,
                "invalid_redirect_uri",
                INVALID_REDIRECT,
            );
        };
        {
            let mut pairs = target.query_pairs_mut();
            pairs.append_pair("code", &code);
            if let Some(state) = &checked.state {
                pairs.append_pair("state", state);
            }
        }
        target
    };
    HttpResponse::Found()
        .insert_header((header::LOCATION, target.to_string()))
        .finish()
}

/// `GET /oauth/authorize/native?code=…`: the code, for `oob` clients.
pub async fn native(request: HttpRequest) -> HttpResponse {
    let params = Params::from_query(&request);
    let code = params.get("code").unwrap_or_default();
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><title>Authorization code</title><h1>Authorization code</h1><p>Copy this authorization code and paste it to the application.</p><input id=\"code\" readonly value=\"{}\">",
            html_escape::encode_double_quoted_attribute(code)
        ))
}

fn oauth_error(status: StatusCode, code: &str, description: &str) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    if status == StatusCode::UNAUTHORIZED {
        response.insert_header((
            header::WWW_AUTHENTICATE,
            format!(
                "Bearer realm=\"Doorkeeper\", error=\"{code}\", error_description=\"{description}\""
            ),
        ));
    }
    response.json(json!({"error": code, "error_description": description}))
}

/// Client credentials from HTTP Basic (form-urlencoded, RFC 6749 §2.3.1),
/// else from `client_id` / `client_secret` parameters.
fn client_credentials(request: &HttpRequest, params: &Params) -> Option<(String, String)> {
    let basic = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| STANDARD.decode(v.trim()).ok())
        .and_then(|v| String::from_utf8(v).ok());
    if let Some(decoded) = basic {
        let (id, secret) = decoded.split_once(':')?;
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("v={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        return Some((decode(id), decode(secret)));
    }
    Some((
        params.get("client_id")?.to_owned(),
        params.get("client_secret")?.to_owned(),
    ))
}

/// The app the request authenticates as.
fn authenticated_app(sandbox: &Mastodon, request: &HttpRequest, params: &Params) -> Option<App> {
    let (id, secret) = client_credentials(request, params)?;
    let state = sandbox.lock();
    let app = state.app(&id)?;
    bool::from(
        token_key(&secret)
            .as_bytes()
            .ct_eq(app.secret_hash.as_bytes()),
    )
    .then(|| app.clone())
}

/// `POST /oauth/token`.
pub async fn token(
    sandbox: web::Data<Mastodon>,
    request: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let params = match params::read(&request, payload).await {
        Ok(params) => params,
        Err(answer) => return answer,
    };
    sandbox.lock().calls.token_requests += 1;
    let answer = grant(&sandbox, &request, &params);
    if !answer.status().is_success() {
        sandbox.lock().calls.token_errors += 1;
    }
    answer
}

fn grant(sandbox: &Mastodon, request: &HttpRequest, params: &Params) -> HttpResponse {
    let bad =
        |code: &str, description: &str| oauth_error(StatusCode::BAD_REQUEST, code, description);
    let grant_type = match params.present("grant_type") {
        None => return bad("invalid_request", "Missing required parameter: grant_type."),
        Some(g @ ("authorization_code" | "client_credentials")) => g.to_owned(),
        Some(_) => {
            return bad(
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
            );
        }
    };
    let Some(app) = authenticated_app(sandbox, request, params) else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", INVALID_CLIENT);
    };
    let mut state = sandbox.lock();
    let (account_id, scopes) = if grant_type == "client_credentials" {
        let scopes = split_scopes(params.present("scope").unwrap_or("read"));
        if scopes
            .iter()
            .any(|s| !app.scopes.contains(s) || !SCOPES.contains(&s.as_str()))
        {
            return bad("invalid_scope", INVALID_SCOPE);
        }
        state.calls.client_credentials += 1;
        (None, scopes)
    } else {
        let Some(code) = params.present("code") else {
            return bad("invalid_request", "Missing required parameter: code.");
        };
        let pkce = state.faults.pkce;
        let Some(grant) = state.grants.get_mut(code) else {
            return bad("invalid_grant", INVALID_GRANT);
        };
        if grant.used || grant.expires <= Instant::now() || grant.client_id != app.client_id {
            return bad("invalid_grant", INVALID_GRANT);
        }
        if params.get("redirect_uri") != Some(grant.redirect_uri.as_str()) {
            return bad("invalid_grant", INVALID_GRANT);
        }
        if pkce {
            // Doorkeeper: no verifier is fine only without a challenge; a
            // verifier must hash to the challenge (there is none to match
            // when the client sent no challenge).
            let verifier = params.present("code_verifier");
            let verified = match (&grant.challenge, verifier) {
                (None, None) => true,
                (Some(challenge), Some(verifier)) => {
                    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
                    bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
                }
                _ => false,
            };
            if !verified {
                return bad("invalid_grant", INVALID_GRANT);
            }
        }
        grant.used = true;
        let found = (Some(grant.account_id.clone()), grant.scopes.clone());
        state.calls.token_exchanges += 1;
        found
    };
    let token = state.issue_token(&app.client_id, account_id.as_deref(), &scopes);
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(json!({
            "access_token": token.token,
            "token_type": "Bearer",
            "scope": token.scopes.join(" "),
            "created_at": token.created_at.timestamp(),
        }))
}

/// `POST /oauth/revoke` (RFC 7009 as Doorkeeper answers it).
pub async fn revoke(
    sandbox: web::Data<Mastodon>,
    request: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let params = match params::read(&request, payload).await {
        Ok(params) => params,
        Err(answer) => return answer,
    };
    let Some(app) = authenticated_app(&sandbox, &request, &params) else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", INVALID_CLIENT);
    };
    let presented = params.get("token").unwrap_or_default();
    let mut state = sandbox.lock();
    let Some(token) = state.tokens.get_mut(&token_key(presented)) else {
        // Unknown tokens are not an error.
        return HttpResponse::Ok().json(json!({}));
    };
    if token.client_id != app.client_id {
        return oauth_error(
            StatusCode::FORBIDDEN,
            "unauthorized_client",
            "You are not authorized to revoke this token",
        );
    }
    if !token.revoked {
        token.revoked = true;
        state.calls.revocations += 1;
    }
    HttpResponse::Ok().json(json!({}))
}
