//! Drafts: posts saved to finish later, which nothing runs. Saving checks what
//! holds whatever the platforms say (the text's form, time, zone, options,
//! that targets and media are the user's); each platform's rules are checked
//! when the draft is published, as for any publish — keyed by the draft, so a
//! repeated request answers the first instead of posting twice.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::edit::{PostChanges, options_of, variations_of};
use super::{
    Accepted, Publish, PublishError, Publishing, Variation, check_options, check_time_zone,
    choose_targets, parse_scheduled_at, stored_options, stored_variations, variation_texts,
};
use crate::adapters::PostOptions;
use crate::domain::{
    DraftId, JobId, MAX_POST_CHARS, PostContent, PostContentError, PostId, UserId,
};

use crate::persistence::drafts::{self as store, DraftFields, DraftRow};
use crate::persistence::post_edits;

/// `draft` until published; then `published`, with the post and job it became.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DraftStatus {
    Draft,
    Published,
}

/// A post saved to finish later.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Draft {
    pub id: uuid::Uuid,
    pub status: DraftStatus,
    /// May be empty in a draft.
    pub content: String,
    /// `null`: every active connection at publish time.
    #[schema(required = true)]
    pub connection_ids: Option<Vec<uuid::Uuid>>,
    pub media_ids: Vec<uuid::Uuid>,
    #[schema(required = true)]
    pub scheduled_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub time_zone: Option<String>,
    pub options: PostOptions,
    pub variations: Vec<Variation>,
    /// What it became, once published (`GET /api/v1/jobs/{published_job_id}`).
    #[schema(required = true)]
    pub published_post_id: Option<uuid::Uuid>,
    #[schema(required = true)]
    pub published_job_id: Option<uuid::Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<DraftRow> for Draft {
    fn from(row: DraftRow) -> Self {
        let fields = row.fields;
        Self {
            id: row.id.0,
            status: match row.published_job_id {
                Some(_) => DraftStatus::Published,
                None => DraftStatus::Draft,
            },
            published_post_id: row.published_post_id.map(|p| p.0),
            published_job_id: row.published_job_id.map(|j| j.0),
            content: fields.content,
            connection_ids: fields.connection_ids,
            media_ids: fields.media_ids,
            scheduled_at: fields.scheduled_at,
            time_zone: fields.time_zone,
            options: options_of(fields.options),
            variations: variations_of(fields.variations),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// The draft's fields as a publish.
fn as_publish(draft: Draft) -> Publish {
    Publish {
        content: draft.content,
        connection_ids: draft.connection_ids,
        scheduled_at: draft.scheduled_at.map(|at| at.to_rfc3339()),
        time_zone: draft.time_zone,
        media_ids: draft.media_ids,
        options: draft.options,
        variations: draft.variations,
    }
}

fn empty_draft() -> Draft {
    let now = Utc::now();
    Draft {
        id: uuid::Uuid::nil(),
        status: DraftStatus::Draft,
        content: String::new(),
        connection_ids: None,
        media_ids: Vec::new(),
        scheduled_at: None,
        time_zone: None,
        options: PostOptions::default(),
        variations: Vec::new(),
        published_post_id: None,
        published_job_id: None,
        created_at: now,
        updated_at: now,
    }
}

impl Publishing {
    /// What a draft may hold: its form checked, its targets and media the user's.
    async fn draft_fields(
        &self,
        user: UserId,
        draft: Publish,
    ) -> Result<DraftFields, PublishError> {
        // A blank text is fine in a draft (if within the length); any other
        // is held to a post's form.
        match PostContent::parse(draft.content.clone()) {
            Err(PostContentError::Empty) if draft.content.chars().count() <= MAX_POST_CHARS => {}
            Err(PostContentError::Empty) => {
                return Err(PublishError::InvalidContent(
                    PostContentError::TooLong.to_string(),
                ));
            }
            Err(other) => return Err(PublishError::InvalidContent(other.to_string())),
            Ok(_) => {}
        }
        let scheduled_at = parse_scheduled_at(draft.scheduled_at.as_deref())?;
        check_time_zone(draft.time_zone.as_deref())?;
        check_options(&draft.options)?;
        let active = self.engine.active_targets(user).await?;
        let targets = match draft.connection_ids.as_deref() {
            None => active,
            // No target yet is fine in a draft; a target that is not the user's is not.
            wanted => match choose_targets(&active, wanted) {
                Err(PublishError::NoTargets) => Vec::new(),
                chosen => chosen?,
            },
        };
        variation_texts(&draft.variations, &targets)?;
        self.attachments(user, &draft.media_ids).await?;
        Ok(DraftFields {
            content: draft.content,
            connection_ids: draft.connection_ids,
            media_ids: draft.media_ids,
            scheduled_at,
            time_zone: draft.time_zone,
            options: stored_options(&draft.options),
            variations: stored_variations(&draft.variations),
        })
    }

    pub async fn create_draft(
        &self,
        user: UserId,
        changes: PostChanges,
    ) -> Result<Draft, PublishError> {
        let fields = self
            .draft_fields(user, changes.over(as_publish(empty_draft())))
            .await?;
        Ok(store::insert(&self.pool, user, DraftId::new(), &fields)
            .await?
            .into())
    }

    pub async fn update_draft(
        &self,
        user: UserId,
        id: DraftId,
        changes: PostChanges,
    ) -> Result<Draft, PublishError> {
        let stored = self.draft(user, id).await?;
        if let Some(job) = stored.published_job_id {
            return Err(PublishError::DraftPublished(job));
        }
        let fields = self
            .draft_fields(user, changes.over(as_publish(stored)))
            .await?;
        Ok(store::update(&self.pool, user, id, &fields)
            .await?
            .ok_or(PublishError::DraftNotFound)?
            .into())
    }

    pub async fn draft(&self, user: UserId, id: DraftId) -> Result<Draft, PublishError> {
        Ok(store::find(&self.pool, user, id)
            .await?
            .ok_or(PublishError::DraftNotFound)?
            .into())
    }

    pub async fn drafts(&self, user: UserId) -> Result<Vec<Draft>, PublishError> {
        Ok(store::list(&self.pool, user)
            .await?
            .into_iter()
            .map(Draft::from)
            .collect())
    }

    pub async fn delete_draft(&self, user: UserId, id: DraftId) -> Result<(), PublishError> {
        if store::delete(&self.pool, user, id).await? {
            Ok(())
        } else {
            Err(PublishError::DraftNotFound)
        }
    }

    /// Publishes (or schedules) the draft like any post, once: the draft then
    /// points at what it became, and asking again answers that.
    pub async fn publish_draft(&self, user: UserId, id: DraftId) -> Result<Accepted, PublishError> {
        let draft = self.draft(user, id).await?;
        if let (Some(post), Some(job)) = (draft.published_post_id, draft.published_job_id) {
            return Ok(Accepted {
                post_id: PostId(post),
                job_id: JobId(job),
                replayed: true,
            });
        }
        // Keyed by the draft: two requests racing here make one publish.
        let accepted = self
            .accept(user, as_publish(draft), Some(&format!("draft:{id}")))
            .await?;
        store::mark_published(&self.pool, user, id, accepted.post_id, accepted.job_id).await?;
        Ok(accepted)
    }

    /// "Post again": a new draft with the post's text, targets, media,
    /// options and variations, and no time.
    pub async fn duplicate(&self, user: UserId, post: PostId) -> Result<Draft, PublishError> {
        let stored = post_edits::find(&self.pool, user, post)
            .await?
            .ok_or(PublishError::PostNotFound)?;
        let fields = DraftFields {
            content: stored.content,
            connection_ids: Some(stored.connection_ids),
            media_ids: stored.media_ids,
            scheduled_at: None,
            time_zone: stored.time_zone,
            options: stored.options,
            variations: stored.variations,
        };
        Ok(store::insert(&self.pool, user, DraftId::new(), &fields)
            .await?
            .into())
    }
}
