//! Mailed links: verifying the email address, and resetting a forgotten
//! password. None of these say whether an address has an account.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::{MailSent, MailStatus};
use super::client_ip::client_ip;
use super::error::{ApiError, ErrorBody, ErrorCode};
use super::json_object::Object;
use super::rate_limit::RateLimiters;
use super::session::CurrentUser;
use super::tokens::TokenCache;
use crate::accounts::Accounts;
use crate::domain::{Email, Password};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkToken {
    /// The `token` parameter of the link in the mail.
    #[schema(max_length = 128)]
    pub token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotPassword {
    #[schema(example = "ada@example.com", format = Email, max_length = 254)]
    pub email: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    /// The `token` parameter of the link in the mail.
    #[schema(max_length = 128)]
    pub token: String,
    /// 12 to 256 characters, not easy to guess.
    #[schema(format = Password, min_length = 12, max_length = 256)]
    pub password: String,
}

impl std::fmt::Debug for ResetPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResetPassword").finish_non_exhaustive()
    }
}

/// Verify the email address with the token from the mailed link.
#[utoipa::path(
    post, path = "/api/v1/auth/verify-email", tag = "auth",
    request_body = LinkToken,
    responses(
        (status = 204, description = "The address is verified"),
        (status = 400, description = "Body is not JSON", body = ErrorBody),
        (status = 422, description = "`invalid_link` (expired, used or unknown) or `invalid_body`", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn verify_email(
    body: web::Json<Object<LinkToken>>,
    accounts: web::Data<Accounts>,
) -> Result<HttpResponse, ApiError> {
    let user = accounts.verify_email(&body.token).await?;
    tracing::info!(user_id = %user, "email verified");
    Ok(HttpResponse::NoContent().finish())
}

/// Mail a new verification link to the signed-in user (earlier links stop working).
#[utoipa::path(
    post, path = "/api/v1/auth/resend-verification", tag = "auth",
    params(("X-CSRF-Token" = Option<String>, Header, description = "The session's csrf_token (cookie sessions)")),
    responses(
        (status = 202, description = "A new link is on its way", body = MailSent),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "`csrf_failed`", body = ErrorBody),
        (status = 409, description = "`already_verified`", body = ErrorBody),
        (status = 429, description = "Too many mails for this address; see Retry-After", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn resend_verification(
    request: HttpRequest,
    user: CurrentUser,
    accounts: web::Data<Accounts>,
    limits: web::Data<RateLimiters>,
) -> Result<HttpResponse, ApiError> {
    let found = accounts
        .find(user.id)
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    if !found.email_verified {
        let email = Email::parse(&found.email).map_err(ApiError::internal)?;
        limits.check_signup(client_ip(&request), &email)?;
    }
    accounts.resend_verification(&found).await?;
    Ok(HttpResponse::Accepted().json(MailSent {
        status: MailStatus::VerificationSent,
        message: format!(
            "We sent a new link to {}; links sent before no longer work.",
            found.email
        ),
    }))
}

/// Mail a password-reset link. The answer is the same whether or not the
/// address has an account.
#[utoipa::path(
    post, path = "/api/v1/auth/forgot-password", tag = "auth",
    request_body = ForgotPassword,
    responses(
        (status = 202, description = "If the address has an account, a link is on its way", body = MailSent),
        (status = 400, description = "Body is not JSON", body = ErrorBody),
        (status = 422, description = "`invalid_email` or `invalid_body`", body = ErrorBody),
        (status = 429, description = "Too many requests; see Retry-After", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn forgot_password(
    request: HttpRequest,
    body: web::Json<Object<ForgotPassword>>,
    accounts: web::Data<Accounts>,
    limits: web::Data<RateLimiters>,
) -> Result<HttpResponse, ApiError> {
    let email = Email::parse(&body.email)
        .map_err(|e| ApiError::new(ErrorCode::InvalidEmail, e.to_string()))?;
    limits.check_signup(client_ip(&request), &email)?;
    accounts.forgot_password(&email).await?;
    Ok(HttpResponse::Accepted().json(MailSent {
        status: MailStatus::ResetSent,
        message: format!(
            "If {} has an account, we sent it a link to choose a new password. It works for a short while; check your inbox.",
            email.as_str()
        ),
    }))
}

/// Choose a new password with the token from the mailed link. Every session
/// and API token of the account ends.
#[utoipa::path(
    post, path = "/api/v1/auth/reset-password", tag = "auth",
    request_body = ResetPassword,
    responses(
        (status = 204, description = "Password changed; every session and API token ended"),
        (status = 400, description = "Body is not JSON", body = ErrorBody),
        (status = 422, description = "`invalid_link`, `invalid_password` or `invalid_body`", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn reset_password(
    body: web::Json<Object<ResetPassword>>,
    accounts: web::Data<Accounts>,
    tokens: web::Data<TokenCache>,
) -> Result<HttpResponse, ApiError> {
    let ResetPassword { token, password } = body.into_inner().0;
    let password = Password::parse(password)
        .map_err(|e| ApiError::new(ErrorCode::InvalidPassword, e.to_string()))?;
    let user = accounts.reset_password(&token, password).await?;
    tokens.forget_user(user);
    Ok(HttpResponse::NoContent().finish())
}
