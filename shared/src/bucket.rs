//! S3 general-purpose bucket names, with every naming rule S3 enforces.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} is not a valid S3 bucket name: {reason}")]
pub struct BucketError {
    pub name: String,
    pub reason: &'static str,
}

impl BucketError {
    pub fn code(&self) -> &'static str {
        "INVALID_BUCKET_NAME"
    }
}

/// A valid general-purpose bucket name. Names with dots are valid but cannot be addressed
/// virtual-hosted over HTTPS (the wildcard certificate does not cover them): we sign them path-style.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BucketName(String);

const FORBIDDEN_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
const FORBIDDEN_SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

fn looks_like_ipv4(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() == 4 && parts.iter().all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
}

impl BucketName {
    pub fn parse(input: &str) -> Result<Self, BucketError> {
        let name = input.trim();
        let fail = |reason| Err(BucketError { name: name.to_owned(), reason });
        if !(3..=63).contains(&name.len()) {
            return fail("it must be 3 to 63 characters long");
        }
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            return fail("it must be lowercase");
        }
        if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-') {
            return fail("only lowercase letters, digits, dots and hyphens are allowed");
        }
        let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if !edge_ok(name.as_bytes()[0]) || !edge_ok(name.as_bytes()[name.len() - 1]) {
            return fail("it must begin and end with a letter or digit");
        }
        if name.contains("..") {
            return fail("it must not contain two adjacent dots");
        }
        if name.contains(".-") || name.contains("-.") {
            return fail("a dot must not be next to a hyphen");
        }
        if looks_like_ipv4(name) {
            return fail("it must not be formatted as an IP address");
        }
        if FORBIDDEN_PREFIXES.iter().any(|p| name.starts_with(p)) {
            return fail("it must not start with xn--, sthree- or amzn-s3-demo-");
        }
        if FORBIDDEN_SUFFIXES.iter().any(|s| name.ends_with(s)) {
            return fail("it must not end with -s3alias, --ol-s3, .mrap, --x-s3 or --table-s3");
        }
        Ok(BucketName(name.to_owned()))
    }

    /// Dotted names break virtual-hosted HTTPS; such buckets are addressed path-style.
    pub fn has_dots(&self) -> bool {
        self.0.contains('.')
    }
}

string_newtype!(BucketName, BucketError);

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Valid bucket names, including dotted ones.
    pub fn bucket_names() -> impl Strategy<Value = BucketName> {
        "[a-z0-9][a-z0-9-]{1,20}(\\.[a-z0-9][a-z0-9-]{0,10}[a-z0-9])?[a-z0-9]".prop_filter_map("valid bucket", |s| BucketName::parse(&s).ok())
    }

    #[test]
    fn accepts_valid_names_and_flags_dots() {
        for name in ["abc", "my-bucket-1", "acme.data.prod", "a1b", &"a".repeat(63), "123"] {
            let b = BucketName::parse(name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(b.has_dots(), name.contains('.'));
        }
        assert_eq!(BucketName::parse(" padded-name ").unwrap().as_str(), "padded-name");
    }

    #[test]
    fn refuses_every_rule_break() {
        for (name, reason) in [
            ("ab", "3 to 63"),
            (&"a".repeat(64) as &str, "3 to 63"),
            ("My-Bucket", "lowercase"),
            ("my_bucket", "only lowercase"),
            ("-bucket", "begin and end"),
            ("bucket-", "begin and end"),
            (".bucket", "begin and end"),
            ("my..bucket", "adjacent dots"),
            ("my.-bucket", "next to a hyphen"),
            ("192.168.5.4", "IP address"),
            ("xn--bucket", "xn--"),
            ("sthree-bucket", "sthree-"),
            ("sthree-configurator", "sthree-"),
            ("amzn-s3-demo-bucket", "amzn-s3-demo-"),
            ("bucket-s3alias", "-s3alias"),
            ("bucket--ol-s3", "--ol-s3"),
            ("bucket.mrap", ".mrap"),
            ("bucket--x-s3", "--x-s3"),
            ("bucket--table-s3", "--table-s3"),
            ("bücket", "only lowercase"),
            ("CustomerBucketARN", "lowercase"),
        ] {
            let err = BucketName::parse(name).expect_err(name);
            assert!(err.to_string().contains(reason), "{name}: {err}");
        }
    }

    proptest! {
        #[test]
        fn parse_is_idempotent(b in bucket_names()) {
            prop_assert_eq!(BucketName::parse(b.as_str()).unwrap(), b);
        }

        #[test]
        fn never_panics(s in ".{0,80}") {
            let _ = BucketName::parse(&s);
        }
    }
}
