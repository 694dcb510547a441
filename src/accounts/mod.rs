//! Signing up and logging in: the rules around accounts, between the HTTP
//! handlers and the `users` table.

mod hashing;
mod links;
mod mails;
mod strength;

use std::sync::Arc;

use chrono::Utc;
use sqlx::PgPool;

use crate::domain::{Email, Password, User, UserId};
use crate::mail::{Mail, Mailer};
use crate::persistence::account_links::{self, Purpose};
use crate::persistence::{StoreError, sessions, users};

pub use hashing::{HashingError, hash_password, verify_password};
pub use links::LinkSettings;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Deliberately vague: unknown email and wrong password look the same.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// A new password that is too easy to guess, and why.
    #[error("{0}")]
    WeakPassword(String),
    /// A change that needs the current password got a wrong one.
    #[error("the current password is not right")]
    WrongPassword,
    /// A mailed link that is unknown, used or expired.
    #[error("this link is not valid")]
    InvalidLink,
    #[error("the email address is already verified")]
    AlreadyVerified,
    /// Connecting platforms waits for a verified address.
    #[error("the email address is not verified yet")]
    EmailUnverified,
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
    mailer: Arc<dyn Mailer>,
    links: LinkSettings,
    verified_email_to_connect: bool,
}

/// Rules set by configuration.
#[derive(Debug, Clone)]
pub struct AccountRules {
    pub links: LinkSettings,
    /// Unverified accounts may not connect platforms.
    pub verified_email_to_connect: bool,
}

impl Accounts {
    /// Hashes a random password once for the timing-equalising dummy.
    pub async fn new(
        pool: PgPool,
        mailer: Arc<dyn Mailer>,
        rules: AccountRules,
    ) -> Result<Self, HashingError> {
        let random = Password::unchecked(uuid::Uuid::new_v4().to_string());
        let dummy_hash = hash_password(random).await?;
        Ok(Self {
            pool,
            dummy_hash: dummy_hash.into(),
            mailer,
            links: rules.links,
            verified_email_to_connect: rules.verified_email_to_connect,
        })
    }

    /// Creates the account and mails a verification link; for an address
    /// that already has an account, mails its owner instead. Both answer the
    /// same and cost the same (a hash and an insert), so signup does not tell
    /// a stranger which addresses have accounts.
    pub async fn signup(&self, email: Email, password: Password) -> Result<(), AccountError> {
        let password = strength::check(password, vec![email.as_str().to_owned()])
            .await
            .map_err(AccountError::WeakPassword)?;
        let hash = hash_password(password).await?;
        match users::insert(&self.pool, UserId::new(), &email, &hash).await {
            Ok(user) => {
                tracing::info!(user_id = %user.id, "account created");
                self.send_link(user.id, user.email, Purpose::VerifyEmail);
                Ok(())
            }
            Err(StoreError::Duplicate(_)) => {
                tracing::info!("signup for an address that has an account");
                self.send(mails::signup_attempt(email.as_str(), &self.links.base));
                Ok(())
            }
            Err(other) => Err(other.into()),
        }
    }

    /// `EmailUnverified` when the rules ask for a verified address before
    /// connecting platforms and this user has none.
    pub async fn may_connect(&self, user: UserId) -> Result<(), AccountError> {
        if !self.verified_email_to_connect {
            return Ok(());
        }
        match users::find(&self.pool, user).await? {
            Some(found) if found.email_verified => Ok(()),
            _ => Err(AccountError::EmailUnverified),
        }
    }

    /// Mails a new verification link (earlier ones stop working).
    pub async fn resend_verification(&self, user: &User) -> Result<(), AccountError> {
        if user.email_verified {
            return Err(AccountError::AlreadyVerified);
        }
        self.send_link(user.id, user.email.clone(), Purpose::VerifyEmail);
        Ok(())
    }

    /// Uses a verification link.
    pub async fn verify_email(&self, token: &str) -> Result<UserId, AccountError> {
        let hash = links::token_hash(token).ok_or(AccountError::InvalidLink)?;
        account_links::verify_email(&self.pool, &hash)
            .await?
            .ok_or(AccountError::InvalidLink)
    }

