//! One PlatformWorker per connected account. It owns the account's rate limit
//! (a token bucket), its access token (refresh is single-flight) and the
//! retries of its tasks. It runs a bounded number of calls at once, claims its
//! tasks in batches (only tasks of its own connection) and stops for good when
//! idle (the dispatcher starts a fresh one on demand). It is not restarted by
//! an actix supervisor: that would revive a retired worker. A call that panics
//! is caught instead; its task becomes `unconfirmed` (checked with the platform
//! before any retry) and the worker carries on, counting a restart.

mod attempt;
mod bucket;
mod limits;
mod media;
pub mod token;

use std::collections::{HashMap, HashSet, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use futures_util::FutureExt;

use super::dispatcher::{Dispatcher, JobsChanged, Settled, WorkerIdle};
use super::engine::EngineContext;
use crate::adapters::PlatformAdapter;
use crate::connections::{TokenKind, open_token};
use crate::domain::ConnectionId;
use crate::domain::{JobId, TaskId};
use crate::persistence::connections;
use crate::persistence::tasks::{self, TaskFate};
use attempt::AttemptResult;
use bucket::TokenBucket;
use token::TokenCell;
use tokio::sync::oneshot;

const HEARTBEAT: Duration = Duration::from_secs(1);
/// After a failed claim, the next try.
const CLAIM_RETRY: Duration = Duration::from_secs(1);

/// Tasks for this connection.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Enqueue {
    pub tasks: Vec<(TaskId, JobId)>,
}

/// A task from the queue; `reply` says when its message has done its job.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Deliver {
    pub task: TaskId,
    pub job: JobId,
    pub reply: oneshot::Sender<TaskFate>,
}

/// The dispatcher forgot this worker: stop if still idle.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Retire;

pub struct PlatformWorker {
    ctx: Arc<EngineContext>,
    dispatcher: Addr<Dispatcher>,
    connection_id: ConnectionId,
    id: String,
    generation: u64,
    adapter: Option<Arc<dyn PlatformAdapter>>,
    token: Option<Arc<TokenCell>>,
    queue: VecDeque<(TaskId, JobId)>,
    queued: HashSet<TaskId>,
    /// Queue messages waiting to hear how their task ended.
    waiters: HashMap<TaskId, Vec<oneshot::Sender<TaskFate>>>,
    in_flight: usize,
    bucket: TokenBucket,
    pump_pending: bool,
    last_active: Instant,
    /// The dispatcher forgot this worker while it still had work: it stops by
    /// itself once idle instead of asking again (a fresh worker took its place).
    retired: bool,
    /// Retries waiting on a timer: a worker with one is not idle, or stopping
    /// would drop the timer and strand the task until the overdue sweep.
    waiting_retries: usize,
}

impl PlatformWorker {
    pub fn new(
        ctx: Arc<EngineContext>,
        dispatcher: Addr<Dispatcher>,
        connection_id: ConnectionId,
        generation: u64,
    ) -> Self {
        let rate = ctx.settings.rate_limit_per_s.get();
        Self {
            ctx,
            dispatcher,
            connection_id,
            id: connection_id.to_string(),
            generation,
            adapter: None,
            token: None,
            queue: VecDeque::new(),
            queued: HashSet::new(),
            waiters: HashMap::new(),
            in_flight: 0,
            bucket: TokenBucket::new(rate),
            pump_pending: false,
            last_active: Instant::now(),
            retired: false,
            waiting_retries: 0,
        }
    }

    fn enqueue(&mut self, tasks: impl IntoIterator<Item = (TaskId, JobId)>) {
        for (task, job) in tasks {
            if self.queued.insert(task) {
                self.queue.push_back((task, job));
            }
        }
    }

    fn answer(&mut self, task: TaskId, fate: TaskFate) {
        for waiter in self.waiters.remove(&task).unwrap_or_default() {
            let _ = waiter.send(fate);
        }
    }

    /// Every waiting message is answered: the connection's tasks are settled elsewhere.
    fn answer_all(&mut self, fate: TaskFate) {
        for (_, waiters) in self.waiters.drain() {
            for waiter in waiters {
                let _ = waiter.send(fate);
            }
        }
    }

