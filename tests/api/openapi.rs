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
