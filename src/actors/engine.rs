//! What every engine actor shares, and the handle the HTTP layer holds.

use std::sync::Arc;

use actix::Addr;
use sqlx::PgPool;

use super::dispatcher::{Dispatcher, JobAccepted, JobsChanged, TasksDue};
use super::health::HealthBoard;
use crate::adapters::Registry;
use crate::crypto::Keyring;
use crate::domain::{JobId, TaskId};
use crate::persistence::connections::ConnectionId;
use crate::persistence::{StoreError, publishing};
use crate::settings::EngineSettings;

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
}

/// The HTTP layer's way into the engine: it only sends messages.
#[derive(Clone)]
pub struct Engine {
    pub context: Arc<EngineContext>,
    pub dispatcher: Addr<Dispatcher>,
    pub scheduler: Addr<super::scheduler::Scheduler>,
}

impl Engine {
    /// Stops handing out work; in-flight calls end with the worker arbiters.
    /// Nothing is lost: unfinished tasks are recovered from Postgres later.
    pub async fn shutdown(&self) {
        let _ = self.scheduler.send(super::scheduler::Shutdown).await;
        let _ = self.dispatcher.send(super::dispatcher::Shutdown).await;
    }

    /// A publish was accepted: run its tasks now.
    pub fn job_accepted(&self, job_id: JobId, tasks: Vec<(TaskId, ConnectionId)>) {
        self.dispatcher.do_send(JobAccepted { job_id, tasks });
    }

    /// Tasks were put back in the queue (retry).
    pub fn tasks_due(&self, job_id: JobId, tasks: Vec<(TaskId, ConnectionId)>) {
        self.dispatcher.do_send(TasksDue {
            tasks: tasks.into_iter().map(|(t, c)| (t, job_id, c)).collect(),
        });
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