    /// Tasks a message announced but this worker could not claim: find out why.
    fn explain_unclaimed(&mut self, ids: Vec<TaskId>, ctx: &mut Context<Self>) {
        let ids: Vec<TaskId> = ids
            .into_iter()
            .filter(|id| self.waiters.contains_key(id))
            .collect();
        if ids.is_empty() {
            return;
        }
        let pool = self.ctx.pool.clone();
        let asked = ids.clone();
        let connection = self.connection_id;
        ctx.spawn(
            async move { tasks::fates(&pool, &ids, connection).await }
                .into_actor(self)
                .map(|fates, act, _| match fates {
                    Ok(fates) => {
                        for (task, fate) in fates {
                            act.answer(task, fate);
                        }
                    }
                    Err(error) => {
                        tracing::warn!(error = %error, "could not look up unclaimed tasks; their messages come back later");
                        for task in asked {
                            act.answer(task, TaskFate::Held);
                        }
                    }
                }),
        );
    }

    /// Learns the platform of the connection (once), then pumps.
    fn prepare(&mut self, ctx: &mut Context<Self>) {
        if self.adapter.is_some() {
            self.pump(ctx);
            return;
        }
        let engine = self.ctx.clone();
        let id = self.connection_id;
        ctx.wait(
            async move {
                let state = connections::token_state(&engine.pool, id)
                    .await
                    .map_err(|e| e.to_string())?;
                // What the grant needs besides its tokens (a DPoP key), if anything.
                let key = match state.as_ref().and_then(|s| s.tokens.grant_secret.as_ref()) {
                    Some(blob) => Some(
                        open_token(&engine.keyring, id, TokenKind::GrantSecret, blob)
                            .await
                            .map_err(|e| e.to_string())?,
                    ),
                    None => None,
                };
                Ok::<_, String>(state.map(|state| (state, key)))
            }
                .into_actor(self)
                .map(|state, act, ctx| {
                    let (adapter, state) = match state {
                        Ok(Some((state, key))) => (
                            act.ctx.registry.for_connection(
                                &state.platform_id,
                                state.service_url.as_deref(),
                                key.as_ref(),
                            ),
                            Some(state),
                        ),
                        Ok(None) => (None, None),
                        Err(error) => {
                            tracing::warn!(connection_id = %act.connection_id, error = %error, "worker could not load its connection");
                            act.ctx.health.error("platform_worker", &act.id, error.to_string());
                            ctx.run_later(Duration::from_secs(1), |act, ctx| act.prepare(ctx));
                            return;
                        }
                    };
                    let stale_limits = state.as_ref().is_some_and(|s| limits::stale(s.limits_read_at));
                    match adapter {
                        Some(adapter) => {
                            let token = Arc::new(TokenCell::new(act.ctx.clone(), act.connection_id, adapter.clone(), state));
                            if stale_limits && adapter.asks_for_server() {
                                actix::spawn(limits::refresh(act.ctx.clone(), act.connection_id, adapter.clone(), token.clone()));
                            }
                            act.token = Some(token);
                            act.adapter = Some(adapter);
                            act.pump(ctx);
                        }
                        None => {
                            // The connection (or its platform) is gone; its tasks were cascaded away.
                            act.queue.clear();
                            act.queued.clear();
                            act.answer_all(TaskFate::Settled);
                        }
                    }
                }),
        );
    }

