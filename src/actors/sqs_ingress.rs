//! The SqsIngress (one per worker process) long-polls the task queue and hands
//! each message to the PlatformWorker of its connection. A message is deleted
//! only once its task is terminal or durably scheduled for later; while the
//! work takes long its visibility is extended; a task another process holds
//! sends its message back for later. Malformed messages are left alone: the
//! queue's redrive policy moves them to the dead-letter queue. It stops
//! receiving while `max_in_flight` messages are in work (backpressure).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use futures_util::future::join_all;
use tokio::sync::oneshot;

use super::dispatcher::{Deliver, Dispatcher};
use super::engine::EngineContext;
use crate::persistence::tasks::TaskFate;
use crate::queue::{BATCH, Received, TaskQueue};
use crate::settings::SqsSettings;

const HEARTBEAT: Duration = Duration::from_secs(1);
/// Deletes are batched this often.
const DELETE_TICK: Duration = Duration::from_millis(50);
/// After a failed receive, wait this long before the next.
const RECEIVE_RETRY: Duration = Duration::from_secs(1);

/// Stop receiving, let in-flight work finish for up to `grace`, then make the
/// rest visible again for other workers. Answers when done.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Drain {
    pub grace: Duration,
}

/// A message in work: its tasks are with the platform workers.
struct InFlight {
    /// Received or last extended.
    since: Instant,
    /// Tasks not answered yet.
    pending: usize,
    /// Some task is held elsewhere (or its worker restarted): give the message back.
    held: bool,
}

pub struct SqsIngress {
    ctx: Arc<EngineContext>,
    queue: TaskQueue,
    dispatcher: Addr<Dispatcher>,
    settings: SqsSettings,
    /// Messages in work by receipt.
    in_flight: HashMap<String, InFlight>,
    /// Their tasks not yet settled.
    tasks_in_flight: usize,
    receiving: u32,
    to_delete: Vec<String>,
    draining: Option<(Instant, Vec<oneshot::Sender<()>>)>,
    /// The drain is returning the last messages; the actor stops after.
    finishing: bool,
    last_error: Option<String>,
}

impl SqsIngress {
    pub fn new(
        ctx: Arc<EngineContext>,
        queue: TaskQueue,
        dispatcher: Addr<Dispatcher>,
        settings: SqsSettings,
    ) -> Self {
        Self {
            ctx,
            queue,
            dispatcher,
            settings,
            in_flight: HashMap::new(),
            tasks_in_flight: 0,
            receiving: 0,
            to_delete: Vec::new(),
            draining: None,
            finishing: false,
            last_error: None,
        }
    }

    fn visibility(&self) -> Duration {
        Duration::from_secs(u64::from(self.settings.visibility_timeout_secs.get()))
    }

    /// Whether another receive (up to ten full messages) still fits under `max_in_flight` tasks.
    fn has_room(&self) -> bool {
        let per_receive = BATCH * self.settings.tasks_per_message.get() as usize;
        let coming = self.receiving as usize * per_receive;
        self.tasks_in_flight + coming + per_receive <= self.settings.max_in_flight.get() as usize
            || (self.tasks_in_flight == 0 && self.receiving == 0)
    }

    /// Starts receive calls up to the configured number, room permitting.
    fn receive(&mut self, ctx: &mut Context<Self>) {
        while self.draining.is_none()
            && self.receiving < self.settings.receivers.get()
            && self.has_room()
        {
            self.receiving += 1;
            let queue = self.queue.clone();
            let wait = Duration::from_secs(u64::from(self.settings.wait_time_secs));
            ctx.spawn(
                async move { queue.receive(BATCH as i32, wait).await }
                    .into_actor(self)
                    .map(|received, act, ctx| {
                        act.receiving -= 1;
                        match received {
                            Ok(messages) => {
                                if act.last_error.take().is_some() {
                                    tracing::info!("SQS is reachable again; receiving");
                                }
                                act.accept(messages, ctx);
                                act.receive(ctx);
                            }
                            Err(error) => {
                                let message = error.to_string();
                                if act.last_error.as_deref() != Some(message.as_str()) {
                                    tracing::warn!(error = %message, "receiving from SQS failed; retrying");
                                }
                                act.ctx.health.error("sqs_ingress", "sqs_ingress", message.clone());
                                act.last_error = Some(message);
                                ctx.run_later(RECEIVE_RETRY, |act, ctx| act.receive(ctx));
                            }
                        }
                    }),
            );
        }
    }

