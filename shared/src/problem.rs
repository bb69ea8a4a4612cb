//! problem+json (RFC 9457) with a stable `code`, and the one place where an error becomes an HTTP
//! status. The rest of the HTTP edge (bodies, the tenant, idempotency) is `functions/apigw`.

use serde::Serialize;

use crate::error::Error;
use crate::fault::Fault;

/// RFC 9457 problem details, plus our stable machine-readable `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    /// Seconds after which a retry may succeed: the `Retry-After` header of a 503.
    #[serde(skip)]
    pub retry_after: Option<u32>,
}

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

impl Problem {
    pub fn new(status: u16, code: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("https://bucketlink.dev/problems/{}", code.to_ascii_lowercase().replace('_', "-")),
            title: title.to_owned(),
            status,
            detail: detail.into(),
            code: code.to_owned(),
            retry_after: None,
        }
    }

    /// AWS failed us: 503 with `Retry-After`, naming the service, blaming nobody's setup.
    pub fn unavailable(fault: &Fault) -> Self {
        let seconds = fault.retry_after_seconds();
        let mut p = Problem::new(
            503,
            fault.code(),
            "AWS is not answering properly",
            format!("{fault}. Nothing is wrong with the request or the customer's setup; retry in {seconds} seconds."),
        );
        p.retry_after = Some(seconds);
        p
    }

    pub fn internal() -> Self {
        Problem::new(500, "INTERNAL", "Internal error", "Something failed on our side; it has been logged. Retry later.")
    }

    pub fn unauthenticated() -> Self {
        Problem::new(
            401,
            "UNAUTHENTICATED",
            "Not authenticated",
            "The request carries no tenant: call through the API's authorizer with a token that has a tenant_id claim.",
        )
    }

    pub fn route_not_found(method: &str, path: &str) -> Self {
        Problem::new(404, "ROUTE_NOT_FOUND", "No such route", format!("{method} {path} is not a route of this API."))
    }

    pub fn integration_not_found(id: &str) -> Self {
        Problem::new(404, "INTEGRATION_NOT_FOUND", "Integration not found", format!("No integration {id} exists for this tenant."))
    }

    pub fn body(&self) -> String {
        serde_json::to_string(self).expect("a Problem always serializes")
    }
}

/// The one mapping from our errors to HTTP. Internal detail is logged by the caller, never returned.
impl From<&Error> for Problem {
    fn from(err: &Error) -> Self {
        match err {
            Error::NotFound(id) => Problem::integration_not_found(id),
            Error::Invalid { field, code, message } => Problem::new(422, code, &format!("Invalid field: {field}"), format!("{field}: {message}")),
            Error::MalformedJson(detail) => Problem::new(400, "INVALID_JSON", "Malformed JSON body", format!("The body is not valid JSON: {detail}.")),
            Error::BodyTooLarge(limit) => Problem::new(413, "BODY_TOO_LARGE", "Body too large", format!("This request's body is limited to {limit} bytes.")),
            Error::Conflict => Problem::new(409, "CONFLICT", "Concurrent update", "The integration was changed by another request; read it again and retry."),
            Error::NotNow { code, title, detail } => Problem::new(409, code, title, detail.clone()),
            Error::NotReady { id, status } => Problem::new(
                409,
                "INTEGRATION_NOT_READY",
                "Integration cannot serve data",
                format!("Integration {id} is {status}; URLs are signed only while its checks let data be read. Fix what they report, then validate it."),
            ),
            Error::RoleRefused(message) => Problem::new(
                502,
                "ROLE_CANNOT_BE_ASSUMED",
                "The customer's role refused us",
                format!("{message}. Validate the integration: its checks say what to fix."),
            ),
            Error::Unavailable(fault) => Problem::unavailable(fault),
            Error::Internal(_) => Problem::internal(),
            Error::RateLimited { retry_after, detail } => {
                let mut p = Problem::new(429, "TENANT_RATE_LIMITED", "Too many rows for now", detail.clone());
                p.retry_after = Some((*retry_after).clamp(1, 3600) as u32);
                p
            }
            Error::IdempotencyMismatch => Problem::new(
                422,
                "IDEMPOTENCY_KEY_REUSED",
                "Idempotency-Key reused",
                "This Idempotency-Key was used for a different request; use a new key for a new request.",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_carry_a_stable_code_and_type() {
        let p = Problem::integration_not_found("01J");
        let v: serde_json::Value = serde_json::from_str(&p.body()).unwrap();
        assert_eq!(v["status"], 404);
        assert_eq!(v["code"], "INTEGRATION_NOT_FOUND");
        assert_eq!(v["type"], "https://bucketlink.dev/problems/integration-not-found");
        assert_eq!(Problem::from(&Error::Conflict).status, 409);
        assert!(!Problem::from(&Error::Internal("secret detail".into())).detail.contains("secret"));
        let busy = Problem::from(&Error::Unavailable(Fault::Throttled(crate::fault::Service::DynamoDb)));
        assert_eq!((busy.status, busy.code.as_str(), busy.retry_after), (503, "AWS_THROTTLED", Some(2)));
        assert!(busy.detail.starts_with("Amazon DynamoDB throttled"), "{}", busy.detail);
    }
}
