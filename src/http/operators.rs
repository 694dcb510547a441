//! Operator endpoints: `GET /health/actors` and `GET /metrics`, served on the
//! operator listener (`server.ops_bind`), and on the public one only to a
//! caller with the operator token: they show the engine's insides (actor ids,
//! error text, volumes) that users have no business reading.

use actix_web::{HttpRequest, HttpResponse, web};
use prometheus::{Encoder, IntGaugeVec, Opts, Registry, TextEncoder};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sqlx::PgPool;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody, ErrorCode};
use crate::actors::engine::Engine;
use crate::actors::health::ActorHealth;
use crate::persistence::outbox;

/// Who may read the operator endpoints on the listener a request came in on.
#[derive(Clone)]
pub enum OperatorAccess {
    /// The operator listener: everyone who can reach it.
    Listener,
    /// The public listener: only with `Authorization: Bearer <ops_token>`,
    /// and not at all when no token is configured.
    Token(Option<SecretString>),
}

impl OperatorAccess {
    /// 404 (as if the route were not here) unless the caller is an operator.
    fn admit(&self, request: &HttpRequest) -> Result<(), ApiError> {
        let token = match self {
            OperatorAccess::Listener => return Ok(()),
            OperatorAccess::Token(token) => token,
        };
        let sent = request
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let admitted = token.as_ref().is_some_and(|expected| {
            let expected = expected.expose_secret().as_bytes();
            !sent.is_empty() && bool::from(sent.as_bytes().ct_eq(expected))
        });
        if admitted {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::NotFound,
                "operator endpoints are served on the operator listener (server.ops_bind), or here with the operator token",
            ))
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActorList {
    pub actors: Vec<ActorHealth>,
}

/// Every live actor: kind, id, state, mailbox depth, restarts, last error, last heartbeat.
#[utoipa::path(get, path = "/health/actors", tag = "health",
    params(("Authorization" = Option<String>, Header, description = "`Bearer <ops_token>`, on the public listener")),
    responses((status = 200, body = ActorList),
              (status = 404, description = "Public listener without the operator token", body = ErrorBody)))]
pub async fn actors(
    request: HttpRequest,
    access: web::Data<OperatorAccess>,
    engine: web::Data<Engine>,
) -> Result<HttpResponse, ApiError> {
    access.admit(&request)?;
    Ok(HttpResponse::Ok().json(ActorList {
        actors: engine.actor_health(),
    }))
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
    params(("Authorization" = Option<String>, Header, description = "`Bearer <ops_token>`, on the public listener")),
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"),
              (status = 404, description = "Public listener without the operator token", body = ErrorBody),
              (status = 500, body = ErrorBody)))]
pub async fn metrics(
    request: HttpRequest,
    access: web::Data<OperatorAccess>,
    engine: web::Data<Engine>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    access.admit(&request)?;
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
