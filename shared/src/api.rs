//! What the HTTP functions speak: problem+json errors with a stable `code`, the one place where an
//! error becomes an HTTP status, and the tenant taken from the authorizer (never from the request).

use std::collections::HashMap;

use serde::Serialize;

use crate::store::StoreError;

/// RFC 9457 problem details, plus our stable machine-readable `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
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
        }
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
impl From<&StoreError> for Problem {
    fn from(err: &StoreError) -> Self {
        match err {
            StoreError::Conflict => Problem::new(
                409,
                "CONFLICT",
                "Concurrent update",
                "The integration was changed by another request; read it again and retry.",
            ),
            StoreError::Throttled => Problem::new(503, "THROTTLED", "Try again shortly", "The store is busy; retry with backoff."),
            StoreError::Unavailable(_) | StoreError::Corrupt(_) => Problem::new(
                500,
                "INTERNAL",
                "Internal error",
                "Something failed on our side; it has been logged. Retry later.",
            ),
        }
    }
}

/// The tenant, from a JWT authorizer's `tenant_id` claim or a Lambda authorizer's `tenant_id` context.
pub fn tenant_from_authorizer(
    jwt_claims: Option<&HashMap<String, String>>,
    lambda_context: Option<&HashMap<String, serde_json::Value>>,
) -> Option<String> {
    let from_jwt = jwt_claims.and_then(|c| c.get("tenant_id")).map(|s| s.trim().to_owned());
    let from_lambda = lambda_context
        .and_then(|c| c.get("tenant_id"))
        .and_then(|v| v.as_str())
        .map(|s| s.trim().to_owned());
    from_jwt.or(from_lambda).filter(|t| !t.is_empty())
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

    #[test]
    fn problems_carry_a_stable_code_and_type() {
        let p = Problem::integration_not_found("01J");
        let v: serde_json::Value = serde_json::from_str(&p.body()).unwrap();
        assert_eq!(v["status"], 404);
        assert_eq!(v["code"], "INTEGRATION_NOT_FOUND");
        assert_eq!(v["type"], "https://bucketlink.dev/problems/integration-not-found");
        assert_eq!(Problem::from(&StoreError::Conflict).status, 409);
        assert!(!Problem::from(&StoreError::Unavailable("secret detail".into())).detail.contains("secret"));
    }
}
