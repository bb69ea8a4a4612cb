//! API Gateway's HTTP API, played locally: HTTP requests become payload v2 events for the
//! function the template routes them to, exactly by `template.yaml`'s `HttpApi` routes and CORS
//! settings, and the function's answer goes back as HTTP. This is our `sam local start-api`.
//!
//! Authorization is a **development authorizer**: `Authorization: Bearer dev:<tenant>` makes the
//! request `<tenant>`'s, as the JWT authorizer's `tenant_id` claim would. It exists only here; the
//! template's authorizer verifies real JWTs.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Request, Response, StatusCode};
use serde_json::{json, Map, Value};

use crate::gateway;
use crate::listen::{serve, Listener};
use crate::runtime::Function;
use crate::sam::{Cors, Route};

/// How a development token names its tenant.
pub const DEV_TOKEN_PREFIX: &str = "dev:";

/// API Gateway's own limit on an integration: it answers 503 after 30 s.
const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(30);

pub struct HttpApi {
    routes: Vec<Route>,
    functions: HashMap<String, Arc<Function>>,
    cors: Cors,
    origins: Vec<String>,
}

type Answer = Response<Full<Bytes>>;

fn message(status: StatusCode, text: &str) -> Answer {
    let mut answer = Response::new(Full::new(Bytes::from(json!({"message": text}).to_string())));
    *answer.status_mut() = status;
    answer.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    answer
}

impl HttpApi {
    /// The API of `routes` (each to the function of its binary in `functions`), allowing the
    /// browser origins `origins` with the template's CORS settings `cors`.
    pub fn new(routes: Vec<Route>, functions: HashMap<String, Arc<Function>>, cors: Cors, origins: Vec<String>) -> HttpApi {
        for route in &routes {
            assert!(functions.contains_key(&route.binary), "no function runs {} for {}", route.binary, route.key());
        }
        HttpApi { routes, functions, cors, origins }
    }

    /// Serves the API on `listener` until the task is dropped.
    pub fn serve(self, listener: Listener) -> tokio::task::JoinHandle<()> {
        let api = Arc::new(self);
        serve(listener, move |request| {
            let api = api.clone();
            async move { Ok::<_, Infallible>(api.answer(request).await) }
        })
    }

    fn allowed_origin<B>(&self, request: &Request<B>) -> Option<String> {
        let origin = request.headers().get("origin")?.to_str().ok()?;
        self.origins.iter().any(|o| o == origin).then(|| origin.to_owned())
    }

    async fn answer(&self, request: Request<Incoming>) -> Answer {
        let origin = self.allowed_origin(&request);
        let mut answer = if request.method() == "OPTIONS" && request.headers().contains_key("access-control-request-method") {
            self.preflight(&request, origin.is_some())
        } else {
            self.invoke(request).await
        };
        if let Some(origin) = origin {
            let headers = answer.headers_mut();
            headers.insert("access-control-allow-origin", HeaderValue::from_str(&origin).expect("an origin is a header value"));
            headers.insert("vary", HeaderValue::from_static("origin"));
        }
        answer
    }

    /// API Gateway answers a CORS preflight itself, before any authorizer or route.
    fn preflight<B>(&self, request: &Request<B>, origin_allowed: bool) -> Answer {
        let mut answer = Response::new(Full::new(Bytes::new()));
        *answer.status_mut() = StatusCode::NO_CONTENT;
        let method = request.headers().get("access-control-request-method").and_then(|m| m.to_str().ok()).unwrap_or_default();
        if origin_allowed && self.cors.allow_methods.iter().any(|m| m == method) {
            let headers = answer.headers_mut();
            let joined = |list: &[String]| HeaderValue::from_str(&list.join(",")).expect("the template's CORS settings are header values");
            headers.insert("access-control-allow-methods", joined(&self.cors.allow_methods));
            headers.insert("access-control-allow-headers", joined(&self.cors.allow_headers));
            headers.insert("access-control-max-age", HeaderValue::from(self.cors.max_age));
        }
        answer
    }

    async fn invoke(&self, request: Request<Incoming>) -> Answer {
        let method = request.method().as_str().to_owned();
        let path = request.uri().path().to_owned();
        let Some((route, parameters)) = self.routes.iter().find_map(|r| r.matches(&method, &path).map(|p| (r, p))) else {
            return message(StatusCode::NOT_FOUND, "Not Found");
        };
        let tenant = request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(|t| t.strip_prefix(DEV_TOKEN_PREFIX))
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        let Some(tenant) = tenant else {
            return message(StatusCode::UNAUTHORIZED, "Unauthorized");
        };
        let path_and_query = request.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or(path);
        // Repeated headers arrive joined with commas, as API Gateway joins them.
        let mut headers: Vec<(String, String)> = Vec::new();
        for (name, value) in request.headers() {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            match headers.iter_mut().find(|(n, _)| n == name.as_str()) {
                Some((_, joined)) => *joined = format!("{joined},{value}"),
                None => headers.push((name.as_str().to_owned(), value)),
            }
        }
        let body = match request.into_body().collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => return message(StatusCode::BAD_REQUEST, "Bad Request"),
        };
        let text = std::str::from_utf8(&body).ok().filter(|t| !t.is_empty());
        let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let mut event = gateway::event(&method, &path_and_query, text, Some(&tenant), &pairs);
        event["routeKey"] = json!(route.key());
        event["requestContext"]["routeKey"] = json!(route.key());
        if !parameters.is_empty() {
            event["pathParameters"] = parameters.into_iter().map(|(k, v)| (k, Value::String(v))).collect::<Map<_, _>>().into();
        }
        if text.is_none() && !body.is_empty() {
            event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(&body));
            event["isBase64Encoded"] = json!(true);
        }
        let function = &self.functions[&route.binary];
        match tokio::time::timeout(INTEGRATION_TIMEOUT, function.invoke(event)).await {
            Ok(Ok(response)) => from_lambda(&response),
            Ok(Err(_)) => message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
            Err(_) => message(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"),
        }
    }
}

/// A function's payload v2 response as HTTP.
fn from_lambda(response: &Value) -> Answer {
    let status = response["statusCode"].as_u64().and_then(|s| StatusCode::from_u16(s as u16).ok());
    let Some(status) = status else {
        return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    let text = response["body"].as_str().unwrap_or_default();
    let body =
        if response["isBase64Encoded"] == true { base64::engine::general_purpose::STANDARD.decode(text).unwrap_or_default() } else { text.as_bytes().to_vec() };
    let mut answer = Response::new(Full::new(Bytes::from(body)));
    *answer.status_mut() = status;
    for (name, value) in response["headers"].as_object().into_iter().flatten() {
        if let (Ok(name), Some(Ok(value))) = (hyper::header::HeaderName::from_bytes(name.as_bytes()), value.as_str().map(HeaderValue::from_str)) {
            answer.headers_mut().insert(name, value);
        }
    }
    answer
}
