//! Getting a migrated connection pool: from the configured URL, or from the
//! embedded default cluster, which this process then owns and stops.

use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;

use crate::persistence::embedded::{ClusterConfig, DirLock, EmbeddedCluster, EmbeddedError};
use crate::persistence::{self, connect_url, ensure_database};
use crate::settings::Settings;

/// A database this process may use, and the embedded cluster it must stop, if any.
pub struct Database {
    pub pool: PgPool,
    embedded: Option<OwnedCluster>,
}

struct OwnedCluster {
    cluster: EmbeddedCluster,
    /// Held while we run: a second `serve` on the same data dir is told so.
    _lock: DirLock,
}

impl Database {
    /// Connects (starting the embedded cluster when no URL is set) and applies migrations.
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        let database = &settings.database;
        let acquire_timeout = Duration::from_secs(u64::from(database.acquire_timeout_secs.get()));
        let max = database.max_connections.get();
        let (options, embedded) = match &database.url {
            Some(url) => (
                connect_url(url, database.password_file.as_deref()).map_err(anyhow::Error::msg)?,
                None,
            ),
            None => {
                let owned = start_embedded(settings).await?;
                let name = &database.embedded.database_name;
                let admin = owned.cluster.connect_options("postgres");
                if let Err(error) = ensure_database(&admin, name).await {
                    owned.stop().await;
                    return Err(error).context("creating the embedded database");
                }
                (owned.cluster.connect_options(name), Some(owned))
            }
        };
        let opened = async {
            let pool = persistence::pool(options, max, acquire_timeout)
                .await
                .context("connecting to PostgreSQL")?;
            persistence::migrate(&pool)
                .await
                .context("applying database migrations")?;
            anyhow::Ok(pool)
        }
        .await;
        match opened {
            Ok(pool) => Ok(Self { pool, embedded }),
            Err(error) => {
                if let Some(owned) = embedded {
                    owned.stop().await;
                }
                Err(error)
            }
        }
    }

    /// Closes the pool and stops the embedded cluster if this process started it.
    pub async fn close(self) {
        self.pool.close().await;
        if let Some(owned) = self.embedded {
            owned.stop().await;
        }
    }
}

impl OwnedCluster {
    async fn stop(self) {
        let result = tokio::task::spawn_blocking(move || self.cluster.stop()).await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::error!(error = %error, "stopping the embedded PostgreSQL failed")
            }
            Err(error) => {
                tracing::error!(error = %error, "stopping the embedded PostgreSQL failed")
            }
        }
    }
}

async fn start_embedded(settings: &Settings) -> anyhow::Result<OwnedCluster> {
    let embedded = &settings.database.embedded;
    let config = ClusterConfig {
        data_dir: settings.data_dir.clone(),
        bin_dir: embedded.bin_dir.clone(),
        os_user: embedded.os_user.clone(),
        start_timeout: Duration::from_secs(u64::from(embedded.start_timeout_secs.get())),
        listen: None,
    };
    let owned = tokio::task::spawn_blocking(move || -> Result<OwnedCluster, EmbeddedError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| EmbeddedError::Io {
            context: format!("creating {}", config.data_dir.display()),
            source,
        })?;
        let lock_path = config.data_dir.join("serve.lock");
        let lock = DirLock::try_take(&lock_path)
            .map_err(|source| EmbeddedError::Io {
                context: format!("locking {}", lock_path.display()),
                source,
            })?
            .map_err(|held| EmbeddedError::InUse {
                data_dir: config.data_dir.display().to_string(),
                pid: held.holder,
            })?;
        let cluster = EmbeddedCluster::start(&config)?;
        Ok(OwnedCluster {
            cluster,
            _lock: lock,
        })
    })
    .await??;
    Ok(owned)
}
