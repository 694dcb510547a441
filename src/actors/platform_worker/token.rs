//! One connection's access token: loaded and decrypted on first use, refreshed
//! shortly before expiry and once after a 401. Refreshing is single-flight: in
//! this process behind a mutex, across processes behind a row lock.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

use super::super::engine::EngineContext;
use crate::adapters::{AdapterError, PlatformAdapter};
use crate::connections::{TokenKind, open_token, seal_token};
use crate::domain::ConnectionId;
use crate::persistence::connections::{self, ConnectionStatus, TokenState};

/// Why no token can be had.
#[derive(Debug, Clone)]
pub enum TokenError {
    /// The grant is gone (or the connection was disconnected): the user must reconnect.
    Revoked(String),
    /// Try again later.
    Transient(String),
}

struct Cached {
    token: SecretString,
    expires_at: Option<DateTime<Utc>>,
    /// Bumped on every change, so a caller can tell whether its 401 is stale.
    version: u64,
}

pub struct TokenCell {
    ctx: Arc<EngineContext>,
    connection: ConnectionId,
    adapter: Arc<dyn PlatformAdapter>,
    cached: Mutex<Option<Cached>>,
    /// What the worker read when it started, used for the first token instead
    /// of reading it again (with one task per connection, that read is a
    /// statement per task).
    seed: std::sync::Mutex<Option<TokenState>>,
}

impl TokenCell {
    pub fn new(
        ctx: Arc<EngineContext>,
        connection: ConnectionId,
        adapter: Arc<dyn PlatformAdapter>,
        seed: Option<TokenState>,
    ) -> Self {
        Self {
            ctx,
            connection,
            adapter,
            cached: Mutex::new(None),
            seed: std::sync::Mutex::new(seed),
        }
    }

    fn refresh_margin(&self) -> chrono::Duration {
        chrono::Duration::seconds(i64::from(
            self.ctx.settings.refresh_before_expiry_secs.get(),
        ))
    }

    fn expiring(&self, expires_at: Option<DateTime<Utc>>) -> bool {
        expires_at.is_some_and(|at| at - self.refresh_margin() <= Utc::now())
    }

