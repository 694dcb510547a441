//! The served OpenAPI document covers every route the server has.

use prasaran::http::endpoints;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::TestApp;

#[actix_web::test]
async fn document_lists_every_route_and_nothing_else() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));

    let paths = document["paths"].as_object().unwrap();
    let mut documented: Vec<String> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    let mut routed: Vec<String> = endpoints()
        .iter()
        .map(|e| format!("{} {}", e.method, e.path))
        .collect();
    documented.sort();
    routed.sort();
    assert_eq!(routed, documented);
}

#[actix_web::test]
async fn every_operation_documents_its_error_bodies() {
    let app = TestApp::spawn().await;
    let document: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    assert!(document["components"]["schemas"]["ErrorBody"].is_object());
    let signup = &document["paths"]["/api/v1/auth/signup"]["post"];
    assert!(signup["requestBody"].is_object());
    for status in ["202", "415", "422", "429"] {
        assert!(
            signup["responses"][status].is_object(),
            "signup lacks {status}"
        );
    }
}

/// The web app's TypeScript types are generated from `web/src/api/openapi.json`
/// (`npm run gen:api`, run before its type check, tests and build); this keeps
/// that copy equal to the document the server serves, so a change to the API
/// that the web app does not follow fails its type check. After changing the
/// API: `UPDATE_OPENAPI=1 cargo nextest run -E 'test(web_apps_copy)'`.
#[test]
fn the_web_apps_copy_of_the_document_is_current() {
    use utoipa::OpenApi;
    let served = serde_json::to_value(prasaran::http::openapi::ApiDoc::openapi()).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web/src/api/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        let text = serde_json::to_string_pretty(&served).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
    }
    let copy: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(
        copy == served,
        "web/src/api/openapi.json differs from the served document: run \
         UPDATE_OPENAPI=1 cargo nextest run -E 'test(web_apps_copy)', then npm run typecheck in web/"
    );
}

#[test]
fn operation_ids_are_unique() {
    use utoipa::OpenApi;
    let document = serde_json::to_value(prasaran::http::openapi::ApiDoc::openapi()).unwrap();
    let mut ids: Vec<&str> = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|operation| operation["operationId"].as_str())
        .collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "operation ids repeat");
    assert!(ids.contains(&"patch_api_v1_posts_id"), "{ids:?}");
}

/// A `$ref` to a schema the document does not hold breaks every client
/// generator (the web app's types among them).
#[test]
fn every_reference_resolves() {
    use utoipa::OpenApi;
    let document = serde_json::to_value(prasaran::http::openapi::ApiDoc::openapi()).unwrap();
    fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    found.push(target);
                }
                map.values().for_each(|v| refs(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&document, &mut found);
    assert!(!found.is_empty());
    for target in found {
        let pointer = target.trim_start_matches('#');
        assert!(
            document.pointer(pointer).is_some(),
            "{target} points at nothing"
        );
    }
}
