//! Posts, jobs and tasks: their ids, the states a task moves through, and
//! how a job's status follows from its tasks' (DESIGN §3).

use serde::{Deserialize, Serialize};

/// Where one task stands. `Succeeded`, `Failed`, `Cancelled` and `Missed` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Queued,
    Running,
    RetryScheduled,
    /// The last call may have reached the platform; ask before trying again.
    Unconfirmed,
    Succeeded,
    Failed,
    Cancelled,
    /// A scheduled post whose time passed beyond the grace period while no engine ran.
    Missed,
}

impl TaskStatus {
    pub const PENDING: [TaskStatus; 3] = [
        TaskStatus::Queued,
        TaskStatus::RetryScheduled,
        TaskStatus::Unconfirmed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Queued => "queued",
            TaskStatus::Running => "running",
            TaskStatus::RetryScheduled => "retry_scheduled",
            TaskStatus::Unconfirmed => "unconfirmed",
            TaskStatus::Succeeded => "succeeded",
            TaskStatus::Failed => "failed",
            TaskStatus::Cancelled => "cancelled",
            TaskStatus::Missed => "missed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "queued" => TaskStatus::Queued,
            "running" => TaskStatus::Running,
            "retry_scheduled" => TaskStatus::RetryScheduled,
            "unconfirmed" => TaskStatus::Unconfirmed,
            "succeeded" => TaskStatus::Succeeded,
            "failed" => TaskStatus::Failed,
            "cancelled" => TaskStatus::Cancelled,
            "missed" => TaskStatus::Missed,
            _ => return None,
        })
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskStatus::Succeeded | TaskStatus::Failed | TaskStatus::Cancelled | TaskStatus::Missed
        )
    }

    /// Nothing was ever sent for a task in this state after `attempts`
    /// attempts: its post may still be edited.
    pub fn not_started(self, attempts: i32) -> bool {
        self == TaskStatus::Queued && attempts == 0
    }
}

/// A job's status, derived from its tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Pending,
    Running,
    Succeeded,
    PartiallyFailed,
    Failed,
    Cancelled,
    Missed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::PartiallyFailed => "partially_failed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
            JobStatus::Missed => "missed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "pending" => JobStatus::Pending,
            "running" => JobStatus::Running,
            "succeeded" => JobStatus::Succeeded,
            "partially_failed" => JobStatus::PartiallyFailed,
            "failed" => JobStatus::Failed,
            "cancelled" => JobStatus::Cancelled,
            "missed" => JobStatus::Missed,
            _ => return None,
        })
    }

    pub fn is_terminal(self) -> bool {
        !matches!(self, JobStatus::Pending | JobStatus::Running)
    }

    /// The job status its tasks imply.
    pub fn derive(tasks: impl IntoIterator<Item = TaskStatus>) -> Self {
        let (mut total, mut succeeded, mut failed, mut cancelled, mut missed, mut queued) =
            (0, 0, 0, 0, 0, 0);
        for status in tasks {
            total += 1;
            match status {
                TaskStatus::Succeeded => succeeded += 1,
                TaskStatus::Failed => failed += 1,
                TaskStatus::Cancelled => cancelled += 1,
                TaskStatus::Missed => missed += 1,
                TaskStatus::Queued => queued += 1,
                _ => {}
            }
        }
        let finished = succeeded + failed + cancelled + missed;
        if total == 0 {
            JobStatus::Pending
        } else if finished < total {
            if queued + finished == total && finished == 0 {
                JobStatus::Pending
            } else {
                JobStatus::Running
            }
        } else if succeeded == total {
            JobStatus::Succeeded
        } else if succeeded > 0 {
            JobStatus::PartiallyFailed
        } else if failed > 0 {
            JobStatus::Failed
        } else if missed > 0 {
            JobStatus::Missed
        } else {
            JobStatus::Cancelled
        }
    }
}

/// Post text as the user wrote it: not blank, at most 10,000 characters
/// (each platform's own, smaller limit is checked by its adapter), and no
/// NUL character (PostgreSQL text cannot hold one, nor can any platform).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostContent(String);

pub const MAX_POST_CHARS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostContentError {
    #[error("content must not be empty")]
    Empty,
    #[error("content must be at most 10000 characters")]
    TooLong,
    #[error("content must not contain the NUL character (U+0000)")]
    Nul,
}

impl PostContent {
    pub fn parse(raw: String) -> Result<Self, PostContentError> {
        if raw.trim().is_empty() {
            return Err(PostContentError::Empty);
        }
        if raw.chars().count() > MAX_POST_CHARS {
            return Err(PostContentError::TooLong);
        }
        if raw.contains('\0') {
            return Err(PostContentError::Nul);
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::TaskStatus::*;
    use super::*;

    #[test]
    fn content_with_a_nul_is_refused() {
        assert_eq!(
            PostContent::parse("a\0b".into()),
            Err(PostContentError::Nul)
        );
        assert!(PostContent::parse("a\tb\n".into()).is_ok());
    }

    #[test]
    fn job_status_follows_its_tasks() {
        assert_eq!(JobStatus::derive([Queued, Queued]), JobStatus::Pending);
        assert_eq!(JobStatus::derive([Running, Queued]), JobStatus::Running);
        assert_eq!(JobStatus::derive([Succeeded, Queued]), JobStatus::Running);
        assert_eq!(
            JobStatus::derive([Succeeded, Succeeded]),
            JobStatus::Succeeded
        );
        assert_eq!(
            JobStatus::derive([Succeeded, Failed]),
            JobStatus::PartiallyFailed
        );
        assert_eq!(JobStatus::derive([Failed, Cancelled]), JobStatus::Failed);
        assert_eq!(
            JobStatus::derive([Cancelled, Cancelled]),
            JobStatus::Cancelled
        );
        assert_eq!(JobStatus::derive([Missed]), JobStatus::Missed);
        for status in [Succeeded, Failed, Cancelled, Missed] {
            assert!(status.is_terminal());
            assert_eq!(TaskStatus::parse(status.as_str()), Some(status));
        }
    }

    #[test]
    fn content_rules() {
        assert_eq!(
            PostContent::parse("  ".into()),
            Err(PostContentError::Empty)
        );
        assert!(PostContent::parse("hi".into()).is_ok());
        assert_eq!(
            PostContent::parse("x".repeat(10_001)),
            Err(PostContentError::TooLong)
        );
    }
}
