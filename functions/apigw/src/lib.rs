//! The only place that knows API Gateway (HTTP API, payload v2): who is calling, how answers
//! look, and `Idempotency-Key`.

use std::future::Future;

use bucketlink::api::{tenant_from_authorizer, Problem, PROBLEM_CONTENT_TYPE};
use bucketlink::error::Error;
use bucketlink::ids::TenantId;
use bucketlink::store::{Store, StoredResponse};
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

/// An answer before it becomes a response: status, JSON text, and for a 503 when to retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub retry_after: Option<u32>,
}

impl From<&Problem> for Answer {
    fn from(p: &Problem) -> Self {
        Answer { status: p.status, body: p.body(), retry_after: p.retry_after }
    }
}

/// A use case's outcome as an answer: problem+json for errors (5xx logged, not shown).
pub fn outcome<T: Serialize>(status: u16, result: Result<T, Error>) -> Answer {
    match result.map(|value| serde_json::to_string(&value)) {
        Ok(Ok(body)) => Answer { status, body, retry_after: None },
        Ok(Err(_)) => Answer::from(&Problem::new(500, "INTERNAL", "Internal error", "The response could not be encoded.")),
        Err(err) => {
            let p = Problem::from(&err);
            if p.status >= 500 {
                tracing::error!(error = %err, "request failed");
            }
            Answer::from(&p)
        }
    }
}

pub fn respond(answer: Answer) -> Response<Body> {
    let content_type = if answer.status >= 400 { PROBLEM_CONTENT_TYPE } else { "application/json" };
    let body = if answer.status == 204 { Body::Empty } else { Body::Text(answer.body) };
    let mut response = Response::builder().status(answer.status).header("content-type", content_type);
    if let Some(seconds) = answer.retry_after {
        response = response.header("retry-after", seconds.to_string());
    }
    response.body(body).expect("status and headers are valid")
}

pub fn problem(p: &Problem) -> Response<Body> {
    respond(Answer::from(p))
}

/// Runs `run` once per `Idempotency-Key`: a retry gets the first answer; the same key with
/// another request is refused. `run` says whether its answer may be kept: a 5xx, or checks that
/// reached no verdict, are not, so a retry runs again.
pub async fn idempotent<F, Fut>(store: &Store, tenant: &TenantId, key: Option<&str>, request: &str, run: F) -> Answer
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = (Answer, bool)>,
{
    let Some(key) = key else { return run().await.0 };
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        let invalid = Error::Invalid {
            field: "Idempotency-Key".into(),
            code: "INVALID_IDEMPOTENCY_KEY",
            message: "the Idempotency-Key header must be 1-200 visible ASCII characters".into(),
        };
        return outcome::<()>(400, Err(invalid));
    }
    match store.idempotent_response(tenant, key).await {
        Ok(Some(stored)) if stored.request != request => return outcome::<()>(400, Err(Error::IdempotencyMismatch)),
        Ok(Some(stored)) => return Answer { status: stored.status, body: stored.body, retry_after: None },
        Ok(None) => {}
        Err(e) => return outcome::<()>(500, Err(e.into())),
    }
    let (answer, keep) = run().await;
    if keep && answer.status < 500 {
        let stored = StoredResponse { request: request.to_owned(), status: answer.status, body: answer.body.clone() };
        if let Err(e) = store.remember_response(tenant, key, &stored).await {
            // The work is done and its answer is right; only a retry's shortcut is lost.
            tracing::warn!(error = %e, "idempotent answer not kept");
        }
    }
    answer
}
