//! A recording reverse proxy put between Prasaran and a genuine platform
//! server (the PDS, later Synapse): every call passes through unchanged and
//! is counted, so a test can say "exactly one refreshSession" about software
//! it cannot instrument. It can also hold back the answer to chosen calls
//! after the server has acted on them, which is how a test puts a crash
//! between a platform's write and Prasaran learning its outcome.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

/// One call as it went through.
#[derive(Debug, Clone)]
pub struct Call {
    /// Path without the query.
    pub path: String,
    pub status: u16,
    /// The `Authorization: Bearer` token it carried, if any.
    pub bearer: Option<String>,
    /// When it arrived and when the server had answered, so a test can tell
    /// whether two calls overlapped.
    pub arrived: std::time::Instant,
    pub answered: std::time::Instant,
}

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    /// Paths ending in one of these get their answer held back (forever).
    hold: Vec<String>,
}

pub struct Wiretap {
    pub url: String,
    state: Arc<Mutex<State>>,
    server: ServerHandle,
}

struct Upstream {
    base: String,
    http: reqwest::Client,
    state: Arc<Mutex<State>>,
}

async fn forward(
    request: HttpRequest,
    body: web::Bytes,
    upstream: web::Data<Upstream>,
) -> HttpResponse {
    let target = format!("{}{}", upstream.base, request.uri());
    let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes()).expect("method");
    let mut outgoing = upstream.http.request(method, &target).body(body.to_vec());
    for (name, value) in request.headers() {
        if name != "host" && name != "content-length" {
            outgoing = outgoing.header(name.as_str(), value.as_bytes());
        }
    }
    let bearer = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let path = request.path().to_owned();
    let arrived = std::time::Instant::now();
    let answer = match outgoing.send().await {
        Ok(answer) => answer,
        Err(e) => return HttpResponse::BadGateway().body(e.to_string()),
    };
    let status = answer.status().as_u16();
    let held = {
        let mut state = upstream.state.lock().unwrap();
        state.calls.push(Call {
            path: path.clone(),
            status,
            bearer,
            arrived,
            answered: std::time::Instant::now(),
        });
        state.hold.iter().any(|part| path.contains(part.as_str()))
    };
    if held {
        // The server has acted; the caller never hears of it.
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    let mut response =
        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("status"));
    for (name, value) in answer.headers() {
        if name != "content-length" && name != "transfer-encoding" && name != "connection" {
            response.insert_header((name.as_str(), value.as_bytes()));
        }
    }
    response.body(answer.bytes().await.unwrap_or_default())
}

impl Wiretap {
    /// A proxy on a free loopback port in front of `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let data = web::Data::new(Upstream {
            base: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            state: state.clone(),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
                .default_service(web::to(forward))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .unwrap();
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/"),
            state,
            server: handle,
        }
    }

    /// The calls whose path contains `part` (e.g. an XRPC method's name).
    pub fn calls(&self, part: &str) -> Vec<Call> {
        let state = self.state.lock().unwrap();
        state
            .calls
            .iter()
            .filter(|c| c.path.contains(part))
            .cloned()
            .collect()
    }

    pub fn count(&self, part: &str) -> usize {
        self.calls(part).len()
    }

    /// From now on, calls whose path contains `part` reach the server but
    /// their answers never come back.
    pub fn hold_answers(&self, part: &str) {
        self.state.lock().unwrap().hold.push(part.to_owned());
    }
}

impl Wiretap {
    /// Answers flow again (a call already held stays held).
    pub fn release(&self) {
        self.state.lock().unwrap().hold.clear();
    }
}

impl Drop for Wiretap {
    fn drop(&mut self) {
        let server = self.server.clone();
        actix_web::rt::spawn(async move { server.stop(false).await });
    }
}
