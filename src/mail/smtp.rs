//! Mail through an SMTP relay (`lettre`): STARTTLS or implicit TLS with the
//! relay's certificate checked, plain text only to a loopback relay.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use super::{Mail, MailError, Mailer};
use crate::settings::{MailSettings, SmtpSecurity};

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    pub fn new(settings: &MailSettings) -> Result<Self, MailError> {
        let smtp = &settings.smtp;
        let host = smtp
            .host
            .as_deref()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| MailError::Settings("`mail.smtp.host` is required".into()))?;
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| MailError::Settings(format!("`mail.from` is not an address: {e}")))?;
        let builder = match smtp.security {
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| MailError::Settings(e.to_string()))?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| MailError::Settings(e.to_string()))?,
            SmtpSecurity::None => {
                if !is_loopback(host) {
                    return Err(MailError::Settings(format!(
                        "`mail.smtp.security = \"none\"` would send passwords and links in clear text to {host}: use starttls or tls (plain text is accepted for a loopback relay only)"
                    )));
                }
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            }
        };
        let mut builder = builder
            .port(smtp.port)
            .timeout(Some(Duration::from_secs(u64::from(
                smtp.timeout_secs.get(),
            ))));
        if let Some(username) = &smtp.username {
            let password = match (&smtp.password, &smtp.password_file) {
                (Some(password), _) => password.expose_secret().to_owned(),
                (None, Some(path)) => std::fs::read_to_string(path)
                    .map_err(|e| {
                        MailError::Settings(format!(
                            "`mail.smtp.password_file` {}: {e}",
                            path.display()
                        ))
                    })?
                    .trim_end()
                    .to_owned(),
                (None, None) => {
                    return Err(MailError::Settings(
                        "`mail.smtp.username` is set without a password (PRASARAN__MAIL__SMTP__PASSWORD or mail.smtp.password_file)".into(),
                    ));
                }
            };
            builder = builder.credentials(Credentials::new(username.clone(), password));
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| MailError::Message(format!("recipient: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text)
            .map_err(|e| MailError::Message(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map_err(|e| MailError::Smtp(e.to_string()))?;
        Ok(())
    }
}
