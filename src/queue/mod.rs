//! The task queue between processes (`queue.kind = "sqs"`): what a message
//! says and the SQS client that carries it. Messages hold ids only; Postgres
//! holds the truth, so a duplicate or stale message is harmless.

mod sqs;

use serde::{Deserialize, Serialize};

use crate::domain::{JobId, TaskId};
use crate::persistence::connections::ConnectionId;

pub use sqs::{BATCH, Received, TaskQueue};

/// "Task `task_id` of job `job_id` is runnable on connection `connection_id`."
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskMessage {
    /// Format version, for rolling upgrades.
    pub v: u8,
    pub task_id: TaskId,
    pub job_id: JobId,
    pub connection_id: ConnectionId,
}

impl TaskMessage {
    pub const VERSION: u8 = 1;

    pub fn new(task_id: TaskId, job_id: JobId, connection_id: ConnectionId) -> Self {
        Self {
            v: Self::VERSION,
            task_id,
            job_id,
            connection_id,
        }
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Why a body is not a task message, in words for the log.
    pub fn decode(body: &str) -> Result<Self, String> {
        let message: Self =
            serde_json::from_str(body).map_err(|e| format!("not a task message: {e}"))?;
        if message.v != Self::VERSION {
            return Err(format!("unknown task message version {}", message.v));
        }
        Ok(message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("SQS call failed: {0}")]
    Sqs(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_round_trips_and_garbage_is_refused() {
        let message = TaskMessage::new(
            TaskId(uuid::Uuid::new_v4()),
            JobId(uuid::Uuid::new_v4()),
            ConnectionId(uuid::Uuid::new_v4()),
        );
        assert_eq!(TaskMessage::decode(&message.encode()), Ok(message));
        assert!(TaskMessage::decode("{\"v\":1}").is_err());
        assert!(TaskMessage::decode("hello").is_err());
        let future = message.encode().replace("\"v\":1", "\"v\":9");
        assert!(
            TaskMessage::decode(&future)
                .unwrap_err()
                .contains("version 9")
        );
    }
}
