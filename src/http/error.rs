//! The one road from any failure to the user: a stable snake_case code, its
//! HTTP status, and the JSON body `{"error": {"code", "message"}}`.

use actix_web::error::{JsonPayloadError, PathError, PayloadError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::accounts::{AccountError, HashingError};
use crate::actors::engine::EngineError;
use crate::adapters::AdapterError;
use crate::connections::ConnectError;
use crate::media::{InspectError, MediaError};
use crate::persistence::StoreError;
use crate::persistence::oauth_states::StateRefusal;
use crate::publishing::PublishError;
use crate::quotas::QuotaError;

/// Declares every error code once: its variant, HTTP status and snake_case name.
macro_rules! error_codes {
    ($($code:ident => ($status:ident, $name:literal),)*) => {
        /// Every error code the API answers with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $($code,)*
        }

        impl ErrorCode {
            /// Every code, for documentation and tests.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$code,)*];

            pub fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$code => StatusCode::$status,)*
                }
            }

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$code => $name,)*
                }
            }
        }
    };
}

error_codes! {
    MalformedJson => (BAD_REQUEST, "malformed_json"),
    InvalidBody => (UNPROCESSABLE_ENTITY, "invalid_body"),
    InvalidQuery => (BAD_REQUEST, "invalid_query"),
    InvalidEmail => (UNPROCESSABLE_ENTITY, "invalid_email"),
    InvalidPassword => (UNPROCESSABLE_ENTITY, "invalid_password"),
    Unauthenticated => (UNAUTHORIZED, "unauthenticated"),
    InvalidCredentials => (UNAUTHORIZED, "invalid_credentials"),
    CsrfFailed => (FORBIDDEN, "csrf_failed"),
    NotFound => (NOT_FOUND, "not_found"),
    MethodNotAllowed => (METHOD_NOT_ALLOWED, "method_not_allowed"),
    InvalidLink => (UNPROCESSABLE_ENTITY, "invalid_link"),
    AlreadyVerified => (CONFLICT, "already_verified"),
    EmailUnverified => (FORBIDDEN, "email_unverified"),
    ReauthenticationRequired => (FORBIDDEN, "reauthentication_required"),
    InsufficientScope => (FORBIDDEN, "insufficient_scope"),
    SessionRequired => (FORBIDDEN, "session_required"),
    PayloadTooLarge => (PAYLOAD_TOO_LARGE, "payload_too_large"),
    UnsupportedMediaType => (UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
    RateLimited => (TOO_MANY_REQUESTS, "rate_limited"),
    NotReady => (SERVICE_UNAVAILABLE, "not_ready"),
    InternalError => (INTERNAL_SERVER_ERROR, "internal_error"),
    DatabaseUnavailable => (SERVICE_UNAVAILABLE, "database_unavailable"),
    Overloaded => (SERVICE_UNAVAILABLE, "overloaded"),
    QuotaExceeded => (TOO_MANY_REQUESTS, "quota_exceeded"),
    UnknownPlatform => (NOT_FOUND, "unknown_platform"),
    OauthStateInvalid => (BAD_REQUEST, "oauth_state_invalid"),
    OauthStateExpired => (BAD_REQUEST, "oauth_state_expired"),
    OauthCodeMissing => (BAD_REQUEST, "oauth_code_missing"),
    OauthExchangeFailed => (BAD_REQUEST, "oauth_exchange_failed"),
    PlatformUnavailable => (BAD_GATEWAY, "platform_unavailable"),
    InvalidToken => (UNAUTHORIZED, "invalid_token"),
    InvalidContent => (UNPROCESSABLE_ENTITY, "invalid_content"),
    ContentRejected => (UNPROCESSABLE_ENTITY, "content_rejected"),
    NoTargets => (UNPROCESSABLE_ENTITY, "no_targets"),
    InvalidTargets => (UNPROCESSABLE_ENTITY, "invalid_targets"),
    InvalidScheduledAt => (UNPROCESSABLE_ENTITY, "invalid_scheduled_at"),
    InvalidTimeZone => (UNPROCESSABLE_ENTITY, "invalid_time_zone"),
    InvalidOptions => (UNPROCESSABLE_ENTITY, "invalid_options"),
    InvalidVariations => (UNPROCESSABLE_ENTITY, "invalid_variations"),
    AlreadyStarted => (CONFLICT, "already_started"),
    NotEditable => (CONFLICT, "not_editable"),
    IdempotencyKeyReused => (UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
    InvalidIdempotencyKey => (BAD_REQUEST, "invalid_idempotency_key"),
    NothingToRetry => (CONFLICT, "nothing_to_retry"),
    InvalidCursor => (BAD_REQUEST, "invalid_cursor"),
    BacklogFull => (TOO_MANY_REQUESTS, "backlog_full"),
    TooManyStreams => (TOO_MANY_REQUESTS, "too_many_streams"),
    UnsupportedMedia => (UNPROCESSABLE_ENTITY, "unsupported_media"),
    MediaTooLarge => (PAYLOAD_TOO_LARGE, "media_too_large"),
    ImageTooLarge => (UNPROCESSABLE_ENTITY, "image_too_large"),
    InvalidMedia => (UNPROCESSABLE_ENTITY, "invalid_media"),
    EmptyUpload => (UNPROCESSABLE_ENTITY, "empty_upload"),
    UploadInterrupted => (BAD_REQUEST, "upload_interrupted"),
    InvalidAltText => (UNPROCESSABLE_ENTITY, "invalid_alt_text"),
    MediaInUse => (CONFLICT, "media_in_use"),
    MediaRejected => (UNPROCESSABLE_ENTITY, "media_rejected"),
    ConnectWithRedirect => (CONFLICT, "connect_with_redirect"),
    ServerRequired => (UNPROCESSABLE_ENTITY, "server_required"),
    InvalidServer => (UNPROCESSABLE_ENTITY, "invalid_server"),
    InvalidDestination => (UNPROCESSABLE_ENTITY, "invalid_destination"),
    WrongPassword => (FORBIDDEN, "wrong_password"),
    NoDestination => (UNPROCESSABLE_ENTITY, "no_destination"),
}

/// An error on its way to the client.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Seconds for `Retry-After` (429 and 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            ErrorCode::Unauthenticated,
            "log in first: this needs a session cookie or an API token",
        )
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                ErrorCode::RateLimited,
                format!("too many attempts; try again in {retry_after} seconds"),
            )
        }
    }

    /// The database does not answer: nothing was done; try again shortly.
    pub fn database_unavailable() -> Self {
        Self {
            retry_after: Some(5),
            ..Self::new(
                ErrorCode::DatabaseUnavailable,
                "the database is not answering; nothing was changed: try again in a few seconds",
            )
        }
    }

    /// Logs the cause once, with its chain, and hides it from the client.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        let error = error.into();
        tracing::error!(error = format!("{error:#}"), "request failed");
        Self::new(
            ErrorCode::InternalError,
            "something went wrong on our side; try again, and report it if it persists",
        )
    }
}

