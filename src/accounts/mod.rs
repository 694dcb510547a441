//! Signing up and logging in: the rules around accounts, between the HTTP
//! handlers and the `users` table.

mod hashing;
mod strength;

use std::sync::Arc;

use sqlx::PgPool;

use crate::domain::{Email, Password, User, UserId};
use crate::persistence::{StoreError, sessions, users};

pub use hashing::{HashingError, hash_password, verify_password};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Deliberately vague: unknown email and wrong password look the same.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// A new password that is too easy to guess, and why.
    #[error("{0}")]
    WeakPassword(String),
    /// A change that needs the current password got a wrong one.
    #[error("the current password is not right")]
    WrongPassword,
    #[error(transparent)]
    Hashing(#[from] HashingError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct Accounts {
    pool: PgPool,
    /// Verified against when the email is unknown, so a miss costs as much as a hit.
    dummy_hash: Arc<str>,
}

impl Accounts {
    /// Hashes a random password once for the timing-equalising dummy.
    pub async fn new(pool: PgPool) -> Result<Self, HashingError> {
        let random = Password::unchecked(uuid::Uuid::new_v4().to_string());
        let dummy_hash = hash_password(random).await?;
        Ok(Self {
            pool,
            dummy_hash: dummy_hash.into(),
        })
    }

    pub async fn signup(&self, email: Email, password: Password) -> Result<User, AccountError> {
        let password = strength::check(password, vec![email.as_str().to_owned()])
            .await
            .map_err(AccountError::WeakPassword)?;
        let hash = hash_password(password).await?;
        users::insert(&self.pool, UserId::new(), &email, &hash)
            .await
            .map_err(|error| match error {
                StoreError::Duplicate(_) => AccountError::EmailTaken,
                other => other.into(),
            })
    }

    pub async fn login(&self, email: &Email, password: Password) -> Result<User, AccountError> {
        let credentials = users::find_credentials(&self.pool, email).await?;
        let (hash, user) = match credentials {
            Some(found) => (Arc::from(found.password_hash), Some(found.user)),
            None => (self.dummy_hash.clone(), None),
        };
        let verified = verify_password(password, hash).await?;
        match (verified, user) {
            (true, Some(user)) => Ok(user),
            _ => Err(AccountError::InvalidCredentials),
        }
    }

    pub async fn find(&self, id: UserId) -> Result<Option<User>, AccountError> {
        Ok(users::find(&self.pool, id).await?)
    }

    /// Replaces the password after checking the current one, and ends every
    /// other session of the user (`keep_csrf` names the one asking; `None`:
    /// all of them). Returns how many sessions ended.
    pub async fn change_password(
        &self,
        user: &User,
        current: Password,
        new: Password,
        keep_csrf: Option<&str>,
    ) -> Result<u64, AccountError> {
        let hash = users::password_hash_of(&self.pool, user.id)
            .await?
            .ok_or(AccountError::InvalidCredentials)?;
        if !verify_password(current, Arc::from(hash)).await? {
            return Err(AccountError::WrongPassword);
        }
        let new = strength::check(new, vec![user.email.clone()])
            .await
            .map_err(AccountError::WeakPassword)?;
        let hash = hash_password(new).await?;
        users::set_password_hash(&self.pool, user.id, &hash).await?;
        Ok(sessions::delete_others(&self.pool, user.id, keep_csrf).await?)
    }
}
