//! The `users` table.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::StoreError;
use super::error::is_unique_violation;
use crate::domain::{Email, Role, User, UserId};

/// A user with the stored hash, for login.
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: UserId,
    email: String,
    role: String,
    created_at: DateTime<Utc>,
    email_verified_at: Option<DateTime<Utc>>,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, Self::Error> {
        let role = Role::from_db(&row.role)
            .ok_or_else(|| StoreError::Corrupt(format!("user {} has role {}", row.id, row.role)))?;
        Ok(User {
            id: row.id,
            email: row.email,
            role,
            created_at: row.created_at,
            email_verified: row.email_verified_at.is_some(),
        })
    }
}

/// Inserts a new user; `Duplicate("email")` when the address (in any case) is taken.
#[tracing::instrument(skip_all, fields(user_id = %id))]
pub async fn insert(
    pool: &PgPool,
    id: UserId,
    email: &Email,
    password_hash: &str,
) -> Result<User, StoreError> {
    let row: Result<UserRow, sqlx::Error> = sqlx::query_as(
        "INSERT INTO users (id, email, password_hash) VALUES ($1, $2, $3)
         RETURNING id, email, role, created_at, email_verified_at",
    )
    .bind(id)
    .bind(email.as_str())
    .bind(password_hash)
    .fetch_one(pool)
    .await;
    match row {
        Ok(row) => row.try_into(),
        Err(error) if is_unique_violation(&error) => Err(StoreError::Duplicate("email")),
        Err(error) => Err(error.into()),
    }
}

#[tracing::instrument(skip_all)]
pub async fn find_credentials(
    pool: &PgPool,
    email: &Email,
) -> Result<Option<Credentials>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        password_hash: String,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, email, role, created_at, email_verified_at, password_hash FROM users WHERE lower(email) = $1",
    )
    .bind(email.as_str())
    .fetch_optional(pool)
    .await?;
    row.map(|row| {
        Ok(Credentials {
            user: row.user.try_into()?,
            password_hash: row.password_hash,
        })
    })
    .transpose()
}

#[tracing::instrument(skip_all, fields(user_id = %id))]
pub async fn find(pool: &PgPool, id: UserId) -> Result<Option<User>, StoreError> {
    let row: Option<UserRow> = sqlx::query_as(
        "SELECT id, email, role, created_at, email_verified_at FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(User::try_from).transpose()
}

/// The stored PHC string (tests assert its parameters; nothing else reads it).
pub async fn password_hash(pool: &PgPool, email: &Email) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT password_hash FROM users WHERE lower(email) = $1")
            .bind(email.as_str())
            .fetch_optional(pool)
            .await?,
    )
}

/// Replaces the stored PHC string of `user`.
#[tracing::instrument(skip_all, fields(user_id = %user))]
pub async fn set_password_hash(pool: &PgPool, user: UserId, hash: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
        .bind(user)
        .bind(hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// The stored PHC string of `user`, to check a password before a change.
pub async fn password_hash_of(pool: &PgPool, user: UserId) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(user)
            .fetch_optional(pool)
            .await?,
    )
}