/// The JSON error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code to branch on; each operation's responses say
    /// which it answers with.
    #[schema(schema_with = error_code_schema)]
    pub code: String,
    /// A sentence for people, saying what to do next.
    pub message: String,
}

/// Every code there is, so the document lists them and no example misleads.
fn error_code_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
        .description(Some(
            "Stable snake_case code to branch on; each operation's responses say which it answers with.",
        ))
        .build()
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(seconds)));
        }
        response.json(ErrorBody {
            error: ErrorDetail {
                code: self.code.as_str().to_owned(),
                message: self.message.clone(),
            },
        })
    }
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::InvalidLink => ApiError::new(
                ErrorCode::InvalidLink,
                "this link does not work: it has expired, was already used, or a newer one was sent. Ask for a new one",
            ),
            AccountError::EmailUnverified => ApiError::new(
                ErrorCode::EmailUnverified,
                "verify your email address first: open the link we mailed you, or ask for a new one in Settings",
            ),
            AccountError::AlreadyVerified => ApiError::new(
                ErrorCode::AlreadyVerified,
                "the email address is already verified",
            ),
            AccountError::WeakPassword(why) => ApiError::new(ErrorCode::InvalidPassword, why),
            AccountError::WrongPassword => ApiError::new(
                ErrorCode::WrongPassword,
                "the current password is not right; nothing was changed",
            ),
            AccountError::InvalidCredentials => {
                ApiError::new(ErrorCode::InvalidCredentials, "invalid email or password")
            }
            AccountError::Hashing(HashingError::Busy) => ApiError {
                retry_after: Some(1),
                ..ApiError::new(
                    ErrorCode::Overloaded,
                    "too many logins and signups are being checked right now; try again in a second",
                )
            },
            other @ (AccountError::Hashing(_) | AccountError::Store(_)) => {
                ApiError::internal(other)
            }
        }
    }
}

