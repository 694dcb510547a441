//! Group commit for the engine's hot writes. Callers hand their write to a
//! queue and wait; the queue's writer puts everything that queued up while its
//! previous write ran into one statement, then answers each caller. A caller
//! only moves on once its write is durable, as before, but hundreds of
//! requests and tasks share one commit.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use crate::domain::{ConnectionId, JobId, JobStatus, TaskId};
use crate::persistence::outbox::Handoff;
use crate::persistence::publishing::{self, CreateOutcome, NewPublish};
use crate::persistence::tasks::{self, Claimed, Settlement};

/// Requests written per statement at most.
const MAX_BATCH: usize = 512;

/// A queue whose writer turns a batch of requests into one answer per request,
/// in order.
pub struct GroupCommit<Req, Resp> {
    queue: mpsc::UnboundedSender<(Req, oneshot::Sender<Resp>)>,
}

impl<Req, Resp> Clone for GroupCommit<Req, Resp> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
        }
    }
}

impl<Req: 'static, Resp: 'static> GroupCommit<Req, Resp> {
    /// Starts the writer on the current actix runtime.
    fn start<F, Fut>(write: F) -> Self
    where
        F: Fn(Vec<Req>) -> Fut + 'static,
        Fut: Future<Output = Vec<Resp>>,
    {
        let (queue, mut inbox) = mpsc::unbounded_channel::<(Req, oneshot::Sender<Resp>)>();
        actix::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while inbox.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let (requests, replies): (Vec<Req>, Vec<oneshot::Sender<Resp>>) =
                    batch.drain(..).unzip();
                for (answer, reply) in write(requests).await.into_iter().zip(replies) {
                    let _ = reply.send(answer);
                }
            }
        });
        Self { queue }
    }

    async fn call(&self, request: Req) -> Result<Resp, String> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((request, reply))
            .map_err(|_| "the engine's writer has stopped".to_owned())?;
        answer
            .await
            .map_err(|_| "the engine's writer has stopped".to_owned())
    }
}

/// The same error for every request of a failed batch.
fn all_failed<T>(n: usize, error: impl std::fmt::Display) -> Vec<Result<T, String>> {
    let message = error.to_string();
    (0..n).map(|_| Err(message.clone())).collect()
}

/// Task outcomes of every worker.
#[derive(Clone)]
pub struct Journal(GroupCommit<Settlement, Result<bool, String>>);

impl Journal {
    pub fn start(pool: PgPool, owner: String) -> Self {
        Self(GroupCommit::start(move |batch: Vec<Settlement>| {
            let (pool, owner) = (pool.clone(), owner.clone());
            async move {
                match tasks::settle_many(&pool, &owner, &batch).await {
                    Ok(written) => {
                        let written: HashSet<TaskId> = written.into_iter().collect();
                        batch.iter().map(|s| Ok(written.contains(&s.id))).collect()
                    }
                    Err(error) => all_failed(batch.len(), error),
                }
            }
        }))
    }

    /// Writes the outcome; true when this process still held the task.
    pub async fn settle(&self, settlement: Settlement) -> Result<bool, String> {
        self.0.call(settlement).await?
    }
}

/// Task claims of every worker. Closed when the process stops, so nothing is
/// claimed after its running tasks were released for others.
#[derive(Clone)]
pub struct ClaimQueue {
    writer: GroupCommit<(ConnectionId, Vec<TaskId>), Result<Vec<Claimed>, String>>,
    closed: Arc<AtomicBool>,
}

impl ClaimQueue {
    pub fn start(pool: PgPool, owner: String, lease: Duration) -> Self {
        let closed = Arc::new(AtomicBool::new(false));
        let refuse = closed.clone();
        let writer = GroupCommit::start(move |batch: Vec<(ConnectionId, Vec<TaskId>)>| {
            let (pool, owner) = (pool.clone(), owner.clone());
            let refused = refuse.load(Ordering::SeqCst);
            async move {
                if refused {
                    return batch.iter().map(|_| Ok(Vec::new())).collect();
                }
                let wanted: Vec<(ConnectionId, TaskId)> = batch
                    .iter()
                    .flat_map(|(c, ids)| ids.iter().map(move |id| (*c, *id)))
                    .collect();
                match tasks::claim(&pool, &wanted, &owner, lease).await {
                    Ok(claimed) => {
                        let mut by_id: HashMap<TaskId, Claimed> =
                            claimed.into_iter().map(|c| (c.id, c)).collect();
                        batch
                            .iter()
                            .map(|(_, ids)| {
                                Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
                            })
                            .collect()
                    }
                    Err(error) => all_failed(batch.len(), error),
                }
            }
        });
        Self { writer, closed }
    }

    /// Claims the due, pending ones among `ids` that belong to `connection`, for
    /// this process; none once the queue is closed.
    pub async fn claim(
        &self,
        connection: ConnectionId,
        ids: Vec<TaskId>,
    ) -> Result<Vec<Claimed>, String> {
        self.writer.call((connection, ids)).await?
    }

    /// Claims nothing from now on. Returns once a batch already being written
    /// has committed: the writer takes batches in order, so when an empty one
    /// sent after closing is answered, every earlier claim is in the database.
    pub async fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let _ = self
            .writer
            .call((ConnectionId(uuid::Uuid::nil()), Vec::new()))
            .await;
    }

    /// Whether the process is stopping: a claim answered now starts no call.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }
}

/// Final job statuses of every coordinator.
#[derive(Clone)]
pub struct JobStatusQueue(GroupCommit<(JobId, JobStatus), Result<(), String>>);

impl JobStatusQueue {
    pub fn start(pool: PgPool) -> Self {
        Self(GroupCommit::start(move |batch: Vec<(JobId, JobStatus)>| {
            let pool = pool.clone();
            async move {
                match publishing::set_jobs_final(&pool, &batch).await {
                    Ok(()) => batch.iter().map(|_| Ok(())).collect(),
                    Err(error) => all_failed(batch.len(), error),
                }
            }
        }))
    }

    pub async fn set_final(&self, job: JobId, status: JobStatus) -> Result<(), String> {
        self.0.call((job, status)).await?
    }
}

/// Accepted publishes of every request.
#[derive(Clone)]
pub struct AcceptQueue(GroupCommit<NewPublish, Result<CreateOutcome, String>>);

impl AcceptQueue {
    pub fn start(pool: PgPool, handoff: Handoff, holder: Option<String>) -> Self {
        Self(GroupCommit::start(move |batch: Vec<NewPublish>| {
            let (pool, holder) = (pool.clone(), holder.clone());
            async move {
                let all: Vec<&NewPublish> = batch.iter().collect();
                if let Ok(outcomes) =
                    publishing::create(&pool, &all, handoff, holder.as_deref()).await
                {
                    return outcomes.into_iter().map(Ok).collect();
                }
                // One bad publish must not fail the others: write them one by one.
                let mut answers = Vec::with_capacity(batch.len());
                for publish in &batch {
                    answers.push(
                        publishing::create(&pool, &[publish], handoff, holder.as_deref())
                            .await
                            .map_err(|e| e.to_string())
                            .and_then(|mut o| {
                                o.pop()
                                    .ok_or_else(|| "the publish was not written".to_owned())
                            }),
                    );
                }
                answers
            }
        }))
    }

    /// Durably writes the publish (post, job, tasks, first events), or finds
    /// the publish its idempotency key already belongs to.
    pub async fn accept(&self, publish: NewPublish) -> Result<CreateOutcome, String> {
        self.0.call(publish).await?
    }
}
