//! What every engine actor shares, and the handle the HTTP layer holds.

use std::sync::Arc;

use actix::Addr;
use sqlx::PgPool;

use super::dispatcher::{Dispatcher, JobAccepted, JobsChanged, TasksDue};
use super::health::HealthBoard;
use super::outbox_relay::{Nudge, OutboxRelay};
use super::sqs_ingress::SqsIngress;
use crate::adapters::Registry;
use crate::crypto::Keyring;
use crate::domain::{JobId, TaskId};
use crate::persistence::connections::ConnectionId;
use crate::persistence::outbox::Handoff;
use crate::persistence::tasks;
use crate::persistence::{StoreError, publishing};
use crate::queue::TaskQueue;
use crate::settings::EngineSettings;
use crate::settings::Role;
use std::time::Duration;

/// Shared, read-only context of the engine's actors.
pub struct EngineContext {
    pub pool: PgPool,
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
}

/// The HTTP layer's way into the engine: it only sends messages.
#[derive(Clone)]
pub struct Engine {
    pub context: Arc<EngineContext>,
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
            match tasks::release_all_owned(&self.context.pool, &self.context.owner).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(tasks = n, "released unfinished tasks for other processes"),
                Err(error) => {
                    tracing::warn!(error = %error, "releasing unfinished tasks failed; their leases expire instead")
                }
            }
        }
        let _ = self.dispatcher.send(super::dispatcher::Shutdown).await;
        if let Some(relay) = &self.relay {
            let _ = relay.send(super::outbox_relay::Stop).await;
        }
    }

    /// A publish was accepted: run its tasks now (in sqs mode their outbox rows
    /// were written with them; the relay sends them).
    pub fn job_accepted(&self, job_id: JobId, tasks: Vec<(TaskId, ConnectionId)>) {
        match &self.relay {
            Some(relay) => relay.do_send(Nudge),
            None => self.dispatcher.do_send(JobAccepted { job_id, tasks }),
        }
    }

    /// Tasks were put back in the queue (retry).
    pub fn tasks_due(&self, job_id: JobId, tasks: Vec<(TaskId, ConnectionId)>) {
        match &self.relay {
            Some(relay) => relay.do_send(Nudge),
            None => self.dispatcher.do_send(TasksDue {
                tasks: tasks.into_iter().map(|(t, c)| (t, job_id, c)).collect(),
            }),
        }
    }

    /// The heart-beating actors this process cannot work without.
    pub fn essential_actors(&self) -> Vec<&'static str> {
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

    /// Task states changed outside the workers (cancel, disconnect): re-derive the jobs.
    pub fn jobs_changed(&self, jobs: Vec<JobId>) {
        if !jobs.is_empty() {
            self.dispatcher.do_send(JobsChanged { jobs });
        }
    }

    /// A connection was disconnected: cancel its tasks that have not started.
    pub async fn connection_disconnected(
        &self,
        connection: ConnectionId,
    ) -> Result<(), StoreError> {
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
