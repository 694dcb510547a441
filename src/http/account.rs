//! What a user manages of their own account: the password, and the sessions
//! that are open (`/api/v1/auth/password`, `/api/v1/auth/logout-everywhere`,
//! `/api/v1/sessions`).

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody, ErrorCode};
use super::json_object::Object;
use super::rate_limit::RateLimiters;
use super::session::{self, Credential, CurrentUser};
use crate::accounts::Accounts;
use crate::domain::{Email, Password};
use crate::persistence::sessions::{self, SessionInfo};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(format = Password)]
    pub current_password: String,
    /// 12 to 256 characters, not only whitespace.
    #[schema(format = Password, min_length = 12, max_length = 256)]
    pub new_password: String,
}

/// The CSRF token of the caller's session, when a session is asking.
fn own_csrf(user: &CurrentUser, session: &Session) -> Result<Option<String>, ApiError> {
    match user.credential {
        Credential::Session(_) => session::csrf_token(session),
        Credential::Token(_) => Ok(None),
    }
}

/// Change the password: the current one is required, and every other session
/// of the account ends (this one continues, under a new session id).
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth",
    request_body = PasswordChange,
    params(("X-CSRF-Token" = Option<String>, Header, description = "The session's csrf_token")),
    responses(
        (status = 204, description = "Changed; other sessions ended"),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "`wrong_password` (nothing changed) or `csrf_failed`", body = ErrorBody),
        (status = 422, description = "`invalid_password` (the new one) or `invalid_body`", body = ErrorBody),
        (status = 429, description = "Too many attempts; see Retry-After", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn change_password(
    user: CurrentUser,
    request: HttpRequest,
    body: web::Json<Object<PasswordChange>>,
    accounts: web::Data<Accounts>,
    limits: web::Data<RateLimiters>,
    session: Session,
) -> Result<HttpResponse, ApiError> {
    let PasswordChange {
        current_password,
        new_password,
    } = body.into_inner().0;
    let new = Password::parse(new_password)
        .map_err(|e| ApiError::new(ErrorCode::InvalidPassword, e.to_string()))?;
    let account = accounts
        .find(user.id)
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    // Guessing the current password is guessing a login: the same limits.
    if let Ok(email) = Email::parse(&account.email) {
        limits.check_login(super::client_ip::client_ip(&request), &email)?;
    }
    let keep = own_csrf(&user, &session)?;
    let ended = accounts
        .change_password(
            &account,
            Password::unchecked(current_password),
            new,
            keep.as_deref(),
        )
        .await?;
    if keep.is_some() {
        session.renew();
    }
    tracing::info!(sessions_ended = ended, "password changed");
    Ok(HttpResponse::NoContent().finish())
}

/// End every session of the account, this one included.
#[utoipa::path(post, path = "/api/v1/auth/logout-everywhere", tag = "auth",
    params(("X-CSRF-Token" = Option<String>, Header, description = "The session's csrf_token")),
    responses(
        (status = 204, description = "Every session ended"),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Missing or wrong X-CSRF-Token (`csrf_failed`)", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn logout_everywhere(
    user: CurrentUser,
    pool: web::Data<sqlx::PgPool>,
    session: Session,
) -> Result<HttpResponse, ApiError> {
    let ended = sessions::delete_others(&pool, user.id, None)
        .await
        .map_err(ApiError::internal)?;
    session.purge();
    tracing::info!(sessions_ended = ended, "logged out everywhere");
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpenSession {
    /// End it with `DELETE /api/v1/sessions/{id}`.
    pub id: uuid::Uuid,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// Where it logged in from.
    pub ip: Option<String>,
    /// The browser or client it logged in with.
    pub user_agent: Option<String>,
    /// The session asking.
    pub current: bool,
}

impl From<SessionInfo> for OpenSession {
    fn from(s: SessionInfo) -> Self {
        Self {
            id: s.id,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            ip: s.ip,
            user_agent: s.user_agent,
            current: s.current,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpenSessionList {
    pub sessions: Vec<OpenSession>,
}

/// The account's open sessions, the last used first.
#[utoipa::path(get, path = "/api/v1/sessions", tag = "auth",
    responses(
        (status = 200, body = OpenSessionList),
        (status = 401, description = "Not logged in", body = ErrorBody),
    ))]
pub async fn list(
    user: CurrentUser,
    pool: web::Data<sqlx::PgPool>,
    session: Session,
) -> Result<HttpResponse, ApiError> {
    let current = own_csrf(&user, &session)?;
    let found = sessions::list_for_user(&pool, user.id, current.as_deref())
        .await
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(OpenSessionList {
        sessions: found.into_iter().map(OpenSession::from).collect(),
    }))
}

/// End one of the account's sessions (the one asking too, if it is that one).
#[utoipa::path(delete, path = "/api/v1/sessions/{id}", tag = "auth",
    params(("id" = uuid::Uuid, Path, description = "Session id"),
           ("X-CSRF-Token" = Option<String>, Header, description = "The session's csrf_token")),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Missing or wrong X-CSRF-Token (`csrf_failed`)", body = ErrorBody),
        (status = 404, description = "`not_found`: not one of your sessions", body = ErrorBody),
    ))]
pub async fn revoke(
    user: CurrentUser,
    id: web::Path<uuid::Uuid>,
    pool: web::Data<sqlx::PgPool>,
) -> Result<HttpResponse, ApiError> {
    let ended = sessions::delete_one(&pool, user.id, id.into_inner())
        .await
        .map_err(ApiError::internal)?;
    if !ended {
        return Err(ApiError::new(ErrorCode::NotFound, "no such session"));
    }
    Ok(HttpResponse::NoContent().finish())
}
