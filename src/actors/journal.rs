//! Group commit for task outcomes. Attempts hand their settlement to the
//! journal and wait; the journal writes everything that queued up while the
//! previous write ran as one statement, then answers each attempt. An attempt
//! only moves on once its outcome is durable, as before, but hundreds of
//! outcomes share one commit.

use std::collections::HashSet;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use crate::domain::TaskId;
use crate::persistence::tasks::{self, Settlement};

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
