//! bucketlink's library: everything the Lambda functions in `functions/` do, minus Lambda.
//!
//! Invariant: nothing here knows Lambda or API Gateway; handlers translate events into these calls.

pub mod api;
pub mod aws;
pub mod config;
pub mod events;
pub mod store;
