//! One attempt at one task: ask first if the last call's fate is unknown,
//! publish with the task id as the idempotency key, refresh once on 401, and
//! turn the outcome into the task's next state.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use secrecy::SecretString;

use super::super::engine::EngineContext;
use super::media;
use super::token::{TokenCell, TokenError, backoff};
use crate::adapters::{AdapterError, OutgoingPost, PlatformAdapter, PublishedPost};
use crate::domain::{JobId, TaskId, TaskStatus};
use crate::persistence::tasks::{Claimed, Settlement};

/// What the worker needs to know after an attempt.
pub struct AttemptResult {
    pub task: TaskId,
    pub job: JobId,
    /// `None` when this process lost the task (lease expired) and wrote nothing.
    pub status: Option<TaskStatus>,
    /// Run again at this time (retry_scheduled / unconfirmed).
    pub retry_in: Option<Duration>,
    /// The platform asked to slow down: `(retry_after, limit)`.
    pub throttle: Option<(Duration, Option<u32>)>,
    /// The grant is gone: fail the connection's other tasks too.
    pub revoked: Option<String>,
}

#[derive(Debug)]
enum Decision {
    Done(PublishedPost, &'static str),
    Fail(&'static str, String),
    Retry(&'static str, String, Duration),
    /// The platform asked to slow down: wait `Duration`, learn its limit.
    Throttled(String, Duration, Option<u32>),
    Unconfirmed(String),
    Revoked(String),
}

pub async fn run(
    ctx: Arc<EngineContext>,
    adapter: Arc<dyn PlatformAdapter>,
    token: Arc<TokenCell>,
    claimed: Claimed,
) -> AttemptResult {
    let started = Instant::now();
    // The platform's own key when its adapter planned one, else the task's id.
    let key = claimed
        .platform_key
        .clone()
        .unwrap_or_else(|| claimed.id.to_string());
    let (decision, platform_status) = decide(&ctx, adapter.as_ref(), &token, &claimed, &key).await;
    let latency_ms = i32::try_from(started.elapsed().as_millis()).ok();
    let mut settlement = Settlement {
        id: claimed.id,
        to: TaskStatus::Failed,
        next_attempt_at: None,
        refund_attempt: false,
        outcome: "ok",
        error: None,
        platform_status,
        latency_ms,
        external_post_id: None,
        external_url: None,
    };
    let mut result = AttemptResult {
        task: claimed.id,
        job: claimed.job_id,
        status: None,
        retry_in: None,
        throttle: None,
        revoked: None,
    };
    let outcome_label;
    match decision {
        Decision::Done(post, outcome) => {
            settlement.to = TaskStatus::Succeeded;
            settlement.outcome = outcome;
            settlement.external_post_id = Some(post.id);
            settlement.external_url = Some(post.url);
            outcome_label = outcome;
        }
        Decision::Fail(kind, reason) => {
            settlement.outcome = kind;
            settlement.error = Some(reason);
            outcome_label = kind;
        }
        Decision::Revoked(reason) => {
            settlement.outcome = "revoked";
            settlement.error = Some(reason.clone());
            result.revoked = Some(reason);
            outcome_label = "revoked";
        }
        Decision::Throttled(reason, delay, limit) => {
            outcome_label = "rate_limited";
            settlement.outcome = "rate_limited";
            settlement.to = TaskStatus::RetryScheduled;
            settlement.refund_attempt = true;
            settlement.next_attempt_at =
                Some(Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default());
            settlement.error = Some(reason);
            result.retry_in = Some(delay);
            result.throttle = Some((delay, limit));
            ctx.metrics.retries.inc();
        }
        Decision::Retry(kind, reason, delay) => {
            let attempts_left = claimed.attempt_count < ctx.settings.max_attempts.get() as i32;
            outcome_label = kind;
            settlement.outcome = kind;
            if attempts_left {
                settlement.to = TaskStatus::RetryScheduled;
                settlement.next_attempt_at =
                    Some(Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default());
                settlement.error = Some(reason);
                result.retry_in = Some(delay);
                ctx.metrics.retries.inc();
            } else {
                settlement.error = Some(format!(
                    "gave up after {} attempts; last error: {reason}",
                    claimed.attempt_count
                ));
            }
        }
        Decision::Unconfirmed(reason) => {
            // A call cut short on our side (a dropped connection, a process
            // shutting down) may still be on its way and land later: asking
            // the platform before it can no longer land would find nothing
            // and send it again. So the check waits out the call's timeout,
            // counted from when the call started.
            let still_landing = ctx.call_timeout.saturating_sub(started.elapsed());
            let delay = backoff(
                ctx.settings.backoff_base_ms.get(),
                ctx.settings.backoff_cap_ms.get(),
                claimed.attempt_count,
            )
            .max(still_landing);
            settlement.to = TaskStatus::Unconfirmed;
            settlement.outcome = "unknown";
            settlement.next_attempt_at =
                Some(Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default());
            settlement.error = Some(reason);
            result.retry_in = Some(delay);
            outcome_label = "unknown";
        }
    }
    ctx.metrics
        .platform_calls
        .with_label_values(&[adapter.id(), outcome_label])
        .observe(started.elapsed().as_secs_f64());
    let to = settlement.to;
    match ctx.journal.settle(settlement).await {
        Ok(true) => {
            ctx.metrics.transitioned(to.as_str(), 1);
            if to == TaskStatus::Succeeded {
                let age = (Utc::now() - claimed.created_at)
                    .to_std()
                    .unwrap_or_default();
                ctx.metrics.publish_latency.observe(age.as_secs_f64());
            }
            result.status = Some(to);
        }
        Ok(false) => {
            tracing::warn!(task_id = %claimed.id, "lease lost before the outcome was written; another process owns the task");
            result.retry_in = None;
        }
        Err(error) => {
            // The outcome is not durable: leave the task to lease recovery, which
            // will ask the platform (the idempotency key prevents a second post).
            tracing::error!(task_id = %claimed.id, error = %error, "writing the attempt's outcome failed");
            result.retry_in = None;
        }
    }
    result
}

async fn decide(
    ctx: &EngineContext,
    adapter: &dyn PlatformAdapter,
    token: &TokenCell,
    claimed: &Claimed,
    key: &str,
) -> (Decision, Option<i32>) {
    let retry = |attempt: i32| {
        backoff(
            ctx.settings.backoff_base_ms.get(),
            ctx.settings.backoff_cap_ms.get(),
            attempt,
        )
    };
    let (mut access, mut version) = match token.current().await {
        Ok(found) => found,
        Err(TokenError::Revoked(reason)) => return (Decision::Revoked(reason), None),
        Err(TokenError::Transient(reason)) => {
            return (
                Decision::Retry("transient", reason, retry(claimed.attempt_count)),
                None,
            );
        }
    };
    let mut refreshed = false;
    loop {
        let outcome = if claimed.from_status == "unconfirmed" {
            match look_up(ctx, adapter, &access, claimed, key).await {
                Ok(Some(post)) => return (Decision::Done(post, "verified"), Some(200)),
                Ok(None) => publish(ctx, adapter, &access, claimed, key).await,
                Err(error) => Err(error),
            }
        } else {
            maybe_panic(ctx, &claimed.content);
            publish(ctx, adapter, &access, claimed, key).await
        };
        return match outcome {
            Ok(post) => (Decision::Done(post, "ok"), Some(201)),
            Err(AdapterError::Unauthorized) if !refreshed => {
                refreshed = true;
                match token.refused(version).await {
                    Ok((fresh, v)) => {
                        access = fresh;
                        version = v;
                        continue;
                    }
                    Err(TokenError::Revoked(reason)) => (Decision::Revoked(reason), Some(401)),
                    Err(TokenError::Transient(reason)) => (
                        Decision::Retry("unauthorized", reason, retry(claimed.attempt_count)),
                        Some(401),
                    ),
                }
            }
            Err(error) => classify(error, adapter.display_name(), retry(claimed.attempt_count)),
        };
    }
}

/// Asks the platform whether an earlier attempt of the task did publish,
/// describing the post with the media ids already recorded (never uploading).
async fn look_up(
    ctx: &EngineContext,
    adapter: &dyn PlatformAdapter,
    access: &SecretString,
    claimed: &Claimed,
    key: &str,
) -> Result<Option<PublishedPost>, AdapterError> {
    let recorded = media::recorded(ctx, claimed.id).await?;
    let sent = OutgoingPost {
        text: &claimed.content,
        media_ids: &recorded,
        record: claimed.platform_record.as_ref(),
        destination: claimed.destination.as_deref(),
    };
    adapter.find_post(access, sent, key).await
}

/// Uploads what the task has not uploaded yet, then posts.
async fn publish(
    ctx: &EngineContext,
    adapter: &dyn PlatformAdapter,
    access: &SecretString,
    claimed: &Claimed,
    key: &str,
) -> Result<PublishedPost, AdapterError> {
    // The process is stopping and releases its tasks for another, whose
    // check with the platform must not miss a call sent from here afterwards.
    if ctx.claims.is_closed() {
        return Err(AdapterError::Transient {
            reason: "not sent: this process is stopping".into(),
            status: None,
        });
    }
    let media_ids = if claimed.media_count > 0 {
        media::prepare(ctx, adapter, access, claimed.id).await?
    } else {
        Vec::new()
    };
    let post = OutgoingPost {
        text: &claimed.content,
        media_ids: &media_ids,
        record: claimed.platform_record.as_ref(),
        destination: claimed.destination.as_deref(),
    };
    adapter.publish(access, post, key).await
}

/// The retry decision table: what a platform's answer (other than a first
/// 401, which refreshes the token and tries once more) makes of the task.
/// `retry` is the backoff for this attempt.
fn classify(error: AdapterError, platform: &str, retry: Duration) -> (Decision, Option<i32>) {
    match error {
        AdapterError::Unauthorized => (
            Decision::Fail(
                "unauthorized",
                format!("{platform} refused a freshly refreshed token; reconnect the account"),
            ),
            Some(401),
        ),
        AdapterError::RateLimited {
            retry_after, limit, ..
        } => (
            Decision::Throttled(
                format!("{platform} asked to slow down"),
                clamp_retry_after(retry_after),
                limit,
            ),
            Some(429),
        ),
        AdapterError::Transient { reason, status } => (
            Decision::Retry("transient", reason, retry),
            status.map(i32::from),
        ),
        AdapterError::Rejected { reason } => (Decision::Fail("rejected", reason), Some(422)),
        AdapterError::Revoked { reason } => (
            Decision::Revoked(format!(
                "{platform} no longer accepts this connection ({reason}); reconnect it in Prasaran"
            )),
            Some(403),
        ),
        AdapterError::Unknown { reason } => (Decision::Unconfirmed(reason), None),
    }
}

/// The longest wait a platform's `Retry-After` (or rate-limit reset) can impose;
/// anything longer — or absurd, like `18446744073709551615` — is cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);

/// A platform's requested wait, clamped: absent means one second.
fn clamp_retry_after(retry_after: Option<Duration>) -> Duration {
    retry_after
        .unwrap_or(Duration::from_secs(1))
        .min(MAX_RETRY_AFTER)
}

/// Dev/test hook proving supervision: the first attempt of a post containing
/// the configured marker panics inside the platform call.
fn maybe_panic(ctx: &EngineContext, content: &str) {
    if let Some(marker) = &ctx.settings.panic_marker
        && content.contains(marker.as_str())
    {
        panic!("injected panic in the platform call (engine.panic_marker)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RETRY: Duration = Duration::from_millis(250);

    fn decided(error: AdapterError) -> (Decision, Option<i32>) {
        classify(error, "Manch", RETRY)
    }

    #[test]
    fn the_retry_decision_table() {
        // 5xx, timeouts before sending, refused connections: retry with backoff.
        let (d, status) = decided(AdapterError::Transient {
            reason: "503".into(),
            status: Some(503),
        });
        assert!(matches!(d, Decision::Retry("transient", _, RETRY)), "{d:?}");
        assert_eq!(status, Some(503));
        // The call may have landed: never a plain retry, always a check first.
        let (d, status) = decided(AdapterError::Unknown {
            reason: "timed out after sending".into(),
        });
        assert!(matches!(d, Decision::Unconfirmed(_)), "{d:?}");
        assert_eq!(status, None);
        // A 429 waits as long as the platform said, without spending an attempt.
        let (d, status) = decided(AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(7)),
            limit: Some(3),
            remaining: Some(0),
            reset: None,
        });
        assert!(
            matches!(d, Decision::Throttled(_, wait, Some(3)) if wait == Duration::from_secs(7)),
            "{d:?}"
        );
        assert_eq!(status, Some(429));
        // Content the platform will never take fails at once, with its reason.
        let (d, _) = decided(AdapterError::Rejected {
            reason: "text too long".into(),
        });
        assert!(
            matches!(&d, Decision::Fail("rejected", reason) if reason == "text too long"),
            "{d:?}"
        );
        // A grant that is gone fails the connection, telling the user what to do.
        let (d, status) = decided(AdapterError::Revoked {
            reason: "invalid_grant".into(),
        });
        assert!(
            matches!(&d, Decision::Revoked(reason) if reason.contains("reconnect")),
            "{d:?}"
        );
        assert_eq!(status, Some(403));
        // A 401 after a fresh refresh is not retried forever.
        let (d, _) = decided(AdapterError::Unauthorized);
        assert!(matches!(d, Decision::Fail("unauthorized", _)), "{d:?}");
    }

    #[test]
    fn any_retry_after_is_clamped() {
        assert_eq!(
            clamp_retry_after(Some(Duration::from_secs(u64::MAX))),
            MAX_RETRY_AFTER
        );
        assert_eq!(clamp_retry_after(None), Duration::from_secs(1));
        assert_eq!(
            clamp_retry_after(Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        // The clamped wait is a valid instant and a valid date.
        let _ = std::time::Instant::now() + clamp_retry_after(Some(Duration::MAX));
        assert!(chrono::Duration::from_std(MAX_RETRY_AFTER).is_ok());
    }
}
