//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use actix_web::HttpResponse;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::{
    account, auth, connections, dev_outbox, drafts, error, health, jobs, media, operators,
    post_edits, posts, recovery, tokens,
};

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
        recovery::verify_email,
        recovery::resend_verification,
        recovery::forgot_password,
        recovery::reset_password,
        dev_outbox::page,
        account::change_password,
        account::logout_everywhere,
        account::list,
        account::revoke,
        connections::platforms,
        connections::authorize,
        connections::sign_in,
        connections::callback,
        connections::client_metadata,
        connections::list,
        connections::disconnect,
        connections::pick_destinations,
        tokens::create,
        tokens::list,
        tokens::revoke,
        media::upload,
        media::get,
        media::content,
        media::thumbnail,
        media::update,
        media::delete,
        posts::publish,
        posts::history,
        post_edits::edit,
        post_edits::duplicate,
        drafts::create,
        drafts::list,
        drafts::get,
        drafts::update,
        drafts::delete,
        drafts::publish,
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
    modifiers(&CommonErrors, &Security, &OperationIds),
    tags(
        (name = "auth", description = "Accounts and browser sessions"),
        (name = "connections", description = "Connecting platform accounts (OAuth2 + PKCE)"),
        (name = "tokens", description = "Personal API tokens for scripts"),
        (name = "media", description = "Images and videos to attach to posts"),
        (name = "publishing", description = "Publishing posts and following their jobs"),
        (name = "drafts", description = "Posts saved to finish later"),
        (name = "health", description = "Liveness, readiness, actors and metrics"),
        (name = "meta", description = "This document"),
        (name = "dev", description = "Development aids, absent in production"),
    )
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

/// The errors every operation of a kind can answer, added in one place so no
/// handler's annotation can forget them: bodies can be malformed, too large,
/// of the wrong type or shape; path parameters can name nothing; API routes
/// need a caller.
struct CommonErrors;

fn add(operation: &mut Operation, status: &str, description: &str) {
    if operation.responses.responses.contains_key(status) {
        return;
    }
    let response = ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build();
    operation
        .responses
        .responses
        .insert(status.to_owned(), response.into());
}

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                item.get.as_mut(),
                item.post.as_mut(),
                item.put.as_mut(),
                item.delete.as_mut(),
                item.patch.as_mut(),
            ];
            for operation in operations.into_iter().flatten() {
                if operation.request_body.is_some() {
                    add(operation, "400", "The body is not JSON (`malformed_json`)");
                    add(
                        operation,
                        "413",
                        "The body is too large (`payload_too_large`)",
                    );
                    add(
                        operation,
                        "415",
                        "The body is not `application/json` (`unsupported_media_type`)",
                    );
                    add(
                        operation,
                        "422",
                        "The body does not fit the schema (`invalid_body`)",
                    );
                }
                if path.contains('{') {
                    add(operation, "404", "Nothing by that id (or not yours)");
                }
                if path.starts_with("/api/v1/") && !path.starts_with("/api/v1/auth/") {
                    add(
                        operation,
                        "401",
                        "Not logged in, or the API token is unknown (`unauthenticated`, `invalid_token`)",
                    );
                }
                if operation.responses.responses.contains_key("401") {
                    add(
                        operation,
                        "403",
                        "`csrf_failed` (a cookie session without `X-CSRF-Token`), `insufficient_scope` (an API token without this route's scope) or `session_required` (an API token where only a logged-in session may)",
                    );
                }
                if operation.parameters.as_ref().is_some_and(|p| !p.is_empty())
                    && !path.contains('{')
                {
                    add(
                        operation,
                        "400",
                        "A query parameter is malformed (`invalid_query`)",
                    );
                }
            }
        }
    }
}

/// Routes anyone may call, though some answer 401 (wrong credentials).
const PUBLIC: [&str; 5] = [
    "/api/v1/auth/signup",
    "/api/v1/auth/login",
    "/api/v1/auth/verify-email",
    "/api/v1/auth/forgot-password",
    "/api/v1/auth/reset-password",
];

/// How each operation is authorised, so the docs page offers "Authorize" and
/// each route says what it takes: a personal API token (with the scope the
/// route's rule in `scopes.rs` asks for) or the browser session, or only the
/// session. Runs after [`CommonErrors`]: an operation that can answer 401
/// needs a caller.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("prs_…")
                    .description(Some(
                        "A personal API token (Settings → API tokens, or POST /api/v1/tokens), sent as `Authorization: Bearer prs_…`; no CSRF token needed.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "prasaran_session",
                "The browser session from POST /api/v1/auth/login; state-changing requests also send `X-CSRF-Token` (the login answer's `csrf_token`).",
            ))),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                (actix_web::http::Method::GET, item.get.as_mut()),
                (actix_web::http::Method::POST, item.post.as_mut()),
                (actix_web::http::Method::PUT, item.put.as_mut()),
                (actix_web::http::Method::DELETE, item.delete.as_mut()),
                (actix_web::http::Method::PATCH, item.patch.as_mut()),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                // Logging in and the mailed-link routes answer 401/422 to
                // anyone: they need no caller.
                if !operation.responses.responses.contains_key("401")
                    || PUBLIC.contains(&path.as_str())
                {
                    continue;
                }
                let session = SecurityRequirement::new("session", Vec::<String>::new());
                let token = match super::scopes::rule(&method, &Some(path.clone())) {
                    super::scopes::Rule::SessionOnly => None,
                    super::scopes::Rule::AnyToken => Some(Vec::new()),
                    super::scopes::Rule::Needs(scope) => Some(vec![scope.as_str().to_owned()]),
                };
                let mut requirements = Vec::new();
                if let Some(scopes) = token {
                    requirements.push(SecurityRequirement::new("token", scopes));
                }
                requirements.push(session);
                operation.security = Some(requirements);
            }
        }
    }
}

/// Operation ids from method and path (`patch_api_v1_posts_id`): OpenAPI wants
/// them unique, and handler names (`list`, `get`) repeat across modules.
struct OperationIds;

impl Modify for OperationIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let words: String = path
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let words = words
                .split('_')
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join("_");
            let operations = [
                ("get", item.get.as_mut()),
                ("post", item.post.as_mut()),
                ("put", item.put.as_mut()),
                ("delete", item.delete.as_mut()),
                ("patch", item.patch.as_mut()),
            ];
            for (method, operation) in operations {
                if let Some(operation) = operation {
                    operation.operation_id = Some(format!("{method}_{words}"));
                }
            }
        }
    }
}
