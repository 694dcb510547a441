//! A server's own limits (a Mastodon instance's) are read when the account
//! connects; a worker that starts more than a day after that reads them
//! again, so an instance that raised or lowered its limits is followed.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::super::engine::EngineContext;
use super::token::TokenCell;
use crate::adapters::PlatformAdapter;
use crate::domain::ConnectionId;
use crate::persistence::connections;

/// How long limits read from a server are trusted.
const MAX_AGE_HOURS: i64 = 24;

/// Whether limits last read at `read_at` should be read again.
pub fn stale(read_at: Option<DateTime<Utc>>) -> bool {
    read_at.is_none_or(|at| Utc::now() - at > chrono::Duration::hours(MAX_AGE_HOURS))
}

/// Reads the server's limits with the connection's token and keeps them;
/// a failure leaves the old ones (the next worker start tries again).
pub async fn refresh(
    ctx: Arc<EngineContext>,
    connection: ConnectionId,
    adapter: Arc<dyn PlatformAdapter>,
    token: Arc<TokenCell>,
) {
    let Ok((access, _)) = token.current().await else {
        return;
    };
    match adapter.limits(&access).await {
        Ok(Some(limits)) => match connections::store_limits(&ctx.pool, connection, &limits).await {
            Ok(()) => {
                tracing::info!(connection_id = %connection, "the server's limits were read again")
            }
            Err(error) => {
                tracing::warn!(connection_id = %connection, %error, "keeping the server's limits failed")
            }
        },
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(connection_id = %connection, %error, "the server's limits could not be read; keeping the old ones");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_read_again_after_a_day() {
        assert!(stale(None));
        assert!(!stale(Some(Utc::now() - chrono::Duration::hours(23))));
        assert!(stale(Some(Utc::now() - chrono::Duration::hours(25))));
    }
}
