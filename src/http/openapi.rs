//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use actix_web::HttpResponse;
use utoipa::OpenApi;

use super::{auth, connections, error, health, jobs, operators, posts, tokens};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Prasaran API",
        description = "Write a post once, publish it to every connected platform. Errors are `{\"error\": {\"code\", \"message\"}}`; state-changing requests made with the session cookie must send `X-CSRF-Token`."
    ),
    paths(
        auth::signup,
        auth::login,
        auth::logout,
        auth::me,
        connections::platforms,
        connections::authorize,
        connections::callback,
        connections::list,
        connections::disconnect,
        tokens::create,
        tokens::list,
        tokens::revoke,
        posts::publish,
        posts::history,
        jobs::get,
        jobs::events,
        jobs::retry,
        jobs::cancel,
        health::live,
        health::ready,
        operators::actors,
        operators::metrics,
        document,
    ),
    components(schemas(error::ErrorBody, error::ErrorDetail)),
    tags(
        (name = "auth", description = "Accounts and browser sessions"),
        (name = "connections", description = "Connecting platform accounts (OAuth2 + PKCE)"),
        (name = "tokens", description = "Personal API tokens for scripts"),
        (name = "publishing", description = "Publishing posts and following their jobs"),
        (name = "health", description = "Liveness, readiness, actors and metrics"),
        (name = "meta", description = "This document"),
    )
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
