//! Group commit for the engine's hot writes. Workers hand their claims and
//! outcomes to the journal and wait; the journal writes everything that queued
//! up while the previous write ran as one statement, then answers each caller.
//! A caller only moves on once its write is durable, as before, but hundreds of
//! tasks from every worker share one commit.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use crate::domain::{JobId, JobStatus, TaskId};
use crate::persistence::publishing::{self, NewPublish};
use crate::persistence::tasks::{self, Claimed, Settlement};

/// Outcomes written per statement at most.
const MAX_BATCH: usize = 512;

type Reply = oneshot::Sender<Result<bool, String>>;

#[derive(Clone)]
pub struct Journal {
    queue: mpsc::UnboundedSender<(Settlement, Reply)>,
}

impl Journal {
    /// Starts the writer task on the current runtime.
    pub fn start(pool: PgPool, owner: String) -> Self {
        let (queue, mut inbox) = mpsc::unbounded_channel::<(Settlement, Reply)>();
        actix::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while inbox.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let (settlements, replies): (Vec<Settlement>, Vec<Reply>) = batch.drain(..).unzip();
                let result = tasks::settle_many(&pool, &owner, &settlements).await;
                match result {
                    Ok(written) => {
                        let written: HashSet<TaskId> = written.into_iter().collect();
                        for (settlement, reply) in settlements.iter().zip(replies) {
                            let _ = reply.send(Ok(written.contains(&settlement.id)));
                        }
                    }
                    Err(error) => {
                        let message = error.to_string();
                        for reply in replies {
                            let _ = reply.send(Err(message.clone()));
                        }
                    }
                }
            }
        });
        Self { queue }
    }

    /// Writes the outcome; true when this process still held the task.
    pub async fn settle(&self, settlement: Settlement) -> Result<bool, String> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((settlement, reply))
            .map_err(|_| "the journal has stopped".to_owned())?;
        answer
            .await
            .map_err(|_| "the journal has stopped".to_owned())?
    }
}

type ClaimReply = oneshot::Sender<Result<Vec<Claimed>, String>>;

/// Claims of many workers in one statement.
#[derive(Clone)]
pub struct ClaimQueue {
    queue: mpsc::UnboundedSender<(Vec<TaskId>, ClaimReply)>,
}

impl ClaimQueue {
    pub fn start(pool: PgPool, owner: String, lease: Duration) -> Self {
        let (queue, mut inbox) = mpsc::unbounded_channel::<(Vec<TaskId>, ClaimReply)>();
        actix::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while inbox.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let requests: Vec<(Vec<TaskId>, ClaimReply)> = std::mem::take(&mut batch);
                let ids: Vec<TaskId> = requests
                    .iter()
                    .flat_map(|(ids, _)| ids.iter().copied())
                    .collect();
                match tasks::claim(&pool, &ids, &owner, lease).await {
                    Ok(claimed) => {
                        let mut by_id: HashMap<TaskId, Claimed> =
                            claimed.into_iter().map(|c| (c.id, c)).collect();
                        for (ids, reply) in requests {
                            let mine = ids.iter().filter_map(|id| by_id.remove(id)).collect();
                            let _ = reply.send(Ok(mine));
                        }
                    }
                    Err(error) => {
                        let message = error.to_string();
                        for (_, reply) in requests {
                            let _ = reply.send(Err(message.clone()));
                        }
                    }
                }
            }
        });
        Self { queue }
    }

    /// Claims the due, pending ones among `ids` for this process.
    pub async fn claim(&self, ids: Vec<TaskId>) -> Result<Vec<Claimed>, String> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((ids, reply))
            .map_err(|_| "the claim queue has stopped".to_owned())?;
        answer
            .await
            .map_err(|_| "the claim queue has stopped".to_owned())?
    }
}

type StatusReply = oneshot::Sender<Result<(), String>>;

/// Final job statuses of many coordinators in one statement.
#[derive(Clone)]
pub struct JobStatusQueue {
    queue: mpsc::UnboundedSender<((JobId, JobStatus), StatusReply)>,
}

impl JobStatusQueue {
    pub fn start(pool: PgPool) -> Self {
        let (queue, mut inbox) = mpsc::unbounded_channel::<((JobId, JobStatus), StatusReply)>();
        actix::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while inbox.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let (jobs, replies): (Vec<(JobId, JobStatus)>, Vec<StatusReply>) =
                    batch.drain(..).unzip();
                let result = publishing::set_jobs_final(&pool, &jobs)
                    .await
                    .map_err(|e| e.to_string());
                for reply in replies {
                    let _ = reply.send(result.clone());
                }
            }
        });
        Self { queue }
    }

    pub async fn set_final(&self, job: JobId, status: JobStatus) -> Result<(), String> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(((job, status), reply))
            .map_err(|_| "the job status queue has stopped".to_owned())?;
        answer
            .await
            .map_err(|_| "the job status queue has stopped".to_owned())?
    }
}

type AcceptReply = oneshot::Sender<Result<(), String>>;

/// Accepted publishes (without idempotency keys) of many requests in one statement.
#[derive(Clone)]
pub struct AcceptQueue {
    queue: mpsc::UnboundedSender<(NewPublish, AcceptReply)>,
}

impl AcceptQueue {
    pub fn start(pool: PgPool) -> Self {
        let (queue, mut inbox) = mpsc::unbounded_channel::<(NewPublish, AcceptReply)>();
        actix::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while inbox.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let (publishes, replies): (Vec<NewPublish>, Vec<AcceptReply>) =
                    batch.drain(..).unzip();
                let all: Vec<&NewPublish> = publishes.iter().collect();
                if publishing::create_many(&pool, &all).await.is_ok() {
                    for reply in replies {
                        let _ = reply.send(Ok(()));
                    }
                    continue;
                }
                // One bad publish must not fail the others: write them one by one.
                for (publish, reply) in publishes.iter().zip(replies) {
                    let single = publishing::create_many(&pool, &[publish]).await;
                    let _ = reply.send(single.map_err(|e| e.to_string()));
                }
            }
        });
        Self { queue }
    }

    /// Durably writes the publish (post, job, tasks, first events).
    pub async fn accept(&self, publish: NewPublish) -> Result<(), String> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((publish, reply))
            .map_err(|_| "the accept queue has stopped".to_owned())?;
        answer
            .await
            .map_err(|_| "the accept queue has stopped".to_owned())?
    }
}
