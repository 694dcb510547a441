//! Request parameters as Rails sees them: the query string merged with a
//! JSON, form-urlencoded or multipart body, arrays as `key[]=…` (or repeated
//! keys, or JSON arrays). File parts of a multipart body are skipped here
//! (uploads read theirs in [`super::media`]).

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde_json::{Value, json};

/// The most a non-upload body may be (Mastodon's own bodies are small).
const MAX_BODY: usize = 256 * 1024;

#[derive(Debug, Default)]
pub struct Params {
    values: HashMap<String, Vec<String>>,
}

impl Params {
    fn push(&mut self, key: &str, value: String) {
        let key = key.strip_suffix("[]").unwrap_or(key);
        self.values.entry(key.to_owned()).or_default().push(value);
    }

    fn push_json(&mut self, key: &str, value: &Value) {
        match value {
            Value::Null => {}
            Value::String(s) => self.push(key, s.clone()),
            Value::Bool(b) => self.push(key, b.to_string()),
            Value::Number(n) => self.push(key, n.to_string()),
            Value::Array(items) => {
                // An empty array still says "given".
                self.values.entry(key.to_owned()).or_default();
                for item in items {
                    self.push_json(key, item);
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    self.push_json(&format!("{key}[{k}]"), v);
                }
            }
        }
    }

    pub fn from_query(request: &HttpRequest) -> Self {
        let mut params = Self::default();
        params.add_query(request);
        params
    }

    fn add_query(&mut self, request: &HttpRequest) {
        for (key, value) in url::form_urlencoded::parse(request.query_string().as_bytes()) {
            self.push(&key, value.into_owned());
        }
    }

    /// The last value of `key` (Rails keeps the last of repeated scalars).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key)?.last().map(String::as_str)
    }

    /// `key` with surrounding whitespace, or None when absent or blank.
    pub fn present(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.trim().is_empty())
    }

    pub fn all(&self, key: &str) -> Option<&[String]> {
        self.values.get(key).map(Vec::as_slice)
    }

    /// Rails' boolean casting (`ActiveModel::Type::Boolean`).
    pub fn flag(&self, key: &str) -> Option<bool> {
        let value = self.get(key)?.trim().to_ascii_lowercase();
        if value.is_empty() {
            return None;
        }
        Some(!matches!(value.as_str(), "0" | "f" | "false" | "off"))
    }
}

fn bad_request(message: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({ "error": message }))
}

fn content_type(request: &HttpRequest) -> String {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Reads the query string and the body, whatever its encoding.
pub async fn read(request: &HttpRequest, payload: web::Payload) -> Result<Params, HttpResponse> {
    let mut params = Params::from_query(request);
    let kind = content_type(request);
    if kind.starts_with("multipart/form-data") {
        let mut form = Multipart::new(request.headers(), payload);
        while let Some(field) = form.next().await {
            let mut field = field.map_err(|e| bad_request(&e.to_string()))?;
            let name = field.name().map(str::to_owned).unwrap_or_default();
            let is_file = field
                .content_disposition()
                .and_then(|d| d.get_filename())
                .is_some();
            let mut value = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|e| bad_request(&e.to_string()))?;
                if !is_file && value.len() + chunk.len() <= MAX_BODY {
                    value.extend_from_slice(&chunk);
                }
            }
            if !is_file {
                params.push(&name, String::from_utf8_lossy(&value).into_owned());
            }
        }
        return Ok(params);
    }
    let body = read_body(payload).await?;
    if body.is_empty() {
        return Ok(params);
    }
    if kind.starts_with("application/json") {
        let value: Value = serde_json::from_slice(&body).map_err(|e| {
            // ActionDispatch::Http::Parameters::ParseError
            bad_request(&format!(
                "Error occurred while parsing request parameters: {e}"
            ))
        })?;
        if let Value::Object(map) = value {
            for (key, value) in &map {
                params.push_json(key, value);
            }
        }
    } else {
        for (key, value) in url::form_urlencoded::parse(&body) {
            params.push(&key, value.into_owned());
        }
    }
    Ok(params)
}

async fn read_body(mut payload: web::Payload) -> Result<Vec<u8>, HttpResponse> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| bad_request(&e.to_string()))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(
                HttpResponse::PayloadTooLarge().json(json!({"error": "Request body too large"}))
            );
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
