//! Validated values that the rest of the code can trust once constructed.

mod destination;
mod email;
mod ids;
mod media;
mod password;
mod publishing;
mod scope;
mod user;

pub use destination::{Destination, carry_over};
pub use email::{Email, EmailError};
pub use ids::{ConnectionId, DraftId, JobId, MediaId, PostId, TaskId};
pub use media::{
    AltText, AltTextError, MAX_ALT_TEXT_CHARS, MediaKind, SNIFF_LEN, SniffedType, sniff,
};
pub use password::{Password, PasswordError};
pub use publishing::{JobStatus, MAX_POST_CHARS, PostContent, PostContentError, TaskStatus};
pub use scope::{Scope, Scopes};
pub use user::{Role, User, UserId};
