//! The command line: `prasaran serve`, `prasaran migrate`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::settings::{Environment, Role};

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
        /// Where the dev-mode Manch sandbox listens [default: a free port on 127.0.0.1].
        #[arg(long)]
        sandbox_bind: Option<SocketAddr>,
        /// Where /metrics and /health/actors are served [default:
        /// 127.0.0.1:9464, from server.ops_bind]; never on the public listener.
        #[arg(long)]
        ops_bind: Option<SocketAddr>,
        /// What this process runs: api (accepts publishes), worker (runs them:
        /// queue ingress, platform workers, scheduler; serves /health and
        /// /metrics only) or all. api and worker need queue.kind = "sqs"
        /// [default: all, from server.role].
        #[arg(long)]
        role: Option<Role>,
    },
    /// Apply pending database migrations and exit (serve also applies them).
    Migrate {
        /// Directory of the embedded database, when no database URL is configured.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Run a platform sandbox alone (a stand-in for the real platform).
    Sandbox {
        #[command(subcommand)]
        platform: SandboxCommand,
    },
    /// Manage the keys that protect tokens at rest.
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// The Manch sandbox: OAuth2 consent page, token endpoint, posting API and
    /// /_sandbox/ controls, state in memory.
    Manch {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8081")]
        bind: SocketAddr,
        /// The OAuth client id it accepts.
        #[arg(long, default_value = "prasaran-dev")]
        client_id: String,
        /// The OAuth client secret it accepts.
        #[arg(
            long,
            env = "MANCH_SANDBOX_CLIENT_SECRET",
            default_value = "prasaran-dev-secret"
        )]
        client_secret: String,
        /// Worker threads (1 keeps it to one core).
        #[arg(long, default_value_t = 1)]
        workers: usize,
        /// Accept a non-loopback --bind: the sandbox hands out tokens to
        /// anyone and has no real users, so only on a closed network.
        #[arg(long)]
        allow_remote: bool,
    },
    /// The Mastodon sandbox: app registration, OAuth 2 with PKCE, accounts,
    /// instance, statuses and media as a Mastodon 4.3+ instance answers
    /// them, with /_sandbox/ controls; state in memory.
    Mastodon {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8082")]
        bind: SocketAddr,
        /// The instance's domain, in handles and entity URLs
        /// [default: mastodon-PORT.sandbox].
        #[arg(long)]
        domain: Option<String>,
        /// Worker threads (1 keeps it to one core).
        #[arg(long, default_value_t = 1)]
        workers: usize,
        /// Accept a non-loopback --bind (a closed network only).
        #[arg(long)]
        allow_remote: bool,
    },
}

impl SandboxCommand {
    /// A sandbox grants tokens to whoever asks: refuse to face a network
    /// unless told to.
    pub fn check_bind(&self) -> Result<(), String> {
        let (bind, allow_remote) = match self {
            SandboxCommand::Manch {
                bind, allow_remote, ..
            }
            | SandboxCommand::Mastodon {
                bind, allow_remote, ..
            } => (bind, *allow_remote),
        };
        if bind.ip().is_loopback() || allow_remote {
            Ok(())
        } else {
            Err(format!(
                "--bind {bind} is not a loopback address: a sandbox gives tokens to anyone who asks. Add --allow-remote to serve it on a closed network"
            ))
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-wrap every stored data key under the current key (after making a new
    /// master key current and listing the old one in keys.local.retired_key_files).
    Rotate {
        /// Directory of the embedded database, when no database URL is configured.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Print a new random master key (base64 of 32 bytes) for keys.local.master_key.
    Generate,
}
