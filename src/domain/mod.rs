//! Validated values that the rest of the code can trust once constructed.

mod email;
mod password;
mod user;

pub use email::{Email, EmailError};
pub use password::{Password, PasswordError};
pub use user::{Role, User, UserId};
