//! Accepting a publish: choosing its targets among the user's active
//! connections, checking the post against each target platform's rules and
//! the user's backlog, honouring the idempotency key, and handing it to the
//! engine, which writes post, job and tasks in one statement (group-committed
//! with other requests') and runs them. The HTTP handler only parses and answers.

mod backlog;
mod drafts;
mod edit;
mod variations;

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::actors::engine::{Engine, EngineError};
use crate::adapters::{MediaFacts, PostOptions, Registry};
use crate::domain::{ConnectionId, JobId, MediaId, MediaKind, PostContent, PostId, TaskId, UserId};
use crate::persistence;
use crate::persistence::StoreError;
use crate::persistence::media::MediaRow;
use crate::persistence::publishing::{CreateOutcome, NewPublish, NewTask};

pub use backlog::RETRY_AFTER_SECS;
pub use drafts::Draft;
pub use edit::{PostChanges, options_of, variations_of};
pub use variations::Variation;
use variations::variation_texts;

/// Longest `Idempotency-Key` accepted.
const MAX_KEY_LEN: usize = 255;

/// A publish as the user asked for it (the fields of `POST /api/v1/posts`).
#[derive(Debug, Clone, Serialize)]
pub struct Publish {
    pub content: String,
    /// Targets; `None`: every active connection.
    pub connection_ids: Option<Vec<uuid::Uuid>>,
    /// RFC 3339 with an offset; `None`: now.
    pub scheduled_at: Option<String>,
    /// IANA zone the time was picked in (kept for display).
    pub time_zone: Option<String>,
    /// Uploaded media to attach, in order. Left out of the idempotency hash
    /// when empty, so keys from before media keep their meaning.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media_ids: Vec<uuid::Uuid>,
    /// Visibility, content warning, language; left out of the hash when unset.
    #[serde(default, skip_serializing_if = "PostOptions::is_default")]
    pub options: PostOptions,
    /// Per-target texts; left out of the hash when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variations: Vec<Variation>,
}

/// Longest content warning, in characters.
const MAX_CONTENT_WARNING: usize = 1000;

/// Options that make sense on every platform: a two-letter language code, a
/// content warning of printable text within its length.
fn check_options(options: &PostOptions) -> Result<(), PublishError> {
    if let Some(language) = &options.language
        && !(language.len() == 2 && language.bytes().all(|b| b.is_ascii_lowercase()))
    {
        return Err(PublishError::InvalidOptions(format!(
            "language `{language}` is not a two-letter ISO 639-1 code such as en or hi"
        )));
    }
    if let Some(warning) = &options.content_warning {
        if warning.chars().count() > MAX_CONTENT_WARNING {
            return Err(PublishError::InvalidOptions(format!(
                "a content warning is at most {MAX_CONTENT_WARNING} characters"
            )));
        }
        if warning.chars().any(|c| c.is_control() && c != '\n') {
            return Err(PublishError::InvalidOptions(
                "a content warning cannot hold control characters".into(),
            ));
        }
    }
    Ok(())
}

/// Most attachments a post may list (each platform's own limit is lower).
const MAX_ATTACHMENTS: usize = 10;

