//! `/api/v1/platforms`, `/api/v1/connections*` and the OAuth callback.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::json_object::Object;
use super::session::CurrentUser;
use crate::accounts::Accounts;
use crate::adapters::{ConnectKind, ContentRules, PlatformAdapter};
use crate::connections::{
    CallbackParams, ConnectError, Connections, PlatformState, Revocation, SignIn,
};
use crate::domain::{ConnectionId, Destination};
use crate::persistence::connections::{Connection, ConnectionStatus};
use crate::quotas::Quotas;

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionView {
    #[schema(value_type = uuid::Uuid)]
    pub id: ConnectionId,
    /// Platform id, e.g. `manch`.
    pub platform: String,
    pub handle: String,
    pub display_name: String,
    pub external_account_id: String,
    pub status: ConnectionStatus,
    pub scopes: Vec<String>,
    /// When the current access token expires (refreshed automatically).
    pub expires_at: Option<DateTime<Utc>>,
    /// The server the account is on, for platforms with many (a Mastodon
    /// instance, a Bluesky PDS).
    pub service_url: Option<String>,
    /// This account's own limits, where its server sets them (a Mastodon
    /// instance); otherwise the platform's `rules` apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<ContentRules>,
    /// Where in the account posts can go, for platforms with several (the
    /// Matrix rooms it had joined when it connected); posts go to the
    /// `selected` ones, picked with `PUT …/destinations`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub destinations: Vec<Destination>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Connection> for ConnectionView {
    fn from(c: Connection) -> Self {
        Self {
            id: c.id,
            platform: c.platform_id,
            handle: c.handle,
            display_name: c.display_name,
            external_account_id: c.external_account_id,
            status: c.status,
            scopes: c.scopes,
            expires_at: c.expires_at,
            service_url: c.service_url,
            rules: None,
            destinations: c.destinations,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

impl ConnectionView {
    /// The view with the connection's own rules, where its server sets them.
    fn with_rules(c: Connection, adapter: &dyn PlatformAdapter) -> Self {
        let rules = c.limits.as_ref().map(|l| adapter.rules_for(Some(l)));
        Self {
            rules,
            ..Self::from(c)
        }
    }
}

/// The user's overall state on one platform.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlatformConnectionState {
    NotConnected,
    Active,
    NeedsReauth,
    Revoked,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlatformView {
    pub id: String,
    pub name: String,
    pub rules: ContentRules,
    /// The preferred way: `redirect`: Connect opens the platform's page;
    /// `credentials`: a form posts an identifier and an (app) password to `…/sign-in`.
    pub connect: ConnectKind,
    /// Every way the platform connects, the preferred first (Bluesky: its
    /// sign-in page, or a handle and an app password).
    pub connect_with: Vec<ConnectKind>,
    /// Connecting starts with the user naming their server (a Mastodon
    /// instance), sent as `server` to `…/authorize`.
    pub asks_for_server: bool,
    /// A server to offer in that form (in dev, the local Mastodon sandbox).
    pub suggested_server: Option<String>,
    /// The credentials form may name a server (a Matrix homeserver), sent as
    /// `server` to `…/sign-in`; left out, it is found from the identifier.
    pub sign_in_names_server: bool,
    /// Posts go to places inside an account (Matrix rooms) the user picks
    /// per connection; a post makes one task per place.
    pub has_destinations: bool,
    /// `active` if any connection is, else `needs_reauth`, else `revoked`, else `not_connected`.
    pub state: PlatformConnectionState,
    pub connections: Vec<ConnectionView>,
}

impl From<PlatformState> for PlatformView {
    fn from(p: PlatformState) -> Self {
        let has = |status| p.connections.iter().any(|c| c.status == status);
        let state = if has(ConnectionStatus::Active) {
            PlatformConnectionState::Active
        } else if has(ConnectionStatus::NeedsReauth) {
            PlatformConnectionState::NeedsReauth
        } else if has(ConnectionStatus::Revoked) {
            PlatformConnectionState::Revoked
        } else {
            PlatformConnectionState::NotConnected
        };
        Self {
            id: p.adapter.id().to_owned(),
            name: p.adapter.display_name().to_owned(),
            rules: p.adapter.rules(),
            connect: p
                .adapter
                .connect_kinds()
                .first()
                .copied()
                .unwrap_or(ConnectKind::Redirect),
            connect_with: p.adapter.connect_kinds(),
            asks_for_server: p.adapter.asks_for_server(),
            suggested_server: p.adapter.suggested_server().map(String::from),
            sign_in_names_server: p.adapter.sign_in_names_server(),
            has_destinations: p.adapter.has_destinations(),
            state,
            connections: p
                .connections
                .into_iter()
                .map(|c| ConnectionView::with_rules(c, p.adapter.as_ref()))
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlatformList {
    pub platforms: Vec<PlatformView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionList {
    pub connections: Vec<ConnectionView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizeView {
    /// Send the browser here; the platform redirects back to the callback.
    pub authorize_url: String,
}

/// Platforms with this user's connection state.
#[utoipa::path(get, path = "/api/v1/platforms", tag = "connections",
    responses(
        (status = 200, body = PlatformList),
        (status = 401, description = "Not logged in", body = ErrorBody),
    ))]
pub async fn platforms(
    user: CurrentUser,
    service: web::Data<Connections>,
) -> Result<HttpResponse, ApiError> {
    let platforms = service.platforms(user.id).await?;
    Ok(HttpResponse::Ok().json(PlatformList {
        platforms: platforms.into_iter().map(PlatformView::from).collect(),
    }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeRequestBody {
    /// The server the account is on, for platforms with many (`asks_for_server`):
    /// a Mastodon instance such as `mastodon.social` or `https://fosstodon.org`.
    pub server: Option<String>,
}

/// Start connecting an account: returns the platform's consent URL.
#[utoipa::path(post, path = "/api/v1/connections/{platform}/authorize", tag = "connections",
    params(("platform" = String, Path, description = "Platform id, e.g. `manch`"),
           ("X-CSRF-Token" = Option<String>, Header, description = "The session's csrf_token")),
    request_body(content = Option<AuthorizeRequestBody>, description = "Only for platforms that ask for a server"),
    responses(
        (status = 200, body = AuthorizeView),
        (status = 400, description = "`malformed_json`", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "`csrf_failed`, `insufficient_scope`, or `email_unverified`: verify the email address first", body = ErrorBody),
        (status = 429, description = "`quota_exceeded`: `connections` or `authorizations_per_hour` (with Retry-After)", body = ErrorBody),
        (status = 404, description = "`unknown_platform`", body = ErrorBody),
        (status = 422, description = "`server_required`, `invalid_server`", body = ErrorBody),
        (status = 502, description = "`platform_unavailable`: the server could not be reached", body = ErrorBody),
    ))]
pub async fn authorize(
    request: HttpRequest,
    user: CurrentUser,
    platform: web::Path<String>,
    body: web::Bytes,
    service: web::Data<Connections>,
    accounts: web::Data<Accounts>,
    quotas: web::Data<Quotas>,
) -> Result<HttpResponse, ApiError> {
    accounts.may_connect(user.id).await?;
    quotas.admit_connection(user.id).await?;
    // No body at all is the usual case (one-server platforms); JSON `null`
    // says the same.
    let body: AuthorizeRequestBody =
        if body.iter().all(u8::is_ascii_whitespace) || body.trim_ascii() == b"null" {
            AuthorizeRequestBody::default()
        } else {
            serde_json::from_slice::<super::json_object::Object<AuthorizeRequestBody>>(&body)
                .map_err(|e| {
                    ApiError::new(
                        crate::http::error::ErrorCode::MalformedJson,
                        format!("the body is not the JSON expected: {e}"),
                    )
                })?
                .0
        };
    let url = service
        .authorize(
            user.id,
            &platform,
            loopback_origin(&request),
            body.server.as_deref(),
        )
        .await?;
    Ok(HttpResponse::Ok().json(AuthorizeView {
        authorize_url: url.to_string(),
    }))
}

/// Prasaran's OAuth client metadata for a platform that fetches it (Bluesky:
/// the `client_id` of a deployment with a public URL).
#[utoipa::path(get, path = "/oauth/{platform}/client-metadata.json", tag = "connections",
    params(("platform" = String, Path, description = "Platform id, e.g. `bluesky`")),
    responses(
        (status = 200, description = "The client metadata document", body = Object),
        (status = 404, description = "`unknown_platform`, or `not_found`: the platform fetches none, or no `server.public_url` is set", body = ErrorBody),
    ))]
pub async fn client_metadata(
    platform: web::Path<String>,
    service: web::Data<Connections>,
) -> Result<HttpResponse, ApiError> {
    match service.client_metadata(&platform)? {
        Some(document) => Ok(HttpResponse::Ok()
            .insert_header(("Cache-Control", "public, max-age=300"))
            .json(document)),
        None => Err(ApiError::new(
            crate::http::error::ErrorCode::NotFound,
            format!("{platform} has no client metadata here; set server.public_url"),
        )),
    }
}

/// `http://<host>/` when the browser reached us by a loopback name (dev), so the
/// OAuth callback returns to the host its cookie belongs to.
fn loopback_origin(request: &HttpRequest) -> Option<url::Url> {
    let info = request.connection_info();
    let origin = url::Url::parse(&format!("{}://{}/", info.scheme(), info.host())).ok()?;
    let loopback = match origin.host()? {
        url::Host::Domain(name) => name == "localhost",
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    loopback.then_some(origin)
}

/// The user's connections, newest last.
#[utoipa::path(get, path = "/api/v1/connections", tag = "connections",
    responses(
        (status = 200, body = ConnectionList),
        (status = 401, description = "Not logged in", body = ErrorBody),
    ))]
pub async fn list(
    user: CurrentUser,
    service: web::Data<Connections>,
) -> Result<HttpResponse, ApiError> {
    let connections = service.list(user.id).await?;
    let registry = service.registry();
    Ok(HttpResponse::Ok().json(ConnectionList {
        connections: connections
            .into_iter()
            .map(|c| match registry.get(&c.platform_id) {
                Some(adapter) => ConnectionView::with_rules(c, adapter.as_ref()),
                None => ConnectionView::from(c),
            })
            .collect(),
    }))
}

/// Disconnect: revoke at the platform, wipe the tokens, mark revoked, cancel
/// the connection's tasks that have not started.
#[utoipa::path(delete, path = "/api/v1/connections/{id}", tag = "connections",
    params(("id" = uuid::Uuid, Path, description = "Connection id"),
           ("X-CSRF-Token" = Option<String>, Header, description = "The session's csrf_token")),
    responses(
        (status = 200, description = "The connection, now revoked, and whether the platform ended the grant", body = DisconnectView),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Missing X-CSRF-Token", body = ErrorBody),
        (status = 404, description = "No such connection (or another user's)", body = ErrorBody),
    ))]
pub async fn disconnect(
    user: CurrentUser,
    id: web::Path<uuid::Uuid>,
    service: web::Data<Connections>,
    engine: web::Data<crate::actors::engine::Engine>,
) -> Result<HttpResponse, ApiError> {
    let (connection, revocation) = service.disconnect(user.id, ConnectionId(*id)).await?;
    engine
        .connection_disconnected(user.id, connection.id)
        .await?;
    let platform = service.registry().get(&connection.platform_id).map_or_else(
        || connection.platform_id.clone(),
        |a| a.display_name().to_owned(),
    );
    let (platform_revocation, message) = match revocation {
        Revocation::Revoked => (RevocationStatus::Revoked, None),
        Revocation::NotNeeded => (RevocationStatus::NotNeeded, None),
        Revocation::Failed(_) => (
            RevocationStatus::Failed,
            Some(format!(
                "Prasaran forgot this account's tokens, but {platform} could not be reached to end its access (tried three times): remove Prasaran's access in your {platform} account settings"
            )),
        ),
    };
    Ok(HttpResponse::Ok().json(DisconnectView {
        connection: ConnectionView::from(connection),
        platform_revocation,
        message,
    }))
}

/// Whether the platform ended the grant when asked.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevocationStatus {
    /// The platform ended the grant.
    Revoked,
    /// Nothing to revoke (no tokens held, or the platform has no revocation).
    NotNeeded,
    /// The platform could not be reached after three tries; the tokens are
    /// wiped here, and `message` says what the user should do.
    Failed,
}

/// A disconnected connection, and whether its grant ended at the platform.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisconnectView {
    #[serde(flatten)]
    pub connection: ConnectionView,
    pub platform_revocation: RevocationStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// The account's handle or email at the platform.
    #[schema(min_length = 1, max_length = 255)]
    pub identifier: String,
    /// Used once for tokens, never stored (for Bluesky: an app password).
    #[schema(value_type = String, format = Password)]
    pub password: secrecy::SecretString,
    /// The server, where the platform lets you name one (a Matrix
    /// homeserver, e.g. `matrix.example.org`); left out, it is found from the
    /// identifier (`.well-known/matrix/client` of `@you:example.org`'s server).
    #[serde(default)]
    pub server: Option<String>,
}

