//! The browser app: the built `web/dist` (React, see `web/`) served by the same
//! server. Hashed assets under `/assets/` are cached for a year; any other GET
//! that is not an API, health or metrics path gets `index.html`, so client
//! routes (`/compose`, `/jobs/…`) survive a reload. Without a build, `/` says
//! how to make one.

use std::path::{Path, PathBuf};

use actix_files::{Files, NamedFile};
use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpRequest, HttpResponse, web};

use super::error::{ApiError, not_found};

/// Where the built app is, when it has been built.
#[derive(Clone)]
pub struct WebApp {
    dist: Option<PathBuf>,
}

impl WebApp {
    pub fn find(dir: &Path) -> Self {
        let built = dir.join("index.html").is_file();
        if !built {
            tracing::warn!(dir = %dir.display(), "the web app is not built; `/` explains how to build it");
        }
        Self {
            dist: built.then(|| dir.to_owned()),
        }
    }

    /// No browser app (a worker process): unknown paths are JSON 404s.
    pub fn none() -> Self {
        Self { dist: None }
    }

    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        let Some(dist) = &self.dist else {
            cfg.route("/", web::get().to(super::landing::page));
            return;
        };
        let assets = dist.join("assets");
        if assets.is_dir() {
            cfg.service(
                web::scope("/assets")
                    .wrap(
                        DefaultHeaders::new()
                            .add((header::CACHE_CONTROL, "public, max-age=31536000, immutable")),
                    )
                    .service(Files::new("", assets).use_etag(true)),
            );
        }
    }
}

fn is_server_path(path: &str) -> bool {
    ["/api/", "/health/", "/metrics", "/assets/"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
        || path == "/api"
        || path == "/health"
}

/// Unknown paths: the app's `index.html` for browser routes, a JSON 404 otherwise.
pub async fn fallback(
    request: HttpRequest,
    app: web::Data<WebApp>,
) -> Result<HttpResponse, ApiError> {
    let path = request.path();
    let Some(dist) = &app.dist else {
        return not_found().await;
    };
    if request.method() != actix_web::http::Method::GET || is_server_path(path) {
        return not_found().await;
    }
    // A top-level file of the build (favicon, robots.txt), else the app itself.
    // Opened asynchronously: no blocking file-system call on the event loop.
    let name = path.trim_start_matches('/');
    let own_file = match name {
        "" => None,
        name if name.contains('/') || name.contains("..") => None,
        name => NamedFile::open_async(dist.join(name))
            .await
            .ok()
            .filter(|file| file.metadata().is_file()),
    };
    let file = match own_file {
        Some(file) => Ok(file),
        None => NamedFile::open_async(dist.join("index.html")).await,
    };
    match file {
        Ok(file) => {
            let mut response = file.use_etag(true).into_response(&request);
            // index.html names the current hashed assets: always revalidate it.
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-cache"),
            );
            Ok(response)
        }
        Err(_) => not_found().await,
    }
}
