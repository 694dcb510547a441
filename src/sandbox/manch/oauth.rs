//! `/oauth/*`: consent page, authorization codes with PKCE S256, the token
//! endpoint (HTTP Basic client auth, refresh rotation with reuse detection),
//! and revocation.

use std::time::Instant;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use url::Url;

use super::state::{AuthCode, CODE_TTL, random_token, token_key};
use super::{Sandbox, oauth_error};

#[derive(Debug, Deserialize)]
pub struct AuthorizeParams {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    #[serde(default)]
    scope: String,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    /// Consent form only.
    handle: Option<String>,
    decision: Option<String>,
}

/// Parameters that passed validation; safe to echo into the page and redirect to.
struct Checked {
    client_id: String,
    redirect_uri: Url,
    scope: String,
    state: String,
    challenge: String,
}

fn error_page(message: &str) -> HttpResponse {
    HttpResponse::BadRequest()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><title>Manch sandbox</title><h1>Cannot authorize</h1><p>{}</p>",
            html_escape::encode_text(message)
        ))
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn check(sandbox: &Sandbox, params: &AuthorizeParams) -> Result<Checked, &'static str> {
    if params.response_type.as_deref() != Some("code") {
        return Err("response_type must be `code`");
    }
    let client_id = params.client_id.as_deref().unwrap_or_default();
    if client_id != sandbox.config.client_id {
        return Err("unknown client_id");
    }
    let redirect_uri = params
        .redirect_uri
        .as_deref()
        .and_then(|u| Url::parse(u).ok())
        .ok_or("redirect_uri is missing or not a URL")?;
    if !matches!(redirect_uri.scheme(), "http" | "https") || !is_loopback(&redirect_uri) {
        return Err("redirect_uri must point at a loopback host (localhost, 127.0.0.1, ::1)");
    }
    if params.code_challenge_method.as_deref() != Some("S256") {
        return Err("PKCE is required: code_challenge_method must be S256");
    }
    let challenge = params.code_challenge.clone().unwrap_or_default();
    if challenge.len() != 43 {
        return Err("code_challenge must be a base64url SHA-256 (43 characters)");
    }
    let state = params
        .state
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or("state is required")?;
    Ok(Checked {
        client_id: client_id.to_owned(),
        redirect_uri,
        scope: params.scope.clone(),
        state,
        challenge,
    })
}

/// `GET /oauth/authorize`: the consent page.
pub async fn consent(
    sandbox: web::Data<Sandbox>,
    params: web::Query<AuthorizeParams>,
) -> HttpResponse {
    let checked = match check(&sandbox, &params) {
        Ok(checked) => checked,
        Err(message) => return error_page(message),
    };
    let hidden = |name: &str, value: &str| {
        format!(
            r#"<input type="hidden" name="{name}" value="{}">"#,
            html_escape::encode_double_quoted_attribute(value)
        )
    };
    let fields = [
        hidden("response_type", "code"),
        hidden("client_id", &checked.client_id),
        hidden("redirect_uri", checked.redirect_uri.as_str()),
        hidden("scope", &checked.scope),
        hidden("state", &checked.state),
        hidden("code_challenge", &checked.challenge),
        hidden("code_challenge_method", "S256"),
    ]
    .concat();
    let page = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Manch sandbox — authorize {client}</title></head>
<body>
<main>
<h1>Authorize {client}</h1>
<p><strong>{client}</strong> asks to: {scope}.</p>
<form method="post" action="/oauth/authorize">
{fields}
<p><label for="handle">Manch handle</label>
<input id="handle" name="handle" value="sandbox-user" required pattern="[A-Za-z0-9_.\-]{{1,30}}"></p>
<p><button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button></p>
</form>
</main>
</body></html>"#,
        client = html_escape::encode_text(&checked.client_id),
        scope = html_escape::encode_text(&checked.scope.replace(' ', ", ")),
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page)
}

fn valid_handle(handle: &str) -> bool {
    (1..=30).contains(&handle.len())
        && handle
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// `POST /oauth/authorize`: the consent decision; redirects back to the client.
pub async fn decide(sandbox: web::Data<Sandbox>, form: web::Form<AuthorizeParams>) -> HttpResponse {
    let checked = match check(&sandbox, &form) {
        Ok(checked) => checked,
        Err(message) => return error_page(message),
    };
    let mut target = checked.redirect_uri.clone();
    if form.decision.as_deref() != Some("approve") {
        target
            .query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("error_description", "The Manch user denied the request")
            .append_pair("state", &checked.state);
    } else {
        let handle = form.handle.as_deref().unwrap_or_default().trim();
        if !valid_handle(handle) {
            return error_page("handle must be 1 to 30 letters, digits, `_`, `.` or `-`");
        }
        let code = random_token();
        let mut state = sandbox.lock();
        let account = state.account_for(handle);
        state.codes.insert(
            code.clone(),
            AuthCode {
                client_id: checked.client_id,
                redirect_uri: checked.redirect_uri.to_string(),
                challenge: checked.challenge,
                account_id: account.id,
                scope: checked.scope,
                expires: Instant::now() + CODE_TTL,
                grant: None,
            },
        );
        target
            .query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", &checked.state);
    }
    HttpResponse::Found()
        .insert_header((header::LOCATION, target.to_string()))
        .finish()
}

/// RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64.
fn client_authenticated(sandbox: &Sandbox, request: &HttpRequest) -> bool {
    let Some(encoded) = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    else {
        return false;
    };
    let Ok(decoded) = STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let Ok(decoded) = String::from_utf8(decoded) else {
        return false;
    };
    let Some((id, secret)) = decoded.split_once(':') else {
        return false;
    };
    let id = percent_encoding::percent_decode_str(id).decode_utf8_lossy();
    let secret = percent_encoding::percent_decode_str(secret).decode_utf8_lossy();
    id == sandbox.config.client_id
        && bool::from(
            secret
                .as_bytes()
                .ct_eq(sandbox.config.client_secret.as_bytes()),
        )
}

fn invalid_client() -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"manch\""))
        .json(
            json!({"error": "invalid_client", "error_description": "client authentication failed"}),
        )
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
}

