//! The `prasaran` binary: parse the command line, load settings, run.

use std::process::ExitCode;

use clap::Parser;
use prasaran::cli::{Cli, Command, KeysCommand, SandboxCommand};
use prasaran::connections::rotation;
use prasaran::sandbox::manch::{SandboxConfig, SandboxServer};
use prasaran::sandbox::mastodon::{MastodonConfig, MastodonSandbox};
use prasaran::settings::{self, MASTER_KEY_LEN, Settings};
use prasaran::startup::{Application, Database, keys};
use prasaran::telemetry;

#[actix_web::main]
async fn main() -> ExitCode {
    keep_large_allocations_returnable();
    let cli = Cli::parse();
    if let Command::Sandbox { platform } = &cli.command
        && let Err(refusal) = platform.check_bind()
    {
        eprintln!("error: {refusal}");
        return ExitCode::FAILURE;
    }
    let settings = match settings::load(cli.env) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    telemetry::init(&settings.log);
    match run(cli.command, settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "prasaran stopped");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, mut settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve {
            bind,
            data_dir,
            sandbox_bind,
            ops_bind,
            role,
        } => {
            if let Some(role) = role {
                settings.server.role = role;
            }
            if let Some(bind) = bind {
                settings.server.bind = bind;
            }
            if let Some(dir) = data_dir {
                settings.data_dir = dir;
            }
            if let Some(bind) = sandbox_bind {
                settings.sandbox.bind = bind;
            }
            if let Some(bind) = ops_bind {
                settings.server.ops_bind = bind;
            }
            Application::build(settings)
                .await?
                .run_until_stopped()
                .await
        }
        Command::Migrate { data_dir } => {
            if let Some(dir) = data_dir {
                settings.data_dir = dir;
            }
            let database = Database::open(&settings).await?;
            database.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::Sandbox {
            platform:
                SandboxCommand::Manch {
                    bind,
                    client_id,
                    client_secret,
                    workers,
                    ..
                },
        } => {
            let config = SandboxConfig {
                client_id,
                client_secret,
                state_file: None,
            };
            let sandbox = SandboxServer::bind(bind, config, workers)?;
            println!("Manch sandbox listening on {}", sandbox.base_url);
            tokio::select! {
                served = sandbox.run() => served?,
                _ = tokio::signal::ctrl_c() => {}
            }
            Ok(())
        }
        Command::Sandbox {
            platform:
                SandboxCommand::Mastodon {
                    bind,
                    domain,
                    workers,
                    ..
                },
        } => {
            let config = MastodonConfig {
                domain,
                ..MastodonConfig::default()
            };
            let sandbox = MastodonSandbox::bind(bind, config, workers)?;
            println!(
                "Mastodon sandbox ({}) listening on {}",
                sandbox.domain, sandbox.base_url
            );
            tokio::select! {
                served = sandbox.run() => served?,
                _ = tokio::signal::ctrl_c() => {}
            }
            Ok(())
        }
        Command::Keys {
            action: KeysCommand::Generate,
        } => {
            println!("{}", settings::generate_key_text(MASTER_KEY_LEN));
            Ok(())
        }
        Command::Keys {
            action: KeysCommand::Rotate { data_dir },
        } => {
            if let Some(dir) = data_dir {
                settings.data_dir = dir;
            }
            let keyring = keys::keyring(&settings).await?;
            let database = Database::open(&settings).await?;
            let report = rotation::rotate(&database.pool, &keyring).await;
            database.close().await;
            let report = report?;
            println!(
                "re-wrapped {} data keys; {} were already under the current key",
                report.rewrapped, report.current
            );
            Ok(())
        }
    }
}

/// Argon2 takes 19 MiB per hash. glibc's adaptive mmap threshold would soon
/// serve such blocks from per-thread arenas and keep them after free, so the
/// process would hold ~19 MiB per thread that ever hashed. A fixed 1 MiB
/// threshold keeps large blocks in mmap, returned to the OS on free.
fn keep_large_allocations_returnable() {
    // SAFETY: mallopt only tunes the allocator and is called before any thread starts.
    unsafe {
        nix::libc::mallopt(nix::libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
