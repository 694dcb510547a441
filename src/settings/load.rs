//! Layering the configuration sources and checking the result.

use std::fmt;
use std::str::FromStr;

use figment::Figment;
use figment::providers::{Env, Format, Toml};

use super::{KeyProviderKind, MailTransport, MediaStoreKind, QueueKind, Role, Settings};

/// The config files are compiled in so the binary runs from any directory;
/// environment variables override them.
const DEFAULT_TOML: &str = include_str!("../../config/default.toml");
const DEV_TOML: &str = include_str!("../../config/dev.toml");
const PRODUCTION_TOML: &str = include_str!("../../config/production.toml");

/// Prefix of the environment variables that override file values,
/// e.g. `PRASARAN__DATABASE__URL` sets `database.url`.
pub const ENV_PREFIX: &str = "PRASARAN__";

/// Which `config/<environment>.toml` applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Environment {
    #[default]
    Dev,
    Production,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Dev => "dev",
            Environment::Production => "production",
        }
    }

    fn overlay(self) -> &'static str {
        match self {
            Environment::Dev => DEV_TOML,
            Environment::Production => PRODUCTION_TOML,
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Environment {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "dev" | "development" => Ok(Environment::Dev),
            "production" | "prod" => Ok(Environment::Production),
            other => Err(format!(
                "unknown environment `{other}`: use `dev` or `production`"
            )),
        }
    }
}

/// Why the configuration cannot be used. Display is a single line naming the key.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration error: {0}")]
    Invalid(String),
    #[error("configuration error: `{key}` is required in {environment}: {hint}")]
    MissingSecret {
        key: &'static str,
        environment: Environment,
        hint: &'static str,
    },
    #[error("configuration error: `{key}` is required: {hint}")]
    Missing {
        key: &'static str,
        hint: &'static str,
    },
}

/// Loads the settings for `environment` from the compiled-in files and the process environment.
pub fn load(environment: Environment) -> Result<Settings, SettingsError> {
    let figment = Figment::new()
        .merge(Toml::string(DEFAULT_TOML))
        .merge(Toml::string(environment.overlay()))
        .merge(Env::prefixed(ENV_PREFIX).split("__"));
    let mut settings: Settings = figment.extract().map_err(|error| {
        // figment may collect several problems; keep them on one line.
        let all: Vec<String> = error.into_iter().map(describe).collect();
        SettingsError::Invalid(all.join("; "))
    })?;
    settings.environment = environment;
    check_production_secrets(&settings)?;
    super::guardrails::check_production(&settings)?;
    check_mode_requirements(&settings)?;
    Ok(settings)
}