    /// Mails a reset link when the address has an account; says nothing
    /// either way (the caller answers the same).
    pub async fn forgot_password(&self, email: &Email) -> Result<(), AccountError> {
        if let Some(found) = users::find_credentials(&self.pool, email).await? {
            self.send_link(found.user.id, found.user.email, Purpose::ResetPassword);
        }
        Ok(())
    }

    /// Uses a reset link: the new password replaces the old one and every
    /// session and API token of the user ends.
    pub async fn reset_password(&self, token: &str, new: Password) -> Result<UserId, AccountError> {
        let hash = links::token_hash(token).ok_or(AccountError::InvalidLink)?;
        let user = match account_links::peek(&self.pool, Purpose::ResetPassword, &hash).await? {
            Some(id) => users::find(&self.pool, id).await?,
            None => None,
        }
        .ok_or(AccountError::InvalidLink)?;
        let new = strength::check(new, vec![user.email.clone()])
            .await
            .map_err(AccountError::WeakPassword)?;
        let phc = hash_password(new).await?;
        if account_links::reset_password(&self.pool, user.id, &hash, &phc).await? {
            tracing::info!(user_id = %user.id, "password reset; every session and token ended");
            Ok(user.id)
        } else {
            Err(AccountError::InvalidLink)
        }
    }

    /// Stores a new link and mails it, after the request has been answered:
    /// the answer must not wait on (or reveal) the mail relay.
    fn send_link(&self, user: UserId, to: String, purpose: Purpose) {
        let pool = self.pool.clone();
        let mailer = self.mailer.clone();
        let links = self.links.clone();
        tokio::spawn(async move {
            let token = links::new_token();
            let (ttl, mail) = match purpose {
                Purpose::VerifyEmail => {
                    let link = links::link(&links.base, "verify-email", &token);
                    let hours = (links.verification_ttl.as_secs() / 3600) as u32;
                    (
                        links.verification_ttl,
                        mails::verify_email(&to, &link, hours),
                    )
                }
                Purpose::ResetPassword => {
                    let link = links::link(&links.base, "reset-password", &token);
                    let minutes = (links.reset_ttl.as_secs() / 60) as u32;
                    (links.reset_ttl, mails::reset_password(&to, &link, minutes))
                }
            };
            let expires_at =
                Utc::now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(24));
            let Some(hash) = links::token_hash(&token) else {
                return;
            };
            if let Err(error) = account_links::insert(&pool, user, purpose, &hash, expires_at).await
            {
                tracing::warn!(user_id = %user, %error, "a mailed link could not be stored; no mail sent");
                return;
            }
            deliver(mailer.as_ref(), mail).await;
        });
    }

    fn send(&self, mail: Mail) {
        let mailer = self.mailer.clone();
        tokio::spawn(async move { deliver(mailer.as_ref(), mail).await });
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

    /// Where mail goes (its `outbox()` is there when mail is kept for
    /// development rather than sent).
    pub fn mailer(&self) -> &dyn Mailer {
        self.mailer.as_ref()
    }

    pub async fn find(&self, id: UserId) -> Result<Option<User>, AccountError> {
        Ok(users::find(&self.pool, id).await?)
    }

    /// `WrongPassword` unless `password` is the user's.
    pub async fn check_password(
        &self,
        user: UserId,
        password: Password,
    ) -> Result<(), AccountError> {
        let hash = users::password_hash_of(&self.pool, user)
            .await?
            .ok_or(AccountError::InvalidCredentials)?;
        if verify_password(password, Arc::from(hash)).await? {
            Ok(())
        } else {
            Err(AccountError::WrongPassword)
        }
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
        self.check_password(user.id, current).await?;
        let new = strength::check(new, vec![user.email.clone()])
            .await
            .map_err(AccountError::WeakPassword)?;
        let hash = hash_password(new).await?;
        users::set_password_hash(&self.pool, user.id, &hash).await?;
        Ok(sessions::delete_others(&self.pool, user.id, keep_csrf).await?)
    }
}

async fn deliver(mailer: &dyn Mailer, mail: Mail) {
    let subject = mail.subject.clone();
    match mailer.send(mail).await {
        Ok(()) => tracing::info!(%subject, "mail sent"),
        Err(error) => tracing::warn!(%subject, %error, "mail not sent"),
    }
}