    fn accept(&mut self, messages: Vec<Received>, ctx: &mut Context<Self>) {
        let metrics = self.ctx.metrics.sqs_messages.clone();
        for received in messages {
            metrics.with_label_values(&["received"]).inc();
            if self.draining.is_some() {
                // Arrived while shutting down: straight back for another worker.
                self.give_back(vec![received.receipt], Duration::ZERO, ctx);
                continue;
            }
            let message = match received.message {
                Ok(message) => message,
                Err(reason) => {
                    metrics.with_label_values(&["malformed"]).inc();
                    tracing::warn!(reason = %reason, receive_count = received.receive_count,
                        "malformed task message left for the dead-letter queue");
                    continue;
                }
            };
            let receipt = received.receipt;
            self.in_flight.insert(
                receipt.clone(),
                InFlight {
                    since: Instant::now(),
                    pending: message.tasks.len(),
                    held: false,
                },
            );
            self.tasks_in_flight += message.tasks.len();
            for task in message.tasks {
                let (reply, fate) = oneshot::channel();
                self.dispatcher.do_send(Deliver {
                    task: task.task_id,
                    job: task.job_id,
                    connection: task.connection_id,
                    reply,
                });
                let receipt = receipt.clone();
                ctx.spawn(fate.into_actor(self).map(move |fate, act, ctx| {
                    if matches!(fate, Ok(TaskFate::Misrouted)) {
                        tracing::warn!(task_id = %task.task_id, connection_id = %task.connection_id,
                            "a queue message named another connection than its task's; dropped, the task runs on its own connection");
                        act.ctx.metrics.sqs_messages.with_label_values(&["misrouted"]).inc();
                    }
                    // Held elsewhere, or its call broke off: the message comes back later.
                    let settled = matches!(fate, Ok(TaskFate::Settled | TaskFate::Misrouted));
                    act.task_answered(receipt, settled, ctx);
                }));
            }
        }
    }

    fn task_answered(&mut self, receipt: String, settled: bool, ctx: &mut Context<Self>) {
        let Some(entry) = self.in_flight.get_mut(&receipt) else {
            return; // Already given back during a drain.
        };
        self.tasks_in_flight = self.tasks_in_flight.saturating_sub(1);
        entry.pending = entry.pending.saturating_sub(1);
        entry.held |= !settled;
        if entry.pending == 0 {
            let held = entry.held;
            self.in_flight.remove(&receipt);
            if held {
                let later = Duration::from_secs(u64::from(self.settings.busy_retry_secs));
                self.give_back(vec![receipt], later, ctx);
            } else {
                self.to_delete.push(receipt);
            }
        }
        self.receive(ctx);
    }

    /// Makes messages visible again after `after`.
    fn give_back(&mut self, receipts: Vec<String>, after: Duration, ctx: &mut Context<Self>) {
        self.ctx
            .metrics
            .sqs_messages
            .with_label_values(&["returned"])
            .inc_by(receipts.len() as u64);
        let queue = self.queue.clone();
        ctx.spawn(
            async move {
                for chunk in receipts.chunks(BATCH) {
                    if let Err(error) = queue.set_visibility(chunk, after).await {
                        tracing::warn!(error = %error, "returning messages to SQS failed; they come back after their visibility timeout");
                    }
                }
            }
            .into_actor(self),
        );
    }

    fn flush_deletes(&mut self, ctx: &mut Context<Self>) {
        if self.to_delete.is_empty() {
            return;
        }
        let receipts = std::mem::take(&mut self.to_delete);
        self.ctx
            .metrics
            .sqs_messages
            .with_label_values(&["deleted"])
            .inc_by(receipts.len() as u64);
        let queue = self.queue.clone();
        ctx.spawn(
            async move {
                let deletes = receipts.chunks(BATCH).map(|chunk| queue.delete(chunk));
                for result in join_all(deletes).await {
                    if let Err(error) = result {
                        // The message comes back; its task is already settled and it is deleted then.
                        tracing::warn!(error = %error, "deleting messages from SQS failed");
                    }
                }
            }
            .into_actor(self),
        );
    }

