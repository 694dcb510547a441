//! The OutboxRelay sends outbox rows to SQS in batches of ten and marks them
//! sent only after SQS accepted them: at least once, never inside the
//! transaction that wrote them. It runs on a short tick and when nudged (a
//! publish was just accepted); several processes may relay at once, each
//! leasing its own rows. While SQS is unreachable rows wait in the outbox and
//! the relay reports the error on `/health/actors`.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use futures_util::future::join_all;

use super::engine::EngineContext;
use crate::persistence::outbox::{self, OutboxRow};
use crate::queue::{QueueError, TaskMessage, TaskQueue};

const TICK: Duration = Duration::from_millis(250);
/// Rows leased per round; sent as ten batches of ten in parallel.
const ROUND: i64 = 100;
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
    busy: bool,
    again: bool,
    stopped: bool,
    last_error: Option<String>,
}

impl OutboxRelay {
    pub fn new(ctx: Arc<EngineContext>, queue: TaskQueue) -> Self {
        Self {
            ctx,
            queue,
            busy: false,
            again: false,
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
        ctx.spawn(
            async move { relay_all(&engine, &queue).await }
                .into_actor(self)
                .map(|result, act, ctx| {
                    act.busy = false;
                    match result {
                        Ok(sent) => {
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

/// Sends rounds until the outbox has nothing due; returns how many were sent.
async fn relay_all(engine: &EngineContext, queue: &TaskQueue) -> Result<u64, RelayError> {
    let mut sent_total = 0;
    loop {
        let rows = outbox::take(&engine.pool, ROUND, LEASE).await?;
        if rows.is_empty() {
            return Ok(sent_total);
        }
        let full_round = rows.len() as i64 == ROUND;
        let batches = rows
            .chunks(crate::queue::BATCH)
            .map(|chunk| send_batch(queue, chunk));
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
        outbox::mark_sent(&engine.pool, &sent).await?;
        outbox::retry_later(&engine.pool, &unsent, RETRY).await?;
        sent_total += sent.len() as u64;
        if let Some(error) = failure {
            return Err(error.into());
        }
        if !full_round {
            return Ok(sent_total);
        }
    }
}

/// One SendMessageBatch: (sent row ids, unsent row ids, the call's error).
async fn send_batch(
    queue: &TaskQueue,
    rows: &[OutboxRow],
) -> (Vec<i64>, Vec<i64>, Option<QueueError>) {
    let messages: Vec<TaskMessage> = rows
        .iter()
        .map(|r| TaskMessage::new(r.task_id, r.job_id, r.connection_id))
        .collect();
    match queue.send(&messages).await {
        Ok(accepted) => {
            let (sent, unsent): (Vec<_>, Vec<_>) = rows
                .iter()
                .enumerate()
                .partition(|(i, _)| accepted.contains(i));
            (
                sent.into_iter().map(|(_, r)| r.id).collect(),
                unsent.into_iter().map(|(_, r)| r.id).collect(),
                None,
            )
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