    /// A usable token and its version.
    pub async fn current(&self) -> Result<(SecretString, u64), TokenError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && !self.expiring(c.expires_at)
        {
            return Ok((c.token.clone(), c.version));
        }
        let version = cached.as_ref().map_or(0, |c| c.version);
        let fresh = self.obtain(None).await?;
        let result = (fresh.token.clone(), version + 1);
        *cached = Some(Cached {
            version: version + 1,
            ..fresh
        });
        Ok(result)
    }

    /// After a 401 with token `seen`: refresh unless someone already did.
    pub async fn refused(&self, seen: u64) -> Result<(SecretString, u64), TokenError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && c.version != seen
        {
            return Ok((c.token.clone(), c.version));
        }
        let stale = cached.as_ref().map(|c| c.token.expose_secret().to_owned());
        let fresh = self.obtain(Some(stale.unwrap_or_default())).await?;
        let version = seen + 1;
        let result = (fresh.token.clone(), version);
        *cached = Some(Cached { version, ..fresh });
        Ok(result)
    }

    /// Reads the stored token, refreshing under the row lock when it is expiring
    /// or is the one the platform just refused (`refused`).
    async fn obtain(&self, refused: Option<String>) -> Result<Cached, TokenError> {
        let store = |e: crate::persistence::StoreError| TokenError::Transient(e.to_string());
        if refused.is_none() {
            // Most first uses find a good token: read it without the lock (a
            // locked read is a transaction and a row write per connection).
            let seeded = self.seed.lock().unwrap_or_else(|e| e.into_inner()).take();
            let state = match seeded {
                Some(state) => Some(state),
                None => connections::token_state(&self.ctx.pool, self.connection)
                    .await
                    .map_err(store)?,
            };
            if let Some(state) = state
                && state.status == ConnectionStatus::Active
                && !self.expiring(state.expires_at)
                && state.tokens.access_token.is_some()
            {
                return Ok(Cached {
                    token: self.open(&state, TokenKind::Access).await?,
                    expires_at: state.expires_at,
                    version: 0,
                });
            }
        }
        let mut tx = self
            .ctx
            .pool
            .begin()
            .await
            .map_err(|e| TokenError::Transient(e.to_string()))?;
        let state = connections::lock_token_state(&mut tx, self.connection)
            .await
            .map_err(store)?
            .ok_or_else(|| TokenError::Revoked("the connection no longer exists".into()))?;
        if state.status != ConnectionStatus::Active {
            return Err(TokenError::Revoked(format!(
                "the {} connection is {}; reconnect it in Prasaran",
                state.platform_id,
                state.status.as_str()
            )));
        }
        let current = self.open(&state, TokenKind::Access).await?;
        let refused_here = refused.as_deref() == Some(current.expose_secret());
        if !refused_here && !self.expiring(state.expires_at) {
            // Another process (or the connect flow) already has a good token stored.
            return Ok(Cached {
                token: current,
                expires_at: state.expires_at,
                version: 0,
            });
        }
        let refresh = self.open(&state, TokenKind::Refresh).await?;
        match self.adapter.refresh(&refresh).await {
            Ok(tokens) => {
                let access = seal_token(
                    &self.ctx.keyring,
                    self.connection,
                    TokenKind::Access,
                    &tokens.access_token,
                )
                .await
                .map_err(|e| TokenError::Transient(e.to_string()))?;
                let new_refresh = match &tokens.refresh_token {
                    Some(token) => Some(
                        seal_token(
                            &self.ctx.keyring,
                            self.connection,
                            TokenKind::Refresh,
                            token,
                        )
                        .await
                        .map_err(|e| TokenError::Transient(e.to_string()))?,
                    ),
                    None => None,
                };
                connections::store_refreshed(
                    &mut tx,
                    self.connection,
                    access,
                    new_refresh,
                    tokens.expires_at,
                )
                .await
                .map_err(store)?;
                tx.commit()
                    .await
                    .map_err(|e| TokenError::Transient(e.to_string()))?;
                self.ctx.metrics.refreshes.with_label_values(&["ok"]).inc();
                tracing::info!(connection_id = %self.connection, "access token refreshed");
                Ok(Cached {
                    token: tokens.access_token,
                    expires_at: tokens.expires_at,
                    version: 0,
                })
            }
            Err(AdapterError::Revoked { reason }) => {
                drop(tx);
                self.ctx
                    .metrics
                    .refreshes
                    .with_label_values(&["revoked"])
                    .inc();
                connections::mark_needs_reauth(&self.ctx.pool, self.connection)
                    .await
                    .map_err(store)?;
                self.ctx.targets.forget_connection(self.connection);
                Err(TokenError::Revoked(format!(
                    "{} no longer accepts this connection ({reason}); reconnect it in Prasaran",
                    self.adapter.display_name()
                )))
            }
            Err(other) => {
                self.ctx
                    .metrics
                    .refreshes
                    .with_label_values(&["failed"])
                    .inc();
                Err(TokenError::Transient(format!(
                    "refreshing the token failed: {other}"
                )))
            }
        }
    }

    async fn open(&self, state: &TokenState, kind: TokenKind) -> Result<SecretString, TokenError> {
        let blob = match kind {
            TokenKind::Access => state.tokens.access_token.as_ref(),
            TokenKind::Refresh => state.tokens.refresh_token.as_ref(),
            TokenKind::GrantSecret => state.tokens.grant_secret.as_ref(),
        }
        .ok_or_else(|| {
            TokenError::Revoked("the connection has no stored token; reconnect it".into())
        })?;
        open_token(&self.ctx.keyring, self.connection, kind, blob)
            .await
            .map_err(|e| {
                TokenError::Transient(format!("the stored token could not be opened: {e}"))
            })
    }
}

/// Backoff with full jitter: a random delay up to `base * 2^attempt`, capped.
pub fn backoff(base_ms: u32, cap_ms: u32, attempt: i32) -> Duration {
    let exp = u32::try_from(attempt.clamp(0, 20)).unwrap_or(20);
    let ceiling = u64::from(base_ms)
        .saturating_mul(1u64 << exp)
        .min(u64::from(cap_ms));
    Duration::from_millis(rand::random_range(0..=ceiling.max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_within_its_ceiling_and_cap() {
        for attempt in [-5, 0, 1, 2, 3, 10, 30, i32::MAX] {
            let ceiling = 100u64.saturating_mul(1 << attempt.clamp(0, 20)).min(5_000);
            for _ in 0..200 {
                let wait = backoff(100, 5_000, attempt);
                assert!(
                    wait <= Duration::from_millis(ceiling.max(1)),
                    "attempt {attempt}: {wait:?} over {ceiling} ms"
                );
            }
        }
    }

    #[test]
    fn backoff_is_jittered_and_grows_with_attempts() {
        let waits: Vec<Duration> = (0..200).map(|_| backoff(100, 60_000, 6)).collect();
        let distinct: std::collections::HashSet<_> = waits.iter().collect();
        assert!(distinct.len() > 50, "full jitter spreads retries out");
        // Up to 6,400 ms at attempt 6: some retries wait past attempt 0's 100 ms ceiling.
        assert!(waits.iter().any(|w| *w > Duration::from_millis(1_000)));
    }
}