/// A publish the engine has (now or before, under the same key).
#[derive(Debug, Clone, Copy)]
pub struct Accepted {
    pub post_id: PostId,
    pub job_id: JobId,
    /// The same key and body were accepted before: this is that publish.
    pub replayed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("Idempotency-Key must be 1 to 255 visible characters")]
    InvalidIdempotencyKey,
    #[error("{0}")]
    InvalidContent(String),
    #[error("scheduled_at must be RFC 3339 with an offset, e.g. 2026-12-01T09:00:00+05:30")]
    InvalidScheduledAt,
    #[error("`{0}` is not an IANA time zone (e.g. Europe/Berlin)")]
    InvalidTimeZone(String),
    #[error("{0}")]
    InvalidOptions(String),
    #[error("{0}")]
    InvalidTargets(String),
    #[error("{0}")]
    InvalidVariations(String),
    #[error("no such post")]
    PostNotFound,
    #[error("no such draft")]
    DraftNotFound,
    /// The job it became.
    #[error(
        "this draft was published (job {0}) and can no longer change; post it again from that post"
    )]
    DraftPublished(uuid::Uuid),
    /// The target that has started: its platform's display name and handle.
    #[error(
        "publishing to {0} ({1}) has already started, so this post can no longer be changed; cancel what has not started, or post again"
    )]
    AlreadyStarted(String, String),
    /// The job's status.
    #[error(
        "this post is {0}; only a post that is still waiting can be changed — post it again instead"
    )]
    NotEditable(String),
    #[error("no active connection to publish to; connect a platform first")]
    NoTargets,
    /// The connection's handle: it posts to rooms and none is picked.
    #[error(
        "{0} has no room picked to post to; pick one under Connections (PUT /api/v1/connections/{{id}}/destinations)"
    )]
    NoDestination(String),
    /// `(platform's display name, why)`.
    #[error("{0}: {1}")]
    ContentRejected(String, String),
    #[error("{0}")]
    InvalidMedia(String),
    /// `(platform's display name, the rule broken)`.
    #[error("{0} {1}")]
    MediaRejected(String, String),
    #[error("this Idempotency-Key was used with a different body; use a new key for a new post")]
    KeyReused,
    #[error(
        "you have {waiting} tasks waiting to be published (the limit is {limit}); try again in {} s, or publish fewer posts at once",
        RETRY_AFTER_SECS
    )]
    BacklogFull { waiting: i64, limit: u32 },
    #[error(transparent)]
    Quota(#[from] crate::quotas::QuotaError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

#[derive(Clone)]
pub struct Publishing {
    pool: PgPool,
    registry: Registry,
    engine: Engine,
    backlog: Arc<backlog::Backlog>,
    quotas: Arc<crate::quotas::Quotas>,
}

impl Publishing {
    pub fn new(
        pool: PgPool,
        registry: Registry,
        engine: Engine,
        max_user_backlog: u32,
        quotas: Arc<crate::quotas::Quotas>,
    ) -> Self {
        Self {
            pool,
            registry,
            engine,
            backlog: Arc::new(backlog::Backlog::new(max_user_backlog)),
            quotas,
        }
    }

    /// What the servers of the targets allow, read only for platforms whose
    /// servers differ (one query, and none for Manch or Bluesky).
    async fn limits_of(
        &self,
        targets: &[(ConnectionId, String)],
    ) -> Result<std::collections::HashMap<ConnectionId, serde_json::Value>, PublishError> {
        let varying = varying(&self.registry, targets);
        if varying.is_empty() {
            return Ok(Default::default());
        }
        Ok(crate::persistence::connections::limits_of(&self.pool, &varying).await?)
    }

    /// The rooms picked for the targets whose platform posts to rooms (one
    /// query, and none when no target has rooms); a target with rooms but
    /// none picked is refused with what to do.
    async fn destinations_of(
        &self,
        targets: &[(ConnectionId, String)],
    ) -> Result<
        std::collections::HashMap<ConnectionId, Vec<crate::domain::Destination>>,
        PublishError,
    > {
        let with_rooms: Vec<ConnectionId> = targets
            .iter()
            .filter(|(_, p)| self.registry.get(p).is_some_and(|a| a.has_destinations()))
            .map(|(c, _)| *c)
            .collect();
        if with_rooms.is_empty() {
            return Ok(Default::default());
        }
        let picked =
            crate::persistence::connections::picked_destinations(&self.pool, &with_rooms).await?;
        for connection in &with_rooms {
            if picked.get(connection).is_none_or(Vec::is_empty) {
                let handle = crate::persistence::connections::handle_of(&self.pool, *connection)
                    .await?
                    .unwrap_or_else(|| connection.to_string());
                return Err(PublishError::NoDestination(handle));
            }
        }
        Ok(picked)
    }

    /// Validates the publish against every target and the user's backlog,
    /// writes it durably and starts it; answers before any platform is called.
    #[tracing::instrument(skip_all, fields(user_id = %user))]
    pub async fn accept(
        &self,
        user: UserId,
        publish: Publish,
        idempotency_key: Option<&str>,
    ) -> Result<Accepted, PublishError> {
        let started = Instant::now();
        let idempotency = match idempotency_key {
            None => None,
            Some(raw) => {
                let key = raw.trim();
                if key.is_empty() || raw.len() > MAX_KEY_LEN {
                    return Err(PublishError::InvalidIdempotencyKey);
                }
                // Only a keyed request is compared with an earlier one.
                let hash = Sha256::digest(serde_json::to_vec(&publish).unwrap_or_default());
                Some((key.to_owned(), hash.to_vec()))
            }
        };
        let prepared = self.prepare(user, &publish).await?;
        let due_now = prepared.scheduled_at.is_none_or(|at| at <= Utc::now());
        self.quotas.admit_publish(user, !due_now).await?;
        if due_now
            && let Err(full) = self
                .backlog
                .admit(&self.pool, user, &prepared.active, prepared.tasks.len())
                .await?
        {
            return Err(PublishError::BacklogFull {
                waiting: full.waiting,
                limit: full.limit,
            });
        }
        let (post_id, job_id) = (PostId::new(), JobId::new());
        let count = prepared.tasks.len();
        let outcome = self
            .engine
            .accept(NewPublish {
                post_id,
                job_id,
                user_id: user,
                content: prepared.content.as_str().to_owned(),
                scheduled_at: prepared.scheduled_at,
                time_zone: publish.time_zone.clone(),
                tasks: prepared.tasks,
                idempotency,
                media: prepared.media,
                options: stored_options(&publish.options),
                variations: stored_variations(&publish.variations),
            })
            .await?;
        let accepted = match outcome {
            CreateOutcome::Created => {
                tracing::info!(job_id = %job_id, targets = count, "publish accepted");
                Accepted {
                    post_id,
                    job_id,
                    replayed: false,
                }
            }
            CreateOutcome::Replayed { post_id, job_id } => Accepted {
                post_id,
                job_id,
                replayed: true,
            },
            CreateOutcome::KeyConflict => return Err(PublishError::KeyReused),
        };
        self.engine
            .metrics()
            .accept_latency
            .observe(started.elapsed().as_secs_f64());
        Ok(accepted)
    }

    /// Everything about a publish that can be checked before it is written:
    /// the text, time, zone and options, the targets among the user's active
    /// connections, the media, and each target's text (its variation or the
    /// post's) against that platform's rules; then one task per target (per
    /// room where a platform has rooms), planned.
    async fn prepare(&self, user: UserId, publish: &Publish) -> Result<Prepared, PublishError> {
        let content = PostContent::parse(publish.content.clone())
            .map_err(|e| PublishError::InvalidContent(e.to_string()))?;
        let scheduled_at = parse_scheduled_at(publish.scheduled_at.as_deref())?;
        check_time_zone(publish.time_zone.as_deref())?;
        check_options(&publish.options)?;
        let active = self.engine.active_targets(user).await?;
        let targets = choose_targets(&active, publish.connection_ids.as_deref())?;
        let texts = variation_texts(&publish.variations, &targets)?;
        let media = self.attachments(user, &publish.media_ids).await?;
        let facts: Vec<MediaFacts<'_>> = media.iter().map(media_facts).collect();
        let limits = self.limits_of(&targets).await?;
        let destinations = self.destinations_of(&targets).await?;
        let mut tasks: Vec<NewTask> = Vec::with_capacity(targets.len());
        for (connection_id, platform_id) in targets {
            let adapter = self.registry.get(&platform_id).ok_or_else(|| {
                PublishError::InvalidTargets(format!("platform {platform_id} is not available"))
            })?;
            let own = texts.get(&connection_id);
            let text = own.map_or(content.as_str(), PostContent::as_str);
            let limits = limits.get(&connection_id);
            adapter
                .validate(text, &publish.options, limits)
                .map_err(|e| {
                    PublishError::ContentRejected(adapter.display_name().to_owned(), e.to_string())
                })?;
            adapter
                .rules_for(limits)
                .media
                .check(&facts)
                .map_err(|why| {
                    PublishError::MediaRejected(adapter.display_name().to_owned(), why)
                })?;
            // One task per room for platforms with rooms; one for the account otherwise.
            let places: Vec<Option<&crate::domain::Destination>> =
                match destinations.get(&connection_id) {
                    Some(rooms) => rooms.iter().map(Some).collect(),
                    None => vec![None],
                };
            for place in places {
                // Planning may ask the platform (Bluesky resolves @handles to DIDs).
                let plan = adapter.plan(text, &publish.options).await;
                tasks.push(NewTask {
                    id: TaskId::new(),
                    connection_id,
                    platform_id: platform_id.clone(),
                    platform_key: plan.key,
                    platform_record: plan.record,
                    destination: place.map(|d| d.id.clone()),
                    destination_name: place.map(|d| d.name.clone()),
                    content: own.map(|t| t.as_str().to_owned()),
                });
            }
        }
        Ok(Prepared {
            content,
            scheduled_at,
            tasks,
            media: media.iter().map(|m| m.id).collect(),
            active: active.iter().map(|(c, _)| *c).collect(),
        })
    }
}

/// A publish checked and planned, not yet written.
struct Prepared {
    content: PostContent,
    scheduled_at: Option<DateTime<Utc>>,
    tasks: Vec<NewTask>,
    media: Vec<MediaId>,
    /// Every active connection of the user (the backlog is counted over them).
    active: Vec<ConnectionId>,
}

fn parse_scheduled_at(text: Option<&str>) -> Result<Option<DateTime<Utc>>, PublishError> {
    text.map(|text| {
        DateTime::parse_from_rfc3339(text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(|_| PublishError::InvalidScheduledAt)
    })
    .transpose()
}

fn check_time_zone(zone: Option<&str>) -> Result<(), PublishError> {
    match zone {
        Some(zone) if zone.parse::<chrono_tz::Tz>().is_err() => {
            Err(PublishError::InvalidTimeZone(zone.to_owned()))
        }
        _ => Ok(()),
    }
}

fn media_facts(m: &MediaRow) -> MediaFacts<'_> {
    MediaFacts {
        mime: &m.mime,
        video: m.kind() == MediaKind::Video,
        bytes: u64::try_from(m.clean_bytes).unwrap_or(u64::MAX),
        has_alt_text: !m.alt_text.is_empty(),
        resizable: m.kind() == MediaKind::Image,
        width: m.width.and_then(|v| u32::try_from(v).ok()),
        height: m.height.and_then(|v| u32::try_from(v).ok()),
        duration_ms: m.duration_ms.and_then(|v| u64::try_from(v).ok()),
        codec: m.codec.as_deref(),
    }
}

/// Options as stored with the post (`None`: all defaults).
fn stored_options(options: &PostOptions) -> Option<serde_json::Value> {
    (!options.is_default())
        .then(|| serde_json::to_value(options).ok())
        .flatten()
}

/// Variations as stored with the post (`None`: none).
fn stored_variations(variations: &[Variation]) -> Option<serde_json::Value> {
    (!variations.is_empty())
        .then(|| serde_json::to_value(variations).ok())
        .flatten()
}

impl Publishing {
    /// The user's media with these ids, in the order given.
    async fn attachments(
        &self,
        user: UserId,
        ids: &[uuid::Uuid],
    ) -> Result<Vec<MediaRow>, PublishError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        if ids.len() > MAX_ATTACHMENTS {
            return Err(PublishError::InvalidMedia(format!(
                "a post takes at most {MAX_ATTACHMENTS} attachments"
            )));
        }
        let wanted: Vec<MediaId> = ids.iter().map(|id| MediaId(*id)).collect();
        let found = persistence::media::owned(&self.pool, user, &wanted).await?;
        let mut ordered = Vec::with_capacity(ids.len());
        for id in &wanted {
            if ordered.iter().any(|m: &MediaRow| m.id == *id) {
                return Err(PublishError::InvalidMedia(format!(
                    "media {id} is listed twice"
                )));
            }
            let row = found.iter().find(|m| m.id == *id).ok_or_else(|| {
                PublishError::InvalidMedia(format!(
                    "media {id} does not exist or is not yours; upload it with POST /api/v1/media"
                ))
            })?;
            ordered.push(row.clone());
        }
        Ok(ordered)
    }
}

