//! IAM role ARNs, the only kind of ARN a customer may give us.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::partition::Partition;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    #[error("the role ARN is empty; paste the Role ARN from the role's Summary page in the IAM console")]
    Empty,
    #[error("the role ARN contains whitespace; paste it again without spaces or line breaks")]
    Whitespace,
    #[error("{0:?} is not an ARN; a role ARN looks like arn:aws:iam::123456789012:role/BucketlinkAccess")]
    NotAnArn(String),
    #[error("partition {0:?} is not supported; use aws, aws-cn or aws-us-gov")]
    Partition(String),
    #[error("this is {kind}, but a role ARN is needed (arn:{partition}:iam::{account}:role/<name>); copy the Role ARN from the role's Summary page")]
    WrongKind { kind: &'static str, partition: String, account: String },
    #[error("the account id {0:?} in the ARN must be exactly 12 digits")]
    Account(String),
    #[error("the role name {0:?} is invalid: 1-64 characters from letters, digits and +=,.@_-")]
    RoleName(String),
    #[error("the role path {0:?} is invalid: it must start and end with / and be at most 512 printable characters")]
    RolePath(String),
    #[error("the role ARN is longer than 2048 characters")]
    TooLong,
}

impl ArnError {
    /// Stable machine-readable code for API responses.
    pub fn code(&self) -> &'static str {
        match self {
            ArnError::WrongKind { .. } => "ROLE_ARN_WRONG_KIND",
            _ => "INVALID_ROLE_ARN",
        }
    }
}

/// A syntactically valid IAM role ARN: `arn:<partition>:iam::<account>:role[/path/]<name>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoleArn {
    arn: String,
    partition: Partition,
    account_start: usize,
    name_start: usize,
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_role_name(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

fn is_role_path(s: &str) -> bool {
    s.len() <= 512 && s.starts_with('/') && s.ends_with('/') && !s.contains("//") && s.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

impl RoleArn {
    pub fn parse(input: &str) -> Result<Self, ArnError> {
        let arn = input.trim();
        if arn.is_empty() {
            return Err(ArnError::Empty);
        }
        if arn.chars().any(char::is_whitespace) {
            return Err(ArnError::Whitespace);
        }
        if arn.len() > 2048 {
            return Err(ArnError::TooLong);
        }
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
            return Err(ArnError::NotAnArn(arn.to_owned()));
        };
        if *prefix != "arn" {
            return Err(ArnError::NotAnArn(arn.to_owned()));
        }
        let partition_value = Partition::parse(partition).ok_or_else(|| ArnError::Partition((*partition).to_owned()))?;
        let wrong = |kind: &'static str| ArnError::WrongKind {
            kind,
            partition: partition_value.as_str().to_owned(),
            account: if is_account(account) { (*account).to_owned() } else { "123456789012".to_owned() },
        };
        match (*service, resource.split('/').next().unwrap_or_default()) {
            ("iam", "role") if region.is_empty() => {}
            ("iam", "user") => return Err(wrong("an IAM user ARN")),
            ("iam", "policy") => return Err(wrong("a policy ARN")),
            ("iam", "group") => return Err(wrong("an IAM group ARN")),
            ("iam", "root") => return Err(wrong("the account root ARN")),
            ("sts", "assumed-role") => return Err(wrong("an assumed-role session ARN (from sts get-caller-identity)")),
            ("sts", _) => return Err(wrong("an STS ARN")),
            ("iam", _) => return Err(wrong("an IAM ARN of another kind")),
            ("s3", _) => return Err(wrong("an S3 ARN (the bucket, not the role)")),
            _ => return Err(wrong("an ARN of another service")),
        }
        if !is_account(account) {
            return Err(ArnError::Account((*account).to_owned()));
        }
        let after_role = &resource["role".len()..];
        let (path, name) = match after_role.rfind('/') {
            Some(i) => (&after_role[..=i], &after_role[i + 1..]),
            None => ("", ""),
        };
        if !is_role_path(path) {
            return Err(ArnError::RolePath(path.to_owned()));
        }
        if !is_role_name(name) {
            return Err(ArnError::RoleName(name.to_owned()));
        }
        let account_start = prefix.len() + partition.len() + service.len() + region.len() + 4;
        Ok(RoleArn { arn: arn.to_owned(), partition: partition_value, account_start, name_start: arn.len() - name.len() })
    }

    pub fn as_str(&self) -> &str {
        &self.arn
    }

    pub fn partition(&self) -> Partition {
        self.partition
    }

    pub fn account_id(&self) -> &str {
        &self.arn[self.account_start..self.account_start + 12]
    }

    pub fn role_name(&self) -> &str {
        &self.arn[self.name_start..]
    }
}

