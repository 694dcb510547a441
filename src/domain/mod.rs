//! Validated values that the rest of the code can trust once constructed.

mod email;
mod password;
mod publishing;
mod user;

pub use email::{Email, EmailError};
pub use password::{Password, PasswordError};
pub use publishing::{
    JobId, JobStatus, MAX_POST_CHARS, PostContent, PostContentError, PostId, TaskId, TaskStatus,
};
pub use user::{Role, User, UserId};
