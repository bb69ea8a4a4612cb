//! What a use case can fail with, whichever one it is. HTTP statuses are not known here: the
//! one mapping to problem+json is in `api`.

use crate::fault::Fault;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("integration {0} not found")]
    NotFound(String),
    #[error("{field}: {message}")]
    Invalid { field: String, code: &'static str, message: String },
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("body too large")]
    BodyTooLarge(usize),
    #[error("concurrent update")]
    Conflict,
    /// The request cannot be done in the integration's present state (a rotation's step).
    #[error("{detail}")]
    NotNow { code: &'static str, title: &'static str, detail: String },
    #[error("integration {id} is {status}")]
    NotReady { id: String, status: &'static str },
    /// The integration's role refused us: the customer's setup, which the checks explain.
    #[error("{0}")]
    RoleRefused(String),
    /// AWS or the network failed us; nothing about the request or the customer's setup.
    #[error(transparent)]
    Unavailable(Fault),
    /// Our own defect or configuration (a refused DynamoDB request, a corrupt item).
    #[error("internal: {0}")]
    Internal(String),
    #[error("Idempotency-Key reused for a different request")]
    IdempotencyMismatch,
    /// A tenant's share of a heavy operation is spent for now.
    #[error("{detail}")]
    RateLimited { retry_after: u64, detail: String },
}

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict => Error::Conflict,
            StoreError::Unavailable(fault) => Error::Unavailable(fault),
            StoreError::Failed(detail) | StoreError::Corrupt(detail) => Error::Internal(detail),
        }
    }
}

impl From<Fault> for Error {
    fn from(fault: Fault) -> Self {
        Error::Unavailable(fault)
    }
}
