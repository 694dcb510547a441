//! What went wrong talking to a platform, in terms the engine can act on.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdapterError {
    /// Slow down: wait `retry_after` (and respect the limit figures when given).
    #[error("rate limited by the platform")]
    RateLimited {
        retry_after: Option<Duration>,
        limit: Option<u32>,
        remaining: Option<u32>,
        /// When the window resets, as the platform said it (epoch seconds).
        reset: Option<u64>,
    },
    /// The access token was refused: refresh it and retry once.
    #[error("the platform refused the access token")]
    Unauthorized,
    /// 5xx, timeout before sending, connection error: retry with backoff.
    #[error("temporary platform failure: {reason}")]
    Transient { reason: String, status: Option<u16> },
    /// Permanent: the platform will never accept this content.
    #[error("rejected by the platform: {reason}")]
    Rejected { reason: String },
    /// The grant is gone (revoked, or a refresh token was reused): the user must reconnect.
    #[error("the connection was revoked at the platform: {reason}")]
    Revoked { reason: String },
    /// The request may have reached the platform: verify before retrying.
    #[error("outcome unknown: {reason}")]
    Unknown { reason: String },
}

impl AdapterError {
    pub fn kind(&self) -> &'static str {
        match self {
            AdapterError::RateLimited { .. } => "rate_limited",
            AdapterError::Unauthorized => "unauthorized",
            AdapterError::Transient { .. } => "transient",
            AdapterError::Rejected { .. } => "rejected",
            AdapterError::Revoked { .. } => "revoked",
            AdapterError::Unknown { .. } => "unknown",
        }
    }
}
