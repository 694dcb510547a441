//! The `prasaran` binary: parse the command line, load settings, run.

use std::process::ExitCode;

use clap::Parser;
use prasaran::cli::{Cli, Command};
use prasaran::settings::{self, Settings};
use prasaran::startup::{Application, Database};
use prasaran::telemetry;

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
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
        Command::Serve { bind, data_dir } => {
            if let Some(bind) = bind {
                settings.server.bind = bind;
            }
            if let Some(dir) = data_dir {
                settings.data_dir = dir;
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
    }
}
