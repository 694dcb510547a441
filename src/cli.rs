//! The command line: `prasaran serve`, `prasaran migrate`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::settings::Environment;

/// Prasaran: write a post once, publish it to every connected platform.
///
/// Configuration comes from config/default.toml and config/<environment>.toml
/// (compiled in), overridden by PRASARAN__SECTION__KEY environment variables,
/// e.g. PRASARAN__DATABASE__URL=postgres://… . With no database URL, prasaran
/// runs its own private PostgreSQL cluster under the data directory.
#[derive(Debug, Parser)]
#[command(name = "prasaran", version, propagate_version = true)]
pub struct Cli {
    /// Which config/<environment>.toml to apply: dev (plain HTTP, readable
    /// logs, generated keys) or production (secrets required).
    #[arg(long, global = true, env = "PRASARAN_ENV", default_value = "dev")]
    pub env: Environment,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API. With no database URL configured, starts (or reuses)
    /// the embedded PostgreSQL cluster in the data directory and stops it on
    /// Ctrl-C or SIGTERM. Migrations are applied at start-up.
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080, from server.bind].
        #[arg(long)]
        bind: Option<SocketAddr>,
        /// Directory for the embedded database and dev keys [default: .prasaran].
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Apply pending database migrations and exit (serve also applies them).
    Migrate {
        /// Directory of the embedded database, when no database URL is configured.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}
