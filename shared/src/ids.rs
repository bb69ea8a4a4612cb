//! Tenant ids, integration ids and key prefixes: newtypes that can only hold valid values.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("tenant id {0:?} is invalid: 1-128 characters from letters, digits and ._:@|-")]
    Tenant(String),
    #[error("integration id {0:?} is invalid: expected a 26-character id such as 01JD7ZK3Q4W8X9Y0ABCDEFGHJK")]
    Integration(String),
    #[error("key prefix {0:?} is invalid: at most 1024 bytes, no leading /, no control characters, and none of * ? $ (IAM reads them as wildcards and variables, so the policy would grant more than the prefix)")]
    Prefix(String),
}

/// Who owns an integration; taken from the authorizer only.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);
string_newtype!(TenantId, IdError);

impl TenantId {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let ok = (1..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:@|-".contains(&b));
        if ok {
            Ok(TenantId(s.to_owned()))
        } else {
            Err(IdError::Tenant(s.to_owned()))
        }
    }
}

/// A ULID: sorts by creation time, and its 80 random bits make it unguessable.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IntegrationId(String);
string_newtype!(IntegrationId, IdError);

impl IntegrationId {
    pub fn generate() -> Self {
        IntegrationId(ulid::Ulid::new().to_string())
    }

    pub fn parse(s: &str) -> Result<Self, IdError> {
        match ulid::Ulid::from_string(s) {
            Ok(id) if s.len() == 26 => Ok(IntegrationId(id.to_string())),
            _ => Err(IdError::Integration(s.to_owned())),
        }
    }
}

/// The part of a bucket an integration may read; empty means the whole bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyPrefix(String);
string_newtype!(KeyPrefix, IdError);

impl KeyPrefix {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        // Pasted raw into resource ARNs and `s3:prefix` conditions: `*`, `?` and `${...}` there
        // would widen what the policy grants beyond what we show.
        let ok = s.len() <= 1024 && !s.starts_with('/') && !s.chars().any(|c| c.is_control() || matches!(c, '*' | '?' | '$'));
        if ok {
            Ok(KeyPrefix(s.to_owned()))
        } else {
            Err(IdError::Prefix(s.to_owned()))
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains_key(&self, key: &str) -> bool {
        key.starts_with(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integration_ids_are_unique_sortable_and_parse_back() {
        let a = IntegrationId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = IntegrationId::generate();
        assert_ne!(a, b);
        assert!(a < b, "later ids sort after earlier ones");
        assert_eq!(IntegrationId::parse(a.as_str()).unwrap(), a);
        assert_eq!(IntegrationId::parse(&a.as_str().to_lowercase()).unwrap(), a, "case-insensitive, normalized");
        for bad in ["", "01JD7ZK3Q4W8X9Y0ABCDEFGHJ", "01JD7ZK3Q4W8X9Y0ABCDEFGHJKX", "01JD7ZK3Q4W8X9Y0ABCDEFGHJU", "../../etc"] {
            assert!(IntegrationId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tenants_and_prefixes_are_validated() {
        assert!(TenantId::parse("tenant-acme").is_ok());
        assert!(TenantId::parse("org:42|team@x.y").is_ok());
        for bad in ["", "a#b", "has space", &"t".repeat(129)] {
            assert!(TenantId::parse(bad).is_err(), "{bad}");
        }
        let prefix = KeyPrefix::parse("images/2024/").unwrap();
        assert!(prefix.contains_key("images/2024/cat.jpg"));
        assert!(!prefix.contains_key("images/2023/cat.jpg"));
        assert!(KeyPrefix::parse("").unwrap().contains_key("anything"));
        for bad in ["/images", "a\nb", &"p".repeat(1025), "*", "images/*", "img?/", "${aws:username}/"] {
            assert!(KeyPrefix::parse(bad).is_err(), "{bad:?}");
        }
    }
}
