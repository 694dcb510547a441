//! The browser app is served by the same server: SPA fallback for client
//! routes, long-lived caching of hashed assets, the API's JSON 404s untouched.

use reqwest::StatusCode;

use crate::helpers::TestApp;

fn built_app() -> tempfile::TempDir {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><div id=\"root\"></div><script type=\"module\" src=\"/assets/index-abc123.js\"></script>",
    )
    .unwrap();
    std::fs::create_dir(dist.path().join("assets")).unwrap();
    std::fs::write(dist.path().join("assets/index-abc123.js"), "console.log(1)").unwrap();
    dist
}

#[actix_web::test]
async fn client_routes_get_the_app_and_assets_are_cached_for_good() {
    let dist = built_app();
    let path = dist.path().to_owned();
    let app = TestApp::spawn_with(move |s| s.server.web_dir = path).await;

    for route in [
        "/",
        "/compose",
        "/jobs/5b0e7a4e-2b7c-4a43-9d7e-0d0f4b8e6d10",
        "/history?x=1",
    ] {
        let page = app.get(route).await;
        assert_eq!(page.status(), StatusCode::OK, "{route}");
        assert_eq!(page.headers()["cache-control"], "no-cache");
        assert!(
            page.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'self'")
        );
        assert!(page.text().await.unwrap().contains("id=\"root\""));
    }
    let asset = app.get("/assets/index-abc123.js").await;
    assert_eq!(asset.status(), StatusCode::OK);
    assert_eq!(
        asset.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        asset.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );

    // API paths keep their JSON errors; the app never answers them.
    let missing = app.get("/api/v1/nothing-here").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(crate::helpers::error_code(missing).await, "not_found");
    assert_eq!(
        app.get("/assets/gone.js").await.status(),
        StatusCode::NOT_FOUND
    );
    let posted = app.post_json("/compose", &serde_json::json!({})).await;
    assert_eq!(posted.status(), StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn without_a_build_the_root_page_says_how_to_make_one() {
    let empty = tempfile::tempdir().unwrap();
    let path = empty.path().to_owned();
    let app = TestApp::spawn_with(move |s| s.server.web_dir = path).await;
    let page = app.get("/").await;
    assert_eq!(page.status(), StatusCode::OK);
    let text = page.text().await.unwrap();
    assert!(
        text.contains("scripts/serve") && text.contains("npm run build"),
        "{text}"
    );
    assert_eq!(app.get("/compose").await.status(), StatusCode::NOT_FOUND);
}
