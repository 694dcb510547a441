//! The JSON error road for failures outside the handlers. The session store
//! fails in the session middleware when the database is gone, and actix then
//! answers a bare 500 with an empty body; here such a failure, and any 500
//! while the database does not answer, becomes the usual JSON error: `503
//! database_unavailable` with `Retry-After` when the database is down, else
//! `500 internal_error`.

use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, ResponseError, web};
use sqlx::PgPool;

use super::error::ApiError;

/// How long the database may take to answer the check made after a failure.
const PING_TIMEOUT: Duration = Duration::from_secs(1);

pub async fn json_failures(
    request: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let pool = request.app_data::<web::Data<PgPool>>().cloned();
    let outcome = next.call(request).await;
    let failed = match &outcome {
        // Only a 500: a 502 or 503 of a handler already says what happened.
        Ok(response) => response.status() == actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
        Err(_) => true,
    };
    if !failed {
        return outcome.map(ServiceResponse::map_into_left_body);
    }
    let database_down = match &pool {
        Some(pool) => !database_answers(pool).await,
        None => false,
    };
    match (outcome, database_down) {
        (Ok(response), true) => {
            let (request, _) = response.into_parts();
            let answer = ApiError::database_unavailable().error_response();
            Ok(ServiceResponse::new(request, answer).map_into_right_body())
        }
        (Ok(response), false) => Ok(response.map_into_left_body()),
        // Rendered through ApiError's own response: the JSON body and its headers.
        (Err(_), true) => Err(ApiError::database_unavailable().into()),
        (Err(error), false) => Err(ApiError::internal(anyhow::anyhow!("{error}")).into()),
    }
}

async fn database_answers(pool: &PgPool) -> bool {
    matches!(
        tokio::time::timeout(PING_TIMEOUT, crate::persistence::ping(pool)).await,
        Ok(Ok(()))
    )
}
