//! Sending mail: one [`Mailer`] trait, with an SMTP sender for deployments and a
//! file outbox for the embedded default, so a newcomer can open the links a
//! real inbox would have received.

mod outbox;
mod smtp;

use std::path::Path;
use std::sync::Arc;

pub use outbox::{Outbox, StoredMail};
pub use smtp::SmtpMailer;

use crate::settings::{MailSettings, MailTransport};

/// One plain-text message to one address.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail settings: {0}")]
    Settings(String),
    #[error("the message could not be built: {0}")]
    Message(String),
    #[error("the SMTP relay did not take the message: {0}")]
    Smtp(String),
    #[error("the outbox could not be written: {0}")]
    Outbox(#[from] std::io::Error),
}

#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: Mail) -> Result<(), MailError>;

    /// The outbox behind this mailer, when mail is kept rather than sent.
    fn outbox(&self) -> Option<&Outbox> {
        None
    }
}

/// The mailer the settings ask for; the outbox lives under `data_dir`.
pub fn from_settings(
    settings: &MailSettings,
    data_dir: &Path,
) -> Result<Arc<dyn Mailer>, MailError> {
    Ok(match settings.transport {
        MailTransport::Outbox => Arc::new(Outbox::new(data_dir.join("outbox"))),
        MailTransport::Smtp => Arc::new(SmtpMailer::new(settings)?),
    })
}