impl From<ConnectError> for ApiError {
    fn from(error: ConnectError) -> Self {
        use ErrorCode::*;
        let again = "start connecting again from Prasaran";
        match error {
            ConnectError::UnknownPlatform(id) => ApiError::new(
                UnknownPlatform,
                format!("no platform `{id}`; GET /api/v1/platforms lists them"),
            ),
            ConnectError::StateMissing => ApiError::new(
                OauthStateInvalid,
                format!(
                    "the callback carries no state, so it cannot be matched to a connection attempt; {again}"
                ),
            ),
            ConnectError::State(StateRefusal::Unknown) => ApiError::new(
                OauthStateInvalid,
                format!("this authorization is unknown or was already used; {again}"),
            ),
            ConnectError::State(StateRefusal::Expired) => ApiError::new(
                OauthStateExpired,
                format!("this authorization expired (you have 10 minutes to approve); {again}"),
            ),
            ConnectError::State(StateRefusal::OtherUser) => ApiError::new(
                OauthStateInvalid,
                format!(
                    "this authorization was started by a different Prasaran account; log in as that account, or {again}"
                ),
            ),
            ConnectError::State(StateRefusal::OtherPlatform) => ApiError::new(
                OauthStateInvalid,
                format!("this authorization was started for a different platform; {again}"),
            ),
            ConnectError::CodeMissing => ApiError::new(
                OauthCodeMissing,
                format!("the platform sent no authorization code; {again}"),
            ),
            ConnectError::Denied { reason, .. } => ApiError::new(
                OauthExchangeFailed,
                format!("the platform did not authorize Prasaran: {reason}"),
            ),
            ConnectError::Exchange(
                AdapterError::Rejected { reason } | AdapterError::Revoked { reason },
            ) => ApiError::new(
                OauthExchangeFailed,
                format!("the platform refused the authorization ({reason}); {again}"),
            ),
            ConnectError::Exchange(other) => ApiError::new(
                PlatformUnavailable,
                format!(
                    "the platform could not be reached ({}); try again in a minute",
                    other.kind()
                ),
            ),
            ConnectError::NotFound => ApiError::new(NotFound, "no such connection"),
            ConnectError::ServerRequired(name) => ApiError::new(
                ServerRequired,
                format!(
                    "{name} needs the server your account is on: send {{\"server\": \"mastodon.social\"}}"
                ),
            ),
            ConnectError::InvalidServer(reason) => ApiError::new(InvalidServer, reason),
            ConnectError::NotCredentials(name) => ApiError::new(
                ConnectWithRedirect,
                format!(
                    "{name} connects through its own sign-in page: use POST /api/v1/connections/{{platform}}/authorize"
                ),
            ),
            ConnectError::InvalidDestination(reason) => ApiError::new(InvalidDestination, reason),
            other @ (ConnectError::Crypto(_) | ConnectError::Store(_)) => ApiError::internal(other),
        }
    }
}

impl From<PublishError> for ApiError {
    fn from(error: PublishError) -> Self {
        use ErrorCode::*;
        let error = match error {
            PublishError::Quota(quota) => return quota.into(),
            other => other,
        };
        let code = match &error {
            PublishError::InvalidIdempotencyKey => InvalidIdempotencyKey,
            PublishError::InvalidContent(_) => InvalidContent,
            PublishError::InvalidScheduledAt => InvalidScheduledAt,
            PublishError::InvalidTimeZone(_) => InvalidTimeZone,
            PublishError::InvalidOptions(_) => InvalidOptions,
            PublishError::InvalidTargets(_) => InvalidTargets,
            PublishError::InvalidVariations(_) => InvalidVariations,
            PublishError::PostNotFound | PublishError::DraftNotFound => NotFound,
            PublishError::AlreadyStarted(..) => AlreadyStarted,
            PublishError::NotEditable(_) | PublishError::DraftPublished(_) => NotEditable,
            PublishError::NoTargets => NoTargets,
            PublishError::NoDestination(_) => NoDestination,
            PublishError::ContentRejected(..) => ContentRejected,
            PublishError::InvalidMedia(_) => InvalidMedia,
            PublishError::MediaRejected(..) => MediaRejected,
            PublishError::KeyReused => IdempotencyKeyReused,
            PublishError::BacklogFull { .. } => {
                return ApiError {
                    retry_after: Some(crate::publishing::RETRY_AFTER_SECS),
                    ..ApiError::new(BacklogFull, error.to_string())
                };
            }
            // Answered above, with its Retry-After.
            PublishError::Quota(_) => QuotaExceeded,
            PublishError::Store(_) | PublishError::Engine(_) => return ApiError::internal(error),
        };
        ApiError::new(code, error.to_string())
    }
}

