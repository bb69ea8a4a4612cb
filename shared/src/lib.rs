//! bucketlink's library: everything the Lambda functions in `functions/` do, minus Lambda.
//!
//! Invariants: nothing here knows Lambda or API Gateway (handlers translate events into these
//! calls); the identifier, URL and policy modules do no I/O.

/// `as_str`, `Display`, and the `String` conversions serde uses, for a validated string newtype
/// whose `parse(&str) -> Result<Self, $error>` does the validating.
macro_rules! string_newtype {
    ($name:ident, $error:ty) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl TryFrom<String> for $name {
            type Error = $error;
            fn try_from(s: String) -> Result<Self, $error> {
                $name::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
    };
}

pub mod arn;
pub mod aws;
pub mod bucket;
pub mod budget;
pub mod change_events;
pub mod checks;
pub mod codes;
pub mod config;
pub mod encoding;
pub mod error;
pub mod external_id;
pub mod fault;
pub mod ids;
pub mod import;
pub mod inspection;
pub mod integration;
pub mod integrations;
pub mod media;
pub mod object_events;
pub mod partition;
pub mod policy;
pub mod presign;
pub mod prevalidation;
pub mod problem;
pub mod record;
pub mod refusal;
pub mod region;
pub mod rotation;
pub mod s3url;
pub mod sign_url;
pub mod status_events;
pub mod store;
pub mod sts;
pub mod sweep;
pub mod telemetry;
pub mod timestamp;
