//! The setup page (`web/`), served as static files the way any host would, plus the one file a
//! host writes itself: `config.js`, which tells the page where the API is and how to authorize.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use serde_json::json;

use crate::emulator::workspace_root;
use crate::listen::{serve, Listener};

pub fn web_root() -> PathBuf {
    workspace_root().join("web")
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// The `config.js` for an API at `api_url` with a development token for `tenant`.
pub fn config_js(api_url: &str, tenant: &str) -> String {
    let token = format!("{}{tenant}", crate::http_api::DEV_TOKEN_PREFIX);
    format!(
        "// Written by the host of the page. Locally: the development authorizer's token (scripts/serve).\nwindow.BUCKETLINK_CONFIG = {{\n  api: {},\n  token: async () => {},\n}};\n",
        json!(api_url),
        json!(token)
    )
}

/// Serves `web/` and `config` (as `/config.js`) on `listener` until the task is dropped.
pub fn serve_site(listener: Listener, config: String) -> tokio::task::JoinHandle<()> {
    let config = Arc::new(config);
    serve(listener, move |request| {
        let config = config.clone();
        async move {
            let path = request.uri().path().to_owned();
            let file = if path == "/" { "/index.html".to_owned() } else { path };
            let body = if request.method() != "GET" && request.method() != "HEAD" {
                None
            } else if file == "/config.js" {
                Some(config.as_bytes().to_vec())
            } else if file.split('/').any(|segment| segment == ".." || segment.starts_with('.')) {
                None
            } else {
                std::fs::read(web_root().join(file.trim_start_matches('/'))).ok()
            };
            let answer = match body {
                Some(bytes) => Response::builder()
                    .header("content-type", content_type(&file))
                    .header("cache-control", "no-store")
                    .header("x-content-type-options", "nosniff")
                    .body(Full::new(Bytes::from(bytes))),
                None => {
                    Response::builder().status(StatusCode::NOT_FOUND).header("content-type", "text/plain").body(Full::new(Bytes::from_static(b"not found")))
                }
            };
            Ok::<_, Infallible>(answer.expect("a response"))
        }
    })
}
