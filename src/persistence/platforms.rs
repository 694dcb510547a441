//! The `platforms` table, kept in step with the adapter registry.

use sqlx::PgPool;

use super::StoreError;

/// Inserts or renames each `(id, display_name)`.
pub async fn sync(pool: &PgPool, platforms: &[(&str, &str)]) -> Result<(), StoreError> {
    for (id, name) in platforms {
        sqlx::query(
            "INSERT INTO platforms (id, display_name) VALUES ($1, $2)
             ON CONFLICT (id) DO UPDATE SET display_name = EXCLUDED.display_name",
        )
        .bind(id)
        .bind(name)
        .execute(pool)
        .await?;
    }
    Ok(())
}
