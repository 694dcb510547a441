//! Deletes expired session rows. Expired sessions are already refused when
//! loaded; this keeps the table from growing without bound.

use std::time::Duration;

use actix::{Actor, AsyncContext, Context, Supervised, Supervisor, WrapFuture};
use sqlx::PgPool;

use crate::persistence::sessions;

const SWEEP_EVERY: Duration = Duration::from_secs(300);

pub struct SessionReaper {
    pool: PgPool,
}

impl SessionReaper {
    /// Starts the reaper under a supervisor in the current actix System.
    pub fn start_in_system(pool: PgPool) -> actix::Addr<Self> {
        Supervisor::start(move |_| Self { pool })
    }
}

impl Actor for SessionReaper {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(SWEEP_EVERY, |reaper, ctx| {
            let pool = reaper.pool.clone();
            ctx.spawn(
                async move {
                    match sessions::delete_expired(&pool).await {
                        Ok(0) => {}
                        Ok(n) => tracing::debug!(deleted = n, "expired sessions removed"),
                        Err(error) => {
                            tracing::warn!(error = %error, "removing expired sessions failed")
                        }
                    }
                }
                .into_actor(reaper),
            );
        });
    }
}

impl Supervised for SessionReaper {}