    /// Keeps messages still in work invisible to other workers.
    fn extend(&mut self, ctx: &mut Context<Self>) {
        let timeout = self.visibility();
        let due: Vec<String> = self
            .in_flight
            .iter_mut()
            .filter(|(_, m)| m.since.elapsed() >= timeout / 3)
            .map(|(receipt, m)| {
                m.since = Instant::now();
                receipt.clone()
            })
            .collect();
        if due.is_empty() {
            return;
        }
        let queue = self.queue.clone();
        ctx.spawn(
            async move {
                for chunk in due.chunks(BATCH) {
                    if let Err(error) = queue.set_visibility(chunk, timeout).await {
                        tracing::warn!(error = %error, "extending message visibility failed");
                    }
                }
            }
            .into_actor(self),
        );
    }

    /// Finishes a drain once nothing is in flight or the grace period ran out.
    fn check_drain(&mut self, ctx: &mut Context<Self>) {
        let Some((deadline, _)) = &self.draining else {
            return;
        };
        if self.finishing {
            return;
        }
        if !self.in_flight.is_empty() && Instant::now() < *deadline {
            return;
        }
        self.flush_deletes(ctx);
        let rest: Vec<String> = self.in_flight.drain().map(|(r, _)| r).collect();
        self.tasks_in_flight = 0;
        let waiters = self
            .draining
            .as_mut()
            .map(|(_, w)| std::mem::take(w))
            .unwrap_or_default();
        let queue = self.queue.clone();
        if !rest.is_empty() {
            tracing::info!(
                messages = rest.len(),
                "shutting down: returning unfinished messages to the queue"
            );
        }
        self.finishing = true;
        ctx.spawn(
            async move {
                for chunk in rest.chunks(BATCH) {
                    let _ = queue.set_visibility(chunk, Duration::ZERO).await;
                }
            }
            .into_actor(self)
            .map(|_, act, _| {
                act.ctx.health.gone("sqs_ingress", "sqs_ingress");
                for waiter in waiters {
                    let _ = waiter.send(());
                }
                // Stays idle (draining) rather than stopping: the engine holds its
                // address, so its supervisor would only start it again.
            }),
        );
    }
}

impl Actor for SqsIngress {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.ctx
            .health
            .beat("sqs_ingress", "sqs_ingress", "running", 0);
        ctx.run_interval(HEARTBEAT, |act, ctx| {
            let state = if act.draining.is_some() {
                "draining"
            } else if act.last_error.is_some() {
                "backing_off"
            } else if act.has_room() {
                "running"
            } else {
                "saturated"
            };
            act.ctx
                .health
                .beat("sqs_ingress", "sqs_ingress", state, act.tasks_in_flight);
            act.extend(ctx);
            act.receive(ctx);
        });
        ctx.run_interval(DELETE_TICK, |act, ctx| {
            act.flush_deletes(ctx);
            act.check_drain(ctx);
        });
        self.receive(ctx);
    }
}

impl Supervised for SqsIngress {
    fn restarting(&mut self, _: &mut Self::Context) {
        self.receiving = 0;
        self.in_flight.clear();
        self.tasks_in_flight = 0;
        self.ctx
            .health
            .restarted("sqs_ingress", "sqs_ingress", None);
    }
}

impl Handler<Drain> for SqsIngress {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, msg: Drain, _: &mut Self::Context) -> Self::Result {
        let (done, wait) = oneshot::channel();
        match &mut self.draining {
            Some(_) if self.finishing => {
                // Already returning the last messages: answer at once.
                let _ = done.send(());
            }
            Some((_, waiters)) => waiters.push(done),
            None => self.draining = Some((Instant::now() + msg.grace, vec![done])),
        }
        Box::pin(async move {
            let _ = wait.await;
        })
    }
}
