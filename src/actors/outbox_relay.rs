//! The OutboxRelay sends outbox rows to SQS (`tasks_per_message` tasks per
//! message, ten messages per call) and marks them
//! sent only after SQS accepted them: at least once, never inside the
//! transaction that wrote them. It runs on a short tick and when nudged (a
//! publish was just accepted); several processes may relay at once, each
//! leasing its own rows. While SQS is unreachable rows wait in the outbox and
//! the relay reports the error on `/health/actors`.
//!
//! It sends only while the queue holds fewer than `max_queued_messages`
//! visible messages: a burst's backlog waits in PostgreSQL, where it is cheap
//! and ordered, and the queue carries a window the workers can take — a deep
//! queue costs requests and (in stand-ins like moto) time per call.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use futures_util::future::join_all;

use super::engine::EngineContext;
use crate::persistence::outbox::{self, OutboxRow};
use crate::queue::{QueueError, TaskMessage, TaskQueue, TaskRef};

const TICK: Duration = Duration::from_millis(250);
/// While rows wait for room in the queue, how soon the relay looks again: the
/// workers of other processes take messages without telling this one.
const REFILL: Duration = Duration::from_millis(50);
/// SendMessageBatch calls per round, in parallel (each up to ten messages).
const CALLS_PER_ROUND: usize = 5;
/// A leased row comes back to any relay after this long (this one died mid-send).
const LEASE: Duration = Duration::from_secs(30);
/// After a failed send, rows wait this long before the next try.
const RETRY: Duration = Duration::from_secs(1);

/// Rows were just written: send them now rather than on the next tick.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Nudge;

/// Stop relaying (the process is shutting down).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Stop;

pub struct OutboxRelay {
    ctx: Arc<EngineContext>,
    queue: TaskQueue,
    tasks_per_message: usize,
    /// Visible messages the queue may hold before the relay waits.
    window: usize,
    busy: bool,
    again: bool,
    /// A look for room in the queue is scheduled.
    refill_pending: bool,
    /// Messages the queue holds by the last reading plus those sent since (an
    /// over-estimate: workers take messages meanwhile). The queue is asked
    /// again only once this reaches the window, so an idle relay asks nothing.
    queued_estimate: usize,
    stopped: bool,
    last_error: Option<String>,
}

impl OutboxRelay {
    pub fn new(
        ctx: Arc<EngineContext>,
        queue: TaskQueue,
        tasks_per_message: usize,
        window: usize,
    ) -> Self {
        Self {
            ctx,
            queue,
            tasks_per_message: tasks_per_message.clamp(1, TaskMessage::MAX_TASKS),
            window: window.max(1),
            busy: false,
            again: false,
            refill_pending: false,
            queued_estimate: window.max(1),
            stopped: false,
            last_error: None,
        }
    }

    fn flush(&mut self, ctx: &mut Context<Self>) {
        if self.stopped {
            return;
        }
        if self.busy {
            self.again = true;
            return;
        }
        self.busy = true;
        let engine = self.ctx.clone();
        let queue = self.queue.clone();
        let per_message = self.tasks_per_message;
        let window = self.window;
        let mut estimate = self.queued_estimate;
        ctx.spawn(
            async move {
                let result = relay_all(&engine, &queue, per_message, window, &mut estimate).await;
                (result, estimate)
            }
            .into_actor(self)
            .map(|(result, estimate), act, ctx| {
                    act.busy = false;
                    act.queued_estimate = estimate;
                    match result {
                        Ok((sent, waiting)) => {
                            if waiting && !act.refill_pending {
                                act.refill_pending = true;
                                ctx.run_later(REFILL, |act, ctx| {
                                    act.refill_pending = false;
                                    act.flush(ctx);
                                });
                            }
                            if act.last_error.take().is_some() {
                                tracing::info!("SQS is reachable again; relaying the outbox");
                            }
                            act.ctx.metrics.sqs_messages.with_label_values(&["sent"]).inc_by(sent);
                        }
                        Err(error) => {
                            let message = error.to_string();
                            if act.last_error.as_deref() != Some(message.as_str()) {
                                tracing::warn!(error = %message, "relaying the outbox to SQS failed; rows wait in the outbox");
                            }
                            act.ctx.health.error("outbox_relay", "outbox_relay", message.clone());
                            act.last_error = Some(message);
                        }
                    }
                    if std::mem::take(&mut act.again) {
                        act.flush(ctx);
                    }
                }),
        );
    }
}

