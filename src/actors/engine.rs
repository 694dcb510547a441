//! What every engine actor shares, and the handle the rest of the program
//! holds: [`Engine`]'s methods are the only way into the engine (its context
//! is private to `actors`).

use std::sync::Arc;

use actix::Addr;
use sqlx::PgPool;

use super::dispatcher::{Dispatcher, JobAccepted, JobsChanged, TasksDue};
use super::health::HealthBoard;
use super::outbox_relay::{Nudge, OutboxRelay};
use super::sqs_ingress::SqsIngress;
use crate::adapters::Registry;
use crate::crypto::Keyring;
use crate::domain::{ConnectionId, JobId, JobStatus, TaskId, UserId};
use crate::persistence::outbox::Handoff;
use crate::persistence::publishing::{CreateOutcome, NewPublish};
use crate::persistence::tasks;
use crate::persistence::{StoreError, publishing};
use crate::queue::TaskQueue;
use crate::settings::EngineSettings;
use crate::settings::Role;
use std::time::Duration;

use crate::persistence::media_store::MediaStore;

/// Shared, read-only context of the engine's actors.
pub struct EngineContext {
    pub pool: PgPool,
    /// The longest a platform call may take: a call whose outcome is unknown
    /// may land until this long after it started.
    pub call_timeout: Duration,
    pub registry: Registry,
    pub keyring: Keyring,
    pub settings: EngineSettings,
    /// This process's name on the tasks it claims.
    pub owner: String,
    pub health: HealthBoard,
    pub metrics: super::metrics::EngineMetrics,
    /// Group commit of task outcomes.
    pub journal: super::journal::Journal,
    /// Group commit of task claims.
    pub claims: super::journal::ClaimQueue,
    /// Group commit of final job statuses.
    pub job_statuses: super::journal::JobStatusQueue,
    /// Group commit of accepted publishes.
    pub accepts: super::journal::AcceptQueue,
    /// Users' active connections, briefly remembered for accepting publishes.
    pub targets: super::targets::TargetCache,
    /// How runnable tasks reach a worker: this process's actors, or the outbox and SQS.
    pub handoff: Handoff,
    /// The SQS task queue (`queue.kind = "sqs"`), for readiness and the actors.
    pub queue: Option<TaskQueue>,
    /// Who holds a task this process makes runnable: this process when it
    /// runs them from its own mailboxes (in-process hand-off), the outbox in
    /// sqs mode (until the relay sent it). Recorded on the task so the
    /// scheduler never hands it out a second time meanwhile.
    pub holder: Option<String>,
    /// Where the files of attachments are read from when a task uploads them.
    pub media: Arc<dyn MediaStore>,
}

/// Why the engine could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A group-commit writer failed or stopped.
    #[error("the engine could not record it: {0}")]
    Write(String),
}

/// The HTTP layer's way into the engine: it only sends messages.
#[derive(Clone)]
pub struct Engine {
    pub(in crate::actors) context: Arc<EngineContext>,
    pub dispatcher: Addr<Dispatcher>,
    /// In processes that run tasks.
    pub scheduler: Option<Addr<super::scheduler::Scheduler>>,
    /// In sqs mode.
    pub relay: Option<Addr<OutboxRelay>>,
    /// In sqs mode, in processes that run tasks.
    pub ingress: Option<Addr<SqsIngress>>,
    /// What this process runs.
    pub role: Role,
    /// How long in-flight queue work may take to finish at shutdown.
    pub shutdown_grace: Duration,
    /// The longest a platform call may take: a call still out when this
    /// process stops has landed or failed by then.
    pub call_timeout: Duration,
    /// Live job status for event streams.
    pub(in crate::actors) live: super::live_feed::LiveFeed,
}