impl From<QuotaError> for ApiError {
    fn from(error: QuotaError) -> Self {
        match &error {
            QuotaError::Exceeded { retry_after, .. } => ApiError {
                retry_after: retry_after.map(|wait| wait.as_secs().max(1)),
                ..ApiError::new(ErrorCode::QuotaExceeded, error.to_string())
            },
            QuotaError::Store(_) => ApiError::internal(error),
        }
    }
}

impl From<MediaError> for ApiError {
    fn from(error: MediaError) -> Self {
        use ErrorCode::*;
        let code = match &error {
            MediaError::Empty => EmptyUpload,
            MediaError::UnknownType => UnsupportedMedia,
            MediaError::TooLarge { .. } => MediaTooLarge,
            MediaError::Inspect(InspectError::TooManyPixels { .. }) => ImageTooLarge,
            MediaError::Inspect(_) => InvalidMedia,
            MediaError::AltText(_) => InvalidAltText,
            MediaError::NotFound | MediaError::NoThumbnail => NotFound,
            MediaError::InUse => MediaInUse,
            MediaError::Interrupted(_) => UploadInterrupted,
            MediaError::Storage(_) | MediaError::Store(_) | MediaError::Io(_) => {
                return ApiError::internal(error);
            }
        };
        ApiError::new(code, error.to_string())
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        ApiError::internal(error)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::internal(error)
    }
}

impl From<HashingError> for ApiError {
    fn from(error: HashingError) -> Self {
        AccountError::Hashing(error).into()
    }
}

/// JSON extractor failures: wrong content type, too large, not JSON, wrong shape.
pub fn json_error(error: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let api = match &error {
        JsonPayloadError::ContentType => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as JSON with `Content-Type: application/json`",
        ),
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the body is larger than the {limit} bytes this endpoint accepts"),
        ),
        JsonPayloadError::Deserialize(inner) if inner.is_data() => ApiError::new(
            ErrorCode::InvalidBody,
            format!("the JSON body does not fit: {inner}"),
        ),
        JsonPayloadError::Deserialize(inner) => ApiError::new(
            ErrorCode::MalformedJson,
            format!("the body is not valid JSON: {inner}"),
        ),
        JsonPayloadError::Payload(PayloadError::Overflow) => ApiError::new(
            ErrorCode::PayloadTooLarge,
            "the body is larger than this endpoint accepts",
        ),
        other => ApiError::new(
            ErrorCode::MalformedJson,
            format!("the body could not be read: {other}"),
        ),
    };
    api.into()
}

pub fn query_error(error: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError::new(
        ErrorCode::InvalidQuery,
        format!("invalid query string: {error}"),
    )
    .into()
}

/// A path segment that cannot be an id (every id here is a UUID): 404 in
/// words a person can act on, not the deserializer's.
pub fn path_error(_: PathError, request: &HttpRequest) -> actix_web::Error {
    let what = request
        .match_pattern()
        .and_then(|p| {
            p.strip_prefix("/api/v1/")
                .and_then(|rest| rest.split('/').next())
                .map(|kind| kind.trim_end_matches('s').to_owned())
        })
        .unwrap_or_else(|| "resource".into());
    ApiError::new(
        ErrorCode::NotFound,
        format!("no such {what}: its id in the address is not a UUID (like 0190c1b2-7e4f-7a2b-9c3d-5e6f7a8b9c0d)"),
    )
    .into()
}

pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        ErrorCode::NotFound,
        "no such endpoint; see /api/openapi.json for the API",
    ))
}

/// 405 with `Allow` naming the methods the endpoint takes.
pub fn method_not_allowed(allow: &str) -> HttpResponse {
    let mut response = ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!("this endpoint takes {allow}; see /api/openapi.json"),
    )
    .error_response();
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(allow) {
        response
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    response
}
