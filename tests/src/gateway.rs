//! API Gateway (HTTP API, payload v2) as the harness plays it: the events it sends a function,
//! and the answers read back.

use bucketlink::encoding::{decode, Plus};
use serde_json::{json, Map, Value};

use crate::runtime::Function;

/// An answer: status, content type, and the body as JSON (Null when empty).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    /// The `Retry-After` header, when there is one.
    pub retry_after: Option<String>,
    pub body: Value,
}

/// The event API Gateway sends for `method path` with an optional JSON body, for `tenant` (taken
/// from a JWT authorizer's claims) or for nobody.
pub fn event(method: &str, path: &str, body: Option<&str>, tenant: Option<&str>, headers: &[(&str, &str)]) -> Value {
    let (raw_path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut hdrs = json!({"content-type": "application/json", "host": "api.bucketlink.example.com"});
    for (k, v) in headers {
        hdrs[k.to_ascii_lowercase()] = json!(v);
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": hdrs,
        "requestContext": {
            "accountId": "111111111111", "apiId": "local", "domainName": "api.bucketlink.example.com",
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test"},
            "requestId": "local", "routeKey": "$default", "stage": "$default", "time": "24/Nov/2026:15:00:00 +0000", "timeEpoch": 0
        },
        "isBase64Encoded": false
    });
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query_parameters(query));
    }
    if let Some(tenant) = tenant {
        event["requestContext"]["authorizer"] = json!({"jwt": {"claims": {"sub": "user-1", "tenant_id": tenant}, "scopes": null}});
    }
    if let Some(body) = body {
        event["body"] = json!(body);
    }
    event
}

/// API Gateway's `queryStringParameters`: decoded, repeated names joined with commas.
fn query_parameters(query: &str) -> Map<String, Value> {
    let mut parameters = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (Some(k), Some(v)) = (decode(k, Plus::Space), decode(v, Plus::Space)) else { continue };
        match parameters.get_mut(&k) {
            Some(Value::String(joined)) => *joined = format!("{joined},{v}"),
            _ => drop(parameters.insert(k, Value::String(v))),
        }
    }
    parameters
}

pub async fn call(function: &Function, event: Value) -> Answer {
    let response = function.invoke(event).await.unwrap_or_else(|e| panic!("the function failed the invocation: {e}"));
    let status = response["statusCode"].as_u64().expect("statusCode") as u16;
    let content_type = response["headers"]["content-type"].as_str().unwrap_or_default().to_owned();
    let retry_after = response["headers"]["retry-after"].as_str().map(str::to_owned);
    let body = match response["body"].as_str() {
        Some(text) if !text.is_empty() => serde_json::from_str(text).unwrap_or_else(|_| json!(text)),
        _ => Value::Null,
    };
    Answer { status, content_type, retry_after, body }
}
