//! The only place that knows API Gateway (HTTP API, payload v2): who is calling, and how answers look.

use bucketlink::api::{tenant_from_authorizer, Error, Problem, PROBLEM_CONTENT_TYPE};
use bucketlink::ids::TenantId;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

/// The tenant, from the authorizer's context only: never from the body, path or headers.
pub fn tenant(request: &Request) -> Option<TenantId> {
    let raw = match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => {
            let authorizer = ctx.authorizer.as_ref()?;
            tenant_from_authorizer(authorizer.jwt.as_ref().map(|j| &j.claims), Some(&authorizer.fields))
        }
        _ => None,
    }?;
    TenantId::parse(&raw).ok()
}

/// Method and path segments, for matching a request against a route table.
pub fn route(request: &Request) -> (String, Vec<String>) {
    let segments = request.uri().path().split('/').filter(|s| !s.is_empty()).map(str::to_owned).collect();
    (request.method().as_str().to_owned(), segments)
}

pub fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

/// A use case's outcome as status and JSON text: problem+json for errors (5xx logged, not shown).
pub fn outcome<T: Serialize>(status: u16, result: Result<T, Error>) -> (u16, String) {
    match result.map(|value| serde_json::to_string(&value)) {
        Ok(Ok(text)) => (status, text),
        Ok(Err(_)) => {
            let p = Problem::new(500, "INTERNAL", "Internal error", "The response could not be encoded.");
            (p.status, p.body())
        }
        Err(err) => {
            let p = Problem::from(&err);
            if p.status >= 500 {
                tracing::error!(error = %err, "request failed");
            }
            (p.status, p.body())
        }
    }
}

pub fn respond((status, body): (u16, String)) -> Response<Body> {
    let content_type = if status >= 400 { PROBLEM_CONTENT_TYPE } else { "application/json" };
    let body = if status == 204 { Body::Empty } else { Body::Text(body) };
    Response::builder().status(status).header("content-type", content_type).body(body).expect("status and header are valid")
}

pub fn problem(p: &Problem) -> Response<Body> {
    respond((p.status, p.body()))
}
