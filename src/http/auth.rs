//! `/api/v1/auth/*` and `/api/v1/me`: accounts and their browser sessions.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::client_ip::client_ip;
use super::error::{ApiError, ErrorBody, ErrorCode};
use super::json_object::Object;
use super::rate_limit::RateLimiters;
use super::session::{self, CurrentUser};
use crate::accounts::Accounts;
use crate::domain::{Email, Password, Role, User, UserId};
use crate::quotas::{QuotaUsage, Quotas};

#[derive(Deserialize, ToSchema)]
/// Unknown fields are refused (422 `invalid_body` naming the field), never
/// silently dropped.
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// Trimmed and lower-cased before use.
    #[schema(example = "ada@example.com", format = Email, max_length = 254)]
    pub email: String,
    /// 12 to 256 characters, not only whitespace.
    #[schema(example = "correct horse battery staple", format = Password, min_length = 12, max_length = 256)]
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    #[schema(value_type = uuid::Uuid)]
    pub id: UserId,
    pub email: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    /// The owner opened the verification link mailed to the address.
    /// Unverified accounts cannot connect platforms (`accounts.verified_email_to_connect`).
    pub email_verified: bool,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            email: user.email,
            role: user.role,
            created_at: user.created_at,
            email_verified: user.email_verified,
        }
    }
}

/// A mail is on its way (or, to say nothing about which addresses have
/// accounts, would be).
#[derive(Debug, Serialize, ToSchema)]
pub struct MailSent {
    pub status: MailStatus,
    /// What to do next, for people.
    pub message: String,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailStatus {
    VerificationSent,
    ResetSent,
}

/// The signed-in user and the token to echo in `X-CSRF-Token` on state-changing
/// requests (`null` when the caller used an API token, which needs none).
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub user: UserView,
    pub csrf_token: Option<String>,
    /// Each quota of the account and what it used (`GET /api/v1/me` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quotas: Option<QuotaUsage>,
}

/// Create an account and mail a verification link; then log in. An address
/// that already has an account gets the same answer (its owner gets a mail
/// saying someone tried), so signup does not reveal who has an account.
#[utoipa::path(
    post, path = "/api/v1/auth/signup", tag = "auth",
    request_body = Credentials,
    responses(
        (status = 202, description = "Verification mail on its way; log in with the same credentials", body = MailSent),
        (status = 400, description = "Body is not JSON", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Body is not application/json", body = ErrorBody),
        (status = 422, description = "`invalid_email`, `invalid_password` or `invalid_body`", body = ErrorBody),
        (status = 429, description = "Too many signups; see Retry-After", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn signup(
    request: HttpRequest,
    body: web::Json<Object<Credentials>>,
    accounts: web::Data<Accounts>,
    limits: web::Data<RateLimiters>,
) -> Result<HttpResponse, ApiError> {
    let Credentials { email, password } = body.into_inner().0;
    let email =
        Email::parse(&email).map_err(|e| ApiError::new(ErrorCode::InvalidEmail, e.to_string()))?;
    let password = Password::parse(password)
        .map_err(|e| ApiError::new(ErrorCode::InvalidPassword, e.to_string()))?;
    limits.check_signup(client_ip(&request), &email)?;
    accounts.signup(email.clone(), password).await?;
    Ok(HttpResponse::Accepted().json(MailSent {
        status: MailStatus::VerificationSent,
        message: format!(
            "We sent a message to {}: open its link to verify the address. Log in now with the same email and password.",
            email.as_str()
        ),
    }))
}

/// Log in with email and password; rotates the session id.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = Credentials,
    responses(
        (status = 200, description = "Logged in; a new session cookie is set", body = SessionView),
        (status = 400, description = "Body is not JSON", body = ErrorBody),
        (status = 401, description = "Wrong email or password (`invalid_credentials`, always the same body)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Body is not application/json", body = ErrorBody),
        (status = 422, description = "`invalid_body`", body = ErrorBody),
        (status = 429, description = "Too many attempts; see Retry-After", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn login(
    request: HttpRequest,
    body: web::Json<Object<Credentials>>,
    accounts: web::Data<Accounts>,
    limits: web::Data<RateLimiters>,
    session: Session,
) -> Result<HttpResponse, ApiError> {
    let Credentials { email, password } = body.into_inner().0;
    let invalid = || ApiError::from(crate::accounts::AccountError::InvalidCredentials);
    let email = Email::parse(&email).map_err(|_| invalid())?;
    limits.check_login(client_ip(&request), &email)?;
    let user = accounts
        .login(&email, Password::unchecked(password))
        .await?;
    tracing::info!(user_id = %user.id, "logged in");
    let csrf_token = session::log_in(&session, &request, user.id)?;
    Ok(HttpResponse::Ok().json(SessionView {
        user: user.into(),
        csrf_token: Some(csrf_token),
        quotas: None,
    }))
}

/// End this session on the server and clear its cookie.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    params(("X-CSRF-Token" = Option<String>, Header, description = "The session's csrf_token")),
    responses(
        (status = 204, description = "Session destroyed"),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Missing or wrong X-CSRF-Token (`csrf_failed`)", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn logout(user: CurrentUser, session: Session) -> HttpResponse {
    session.purge();
    tracing::info!("logged out");
    HttpResponse::NoContent().finish()
}

/// The signed-in user and a CSRF token (for a page that was reloaded).
#[utoipa::path(
    get, path = "/api/v1/me", tag = "auth",
    responses(
        (status = 200, description = "The session's user", body = SessionView),
        (status = 401, description = "Not logged in (`unauthenticated`)", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn me(
    user: CurrentUser,
    accounts: web::Data<Accounts>,
    quotas: web::Data<Quotas>,
    session: Session,
) -> Result<HttpResponse, ApiError> {
    let found = accounts
        .find(user.id)
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    let csrf_token = session::csrf_token(&session)?;
    Ok(HttpResponse::Ok().json(SessionView {
        user: found.into(),
        csrf_token,
        quotas: Some(quotas.usage(user.id).await?),
    }))
}
