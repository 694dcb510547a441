//! Sweeps rows that expired: browser sessions and unfinished OAuth
//! authorizations (both already refused once expired; this keeps the tables
//! from growing without bound), and media uploads no post used within
//! `media.unattached_ttl_hours`, with their stored files.

use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, AsyncContext, Context, Supervised, Supervisor, WrapFuture};
use sqlx::PgPool;

use crate::persistence::media_store::MediaStore;
use crate::persistence::{media, oauth_states, sessions};

const SWEEP_EVERY: Duration = Duration::from_secs(300);

pub struct Janitor {
    pool: PgPool,
    media: Arc<dyn MediaStore>,
    unattached_ttl: Duration,
}

impl Janitor {
    /// Starts the janitor under a supervisor in the current actix System.
    pub fn start_in_system(
        pool: PgPool,
        media: Arc<dyn MediaStore>,
        unattached_ttl: Duration,
    ) -> actix::Addr<Self> {
        Supervisor::start(move |_| Self {
            pool,
            media,
            unattached_ttl,
        })
    }
}

/// Removes uploads no post used within `ttl`, and their files.
pub async fn sweep_unattached_media(
    pool: &PgPool,
    store: &dyn MediaStore,
    ttl: Duration,
) -> Result<usize, crate::persistence::StoreError> {
    let objects = media::expire_unattached(pool, ttl).await?;
    for object in &objects {
        if let Err(error) = store.delete(&hex::encode(object)).await {
            tracing::warn!(error = %error, "removing an expired media file failed");
        }
    }
    Ok(objects.len())
}

impl Actor for Janitor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(SWEEP_EVERY, |janitor, ctx| {
            let pool = janitor.pool.clone();
            let store = janitor.media.clone();
            let ttl = janitor.unattached_ttl;
            ctx.spawn(
                async move {
                    match sweep_unattached_media(&pool, store.as_ref(), ttl).await {
                        Ok(n) if n > 0 => tracing::info!(files = n, "unused media uploads removed"),
                        Ok(_) => {}
                        Err(error) => {
                            tracing::warn!(error = %error, "removing unused media uploads failed")
                        }
                    }
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
