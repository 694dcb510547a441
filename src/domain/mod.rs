//! Validated values that the rest of the code can trust once constructed.

mod email;
mod ids;
mod password;
mod publishing;
mod user;

pub use email::{Email, EmailError};
pub use ids::{ConnectionId, JobId, PostId, TaskId};
pub use password::{Password, PasswordError};
pub use publishing::{JobStatus, MAX_POST_CHARS, PostContent, PostContentError, TaskStatus};
pub use user::{Role, User, UserId};