/// The targets among the user's active connections: the ones asked for (each
/// once, in the order given), or all of them.
/// Connection ids of `targets` whose servers' limits vary (only those are read).
fn varying(registry: &Registry, targets: &[(ConnectionId, String)]) -> Vec<ConnectionId> {
    targets
        .iter()
        .filter(|(_, platform)| registry.get(platform).is_some_and(|a| a.asks_for_server()))
        .map(|(c, _)| *c)
        .collect()
}

fn choose_targets(
    active: &[(ConnectionId, String)],
    wanted: Option<&[uuid::Uuid]>,
) -> Result<Vec<(ConnectionId, String)>, PublishError> {
    let chosen = match wanted {
        None => active.to_vec(),
        Some(ids) => {
            let mut chosen: Vec<(ConnectionId, String)> = Vec::new();
            for id in ids {
                let found = active.iter().find(|(c, _)| c.0 == *id).ok_or_else(|| {
                    PublishError::InvalidTargets(format!(
                        "connection {id} is not one of your active connections"
                    ))
                })?;
                if !chosen.iter().any(|(c, _)| *c == found.0) {
                    chosen.push(found.clone());
                }
            }
            chosen
        }
    };
    if chosen.is_empty() {
        return Err(PublishError::NoTargets);
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_the_asked_ones_once_or_all() {
        let a = (ConnectionId(uuid::Uuid::new_v4()), "manch".to_owned());
        let b = (ConnectionId(uuid::Uuid::new_v4()), "manch".to_owned());
        let active = vec![a.clone(), b.clone()];
        assert_eq!(choose_targets(&active, None).unwrap_or_default().len(), 2);
        let twice = [b.0.0, b.0.0];
        let chosen = choose_targets(&active, Some(&twice)).unwrap_or_default();
        assert_eq!(chosen, vec![b.clone()]);
        let stranger = [uuid::Uuid::new_v4()];
        assert!(matches!(
            choose_targets(&active, Some(&stranger)),
            Err(PublishError::InvalidTargets(_))
        ));
        assert!(matches!(
            choose_targets(&[], None),
            Err(PublishError::NoTargets)
        ));
    }
}
