//! Sweeps rows that expired: browser sessions and unfinished OAuth
//! authorizations. Both are already refused once expired; this keeps the
//! tables from growing without bound.

use std::time::Duration;

use actix::{Actor, AsyncContext, Context, Supervised, Supervisor, WrapFuture};
use sqlx::PgPool;

use crate::persistence::{oauth_states, sessions};

const SWEEP_EVERY: Duration = Duration::from_secs(300);

pub struct Janitor {
    pool: PgPool,
}

impl Janitor {
    /// Starts the janitor under a supervisor in the current actix System.
    pub fn start_in_system(pool: PgPool) -> actix::Addr<Self> {
        Supervisor::start(move |_| Self { pool })
    }
}

impl Actor for Janitor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(SWEEP_EVERY, |janitor, ctx| {
            let pool = janitor.pool.clone();
            ctx.spawn(
                async move {
                    match sessions::delete_expired(&pool).await {
                        Ok(n) if n > 0 => tracing::debug!(deleted = n, "expired sessions removed"),
                        Ok(_) => {}
                        Err(error) => {
                            tracing::warn!(error = %error, "removing expired sessions failed")
                        }
                    }
                    match oauth_states::delete_expired(&pool).await {
                        Ok(n) if n > 0 => {
                            tracing::debug!(deleted = n, "expired OAuth states removed")
                        }
                        Ok(_) => {}
                        Err(error) => {
                            tracing::warn!(error = %error, "removing expired OAuth states failed")
                        }
                    }
                }
                .into_actor(janitor),
            );
        });
    }
}

impl Supervised for Janitor {}
