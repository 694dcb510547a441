//! `/health/*`: whether this process is up and whether it can do its work.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody, ErrorCode};
use crate::persistence::{MigrationState, migration_state};

/// A readiness probe must answer quickly even when the database hangs.
const READY_TIMEOUT: Duration = Duration::from_secs(3);
/// The engine's core actors beat every second.
const HEARTBEAT_LIMIT: Duration = Duration::from_secs(5);

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthView {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is up and serving HTTP.
#[utoipa::path(get, path = "/health/live", tag = "health",
    responses((status = 200, description = "Alive", body = HealthView)))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(HealthView { status: "ok" })
}

/// The database answers, has every migration this binary expects, the
/// engine's essential actors of this role are heart-beating, and in sqs mode
/// the task queue answers.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses(
        (status = 200, description = "Ready to serve", body = HealthView),
        (status = 503, description = "Not ready (`not_ready`), with the reason", body = ErrorBody),
    ))]
pub async fn ready(
    pool: web::Data<PgPool>,
    engine: web::Data<crate::actors::engine::Engine>,
) -> Result<HttpResponse, ApiError> {
    let not_ready = |reason: String| ApiError {
        retry_after: Some(5),
        ..ApiError::new(ErrorCode::NotReady, reason)
    };
    match tokio::time::timeout(READY_TIMEOUT, migration_state(&pool)).await {
        Err(_) => Err(not_ready("the database did not answer within 3 s".into())),
        Ok(Err(error)) => {
            tracing::warn!(error = %error, "readiness check failed");
            Err(not_ready("the database is unreachable".into()))
        }
        Ok(Ok(MigrationState::Behind { applied, expected })) => Err(not_ready(format!(
            "database migrations are behind (applied {applied}, expected {expected}); run `prasaran migrate`"
        ))),
        Ok(Ok(MigrationState::Current)) => {
            if let Some(kind) = engine.silent_actor(HEARTBEAT_LIMIT) {
                return Err(not_ready(format!(
                    "the {kind} has not reported for 5 s; see /health/actors"
                )));
            }
            if let Some(queue) = engine.queue() {
                match tokio::time::timeout(READY_TIMEOUT, queue.depth()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => {
                        tracing::warn!(error = %error, "readiness check failed");
                        return Err(not_ready(
                            "the SQS task queue is unreachable; publishes wait in the outbox"
                                .into(),
                        ));
                    }
                    Err(_) => {
                        return Err(not_ready(
                            "the SQS task queue did not answer within 3 s".into(),
                        ));
                    }
                }
            }
            Ok(HttpResponse::Ok().json(HealthView { status: "ok" }))
        }
    }
}