/// Connect an account of a credentials platform: the password is sent to the
/// platform once for tokens and dropped; only the sealed tokens are kept.
#[utoipa::path(post, path = "/api/v1/connections/{platform}/sign-in", tag = "connections",
    request_body = SignInRequest,
    params(("platform" = String, Path, description = "Platform id"),
           ("X-CSRF-Token" = Option<String>, Header, description = "The session's csrf_token")),
    responses(
        (status = 201, description = "Connected", body = ConnectionView),
        (status = 400, description = "`oauth_exchange_failed`: the platform refused the credentials", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "`csrf_failed`, `insufficient_scope`, or `email_unverified`: verify the email address first", body = ErrorBody),
        (status = 429, description = "`quota_exceeded`: `connections` or `authorizations_per_hour` (with Retry-After)", body = ErrorBody),
        (status = 404, description = "`unknown_platform`", body = ErrorBody),
        (status = 409, description = "`connect_with_redirect`: the platform connects through its own page", body = ErrorBody),
        (status = 422, description = "`invalid_body`", body = ErrorBody),
        (status = 502, description = "`platform_unavailable`", body = ErrorBody),
    ))]
pub async fn sign_in(
    user: CurrentUser,
    platform: web::Path<String>,
    body: web::Json<Object<SignInRequest>>,
    service: web::Data<Connections>,
    accounts: web::Data<Accounts>,
    quotas: web::Data<Quotas>,
) -> Result<HttpResponse, ApiError> {
    accounts.may_connect(user.id).await?;
    quotas.admit_connection(user.id).await?;
    let SignInRequest {
        identifier,
        password,
        server,
    } = body.into_inner().0;
    let server = server.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if server.is_some_and(|s| s.len() > 255 || s.chars().any(char::is_control)) {
        return Err(ApiError::new(
            super::error::ErrorCode::InvalidServer,
            "server must be at most 255 characters (e.g. matrix.example.org)",
        ));
    }
    let identifier = identifier.trim();
    if identifier.is_empty() || identifier.len() > 255 || identifier.chars().any(char::is_control) {
        return Err(ApiError::new(
            super::error::ErrorCode::InvalidBody,
            "identifier must be 1 to 255 characters (your handle or email at the platform)",
        ));
    }
    let connection = service
        .sign_in(
            user.id,
            &platform,
            SignIn {
                identifier,
                password,
                server,
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(ConnectionView::from(connection)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PickDestinations {
    /// Ids of the connection's destinations to post to (its Matrix rooms'
    /// ids, from `destinations` of the connection); the others are unpicked.
    pub selected: Vec<String>,
}

/// Most destinations picked in one request.
const MAX_PICKED: usize = 100;

/// Pick where posts to this connection go, among the places its account
/// has (the Matrix rooms it joined). Each publish to the connection then
/// makes one task per picked place.
#[utoipa::path(put, path = "/api/v1/connections/{id}/destinations", tag = "connections",
    request_body = PickDestinations,
    params(("id" = uuid::Uuid, Path, description = "Connection id"),
           ("X-CSRF-Token" = Option<String>, Header, description = "The session's csrf_token")),
    responses(
        (status = 200, description = "The connection with its destinations", body = ConnectionView),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Missing X-CSRF-Token", body = ErrorBody),
        (status = 404, description = "`not_found`: not one of your connections", body = ErrorBody),
        (status = 422, description = "`invalid_destination`: not one of the account's places, or the platform has none; `invalid_body`", body = ErrorBody),
    ))]
pub async fn pick_destinations(
    user: CurrentUser,
    id: web::Path<uuid::Uuid>,
    body: web::Json<Object<PickDestinations>>,
    service: web::Data<Connections>,
) -> Result<HttpResponse, ApiError> {
    let PickDestinations { selected } = body.into_inner().0;
    if selected.len() > MAX_PICKED {
        return Err(ApiError::new(
            super::error::ErrorCode::InvalidDestination,
            format!("pick at most {MAX_PICKED} destinations"),
        ));
    }
    let connection = service
        .pick_destinations(user.id, ConnectionId(id.into_inner()), &selected)
        .await?;
    Ok(HttpResponse::Ok().json(ConnectionView::from(connection)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// Authorization code (on approval).
    code: Option<String>,
    /// The state Prasaran issued.
    state: Option<String>,
    /// Set by the platform when it did not authorize, e.g. `access_denied`.
    error: Option<String>,
    error_description: Option<String>,
    /// The authorization server that answered (RFC 9207), checked where the
    /// platform sends it (Bluesky).
    iss: Option<String>,
}

/// Where the platform sends the browser back. Redirects to the web app with
/// the outcome; a state that is missing, unknown, expired, used, another
/// user's or another platform's is refused before any call to the platform.
#[utoipa::path(get, path = "/api/v1/oauth/{platform}/callback", tag = "connections",
    params(("platform" = String, Path, description = "Platform id"), CallbackQuery),
    responses(
        (status = 302, description = "Back to the web app: `/?connected=<platform>` or `/?connect_error=<code>&message=…`"),
        (status = 400, description = "Unusable state or code (HTML for browsers, JSON otherwise)", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 502, description = "The platform could not be reached", body = ErrorBody),
    ))]
pub async fn callback(
    request: HttpRequest,
    user: Result<CurrentUser, ApiError>,
    platform: web::Path<String>,
    query: web::Query<CallbackQuery>,
    service: web::Data<Connections>,
    engine: web::Data<crate::actors::engine::Engine>,
) -> HttpResponse {
    let user = match user {
        Ok(user) => user,
        Err(error) => return failure(&request, error),
    };
    let query = query.into_inner();
    let params = CallbackParams {
        code: query.code,
        state: query.state,
        error: query.error,
        error_description: query.error_description,
        issuer: query.iss,
    };
    let outcome = service.complete(user.id, &platform, params).await;
    engine.connections_changed(user.id);
    match outcome {
        Ok(connection) => back_to_app(&[
            ("connected", platform.as_str()),
            ("handle", connection.handle.as_str()),
        ]),
        Err(ConnectError::Denied { code, reason }) => back_to_app(&[
            ("connect_error", code.as_str()),
            ("platform", platform.as_str()),
            ("message", reason.as_str()),
        ]),
        Err(other) => failure(&request, other.into()),
    }
}

/// 302 to the web app. `no-referrer`: the callback URL carried the code and state.
fn back_to_app(pairs: &[(&str, &str)]) -> HttpResponse {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    HttpResponse::Found()
        .insert_header((header::LOCATION, format!("/?{query}")))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .finish()
}

/// A browser gets a readable page; an API client the JSON error.
fn failure(request: &HttpRequest, error: ApiError) -> HttpResponse {
    use actix_web::ResponseError;
    let wants_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if !wants_html {
        return error.error_response();
    }
    let page = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Connection failed — Prasaran</title>\
         <main><h1>The connection could not be completed</h1><p>{}</p><p><a href=\"/\">Back to Prasaran</a></p></main></html>",
        html_escape::encode_text(&error.message)
    );
    HttpResponse::build(error.status_code())
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .content_type("text/html; charset=utf-8")
        .body(page)
}