    /// Starts as many calls as the concurrency limit and the bucket allow.
    fn pump(&mut self, ctx: &mut Context<Self>) {
        let (Some(adapter), Some(token)) = (self.adapter.clone(), self.token.clone()) else {
            return;
        };
        let concurrency = self.ctx.settings.worker_concurrency.get() as usize;
        let free = concurrency
            .saturating_sub(self.in_flight)
            .min(self.queue.len());
        if free == 0 {
            return;
        }
        let granted = self.bucket.take(free);
        if granted == 0 {
            if !self.pump_pending {
                self.pump_pending = true;
                ctx.run_later(self.bucket.wait(), |act, ctx| {
                    act.pump_pending = false;
                    act.pump(ctx);
                });
            }
            return;
        }
        let batch: Vec<(TaskId, JobId)> = self.queue.drain(..granted).collect();
        for (task, _) in &batch {
            self.queued.remove(task);
        }
        self.in_flight += batch.len();
        self.last_active = Instant::now();
        let n = batch.len();
        let engine = self.ctx.clone();
        let ids: Vec<TaskId> = batch.iter().map(|(t, _)| *t).collect();
        let asked = ids.clone();
        let connection = self.connection_id;
        let work = async move { engine.claims.claim(connection, ids).await };
        ctx.spawn(work.into_actor(self).map(move |claimed, act, ctx| {
            let claimed = match claimed {
                Ok(claimed) => claimed,
                Err(error) => {
                    // This process still holds them: try again shortly.
                    tracing::warn!(error = %error, "claiming tasks failed; trying again in a second");
                    act.in_flight = act.in_flight.saturating_sub(n);
                    ctx.run_later(CLAIM_RETRY, move |act, ctx| {
                        act.enqueue(batch);
                        act.pump(ctx);
                    });
                    return;
                }
            };
            act.ctx.metrics.transitioned("running", claimed.len() as u64);
            // Slots of tasks not claimed (taken elsewhere, not due) are free again.
            act.in_flight = act.in_flight.saturating_sub(n - claimed.len());
            let unclaimed: Vec<TaskId> = asked
                .into_iter()
                .filter(|id| !claimed.iter().any(|c| c.id == *id))
                .collect();
            act.explain_unclaimed(unclaimed, ctx);
            if act.ctx.claims.is_closed() {
                // Stopping: these were released (or are released next) for
                // another process, which checks them with the platform first.
                act.in_flight = act.in_flight.saturating_sub(claimed.len());
                return;
            }
            for task in claimed {
                let (task_id, job_id) = (task.id, task.job_id);
                let call = attempt::run(act.ctx.clone(), adapter.clone(), token.clone(), task);
                // Each call frees its own slot, so one slow call does not hold back the others.
                ctx.spawn(AssertUnwindSafe(call).catch_unwind().into_actor(act).map(move |result, act, ctx| {
                    act.in_flight = act.in_flight.saturating_sub(1);
                    match result {
                        Ok(result) => act.absorb(vec![result], ctx),
                        Err(_) => act.call_panicked(task_id, job_id, ctx),
                    }
                    act.pump(ctx);
                }));
            }
            act.pump(ctx);
        }));
    }

    fn absorb(&mut self, results: Vec<AttemptResult>, ctx: &mut Context<Self>) {
        let mut revoked = None;
        for result in results {
            // Written durably (final, or a retry at a set time): the message is done.
            // Nothing written: this process lost the task; another holds it.
            let fate = if result.status.is_some() {
                TaskFate::Settled
            } else {
                TaskFate::Held
            };
            self.answer(result.task, fate);
            // Coordinators only act on final outcomes (they write the final job status).
            if let Some(status) = result.status.filter(|s| s.is_terminal()) {
                self.dispatcher.do_send(Settled {
                    job_id: result.job,
                    task_id: result.task,
                    status,
                });
            }
            if let Some((retry_after, limit)) = result.throttle {
                self.bucket.throttle(retry_after, limit);
            }
            if let Some(delay) = result.retry_in {
                let item = (result.task, result.job);
                self.waiting_retries += 1;
                ctx.run_later(delay, move |act, ctx| {
                    act.waiting_retries = act.waiting_retries.saturating_sub(1);
                    act.enqueue([item]);
                    act.pump(ctx);
                });
            }
            if result.revoked.is_some() {
                revoked = result.revoked;
            }
        }
        if let Some(reason) = revoked {
            self.fail_all(reason, ctx);
        }
    }

