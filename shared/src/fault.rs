//! When AWS or the network does not answer properly. Such a failure says nothing about the
//! customer's setup: it never becomes a customer code (`ROLE_CANNOT_BE_ASSUMED`, ...), only an
//! outcome of its own that names the service and asks nothing of the customer.
//!
//! A call to AWS ends in one of three ways: an answer, a refusal (AWS answered, and the answer is
//! about the request: `AccessDenied`, `NoSuchBucket`, a CORS answer without our origin), or a
//! fault (5xx, throttling after the retries, a timeout, a connection reset or refused, DNS).

use std::fmt;

use aws_runtime::retries::classifiers::THROTTLING_ERRORS;
use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Service {
    Sts,
    S3,
    DynamoDb,
    Sqs,
    EventBridge,
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Sts => "AWS STS",
            Service::S3 => "Amazon S3",
            Service::DynamoDb => "Amazon DynamoDB",
            Service::Sqs => "Amazon SQS",
            Service::EventBridge => "Amazon EventBridge",
        })
    }
}

/// AWS or the network failed us. The text never holds a URL (a signed URL carries a session
/// token), only the service and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    #[error("{0} did not answer in time")]
    TimedOut(Service),
    #[error("{0} throttled our requests, also when retried")]
    Throttled(Service),
    #[error("{service} did not answer properly ({detail})")]
    Unavailable { service: Service, detail: String },
}

impl Fault {
    pub fn unavailable(service: Service, detail: impl Into<String>) -> Self {
        Fault::Unavailable { service, detail: detail.into() }
    }

    pub fn service(&self) -> Service {
        match self {
            Fault::TimedOut(s) | Fault::Throttled(s) => *s,
            Fault::Unavailable { service, .. } => *service,
        }
    }

    /// The stable code of the outcome: in check results, records, import rows and problems.
    pub fn code(&self) -> &'static str {
        match self {
            Fault::TimedOut(_) => "AWS_TIMED_OUT",
            Fault::Throttled(_) => "AWS_THROTTLED",
            Fault::Unavailable { .. } => "AWS_UNAVAILABLE",
        }
    }

    /// When a caller may usefully try again.
    pub fn retry_after_seconds(&self) -> u32 {
        match self {
            Fault::Throttled(_) => 2,
            Fault::TimedOut(_) | Fault::Unavailable { .. } => 5,
        }
    }
}

/// A failed call: AWS's refusal of the request, or a fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Refused { code: String, message: String },
    Fault(Fault),
}

impl From<Fault> for Failure {
    fn from(fault: Fault) -> Self {
        Failure::Fault(fault)
    }
}

fn is_throttling(code: &str) -> bool {
    THROTTLING_ERRORS.contains(&code)
}

/// AWS refused the credentials bucketlink signed with (its own, or a session it was given): a
/// refusal of ours, never of the customer's setup.
const OUR_CREDENTIALS_REFUSED: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "InvalidToken",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "RequestTimeTooSkewed",
];

/// A fault by its answer's status and code (5xx, throttling such as S3's `SlowDown`, our own
/// credentials refused), or `None` for an answer about the request.
pub fn of_status(service: Service, status: u16, code: &str) -> Option<Fault> {
    if is_throttling(code) {
        Some(Fault::Throttled(service))
    } else if status >= 500 {
        Some(Fault::unavailable(service, format!("HTTP {status} {code}").trim_end().to_owned()))
    } else if OUR_CREDENTIALS_REFUSED.contains(&code) {
        Some(Fault::unavailable(service, format!("it refused bucketlink's credentials: {code}")))
    } else {
        None
    }
}

/// What a failed AWS SDK call means. Only a well-formed 4xx answer that is not throttling is a
/// refusal; everything else is AWS's or the network's doing.
pub fn of_sdk<E>(service: Service, err: &SdkError<E, aws_smithy_runtime_api::http::Response>) -> Failure
where
    E: ProvideErrorMetadata,
{
    match err {
        SdkError::TimeoutError(_) => Fault::TimedOut(service).into(),
        SdkError::DispatchFailure(d) if d.is_timeout() => Fault::TimedOut(service).into(),
        SdkError::DispatchFailure(d) if d.is_io() => Fault::unavailable(service, "the connection failed").into(),
        SdkError::DispatchFailure(_) => Fault::unavailable(service, "the request could not be sent").into(),
        SdkError::ResponseError(_) => Fault::unavailable(service, "the answer could not be read").into(),
        SdkError::ServiceError(ctx) => {
            let code = ctx.err().code().unwrap_or_default();
            match of_status(service, ctx.raw().status().as_u16(), code) {
                Some(fault) => fault.into(),
                None => Failure::Refused { code: code.to_owned(), message: ctx.err().message().unwrap_or(code).to_owned() },
            }
        }
        // Building the request failed: our bug, but no answer about the customer either.
        _ => Fault::unavailable(service, "the request could not be built").into(),
    }
}

/// A transport failure of a plain HTTP request (a presigned URL, a CORS preflight). Built from
/// the error's kind only: reqwest's own text carries the URL.
pub fn of_http(service: Service, err: &reqwest::Error) -> Fault {
    if err.is_timeout() {
        Fault::TimedOut(service)
    } else if err.is_connect() {
        Fault::unavailable(service, "the connection failed")
    } else if err.is_body() || err.is_decode() {
        Fault::unavailable(service, "the answer could not be read")
    } else {
        Fault::unavailable(service, "the connection failed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_codes_tell_faults_from_refusals() {
        assert_eq!(of_status(Service::S3, 403, "AccessDenied"), None);
        assert_eq!(of_status(Service::S3, 404, "NoSuchKey"), None);
        assert_eq!(of_status(Service::S3, 503, "SlowDown"), Some(Fault::Throttled(Service::S3)));
        assert_eq!(of_status(Service::Sts, 400, "Throttling"), Some(Fault::Throttled(Service::Sts)));
        let fault = of_status(Service::S3, 500, "InternalError").unwrap();
        assert_eq!((fault.code(), fault.to_string().as_str()), ("AWS_UNAVAILABLE", "Amazon S3 did not answer properly (HTTP 500 InternalError)"));
        assert_eq!(of_status(Service::S3, 502, "").unwrap().to_string(), "Amazon S3 did not answer properly (HTTP 502)");
        let ours = of_status(Service::S3, 403, "SignatureDoesNotMatch").unwrap();
        assert!(ours.to_string().contains("refused bucketlink's credentials"), "never the customer's setup: {ours}");
    }

    #[test]
    fn faults_name_the_service_and_a_code() {
        assert_eq!(Fault::TimedOut(Service::DynamoDb).to_string(), "Amazon DynamoDB did not answer in time");
        assert_eq!(Fault::Throttled(Service::Sts).code(), "AWS_THROTTLED");
        assert_eq!(Fault::Throttled(Service::Sts).retry_after_seconds(), 2);
    }
}
