//! The Dispatcher owns the registry of PlatformWorkers (one per connection,
//! spread over one arbiter per core) and of JobCoordinators (one per job),
//! and routes tasks and outcomes between them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

use super::engine::EngineContext;
use super::job_coordinator::{JobCoordinator, Reload, TaskSettled};
use super::platform_worker::{self, Enqueue, PlatformWorker, Retire};
use crate::domain::ConnectionId;
use crate::domain::{JobId, TaskId, TaskStatus};
use crate::persistence::tasks::TaskFate;

const HEARTBEAT: Duration = Duration::from_secs(1);

/// A publish was accepted: start its coordinator and run its tasks.
#[derive(Message)]
#[rtype(result = "()")]
pub struct JobAccepted {
    pub job_id: JobId,
    pub tasks: Vec<(TaskId, ConnectionId)>,
}

/// Tasks that are due (scheduler, retry by the user, recovery).
#[derive(Message)]
#[rtype(result = "()")]
pub struct TasksDue {
    pub tasks: Vec<(TaskId, JobId, ConnectionId)>,
}

/// Task states changed in bulk outside the workers: coordinators re-read them.
#[derive(Message)]
#[rtype(result = "()")]
pub struct JobsChanged {
    pub jobs: Vec<JobId>,
}

/// A worker reached a task's outcome.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Settled {
    pub job_id: JobId,
    pub task_id: TaskId,
    pub status: TaskStatus,
}

/// A coordinator saw its job finish and is stopping.
#[derive(Message)]
#[rtype(result = "()")]
pub struct CoordinatorDone {
    pub job_id: JobId,
    pub generation: u64,
}

/// A queue message announced a task: run it on its connection's worker and
/// say, through `reply`, when the message has done its job.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Deliver {
    pub task: TaskId,
    pub job: JobId,
    pub connection: ConnectionId,
    pub reply: tokio::sync::oneshot::Sender<TaskFate>,
}

/// The process is stopping: stop the workers' arbiters and route nothing more.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Shutdown;

/// A worker had nothing to do for a while.
#[derive(Message)]
#[rtype(result = "()")]
pub struct WorkerIdle {
    pub connection_id: ConnectionId,
    pub generation: u64,
}

pub struct Dispatcher {
    ctx: Arc<EngineContext>,
    arbiters: Vec<ArbiterHandle>,
    next_arbiter: usize,
    workers: HashMap<ConnectionId, (u64, Addr<PlatformWorker>)>,
    coordinators: HashMap<JobId, (u64, Addr<JobCoordinator>)>,
    generation: u64,
    shut_down: bool,
}

impl Dispatcher {
    pub fn new(ctx: Arc<EngineContext>, arbiters: Vec<ArbiterHandle>) -> Self {
        Self {
            ctx,
            arbiters,
            next_arbiter: 0,
            workers: HashMap::new(),
            coordinators: HashMap::new(),
            generation: 0,
            shut_down: false,
        }
    }

    fn next_generation(&mut self) -> u64 {
        self.generation += 1;
        self.generation
    }

    fn worker(&mut self, connection_id: ConnectionId, me: &Addr<Self>) -> Addr<PlatformWorker> {
        if let Some((_, addr)) = self.workers.get(&connection_id)
            && addr.connected()
        {
            return addr.clone();
        }
        let generation = self.next_generation();
        let arbiter = &self.arbiters[self.next_arbiter % self.arbiters.len()];
        self.next_arbiter += 1;
        let ctx = self.ctx.clone();
        let dispatcher = me.clone();
        // Not supervised: a retired worker must stay stopped (see platform_worker).
        let addr = PlatformWorker::start_in_arbiter(arbiter, move |_| {
            PlatformWorker::new(ctx, dispatcher, connection_id, generation)
        });
        self.workers
            .insert(connection_id, (generation, addr.clone()));
        addr
    }

    /// The job's coordinator, and whether it was just started (a new one
    /// loads the job's tasks itself).
    fn coordinator(
        &mut self,
        job_id: JobId,
        known: Option<Vec<(TaskId, TaskStatus)>>,
        me: &Addr<Self>,
    ) -> (Addr<JobCoordinator>, bool) {
        if let Some((_, addr)) = self.coordinators.get(&job_id)
            && addr.connected()
        {
            return (addr.clone(), false);
        }
        let generation = self.next_generation();
        let ctx = self.ctx.clone();
        let dispatcher = me.clone();
        // Not supervised: a coordinator stops when its job is final, and a
        // supervisor would start it again while this registry still holds it.
        // Should one stop early, the next message for its job starts a new one,
        // which rebuilds itself from Postgres.
        let addr = JobCoordinator::new(ctx, dispatcher, job_id, known, generation).start();
        self.coordinators.insert(job_id, (generation, addr.clone()));
        (addr, true)
    }