#[derive(Debug, thiserror::Error)]
enum RelayError {
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("outbox: {0}")]
    Store(#[from] crate::persistence::StoreError),
}

/// Sends rounds until the outbox has nothing due or the queue holds its
/// window; returns how many were sent and whether rows wait for room.
/// `queued` is the relay's estimate of the queue's depth, kept up to date.
async fn relay_all(
    engine: &EngineContext,
    queue: &TaskQueue,
    per_message: usize,
    window: usize,
    queued: &mut usize,
) -> Result<(u64, bool), RelayError> {
    let per_call = per_message * crate::queue::BATCH;
    let mut sent_total = 0;
    loop {
        if *queued >= window {
            *queued = usize::try_from(queue.depth().await?).unwrap_or(0);
            if *queued >= window {
                // The workers have enough waiting; look again shortly.
                return Ok((sent_total, true));
            }
        }
        let room = (window - *queued).min(crate::queue::BATCH * CALLS_PER_ROUND);
        let round = (room * per_message) as i64;
        let rows = outbox::take(&engine.pool, round, LEASE).await?;
        if rows.is_empty() {
            return Ok((sent_total, false));
        }
        let full_round = rows.len() as i64 == round;
        let batches = rows
            .chunks(per_call)
            .map(|chunk| send_batch(queue, chunk, per_message));
        let mut sent = Vec::with_capacity(rows.len());
        let mut unsent = Vec::new();
        let mut failure = None;
        for (ok, failed, error) in join_all(batches).await {
            sent.extend(ok);
            unsent.extend(failed);
            if error.is_some() {
                failure = error;
            }
        }
        *queued += sent.len().div_ceil(per_message);
        outbox::mark_sent(&engine.pool, &sent).await?;
        outbox::retry_later(&engine.pool, &unsent, RETRY).await?;
        sent_total += sent.len() as u64;
        if let Some(error) = failure {
            return Err(error.into());
        }
        if !full_round {
            return Ok((sent_total, false));
        }
    }
}

/// One SendMessageBatch of `per_message` tasks per message: (sent row ids,
/// unsent row ids, the call's error).
async fn send_batch(
    queue: &TaskQueue,
    rows: &[OutboxRow],
    per_message: usize,
) -> (Vec<i64>, Vec<i64>, Option<QueueError>) {
    let groups: Vec<&[OutboxRow]> = rows.chunks(per_message).collect();
    let messages: Vec<TaskMessage> = groups
        .iter()
        .map(|group| {
            TaskMessage::new(
                group
                    .iter()
                    .map(|r| TaskRef {
                        task_id: r.task_id,
                        job_id: r.job_id,
                        connection_id: r.connection_id,
                    })
                    .collect(),
            )
        })
        .collect();
    match queue.send(&messages).await {
        Ok(accepted) => {
            let mut sent = Vec::new();
            let mut unsent = Vec::new();
            for (i, group) in groups.iter().enumerate() {
                let ids = group.iter().map(|r| r.id);
                if accepted.contains(&i) {
                    sent.extend(ids);
                } else {
                    unsent.extend(ids);
                }
            }
            (sent, unsent, None)
        }
        Err(error) => (Vec::new(), rows.iter().map(|r| r.id).collect(), Some(error)),
    }
}

impl Actor for OutboxRelay {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.ctx
            .health
            .beat("outbox_relay", "outbox_relay", "running", 0);
        ctx.run_interval(TICK, |act, ctx| {
            if act.stopped {
                return;
            }
            let state = if act.last_error.is_some() {
                "backing_off"
            } else {
                "running"
            };
            act.ctx
                .health
                .beat("outbox_relay", "outbox_relay", state, 0);
            act.flush(ctx);
        });
    }
}

impl Supervised for OutboxRelay {
    fn restarting(&mut self, _: &mut Self::Context) {
        self.busy = false;
        self.ctx
            .health
            .restarted("outbox_relay", "outbox_relay", None);
    }
}

impl Handler<Nudge> for OutboxRelay {
    type Result = ();

    fn handle(&mut self, _: Nudge, ctx: &mut Self::Context) {
        self.flush(ctx);
    }
}

impl Handler<Stop> for OutboxRelay {
    type Result = ();

    fn handle(&mut self, _: Stop, _: &mut Self::Context) {
        self.stopped = true;
    }
}
