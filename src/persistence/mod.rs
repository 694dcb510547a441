//! Everything that speaks SQL: the connection pool and migrations, one module
//! per table family, and the embedded default cluster.

pub mod account_links;
pub mod api_tokens;
pub mod change_feed;
pub mod connections;
mod database;
pub mod drafts;
pub mod embedded;
mod error;
pub mod media;
pub mod media_store;
pub mod media_store_s3;
pub mod oauth_states;
pub mod outbox;
pub mod platform_clients;
pub mod platforms;
pub mod post_edits;
pub mod publishing;
pub mod quotas;
pub mod sessions;
pub mod tasks;
pub mod users;

pub use database::{
    MIGRATOR, MigrationState, connect_url, drop_database, ensure_database, migrate,
    migration_state, ping, pool,
};
pub use error::StoreError;