    fn dispatch(&mut self, tasks: Vec<(TaskId, JobId, ConnectionId)>, me: &Addr<Self>) {
        if self.shut_down || self.arbiters.is_empty() {
            // Still durable in Postgres: the next start (or another process) runs them.
            return;
        }
        let mut by_connection: HashMap<ConnectionId, Vec<(TaskId, JobId)>> = HashMap::new();
        for (task, job, connection) in tasks {
            by_connection
                .entry(connection)
                .or_default()
                .push((task, job));
        }
        for (connection, tasks) in by_connection {
            self.worker(connection, me).do_send(Enqueue { tasks });
        }
    }
}

impl Actor for Dispatcher {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(HEARTBEAT, |act, _| {
            act.workers.retain(|_, (_, addr)| addr.connected());
            act.coordinators.retain(|_, (_, addr)| addr.connected());
            act.ctx.health.beat(
                "dispatcher",
                "dispatcher",
                "running",
                act.workers.len() + act.coordinators.len(),
            );
        });
        self.ctx
            .health
            .beat("dispatcher", "dispatcher", "running", 0);
    }
}

impl Supervised for Dispatcher {
    fn restarting(&mut self, _: &mut Self::Context) {
        self.ctx.health.restarted("dispatcher", "dispatcher", None);
    }
}

impl Handler<JobAccepted> for Dispatcher {
    type Result = ();

    fn handle(&mut self, msg: JobAccepted, ctx: &mut Self::Context) {
        let me = ctx.address();
        let known = msg
            .tasks
            .iter()
            .map(|(t, _)| (*t, TaskStatus::Queued))
            .collect();
        self.coordinator(msg.job_id, Some(known), &me);
        let tasks = msg
            .tasks
            .into_iter()
            .map(|(t, c)| (t, msg.job_id, c))
            .collect();
        self.dispatch(tasks, &me);
    }
}

impl Handler<TasksDue> for Dispatcher {
    type Result = ();

    fn handle(&mut self, msg: TasksDue, ctx: &mut Self::Context) {
        let me = ctx.address();
        let jobs: std::collections::HashSet<JobId> = msg.tasks.iter().map(|(_, j, _)| *j).collect();
        for job in jobs {
            // Only a running coordinator may hold stale statuses (a user retry);
            // a new one reads its job when it starts.
            if let (coordinator, false) = self.coordinator(job, None, &me) {
                coordinator.do_send(Reload);
            }
        }
        self.dispatch(msg.tasks, &me);
    }
}

impl Handler<JobsChanged> for Dispatcher {
    type Result = ();

    fn handle(&mut self, msg: JobsChanged, ctx: &mut Self::Context) {
        let me = ctx.address();
        for job in msg.jobs {
            if let (coordinator, false) = self.coordinator(job, None, &me) {
                coordinator.do_send(Reload);
            }
        }
    }
}

impl Handler<Settled> for Dispatcher {
    type Result = ();

    fn handle(&mut self, msg: Settled, ctx: &mut Self::Context) {
        let me = ctx.address();
        self.coordinator(msg.job_id, None, &me)
            .0
            .do_send(TaskSettled {
                task_id: msg.task_id,
                status: msg.status,
            });
    }
}

impl Handler<Deliver> for Dispatcher {
    type Result = ();

    fn handle(&mut self, msg: Deliver, ctx: &mut Self::Context) {
        if self.shut_down || self.arbiters.is_empty() {
            // Dropping the reply gives the message back to the queue.
            return;
        }
        let me = ctx.address();
        self.worker(msg.connection, &me)
            .do_send(platform_worker::Deliver {
                task: msg.task,
                job: msg.job,
                reply: msg.reply,
            });
    }
}

impl Handler<Shutdown> for Dispatcher {
    type Result = ();

    fn handle(&mut self, _: Shutdown, _: &mut Self::Context) {
        self.shut_down = true;
        self.workers.clear();
        // Unreferenced coordinators stop for good instead of being restarted.
        self.coordinators.clear();
        for arbiter in &self.arbiters {
            arbiter.stop();
        }
    }
}

impl Handler<CoordinatorDone> for Dispatcher {
    type Result = ();

    fn handle(&mut self, msg: CoordinatorDone, _: &mut Self::Context) {
        if self
            .coordinators
            .get(&msg.job_id)
            .is_some_and(|(g, _)| *g == msg.generation)
        {
            self.coordinators.remove(&msg.job_id);
        }
    }
}

impl Handler<WorkerIdle> for Dispatcher {
    type Result = ();

    fn handle(&mut self, msg: WorkerIdle, _: &mut Self::Context) {
        if self
            .workers
            .get(&msg.connection_id)
            .is_some_and(|(g, _)| *g == msg.generation)
            && let Some((_, addr)) = self.workers.remove(&msg.connection_id)
        {
            addr.do_send(Retire);
        }
    }
}