/// The SQS queue, the KMS key and the media bucket have no sensible default:
/// whoever picks those modes must name them.
pub fn check_mode_requirements(settings: &Settings) -> Result<(), SettingsError> {
    super::guardrails::check_exposure(settings)?;
    if settings.queue.kind == QueueKind::Sqs && settings.queue.sqs.queue_url.is_none() {
        return Err(SettingsError::Missing {
            key: "queue.sqs.queue_url",
            hint: "queue.kind = \"sqs\" needs the queue's URL (PRASARAN__QUEUE__SQS__QUEUE_URL)",
        });
    }
    if settings.server.role != Role::All && settings.queue.kind != QueueKind::Sqs {
        return Err(SettingsError::Missing {
            key: "queue.kind",
            hint: "separate api and worker processes hand tasks over through SQS: set queue.kind = \"sqs\" and queue.sqs.queue_url, or use --role all",
        });
    }
    if settings.queue.sqs.tasks_per_message.get() as usize > crate::queue::TaskMessage::MAX_TASKS {
        return Err(SettingsError::Invalid(format!(
            "`queue.sqs.tasks_per_message`: at most {} tasks fit one message",
            crate::queue::TaskMessage::MAX_TASKS
        )));
    }
    if settings.queue.sqs.wait_time_secs > 20 {
        return Err(SettingsError::Invalid(
            "`queue.sqs.wait_time_secs`: SQS long polls wait at most 20 seconds".into(),
        ));
    }
    let bucket = settings.media.s3.bucket.as_deref();
    if settings.media.store == MediaStoreKind::S3 && bucket.is_none_or(str::is_empty) {
        return Err(SettingsError::Missing {
            key: "media.s3.bucket",
            hint: "media.store = \"s3\" needs the bucket's name (PRASARAN__MEDIA__S3__BUCKET)",
        });
    }
    if settings.mail.transport == MailTransport::Smtp
        && settings.mail.smtp.host.as_deref().is_none_or(str::is_empty)
    {
        return Err(SettingsError::Missing {
            key: "mail.smtp.host",
            hint: "mail.transport = \"smtp\" needs the relay's host (PRASARAN__MAIL__SMTP__HOST)",
        });
    }
    if let Some(token) = &settings.server.ops_token
        && secrecy::ExposeSecret::expose_secret(token).chars().count() < 32
    {
        return Err(SettingsError::Invalid(
            "`server.ops_token`: use at least 32 random characters (e.g. prasaran keys generate)"
                .into(),
        ));
    }
    if settings.keys.provider == KeyProviderKind::Kms && settings.keys.kms.key_id.is_none() {
        return Err(SettingsError::Missing {
            key: "keys.kms.key_id",
            hint: "keys.provider = \"kms\" needs a KMS key id, ARN or alias (PRASARAN__KEYS__KMS__KEY_ID)",
        });
    }
    Ok(())
}

/// "`server.workers`: invalid type: … (from PRASARAN__ environment variables)".
fn describe(error: figment::Error) -> String {
    let key = error.path.join(".").to_lowercase();
    let source = error
        .metadata
        .as_ref()
        .map(|m| format!(" (from {})", m.name))
        .unwrap_or_default();
    if key.is_empty() {
        format!("{}{source}", error.kind)
    } else {
        format!("`{key}`: {}{source}", error.kind)
    }
}

fn check_production_secrets(settings: &Settings) -> Result<(), SettingsError> {
    if settings.environment != Environment::Production {
        return Ok(());
    }
    if settings.session.key.is_none() && settings.session.key_file.is_none() {
        return Err(SettingsError::MissingSecret {
            key: "session.key",
            environment: Environment::Production,
            hint: "set PRASARAN__SESSION__KEY to the base64 of 64 random bytes, or PRASARAN__SESSION__KEY_FILE to a file holding it",
        });
    }
    if settings.keys.provider == KeyProviderKind::Local
        && settings.keys.local.master_key.is_none()
        && settings.keys.local.master_key_file.is_none()
    {
        return Err(SettingsError::MissingSecret {
            key: "keys.local.master_key",
            environment: Environment::Production,
            hint: "set PRASARAN__KEYS__LOCAL__MASTER_KEY to the base64 of 32 random bytes (prasaran keys generate), or PRASARAN__KEYS__LOCAL__MASTER_KEY_FILE",
        });
    }
    if settings.platforms.manch.base_url.is_none()
        || settings.platforms.manch.client_secret.is_none()
    {
        return Err(SettingsError::MissingSecret {
            key: "platforms.manch.base_url",
            environment: Environment::Production,
            hint: "set PRASARAN__PLATFORMS__MANCH__BASE_URL and PRASARAN__PLATFORMS__MANCH__CLIENT_SECRET (the sandbox is for development only)",
        });
    }
    if settings.database.url.is_none() {
        return Err(SettingsError::MissingSecret {
            key: "database.url",
            environment: Environment::Production,
            hint: "set PRASARAN__DATABASE__URL (the embedded database is for development only)",
        });
    }
    if settings.mail.transport == MailTransport::Outbox {
        return Err(SettingsError::MissingSecret {
            key: "mail.transport",
            environment: Environment::Production,
            hint: "set PRASARAN__MAIL__TRANSPORT=smtp and PRASARAN__MAIL__SMTP__HOST (the outbox is for development only: nobody would receive their links)",
        });
    }
    Ok(())
}
