//! The task queue between processes (`queue.kind = "sqs"`): what a message
//! says and the SQS client that carries it. Messages hold ids only; Postgres
//! holds the truth, so a duplicate or stale message is harmless.

mod sqs;

use serde::{Deserialize, Serialize};

use crate::domain::ConnectionId;
use crate::domain::{JobId, TaskId};

pub use sqs::{BATCH, Received, TaskQueue};

/// "Task `task_id` of job `job_id` is runnable on connection `connection_id`."
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskRef {
    pub task_id: TaskId,
    pub job_id: JobId,
    pub connection_id: ConnectionId,
}

/// One queue message: one or more runnable tasks. Several tasks share a
/// message because a queue is paid (and, in stand-ins, slowed) per message;
/// the message is deleted once every one of its tasks is settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskMessage {
    /// Format version, for rolling upgrades.
    pub v: u8,
    pub tasks: Vec<TaskRef>,
}

impl TaskMessage {
    pub const VERSION: u8 = 1;
    /// Tasks per message at most (a message stays far below SQS's 256 KiB).
    pub const MAX_TASKS: usize = 100;

    pub fn new(tasks: Vec<TaskRef>) -> Self {
        Self {
            v: Self::VERSION,
            tasks,
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
        if message.tasks.is_empty() || message.tasks.len() > Self::MAX_TASKS {
            return Err(format!(
                "a task message holds 1 to {} tasks, not {}",
                Self::MAX_TASKS,
                message.tasks.len()
            ));
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
        let task = TaskRef {
            task_id: TaskId(uuid::Uuid::new_v4()),
            job_id: JobId(uuid::Uuid::new_v4()),
            connection_id: ConnectionId(uuid::Uuid::new_v4()),
        };
        let message = TaskMessage::new(vec![task, task]);
        assert_eq!(TaskMessage::decode(&message.encode()), Ok(message.clone()));
        assert!(TaskMessage::decode("{\"v\":1}").is_err());
        assert!(TaskMessage::decode("{\"v\":1,\"tasks\":[]}").is_err());
        let too_many = TaskMessage::new(vec![task; TaskMessage::MAX_TASKS + 1]);
        assert!(TaskMessage::decode(&too_many.encode()).is_err());
        assert!(TaskMessage::decode("hello").is_err());
        let future = message.encode().replace("\"v\":1", "\"v\":9");
        assert!(
            TaskMessage::decode(&future)
                .unwrap_err()
                .contains("version 9")
        );
    }
}
