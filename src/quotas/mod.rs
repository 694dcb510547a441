//! Per-user quotas: how much one account may publish, schedule, connect,
//! mint and store. Over a quota is `429 quota_exceeded` naming it, with
//! `Retry-After` where waiting helps.
//!
//! Publishing is the hot path, so its counts are kept per user in memory
//! between reads of PostgreSQL, as the backlog's are: what this process
//! accepted is added to the last count, which only over-estimates within a
//! process; the count is read again once it nears half a limit or is a
//! minute old, which bounds what several processes can let through together.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

use crate::domain::UserId;
use crate::persistence::quotas::{self, PostCounts};
use crate::persistence::{StoreError, api_tokens};
use crate::settings::QuotaSettings;

/// A count read this recently is trusted whatever it says.
const RECOUNT: Duration = Duration::from_secs(1);
/// A count is never trusted longer than this.
const MAX_TRUST: Duration = Duration::from_secs(60);

/// Each quota, by the name settings and answers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    PublishesPerHour,
    PublishesPerDay,
    PendingScheduled,
    Connections,
    ApiTokens,
    AuthorizationsPerHour,
    MediaBytes,
}

impl Quota {
    pub fn name(self) -> &'static str {
        match self {
            Quota::PublishesPerHour => "publishes_per_hour",
            Quota::PublishesPerDay => "publishes_per_day",
            Quota::PendingScheduled => "pending_scheduled",
            Quota::Connections => "connections",
            Quota::ApiTokens => "api_tokens",
            Quota::AuthorizationsPerHour => "authorizations_per_hour",
            Quota::MediaBytes => "media_bytes",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Quota::PublishesPerHour => "posts in the last hour",
            Quota::PublishesPerDay => "posts in the last day",
            Quota::PendingScheduled => "scheduled posts waiting",
            Quota::Connections => "connected accounts",
            Quota::ApiTokens => "live API tokens",
            Quota::AuthorizationsPerHour => "connections started in the last hour",
            Quota::MediaBytes => "bytes of uploads",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QuotaError {
    #[error("{}", exceeded_message(*.quota, *.limit, *.retry_after))]
    Exceeded {
        quota: Quota,
        limit: u64,
        /// When waiting this long frees room (None: it frees only when
        /// something is removed).
        retry_after: Option<Duration>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn exceeded_message(quota: Quota, limit: u64, retry_after: Option<Duration>) -> String {
    let next = match (quota, retry_after) {
        (_, Some(wait)) => format!("room frees up in {} (see Retry-After)", human(wait)),
        (Quota::Connections, None) => "disconnect an account you no longer use".into(),
        (Quota::ApiTokens, None) => "revoke a token you no longer use".into(),
        (Quota::MediaBytes, None) => "delete uploads you no longer need".into(),
        (Quota::PendingScheduled, None) => {
            "cancel a scheduled post, or wait until one is published".into()
        }
        (_, None) => "wait a while".into(),
    };
    format!(
        "quota `{}` reached: at most {limit} {} per account; {next}, or ask the operator for a higher quota",
        quota.name(),
        quota.what()
    )
}

fn human(wait: Duration) -> String {
    let secs = wait.as_secs().max(1);
    match secs {
        0..=119 => format!("{secs} seconds"),
        120..=7199 => format!("{} minutes", secs.div_ceil(60)),
        _ => format!("{} hours", secs.div_ceil(3600)),
    }
}

/// One quota as the account sees it.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Usage {
    pub used: u64,
    pub limit: u64,
}

/// Every quota of an account (`GET /api/v1/me`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuotaUsage {
    pub publishes_per_hour: Usage,
    pub publishes_per_day: Usage,
    pub pending_scheduled: Usage,
    pub connections: Usage,
    pub api_tokens: Usage,
    /// Counted in this process's memory (several API processes each count their own).
    pub authorizations_per_hour: Usage,
    pub media_bytes: Usage,
}

pub struct Quotas {
    pool: PgPool,
    limits: QuotaSettings,
    posts: Mutex<HashMap<UserId, (PostCounts, Instant)>>,
    /// When each user started connecting, within the last hour (this process).
    authorizations: Mutex<HashMap<UserId, VecDeque<Instant>>>,
}

const HOUR: Duration = Duration::from_secs(3600);

fn used(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl Quotas {
    pub fn new(pool: PgPool, limits: QuotaSettings) -> Self {
        Self {
            pool,
            limits,
            posts: Mutex::new(HashMap::new()),
            authorizations: Mutex::new(HashMap::new()),
        }
    }

    /// The user's connection starts within the last hour, oldest first.
    fn recent_authorizations<R>(
        &self,
        user: UserId,
        f: impl FnOnce(&mut VecDeque<Instant>) -> R,
    ) -> R {
        let mut all = self
            .authorizations
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if all.len() > 10_000 {
            all.retain(|_, starts| starts.back().is_some_and(|t| t.elapsed() < HOUR));
        }
        let starts = all.entry(user).or_default();
        while starts.front().is_some_and(|t| t.elapsed() >= HOUR) {
            starts.pop_front();
        }
        f(starts)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, (PostCounts, Instant)>> {
        self.posts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Room for one more post (a scheduled one also needs room among the
    /// scheduled); counts it when there is.
    pub async fn admit_publish(&self, user: UserId, scheduled: bool) -> Result<(), QuotaError> {
        let limits = &self.limits;
        let near = |c: &PostCounts| {
            used(c.last_hour + 1) * 2 > limits.publishes_per_hour
                || used(c.last_day + 1) * 2 > limits.publishes_per_day
                || (scheduled && used(c.scheduled_pending + 1) * 2 > limits.pending_scheduled)
        };
        let cached = self.lock().get(&user).and_then(|(counts, at)| {
            let fresh = at.elapsed() < RECOUNT || (at.elapsed() < MAX_TRUST && !near(counts));
            fresh.then_some(*counts)
        });
        // Near a limit a count is at most a second old, so a flood of
        // refused publishes costs one query a second, not one each.
        let counts = match cached {
            Some(counts) => counts,
            None => self.recount(user).await?,
        };
        let since = |oldest: Option<chrono::DateTime<Utc>>, window: chrono::Duration| {
            oldest.map(|t| {
                (t + window - Utc::now())
                    .to_std()
                    .unwrap_or(Duration::from_secs(1))
            })
        };
        match self.over(&counts, scheduled) {
            Some(Quota::PublishesPerHour) => {
                return Err(QuotaError::Exceeded {
                    quota: Quota::PublishesPerHour,
                    limit: limits.publishes_per_hour,
                    retry_after: since(counts.oldest_in_hour, chrono::Duration::hours(1))
                        .or(Some(Duration::from_secs(60))),
                });
            }
            Some(Quota::PublishesPerDay) => {
                return Err(QuotaError::Exceeded {
                    quota: Quota::PublishesPerDay,
                    limit: limits.publishes_per_day,
                    retry_after: since(counts.oldest_in_day, chrono::Duration::days(1))
                        .or(Some(Duration::from_secs(3600))),
                });
            }
            Some(quota) => {
                return Err(QuotaError::Exceeded {
                    quota,
                    limit: limits.pending_scheduled,
                    retry_after: None,
                });
            }
            None => {}
        }
        if let Some((counts, _)) = self.lock().get_mut(&user) {
            counts.last_hour += 1;
            counts.last_day += 1;
            counts.scheduled_pending += i64::from(scheduled);
            let now = Utc::now();
            counts.oldest_in_hour.get_or_insert(now);
            counts.oldest_in_day.get_or_insert(now);
        }
        Ok(())
    }

    async fn recount(&self, user: UserId) -> Result<PostCounts, QuotaError> {
        let counts = quotas::post_counts(&self.pool, user).await?;
        let mut all = self.lock();
        if all.len() > 10_000 {
            all.retain(|_, (_, at)| at.elapsed() < MAX_TRUST);
        }
        all.insert(user, (counts, Instant::now()));
        Ok(counts)
    }

    /// The first publishing quota `counts` leave no room in.
    fn over(&self, counts: &PostCounts, scheduled: bool) -> Option<Quota> {
        let limits = &self.limits;
        if used(counts.last_hour) >= limits.publishes_per_hour {
            Some(Quota::PublishesPerHour)
        } else if used(counts.last_day) >= limits.publishes_per_day {
            Some(Quota::PublishesPerDay)
        } else if scheduled && used(counts.scheduled_pending) >= limits.pending_scheduled {
            Some(Quota::PendingScheduled)
        } else {
            None
        }
    }

    /// Room for one more connected account, and for starting to connect one.
    pub async fn admit_connection(&self, user: UserId) -> Result<(), QuotaError> {
        if used(quotas::connections(&self.pool, user).await?) >= self.limits.connections {
            return Err(QuotaError::Exceeded {
                quota: Quota::Connections,
                limit: self.limits.connections,
                retry_after: None,
            });
        }
        let limit = self.limits.authorizations_per_hour;
        self.recent_authorizations(user, |starts| {
            if starts.len() as u64 >= limit {
                let wait = starts
                    .front()
                    .map_or(HOUR, |oldest| HOUR.saturating_sub(oldest.elapsed()));
                return Err(QuotaError::Exceeded {
                    quota: Quota::AuthorizationsPerHour,
                    limit,
                    retry_after: Some(wait.max(Duration::from_secs(1))),
                });
            }
            starts.push_back(Instant::now());
            Ok(())
        })
    }

    /// Room for one more API token.
    pub async fn admit_token(&self, user: UserId) -> Result<(), QuotaError> {
        if used(api_tokens::count_live(&self.pool, user).await?) >= self.limits.api_tokens {
            return Err(QuotaError::Exceeded {
                quota: Quota::ApiTokens,
                limit: self.limits.api_tokens,
                retry_after: None,
            });
        }
        Ok(())
    }

    /// Room for an upload of `adding` bytes (0 when its size is not known
    /// before it arrives: then only a full quota refuses).
    pub async fn admit_media(&self, user: UserId, adding: u64) -> Result<(), QuotaError> {
        let stored = used(quotas::media_bytes(&self.pool, user).await?);
        if stored >= self.limits.media_bytes || stored + adding > self.limits.media_bytes {
            return Err(QuotaError::Exceeded {
                quota: Quota::MediaBytes,
                limit: self.limits.media_bytes,
                retry_after: None,
            });
        }
        Ok(())
    }

    /// Every quota with what the account used of it.
    pub async fn usage(&self, user: UserId) -> Result<QuotaUsage, QuotaError> {
        let posts = quotas::post_counts(&self.pool, user).await?;
        let connections = quotas::connections(&self.pool, user).await?;
        let tokens = api_tokens::count_live(&self.pool, user).await?;
        let media = quotas::media_bytes(&self.pool, user).await?;
        let authorizations = self.recent_authorizations(user, |starts| starts.len() as u64);
        let limits = &self.limits;
        Ok(QuotaUsage {
            publishes_per_hour: Usage {
                used: used(posts.last_hour),
                limit: limits.publishes_per_hour,
            },
            publishes_per_day: Usage {
                used: used(posts.last_day),
                limit: limits.publishes_per_day,
            },
            pending_scheduled: Usage {
                used: used(posts.scheduled_pending),
                limit: limits.pending_scheduled,
            },
            connections: Usage {
                used: used(connections),
                limit: limits.connections,
            },
            api_tokens: Usage {
                used: used(tokens),
                limit: limits.api_tokens,
            },
            authorizations_per_hour: Usage {
                used: authorizations,
                limit: limits.authorizations_per_hour,
            },
            media_bytes: Usage {
                used: used(media),
                limit: limits.media_bytes,
            },
        })
    }
}
