//! One JobCoordinator per job in flight: it collects its tasks' outcomes,
//! writes the derived job status, and stops once every task is final. A
//! coordinator started for a job already under way rebuilds itself from Postgres.

use std::collections::HashMap;
use std::sync::Arc;

use actix::prelude::*;

use super::dispatcher::{CoordinatorDone, Dispatcher};
use super::engine::EngineContext;
use crate::domain::{JobId, JobStatus, TaskId, TaskStatus};
use crate::persistence::outbox::Handoff;
use crate::persistence::tasks;

/// After a failed load, the next try.
const RELOAD_RETRY: std::time::Duration = std::time::Duration::from_secs(1);
/// How often a coordinator in a multi-process (sqs) engine re-reads its job.
const RECHECK: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Message)]
#[rtype(result = "()")]
pub struct TaskSettled {
    pub task_id: TaskId,
    pub status: TaskStatus,
}

/// Re-read the tasks' statuses from Postgres.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Reload;

pub struct JobCoordinator {
    ctx: Arc<EngineContext>,
    dispatcher: Addr<Dispatcher>,
    job_id: JobId,
    statuses: HashMap<TaskId, TaskStatus>,
    written: Option<JobStatus>,
    generation: u64,
}

impl JobCoordinator {
    pub fn new(
        ctx: Arc<EngineContext>,
        dispatcher: Addr<Dispatcher>,
        job_id: JobId,
        known: Option<Vec<(TaskId, TaskStatus)>>,
        generation: u64,
    ) -> Self {
        Self {
            ctx,
            dispatcher,
            job_id,
            statuses: known.unwrap_or_default().into_iter().collect(),
            // A fresh job is already `pending` in the table.
            written: None,
            generation,
        }
    }

    fn reload(&mut self, ctx: &mut Context<Self>) {
        let pool = self.ctx.pool.clone();
        let job = self.job_id;
        ctx.wait(
            async move { tasks::statuses_of_job(&pool, job).await }
                .into_actor(self)
                .map(|loaded, act, ctx| match loaded {
                    Ok(statuses) => {
                        act.statuses = statuses.into_iter().collect();
                        act.evaluate(ctx);
                    }
                    Err(error) => {
                        // Stopping would only make the supervisor restart us at once: try again shortly.
                        tracing::warn!(job_id = %act.job_id, error = %error, "coordinator could not load its tasks; retrying");
                        ctx.run_later(RELOAD_RETRY, |act, ctx| act.reload(ctx));
                    }
                }),
        );
    }

    /// Writes the job status if it changed; stops when the job is final.
    fn evaluate(&mut self, ctx: &mut Context<Self>) {
        if self.statuses.is_empty() {
            return;
        }
        let derived = JobStatus::derive(self.statuses.values().copied());
        if self.written == Some(derived)
            || (self.written.is_none() && derived == JobStatus::Pending)
        {
            return;
        }
        self.written = Some(derived);
        let engine = self.ctx.clone();
        let job = self.job_id;
        ctx.wait(
            async move { engine.job_statuses.set_final(job, derived).await }
                .into_actor(self)
                .map(move |written, act, ctx| {
                    if let Err(error) = written {
                        tracing::warn!(job_id = %act.job_id, error = %error, "writing the job status failed");
                        act.written = None;
                    }
                    if derived.is_terminal() {
                        act.dispatcher.do_send(CoordinatorDone {
                            job_id: act.job_id,
                            generation: act.generation,
                        });
                        ctx.stop();
                    }
                }),
        );
    }
}

impl Actor for JobCoordinator {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        if self.statuses.is_empty() {
            self.reload(ctx);
        }
        if self.ctx.handoff == Handoff::Outbox {
            // Other processes settle some of this job's tasks and tell their own
            // coordinators; re-reading now and then finishes this one too.
            ctx.run_interval(RECHECK, |act, ctx| act.reload(ctx));
        }
    }
}

impl Handler<TaskSettled> for JobCoordinator {
    type Result = ();

    fn handle(&mut self, msg: TaskSettled, ctx: &mut Self::Context) {
        self.statuses.insert(msg.task_id, msg.status);
        self.evaluate(ctx);
    }
}

impl Handler<Reload> for JobCoordinator {
    type Result = ();

    fn handle(&mut self, _: Reload, ctx: &mut Self::Context) {
        self.reload(ctx);
    }
}