fn tokens_body(access: String, refresh: String, ttl: u64, scope: &str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": ttl,
            "scope": scope,
        }))
}

/// `POST /oauth/token`.
pub async fn token(
    sandbox: web::Data<Sandbox>,
    request: HttpRequest,
    form: web::Form<TokenForm>,
) -> HttpResponse {
    {
        let mut state = sandbox.lock();
        state.token_requests += 1;
        match form.grant_type.as_deref() {
            Some("authorization_code") => state.calls.code_exchanges += 1,
            Some("refresh_token") => state.calls.refreshes += 1,
            _ => {}
        }
    }
    if !client_authenticated(&sandbox, &request) {
        return invalid_client();
    }
    match form.grant_type.as_deref() {
        Some("authorization_code") => exchange_code(&sandbox, &form),
        Some("refresh_token") => refresh(&sandbox, &form),
        _ => oauth_error(
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token",
        ),
    }
}

fn exchange_code(sandbox: &Sandbox, form: &TokenForm) -> HttpResponse {
    let mut state = sandbox.lock();
    let code = form.code.as_deref().unwrap_or_default();
    let Some(entry) = state.codes.get_mut(code) else {
        return oauth_error("invalid_grant", "unknown authorization code");
    };
    if let Some(grant) = entry.grant {
        // A replayed code may be stolen: kill what it produced.
        state.revoke_grant(grant);
        return oauth_error(
            "invalid_grant",
            "authorization code already used; its grant is revoked",
        );
    }
    if entry.expires <= Instant::now() {
        return oauth_error("invalid_grant", "authorization code expired");
    }
    if entry.client_id != sandbox.config.client_id {
        return oauth_error("invalid_grant", "code was issued to another client");
    }
    if form.redirect_uri.as_deref() != Some(entry.redirect_uri.as_str()) {
        return oauth_error(
            "invalid_grant",
            "redirect_uri does not match the authorization request",
        );
    }
    let verifier = form.code_verifier.as_deref().unwrap_or_default();
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if !bool::from(computed.as_bytes().ct_eq(entry.challenge.as_bytes())) {
        return oauth_error(
            "invalid_grant",
            "PKCE verification failed: code_verifier does not match code_challenge",
        );
    }
    let (account_id, scope) = (entry.account_id.clone(), entry.scope.clone());
    let (grant, access, refresh, ttl) = state.issue(&account_id, &scope);
    if let Some(entry) = state.codes.get_mut(code) {
        entry.grant = Some(grant);
    }
    tokens_body(access, refresh, ttl, &scope)
}

fn refresh(sandbox: &Sandbox, form: &TokenForm) -> HttpResponse {
    let mut state = sandbox.lock();
    let presented = form.refresh_token.as_deref().unwrap_or_default();
    let Some(token) = state.refresh.get_mut(&token_key(presented)) else {
        return oauth_error("invalid_grant", "unknown refresh token");
    };
    let grant = token.grant;
    if token.spent {
        state.revoke_grant(grant);
        return oauth_error(
            "invalid_grant",
            "refresh token reused; the whole grant is revoked",
        );
    }
    token.spent = true;
    let scope = match state.grants.get(&grant) {
        Some(g) if !g.revoked => g.scope.clone(),
        _ => return oauth_error("invalid_grant", "the grant was revoked"),
    };
    let (access, refresh, ttl) = state.tokens_for(grant);
    tokens_body(access, refresh, ttl, &scope)
}

#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    token: Option<String>,
}

/// `POST /oauth/revoke` (RFC 7009): ends the grant behind an access or refresh token.
pub async fn revoke(
    sandbox: web::Data<Sandbox>,
    request: HttpRequest,
    form: web::Form<RevokeForm>,
) -> HttpResponse {
    if !client_authenticated(&sandbox, &request) {
        return invalid_client();
    }
    let token = form.token.as_deref().unwrap_or_default();
    let mut state = sandbox.lock();
    let key = token_key(token);
    let grant = state
        .refresh
        .get(&key)
        .map(|t| t.grant)
        .or_else(|| state.access.get(&key).map(|t| t.grant));
    if let Some(grant) = grant {
        state.revoke_grant(grant);
    }
    // RFC 7009: unknown tokens are not an error.
    HttpResponse::Ok().finish()
}
