//! The only place that knows API Gateway (HTTP API, payload v2): who is calling, and how answers look.

use bucketlink::api::{tenant_from_authorizer, Problem, PROBLEM_CONTENT_TYPE};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

/// The tenant, from the authorizer's context only: never from the body, path or headers.
pub fn tenant(request: &Request) -> Option<String> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => {
            let authorizer = ctx.authorizer.as_ref()?;
            tenant_from_authorizer(authorizer.jwt.as_ref().map(|j| &j.claims), Some(&authorizer.fields))
        }
        _ => None,
    }
}

/// Method and path segments, for matching a request against a route table.
pub fn route(request: &Request) -> (String, Vec<String>) {
    let segments = request.uri().path().split('/').filter(|s| !s.is_empty()).map(str::to_owned).collect();
    (request.method().as_str().to_owned(), segments)
}

pub fn json(status: u16, body: &impl Serialize) -> Response<Body> {
    match serde_json::to_string(body) {
        Ok(text) => respond(status, "application/json", text),
        Err(_) => problem(&Problem::new(500, "INTERNAL", "Internal error", "The response could not be encoded.")),
    }
}

pub fn problem(p: &Problem) -> Response<Body> {
    respond(p.status, PROBLEM_CONTENT_TYPE, p.body())
}

fn respond(status: u16, content_type: &str, body: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Body::Text(body))
        .expect("status and header are valid")
}
