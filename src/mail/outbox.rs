//! The development outbox: each message is a JSON file under the data dir,
//! listed newest first at `/dev/outbox`.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Mail, MailError, Mailer};

/// Messages kept at most; older ones are removed as new ones arrive.
const KEEP: usize = 200;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredMail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub sent_at: DateTime<Utc>,
}

pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The newest `limit` messages, newest first. Unreadable files are skipped:
    /// this is a development aid, not a record.
    pub async fn newest(&self, limit: usize) -> Vec<StoredMail> {
        let mut names = self.names().await;
        names.truncate(limit);
        let mut mails = Vec::with_capacity(names.len());
        for name in names {
            if let Ok(bytes) = tokio::fs::read(self.dir.join(&name)).await
                && let Ok(mail) = serde_json::from_slice(&bytes)
            {
                mails.push(mail);
            }
        }
        mails
    }

    /// File names, newest first (they start with the time they were written).
    async fn names(&self) -> Vec<String> {
        let mut names = Vec::new();
        if let Ok(mut entries) = tokio::fs::read_dir(&self.dir).await {
            while let Ok(Some(entry)) = entries.next_entry().await {
                if let Some(name) = entry.file_name().to_str()
                    && name.ends_with(".json")
                {
                    names.push(name.to_owned());
                }
            }
        }
        names.sort_unstable_by(|a, b| b.cmp(a));
        names
    }
}

#[async_trait::async_trait]
impl Mailer for Outbox {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        tokio::fs::create_dir_all(&self.dir).await?;
        let stored = StoredMail {
            to: mail.to,
            subject: mail.subject,
            text: mail.text,
            sent_at: Utc::now(),
        };
        let name = format!(
            "{:020}-{}.json",
            stored.sent_at.timestamp_micros(),
            uuid::Uuid::new_v4().simple()
        );
        let body = serde_json::to_vec_pretty(&stored).map_err(std::io::Error::other)?;
        tokio::fs::write(self.dir.join(name), body).await?;
        for old in self.names().await.into_iter().skip(KEEP) {
            let _ = tokio::fs::remove_file(self.dir.join(old)).await;
        }
        Ok(())
    }

    fn outbox(&self) -> Option<&Outbox> {
        Some(self)
    }
}