impl fmt::Display for RoleArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

impl TryFrom<String> for RoleArn {
    type Error = ArnError;
    fn try_from(s: String) -> Result<Self, ArnError> {
        RoleArn::parse(&s)
    }
}

impl From<RoleArn> for String {
    fn from(arn: RoleArn) -> String {
        arn.arn
    }
}

/// A KMS key ARN (`arn:<partition>:kms:<region>:<account>:key/<id>`): what `kms:Decrypt` is granted on.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KmsKeyArn(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a KMS key ARN; expected arn:aws:kms:<region>:<account>:key/<key id> (aliases cannot be granted kms:Decrypt)")]
pub struct KmsKeyArnError(pub String);

impl KmsKeyArn {
    pub fn parse(input: &str) -> Result<Self, KmsKeyArnError> {
        let s = input.trim();
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        let valid = match parts.as_slice() {
            ["arn", partition, "kms", region, account, resource] => {
                Partition::parse(partition).is_some()
                    && crate::region::Region::parse(region).is_ok()
                    && is_account(account)
                    && resource
                        .strip_prefix("key/")
                        .is_some_and(|id| !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
            }
            _ => false,
        };
        if valid {
            Ok(KmsKeyArn(s.to_owned()))
        } else {
            Err(KmsKeyArnError(s.to_owned()))
        }
    }

    /// The key's id (after `key/`): what a change event may name it by.
    pub fn key_id(&self) -> &str {
        self.0.rsplit_once("key/").map(|(_, id)| id).unwrap_or_default()
    }

    /// The key's region: an SSE-KMS bucket's key is always in the bucket's region.
    pub fn region(&self) -> &str {
        self.0.split(':').nth(3).unwrap_or_default()
    }
}

string_newtype!(KmsKeyArn, KmsKeyArnError);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn kms_key_arns_are_keys_not_aliases() {
        assert!(KmsKeyArn::parse("arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab").is_ok());
        assert!(KmsKeyArn::parse("arn:aws:kms:eu-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab").is_ok());
        for bad in [
            "arn:aws:kms:eu-west-1:123456789012:alias/my-key",
            "arn:aws:kms::123456789012:key/abc",
            "arn:aws:s3:::bucket",
            "1234abcd-12ab-34cd-56ef-1234567890ab",
        ] {
            assert!(KmsKeyArn::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn accepts_roles_in_every_partition_with_paths() {
        for (input, partition, account, name) in [
            ("arn:aws:iam::123456789012:role/BucketlinkAccess", Partition::Aws, "123456789012", "BucketlinkAccess"),
            ("arn:aws:iam::123456789012:role/team/app/Reader", Partition::Aws, "123456789012", "Reader"),
            ("arn:aws-cn:iam::210987654321:role/r+=,.@_-", Partition::AwsCn, "210987654321", "r+=,.@_-"),
            ("arn:aws-us-gov:iam::000000000001:role/a", Partition::AwsUsGov, "000000000001", "a"),
            ("  arn:aws:iam::123456789012:role/Trimmed\n", Partition::Aws, "123456789012", "Trimmed"),
        ] {
            let arn = RoleArn::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!((arn.partition(), arn.account_id(), arn.role_name()), (partition, account, name));
            assert_eq!(arn.as_str(), input.trim());
        }
    }

    #[test]
    fn names_the_kind_of_arn_that_was_given_instead() {
        for (input, kind) in [
            ("arn:aws:iam::123456789012:user/alice", "IAM user"),
            ("arn:aws:sts::123456789012:assumed-role/Reader/session", "assumed-role"),
            ("arn:aws:iam::123456789012:policy/LabelboxReadAccess", "policy ARN"),
            ("arn:aws:iam::123456789012:root", "account root"),
            ("arn:aws:s3:::my-bucket", "S3 ARN"),
            ("arn:aws:iam::123456789012:group/readers", "group"),
        ] {
            let err = RoleArn::parse(input).unwrap_err();
            assert_eq!(err.code(), "ROLE_ARN_WRONG_KIND", "{input}");
            let text = err.to_string();
            assert!(text.contains(kind) && text.contains("role ARN is needed"), "{input}: {text}");
            assert!(text.contains("arn:aws:iam::123456789012:role/<name>"), "{text}");
        }
    }

    #[test]
    fn refuses_malformed_role_arns() {
        for (input, expected) in [
            ("", ArnError::Empty),
            ("   ", ArnError::Empty),
            ("arn:aws:iam::123456789012:role/My Role", ArnError::Whitespace),
            ("arn:aws:iam::123456789012:role/\tx", ArnError::Whitespace),
            ("123456789012", ArnError::NotAnArn("123456789012".into())),
            ("arn:aws:iam::123456789012", ArnError::NotAnArn("arn:aws:iam::123456789012".into())),
            ("arn:aws-iso:iam::123456789012:role/x", ArnError::Partition("aws-iso".into())),
            ("arn:aws:iam::12345678901:role/x", ArnError::Account("12345678901".into())),
            ("arn:aws:iam::12345678901a:role/x", ArnError::Account("12345678901a".into())),
            ("arn:aws:iam::123456789012:role/", ArnError::RoleName("".into())),
            ("arn:aws:iam::123456789012:role/a*b", ArnError::RoleName("a*b".into())),
            ("arn:aws:iam::123456789012:role//x", ArnError::RolePath("//".into())),
        ] {
            assert_eq!(RoleArn::parse(input), Err(expected), "{input:?}");
        }
        let long_name = format!("arn:aws:iam::123456789012:role/{}", "a".repeat(65));
        assert!(matches!(RoleArn::parse(&long_name), Err(ArnError::RoleName(_))));
        let long_path = format!("arn:aws:iam::123456789012:role/{}/x", "p".repeat(512));
        assert!(matches!(RoleArn::parse(&long_path), Err(ArnError::RolePath(_))));
        assert!(RoleArn::parse("arn:aws:iam:us-east-1:123456789012:role/x").is_err(), "IAM ARNs have no region");
    }

    #[test]
    fn serde_round_trips_and_validates() {
        let arn: RoleArn = serde_json::from_str("\"arn:aws:iam::123456789012:role/x\"").unwrap();
        assert_eq!(serde_json::to_string(&arn).unwrap(), "\"arn:aws:iam::123456789012:role/x\"");
        assert!(serde_json::from_str::<RoleArn>("\"arn:aws:iam::123456789012:user/x\"").is_err());
    }

    proptest! {
        #[test]
        fn any_valid_role_arn_parses_to_its_parts(
            partition in prop::sample::select(vec!["aws", "aws-cn", "aws-us-gov"]),
            account in "[0-9]{12}",
            path in prop::collection::vec("[A-Za-z0-9_+=,.@-]{1,10}", 0..4),
            name in "[A-Za-z0-9+=,.@_-]{1,64}",
            pad in "[ \t\n]{0,3}",
        ) {
            let path = if path.is_empty() { "/".to_owned() } else { format!("/{}/", path.join("/")) };
            let text = format!("{pad}arn:{partition}:iam::{account}:role{path}{name}{pad}");
            let arn = RoleArn::parse(&text).unwrap();
            prop_assert_eq!(arn.partition().as_str(), partition);
            prop_assert_eq!(arn.account_id(), account.as_str());
            prop_assert_eq!(arn.role_name(), name.as_str());
            prop_assert_eq!(RoleArn::parse(arn.as_str()).unwrap(), arn.clone());
        }

        #[test]
        fn parsing_never_panics(input in ".{0,300}") {
            let _ = RoleArn::parse(&input);
        }
    }
}
