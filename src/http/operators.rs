//! Operator endpoints: `GET /health/actors` and `GET /metrics`.

use actix_web::{HttpResponse, web};
use prometheus::{Encoder, IntGaugeVec, Opts, Registry, TextEncoder};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use crate::actors::engine::Engine;
use crate::actors::health::ActorHealth;
use crate::persistence::outbox;

#[derive(Debug, Serialize, ToSchema)]
pub struct ActorList {
    pub actors: Vec<ActorHealth>,
}

/// Every live actor: kind, id, state, mailbox depth, restarts, last error, last heartbeat.
#[utoipa::path(get, path = "/health/actors", tag = "health",
    responses((status = 200, body = ActorList)))]
pub async fn actors(engine: web::Data<Engine>) -> HttpResponse {
    HttpResponse::Ok().json(ActorList {
        actors: engine.actor_health(),
    })
}

fn gauge(
    registry: &Registry,
    name: &str,
    help: &str,
    label: &str,
) -> Result<IntGaugeVec, prometheus::Error> {
    let gauge = IntGaugeVec::new(Opts::new(name, help), &[label])?;
    registry.register(Box::new(gauge.clone()))?;
    Ok(gauge)
}

/// Prometheus text: task transitions by status reached (counted as they
/// happen, never by counting the tasks table), accept and publish latency,
/// platform calls by outcome, retries, refreshes, live actors and mailbox
/// depth by kind.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"),
              (status = 500, body = ErrorBody)))]
pub async fn metrics(
    engine: web::Data<Engine>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let scrape = Registry::new();
    let build = || -> Result<_, prometheus::Error> {
        Ok((
            gauge(&scrape, "prasaran_actors", "Live actors by kind", "kind")?,
            gauge(
                &scrape,
                "prasaran_actor_mailbox_depth",
                "Queued work by actor kind",
                "kind",
            )?,
        ))
    };
    let (actors, depth) = build().map_err(ApiError::internal)?;
    for (kind, (count, queued)) in engine.actor_counts() {
        actors.with_label_values(&[kind]).set(count as i64);
        depth.with_label_values(&[kind]).set(queued as i64);
    }
    if engine.queue().is_some() {
        let unsent = prometheus::IntGauge::new(
            "prasaran_outbox_unsent",
            "Task announcements waiting to be sent to SQS",
        )
        .map_err(ApiError::internal)?;
        unsent.set(outbox::backlog(&pool).await?);
        scrape
            .register(Box::new(unsent))
            .map_err(ApiError::internal)?;
    }
    let mut families = engine.metrics().registry.gather();
    families.extend(scrape.gather());
    let mut text = Vec::new();
    TextEncoder::new()
        .encode(&families, &mut text)
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(text))
}