impl Engine {
    /// Stops handing out work; in-flight calls end with the worker arbiters.
    /// Nothing is lost: unfinished tasks are recovered from Postgres later.
    /// In sqs mode the ingress first stops receiving and lets in-flight work
    /// finish for the grace period; whatever still runs afterwards is released
    /// (`unconfirmed`, checked with the platform before any retry) so another
    /// process takes it over at once.
    pub async fn shutdown(&self) {
        if let Some(ingress) = &self.ingress {
            let _ = ingress
                .send(super::sqs_ingress::Drain {
                    grace: self.shutdown_grace,
                })
                .await;
        }
        if let Some(scheduler) = &self.scheduler {
            let _ = scheduler.send(super::scheduler::Shutdown).await;
        }
        if self.role.runs_tasks() {
            // Before the worker arbiters stop: pooled connections they opened go with them.
            // Calls still out may land later: they are checked once a call
            // can no longer be out (the longer of a lease and the call timeout).
            // No worker may claim after the release, or its call would go out
            // unseen by the check that another process makes.
            self.context.claims.close().await;
            let lease = Duration::from_secs(u64::from(self.context.settings.lease_secs.get()));
            let check_after = lease.max(self.call_timeout);
            match tasks::release_all_owned(&self.context.pool, &self.context.owner, check_after)
                .await
            {
                Ok(0) => {}
                Ok(n) => {
                    self.context.metrics.transitioned("unconfirmed", n);
                    tracing::info!(tasks = n, "released unfinished tasks for other processes")
                }
                Err(error) => {
                    tracing::warn!(error = %error, "releasing unfinished tasks failed; their leases expire instead")
                }
            }
            match tasks::release_held(&self.context.pool, &self.context.owner).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(tasks = n, "released waiting tasks for other processes"),
                Err(error) => {
                    tracing::warn!(error = %error, "releasing waiting tasks failed; they are released when this process is seen gone")
                }
            }
        }
        let _ = self.dispatcher.send(super::dispatcher::Shutdown).await;
        if let Some(relay) = &self.relay {
            let _ = relay.send(super::outbox_relay::Stop).await;
        }
    }

    /// Durably records a publish (group-committed with other requests') and,
    /// when it is due now, runs its tasks.
    pub async fn accept(&self, publish: NewPublish) -> Result<CreateOutcome, EngineError> {
        let due_now = publish
            .scheduled_at
            .is_none_or(|at| at <= chrono::Utc::now());
        let job_id = publish.job_id;
        let dispatch: Vec<(TaskId, ConnectionId)> = publish
            .tasks
            .iter()
            .map(|t| (t.id, t.connection_id))
            .collect();
        let outcome = self
            .context
            .accepts
            .accept(publish)
            .await
            .map_err(EngineError::Write)?;
        if outcome == CreateOutcome::Created {
            self.context
                .metrics
                .transitioned("queued", dispatch.len() as u64);
            if due_now {
                self.job_accepted(job_id, dispatch);
            }
        }
        Ok(outcome)
    }

    /// A publish was accepted: run its tasks now (in sqs mode their outbox rows
    /// were written with them; the relay sends them).
    fn job_accepted(&self, job_id: JobId, tasks: Vec<(TaskId, ConnectionId)>) {
        match &self.relay {
            Some(relay) => relay.do_send(Nudge),
            None => self.dispatcher.do_send(JobAccepted { job_id, tasks }),
        }
    }

    /// Puts the job's failed tasks back in the queue; how many.
    pub async fn retry_failed(&self, job: JobId) -> Result<usize, EngineError> {
        let ctx = &self.context;
        let moved =
            publishing::retry_failed(&ctx.pool, job, ctx.handoff, ctx.holder.as_deref()).await?;
        if moved.is_empty() {
            return Ok(0);
        }
        // The job is live again: its stored final status no longer holds.
        publishing::set_job_status(&ctx.pool, job, JobStatus::Running).await?;
        let count = moved.len();
        self.context.metrics.transitioned("queued", count as u64);
        match &self.relay {
            Some(relay) => relay.do_send(Nudge),
            None => self.dispatcher.do_send(TasksDue {
                tasks: moved.into_iter().map(|(t, c)| (t, job, c)).collect(),
            }),
        }
        Ok(count)
    }

    /// Cancels the job's tasks that have not started; how many.
    pub async fn cancel(&self, job: JobId, reason: &str) -> Result<u64, EngineError> {
        let cancelled = publishing::cancel_pending(&self.context.pool, job, reason).await?;
        self.context.metrics.transitioned("cancelled", cancelled);
        self.jobs_changed(vec![job]);
        Ok(cancelled)
    }

    /// The user's active connections and their platforms (briefly cached).
    pub async fn active_targets(
        &self,
        user: UserId,
    ) -> Result<Vec<(ConnectionId, String)>, StoreError> {
        self.context.targets.active(&self.context.pool, user).await
    }

    /// The user's connections changed: forget what was cached about them.
    pub fn connections_changed(&self, user: UserId) {
        self.context.targets.forget(user);
    }

    /// Every live actor's health, for `/health/actors`.
    pub fn actor_health(&self) -> Vec<super::health::ActorHealth> {
        self.context.health.snapshot()
    }

    /// Live actors and their queued work, by kind.
    pub fn actor_counts(&self) -> std::collections::HashMap<&'static str, (usize, usize)> {
        self.context.health.count_by_kind()
    }

    /// Whether every essential actor has reported within `within`; the first that has not.
    pub fn silent_actor(&self, within: Duration) -> Option<&'static str> {
        self.essential_actors()
            .into_iter()
            .find(|kind| !self.context.health.fresh(kind, within))
    }

    /// The SQS task queue, when there is one (readiness).
    pub fn queue(&self) -> Option<&TaskQueue> {
        self.context.queue.as_ref()
    }

    /// Follows a job's transitions live (for `GET /api/v1/jobs/{id}/events`).
    pub async fn watch(
        &self,
        watch: super::live_feed::Watch,
    ) -> Result<tokio::sync::mpsc::Receiver<super::live_feed::FeedItem>, super::live_feed::WatchError>
    {
        self.live.watch(watch).await
    }

    /// The engine's metrics.
    pub fn metrics(&self) -> &super::metrics::EngineMetrics {
        &self.context.metrics
    }

    /// The heart-beating actors this process cannot work without.
    fn essential_actors(&self) -> Vec<&'static str> {
        let mut kinds = vec!["dispatcher"];
        if self.scheduler.is_some() {
            kinds.push("scheduler");
        }
        if self.relay.is_some() {
            kinds.push("outbox_relay");
        }
        if self.ingress.is_some() {
            kinds.push("sqs_ingress");
        }
        kinds
    }

    /// A waiting post was edited: its job's tasks may be other ones now.
    pub fn post_edited(&self, job: JobId) {
        self.jobs_changed(vec![job]);
        if let Some(relay) = &self.relay {
            relay.do_send(Nudge);
        }
    }

    /// Task states changed outside the workers (cancel, disconnect): re-derive the jobs.
    fn jobs_changed(&self, jobs: Vec<JobId>) {
        if !jobs.is_empty() {
            self.dispatcher.do_send(JobsChanged { jobs });
        }
    }

    /// A connection was disconnected: cancel its tasks that have not started.
    pub async fn connection_disconnected(
        &self,
        user: UserId,
        connection: ConnectionId,
    ) -> Result<(), StoreError> {
        self.connections_changed(user);
        let jobs = publishing::cancel_for_connection(
            &self.context.pool,
            connection,
            "the connection was disconnected",
        )
        .await?;
        self.jobs_changed(jobs);
        Ok(())
    }
}
