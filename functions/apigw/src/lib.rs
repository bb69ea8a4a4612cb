//! The only place that knows API Gateway (HTTP API, payload v2): who is calling, how answers
//! look, and `Idempotency-Key`.

use std::future::Future;

use std::collections::HashMap;

use bucketlink::error::Error;
use bucketlink::ids::TenantId;
use bucketlink::problem::{Problem, PROBLEM_CONTENT_TYPE};
use bucketlink::store::{Store, StoredResponse};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

/// The tenant, from a JWT authorizer's `tenant_id` claim or a Lambda authorizer's `tenant_id` context.
pub fn tenant_from_authorizer(jwt_claims: Option<&HashMap<String, String>>, lambda_context: Option<&HashMap<String, serde_json::Value>>) -> Option<String> {
    let from_jwt = jwt_claims.and_then(|c| c.get("tenant_id")).map(|s| s.trim().to_owned());
    let from_lambda = lambda_context.and_then(|c| c.get("tenant_id")).and_then(|v| v.as_str()).map(|s| s.trim().to_owned());
    from_jwt.or(from_lambda).filter(|t| !t.is_empty())
}

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

/// Request bodies larger than this are refused before parsing.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Parses a JSON body into `T`, naming the offending field when it does not fit.
pub fn parse_body<'de, T: serde::Deserialize<'de>>(body: &'de [u8]) -> Result<T, Error> {
    parse_body_up_to(body, MAX_BODY_BYTES)
}

/// `parse_body` for the few routes that take more than `MAX_BODY_BYTES`; `T` may borrow from the body.
pub fn parse_body_up_to<'de, T: serde::Deserialize<'de>>(body: &'de [u8], limit: usize) -> Result<T, Error> {
    if body.len() > limit {
        return Err(Error::BodyTooLarge(limit));
    }
    let text = if body.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { body };
    let mut de = serde_json::Deserializer::from_slice(text);
    match serde_path_to_error::deserialize(&mut de) {
        Ok(value) => match de.end() {
            Ok(()) => Ok(value),
            Err(trailing) => Err(Error::MalformedJson(trailing.to_string())),
        },
        Err(err) => {
            let inner = err.inner();
            if inner.is_syntax() || inner.is_eof() {
                return Err(Error::MalformedJson(inner.to_string()));
            }
            let path = err.path().to_string();
            let field = if path == "." { "body".to_owned() } else { path };
            let message = inner.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
            Err(Error::Invalid { field, code: "INVALID_FIELD", message })
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_comes_from_jwt_claim_or_lambda_context_only() {
        let claims = HashMap::from([("tenant_id".to_owned(), "t-1".to_owned())]);
        let lambda = HashMap::from([("tenant_id".to_owned(), serde_json::json!("t-2"))]);
        assert_eq!(tenant_from_authorizer(Some(&claims), None).as_deref(), Some("t-1"));
        assert_eq!(tenant_from_authorizer(None, Some(&lambda)).as_deref(), Some("t-2"));
        assert_eq!(tenant_from_authorizer(None, None), None);
        let blank = HashMap::from([("tenant_id".to_owned(), "  ".to_owned())]);
        assert_eq!(tenant_from_authorizer(Some(&blank), None), None);
        let number = HashMap::from([("tenant_id".to_owned(), serde_json::json!(7))]);
        assert_eq!(tenant_from_authorizer(None, Some(&number)), None);
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        bucket: String,
        nested: Option<Nested>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Nested {
        count: u32,
    }

    #[test]
    fn bodies_that_do_not_fit_name_the_field() {
        let problem = |body: &[u8]| Problem::from(&parse_body::<Body>(body).unwrap_err());
        let p = problem(b"{\"bucket\": 5}");
        assert_eq!((p.status, p.code.as_str()), (422, "INVALID_FIELD"));
        assert!(p.detail.starts_with("bucket: invalid type"), "{}", p.detail);
        let p = problem(b"{\"bucket\": \"b\", \"nested\": {\"count\": -1}}");
        assert!(p.detail.starts_with("nested.count:"), "{}", p.detail);
        let p = problem(b"{\"bucket\": \"b\", \"tenant\": \"t\"}");
        assert!(p.detail.contains("unknown field `tenant`"), "{}", p.detail);
        let p = problem(b"{}");
        assert!(p.detail.contains("missing field `bucket`"), "{}", p.detail);
        assert_eq!(problem(b"{\"bucket\": ").code, "INVALID_JSON");
        assert_eq!(problem(b"{\"bucket\": \"b\"} trailing").code, "INVALID_JSON");
        assert_eq!(problem(b"[1]").status, 422);
        assert_eq!(problem(&vec![b' '; MAX_BODY_BYTES + 1]).status, 413);
        assert!(parse_body::<Body>(b"{\"bucket\": \"b\"}").is_ok());
    }
}
