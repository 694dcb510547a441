//! Connecting, creating databases and applying the embedded migrations.

use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

use super::StoreError;

/// The migrations in `migrations/`, compiled into the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Connection options from a configured URL, with the password from a file when given.
pub fn connect_url(
    url: &SecretString,
    password_file: Option<&std::path::Path>,
) -> Result<PgConnectOptions, String> {
    let mut options = PgConnectOptions::from_str(url.expose_secret())
        // The URL may carry a password: never echo it.
        .map_err(|_| "`database.url` is not a valid PostgreSQL URL".to_owned())?;
    if let Some(path) = password_file {
        let password = std::fs::read_to_string(path)
            .map_err(|e| format!("`database.password_file` {}: {e}", path.display()))?;
        options = options.password(password.trim_end_matches(['\r', '\n']));
    }
    Ok(options)
}

/// A pool that gives up on a connection after `acquire_timeout`.
///
/// Its sessions plan with `random_page_cost = 1.1`: the engine's hot
/// statements look up a few hundred tasks by id among many, in tables that
/// live in memory. With the default of 4, PostgreSQL prices those index
/// lookups above reading the whole table and, once a batch is large enough,
/// scans every task ever made for each group commit (measured: 2.7 million
/// rows read per 20,000 publishes). 1.1 is the usual value for SSDs and caches.
pub async fn pool(
    options: PgConnectOptions,
    max_connections: u32,
    acquire_timeout: Duration,
) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        .connect_with(
            options
                .options([("random_page_cost", "1.1")])
                .log_statements(tracing::log::LevelFilter::Debug),
        )
        .await
}

/// Creates `name` through `admin` (a connection to another database of the
/// same server) unless it exists.
pub async fn ensure_database(admin: &PgConnectOptions, name: &str) -> Result<(), StoreError> {
    let mut connection = PgConnection::connect_with(admin).await?;
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&mut connection)
        .await?;
    if exists.is_none() {
        let statement = format!("CREATE DATABASE {}", quote_identifier(name));
        match sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut connection)
            .await
        {
            Ok(_) => {}
            // Another process created it between our check and our CREATE.
            Err(error) if super::error::is_unique_violation(&error) => {}
            Err(error) => return Err(error.into()),
        }
    }
    connection.close().await?;
    Ok(())
}

/// Drops `name`, disconnecting anyone still on it (tests clean up with this).
pub async fn drop_database(admin: &PgConnectOptions, name: &str) -> Result<(), StoreError> {
    let mut connection = PgConnection::connect_with(admin).await?;
    let statement = format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        quote_identifier(name)
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
        .execute(&mut connection)
        .await?;
    connection.close().await?;
    Ok(())
}

pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// Whether the database has every migration this binary knows about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationState {
    Current,
    Behind { applied: i64, expected: i64 },
}

pub async fn migration_state(pool: &PgPool) -> Result<MigrationState, StoreError> {
    let expected = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    let applied: Option<i64> =
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await?;
    let applied = applied.unwrap_or(0);
    Ok(if applied >= expected {
        MigrationState::Current
    } else {
        MigrationState::Behind { applied, expected }
    })
}

fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Whether the database answers at all (after a failure: down, or a bug?).
pub async fn ping(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1").execute(pool).await.map(|_| ())
}
