//! bucketlink's library: everything the Lambda functions in `functions/` do, minus Lambda.
//!
//! Invariants: nothing here knows Lambda or API Gateway (handlers translate events into these
//! calls); the identifier, URL and policy modules do no I/O.

pub mod api;
pub mod arn;
pub mod aws;
pub mod bucket;
pub mod checks;
pub mod config;
pub mod events;
pub mod external_id;
pub mod ids;
pub mod integration;
pub mod policy;
pub mod region;
pub mod s3url;
pub mod service;
pub mod sign;
pub mod signing;
pub mod store;
pub mod sts;
