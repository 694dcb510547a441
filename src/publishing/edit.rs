//! Editing and rescheduling a post that is still waiting: the changes are
//! merged with what the post holds, checked exactly as a new publish is, and
//! written with its tasks in one transaction (see `persistence::post_edits`).

use super::{Publish, PublishError, Publishing, Variation, stored_options, stored_variations};
use crate::adapters::PostOptions;
use crate::domain::{JobId, PostId, UserId};
use crate::persistence::post_edits::{self, Edit, EditOutcome, StoredPost};

/// Changes to a post or a draft; `None` leaves a field as it is (on a new
/// draft: empty).
#[derive(Debug, Clone, Default)]
pub struct PostChanges {
    pub content: Option<String>,
    /// `Some(None)`: every active connection.
    pub connection_ids: Option<Option<Vec<uuid::Uuid>>>,
    pub media_ids: Option<Vec<uuid::Uuid>>,
    /// `Some(None)`: no time — publish now (a draft: when published).
    pub scheduled_at: Option<Option<String>>,
    pub time_zone: Option<Option<String>>,
    pub options: Option<PostOptions>,
    pub variations: Option<Vec<Variation>>,
}

impl PostChanges {
    /// These changes laid over `base`. Variations not sent keep only those
    /// whose target stays: a target dropped takes its variation with it.
    pub(super) fn over(self, base: Publish) -> Publish {
        let connection_ids = self.connection_ids.unwrap_or(base.connection_ids);
        let variations = self.variations.unwrap_or_else(|| {
            base.variations
                .into_iter()
                .filter(|v| {
                    connection_ids
                        .as_ref()
                        .is_none_or(|targets| targets.contains(&v.connection_id))
                })
                .collect()
        });
        Publish {
            content: self.content.unwrap_or(base.content),
            connection_ids,
            scheduled_at: self.scheduled_at.unwrap_or(base.scheduled_at),
            time_zone: self.time_zone.unwrap_or(base.time_zone),
            media_ids: self.media_ids.unwrap_or(base.media_ids),
            options: self.options.unwrap_or(base.options),
            variations,
        }
    }
}

/// The variations a post holds (stored as JSON).
pub fn variations_of(stored: Option<serde_json::Value>) -> Vec<Variation> {
    stored
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// The options a post holds (stored as JSON).
pub fn options_of(stored: Option<serde_json::Value>) -> PostOptions {
    stored
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// The post as stored, in the shape of a new publish.
fn as_publish(stored: StoredPost) -> Publish {
    Publish {
        content: stored.content,
        connection_ids: Some(stored.connection_ids),
        scheduled_at: stored.scheduled_at.map(|at| at.to_rfc3339()),
        time_zone: stored.time_zone,
        media_ids: stored.media_ids,
        options: options_of(stored.options),
        variations: variations_of(stored.variations),
    }
}

impl Publishing {
    /// Applies the edit to the user's waiting post; its job.
    #[tracing::instrument(skip_all, fields(user_id = %user, post_id = %post))]
    pub async fn edit(
        &self,
        user: UserId,
        post: PostId,
        changes: PostChanges,
    ) -> Result<JobId, PublishError> {
        let stored = post_edits::find(&self.pool, user, post)
            .await?
            .ok_or(PublishError::PostNotFound)?;
        // A finished post is refused before its checks; a running one by
        // the target that started, when the tasks are locked.
        if stored.status != "pending" && stored.status != "running" {
            return Err(PublishError::NotEditable(stored.status.replace('_', " ")));
        }
        let publish = changes.over(as_publish(stored));
        let prepared = self.prepare(user, &publish).await?;
        let outcome = post_edits::apply(
            &self.pool,
            Edit {
                post_id: post,
                user_id: user,
                content: prepared.content.as_str().to_owned(),
                scheduled_at: prepared.scheduled_at,
                time_zone: publish.time_zone.clone(),
                options: stored_options(&publish.options),
                variations: stored_variations(&publish.variations),
                media: prepared.media,
                tasks: prepared.tasks,
            },
        )
        .await?;
        match outcome {
            EditOutcome::Applied(job) => {
                tracing::info!(job_id = %job, "waiting post edited");
                self.engine.post_edited(job);
                Ok(job)
            }
            EditOutcome::NotFound => Err(PublishError::PostNotFound),
            EditOutcome::NotEditable(status) => {
                Err(PublishError::NotEditable(status.replace('_', " ")))
            }
            EditOutcome::Started {
                platform_id,
                handle,
            } => {
                let platform = self
                    .registry
                    .get(&platform_id)
                    .map_or(platform_id.clone(), |a| a.display_name().to_owned());
                Err(PublishError::AlreadyStarted(platform, handle))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(targets: Vec<uuid::Uuid>, variations: Vec<Variation>) -> StoredPost {
        StoredPost {
            post_id: PostId::new(),
            job_id: JobId::new(),
            status: "pending".into(),
            content: "as written".into(),
            scheduled_at: None,
            time_zone: Some("Asia/Kolkata".into()),
            options: None,
            variations: serde_json::to_value(variations).ok(),
            media_ids: vec![],
            connection_ids: targets,
        }
    }

    #[test]
    fn an_edit_changes_only_what_it_names_and_drops_variations_of_dropped_targets() {
        let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        let short = Variation {
            connection_id: b,
            content: "short".into(),
        };
        let post = stored(vec![a, b], vec![short.clone()]);
        let kept = PostChanges {
            scheduled_at: Some(Some("2030-01-01T09:00:00+05:30".into())),
            ..PostChanges::default()
        }
        .over(as_publish(post.clone()));
        assert_eq!(kept.content, "as written");
        assert_eq!(kept.time_zone.as_deref(), Some("Asia/Kolkata"));
        assert_eq!(kept.variations, vec![short]);
        let dropped = PostChanges {
            connection_ids: Some(Some(vec![a])),
            ..PostChanges::default()
        }
        .over(as_publish(post));
        assert!(dropped.variations.is_empty());
        assert_eq!(dropped.connection_ids, Some(vec![a]));
    }
}
