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
    modifiers(&CommonErrors, &OperationIds),
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