    /// The grant is gone: every pending task of this connection fails with the reason.
    fn fail_all(&mut self, reason: String, ctx: &mut Context<Self>) {
        self.queue.clear();
        self.queued.clear();
        self.answer_all(TaskFate::Settled);
        let pool = self.ctx.pool.clone();
        let id = self.connection_id;
        let dispatcher = self.dispatcher.clone();
        self.ctx.targets.forget_connection(id);
        ctx.spawn(
            async move {
                if let Err(error) = connections::mark_needs_reauth(&pool, id).await {
                    tracing::warn!(connection_id = %id, error = %error, "marking the connection for reconnection failed");
                }
                match tasks::fail_for_connection(&pool, id, &reason).await {
                    Ok(jobs) if !jobs.is_empty() => dispatcher.do_send(JobsChanged { jobs }),
                    Ok(_) => {}
                    Err(error) => tracing::warn!(connection_id = %id, error = %error, "failing the connection's tasks failed"),
                }
            }
            .into_actor(self),
        );
    }

    /// A platform call panicked. Its task may have reached the platform, so it
    /// becomes `unconfirmed` and runs again (asking the platform first); the
    /// worker's other calls are unaffected. Counted as a restart on `/health/actors`.
    fn call_panicked(&mut self, task: TaskId, job: JobId, ctx: &mut Context<Self>) {
        tracing::error!(connection_id = %self.connection_id, task_id = %task, "a platform call panicked; its task will be checked with the platform");
        self.ctx.health.restarted(
            "platform_worker",
            &self.id,
            Some(
                "a platform call panicked; its task is checked with the platform before a retry"
                    .into(),
            ),
        );
        let pool = self.ctx.pool.clone();
        let owner = self.ctx.owner.clone();
        ctx.spawn(
            async move { tasks::release_claimed(&pool, &[task], &owner).await }
                .into_actor(self)
                .map(move |released, act, ctx| match released {
                    Ok(_) => {
                        act.answer(task, TaskFate::Held);
                        act.enqueue([(task, job)]);
                        act.pump(ctx);
                    }
                    Err(error) => {
                        // The lease runs out instead; recovery makes it unconfirmed then.
                        tracing::warn!(task_id = %task, error = %error, "releasing a panicked task failed");
                        act.answer(task, TaskFate::Held);
                    }
                }),
        );
    }

    fn is_idle(&self) -> bool {
        self.queue.is_empty()
            && self.in_flight == 0
            && self.waiters.is_empty()
            && self.waiting_retries == 0
    }

    fn state(&self) -> &'static str {
        if self.in_flight > 0 {
            "running"
        } else if !self.queue.is_empty() || self.waiting_retries > 0 {
            "backing_off"
        } else {
            "idle"
        }
    }
}

impl Actor for PlatformWorker {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(HEARTBEAT, |act, ctx| {
            act.ctx.health.beat(
                "platform_worker",
                &act.id,
                act.state(),
                act.queue.len() + act.in_flight,
            );
            let idle_for = Duration::from_secs(u64::from(act.ctx.settings.idle_stop_secs.get()));
            if act.retired && act.is_idle() {
                ctx.stop();
                return;
            }
            if act.is_idle() && act.last_active.elapsed() >= idle_for {
                act.dispatcher.do_send(WorkerIdle {
                    connection_id: act.connection_id,
                    generation: act.generation,
                });
            }
            if !act.queue.is_empty() && !act.pump_pending {
                act.pump(ctx);
            }
        });
        self.ctx.health.beat("platform_worker", &self.id, "idle", 0);
        self.prepare(ctx);
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.ctx.health.gone("platform_worker", &self.id);
    }
}

impl Handler<Enqueue> for PlatformWorker {
    type Result = ();

    fn handle(&mut self, msg: Enqueue, ctx: &mut Self::Context) {
        self.last_active = Instant::now();
        self.enqueue(msg.tasks);
        self.pump(ctx);
    }
}

impl Handler<Deliver> for PlatformWorker {
    type Result = ();

    fn handle(&mut self, msg: Deliver, ctx: &mut Self::Context) {
        self.last_active = Instant::now();
        self.waiters.entry(msg.task).or_default().push(msg.reply);
        self.enqueue([(msg.task, msg.job)]);
        self.pump(ctx);
    }
}

impl Handler<Retire> for PlatformWorker {
    type Result = ();

    fn handle(&mut self, _: Retire, ctx: &mut Self::Context) {
        if self.is_idle() {
            ctx.stop();
        } else {
            // Work arrived after it asked to go: finish it, then stop.
            self.retired = true;
        }
    }
}
