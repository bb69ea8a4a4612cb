//! A customer's change to what an integration depends on, as AWS announces it: an "AWS API Call
//! via CloudTrail" event that the customer's default bus forwards to ours. Only the changes that
//! can break (or repair) an integration count, each naming the role, bucket or key it touched,
//! and the account it happened in. No I/O.

use serde::Deserialize;
use serde_json::Value;

/// The IAM calls that change what a role trusts or may do.
pub const IAM_CALLS: [&str; 6] = ["UpdateAssumeRolePolicy", "PutRolePolicy", "DeleteRolePolicy", "AttachRolePolicy", "DetachRolePolicy", "DeleteRole"];
/// The S3 calls that change who may read a bucket, from where, or how it is encrypted.
pub const S3_CALLS: [&str; 7] =
    ["PutBucketCors", "DeleteBucketCors", "PutBucketPolicy", "DeleteBucketPolicy", "PutBucketEncryption", "DeleteBucketEncryption", "DeleteBucket"];
/// The KMS calls that change whether a key decrypts for the role.
pub const KMS_CALLS: [&str; 4] = ["PutKeyPolicy", "DisableKey", "ScheduleKeyDeletion", "EnableKey"];

pub const DETAIL_TYPE: &str = "AWS API Call via CloudTrail";

/// What was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Touched {
    /// A role, by name (IAM names roles within the event's account).
    Role(String),
    Bucket(String),
    /// A KMS key, by its id (a call may name it by id or by ARN).
    Key(String),
}

/// One change an integration may depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The account the change happened in, as EventBridge stamped it (never the caller's word).
    pub account: String,
    pub call: String,
    pub touched: Touched,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "detail-type")]
    detail_type: String,
    source: String,
    account: String,
    detail: Detail,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    event_name: String,
    #[serde(default)]
    request_parameters: Option<Value>,
    #[serde(default)]
    recipient_account_id: Option<String>,
    #[serde(default)]
    error_code: Option<String>,
}

impl Change {
    /// The change an event announces, if it is one that matters; `None` for every other event
    /// (other calls, calls that failed, events that contradict their own account).
    pub fn of(event: &Value) -> Option<Change> {
        let envelope: Envelope = serde_json::from_value(event.clone()).ok()?;
        if envelope.detail_type != DETAIL_TYPE || envelope.detail.error_code.is_some() {
            return None;
        }
        if envelope.detail.recipient_account_id.as_deref().is_some_and(|r| r != envelope.account) {
            return None;
        }
        let parameters = envelope.detail.request_parameters.as_ref()?;
        let named = |field: &str| parameters.get(field).and_then(Value::as_str).filter(|v| !v.is_empty()).map(str::to_owned);
        let call = envelope.detail.event_name.as_str();
        let touched = match envelope.source.as_str() {
            "aws.iam" if IAM_CALLS.contains(&call) => Touched::Role(named("roleName")?),
            "aws.s3" if S3_CALLS.contains(&call) => Touched::Bucket(named("bucketName")?),
            "aws.kms" if KMS_CALLS.contains(&call) => Touched::Key(key_id(&named("keyId")?)?.to_owned()),
            _ => return None,
        };
        let account = envelope.account;
        let valid_account = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
        valid_account.then(|| Change { account, call: call.to_owned(), touched })
    }
}

/// The id of the key a call named (`keyId`: a key id, or a key ARN); `None` for an alias,
/// which these calls do not take.
fn key_id(named: &str) -> Option<&str> {
    match named.rsplit_once(":key/") {
        Some((_, id)) => Some(id),
        None if named.starts_with("arn:") || named.starts_with("alias/") => None,
        None => Some(named),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(source: &str, call: &str, parameters: Value) -> Value {
        json!({"version": "0", "id": "x", "detail-type": DETAIL_TYPE, "source": source, "account": "222222222222",
            "time": "2026-11-30T10:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {"eventSource": "x.amazonaws.com", "eventName": call, "requestParameters": parameters, "recipientAccountId": "222222222222"}})
    }

    #[test]
    fn the_changes_that_matter_are_read_with_what_they_touched() {
        let role = Change::of(&event("aws.iam", "UpdateAssumeRolePolicy", json!({"roleName": "BucketlinkAccess-01J", "policyDocument": "{}"}))).unwrap();
        assert_eq!((role.account.as_str(), role.touched), ("222222222222", Touched::Role("BucketlinkAccess-01J".into())));
        let bucket = Change::of(&event("aws.s3", "PutBucketCors", json!({"bucketName": "acme-data", "cors": {}}))).unwrap();
        assert_eq!(bucket.touched, Touched::Bucket("acme-data".into()));
        let key = Change::of(&event("aws.kms", "DisableKey", json!({"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}))).unwrap();
        assert_eq!(key.touched, Touched::Key("1234abcd-12ab-34cd-56ef-1234567890ab".into()));
    }

    #[test]
    fn other_events_are_none() {
        assert_eq!(Change::of(&event("aws.iam", "CreateUser", json!({"userName": "bob"}))), None, "a call that changes nothing of ours");
        assert_eq!(Change::of(&event("aws.s3", "PutObject", json!({"bucketName": "acme-data"}))), None);
        let mut failed = event("aws.iam", "DeleteRole", json!({"roleName": "r"}));
        failed["detail"]["errorCode"] = json!("AccessDenied");
        assert_eq!(Change::of(&failed), None, "a call that failed changed nothing");
        let mut contradicting = event("aws.iam", "DeleteRole", json!({"roleName": "r"}));
        contradicting["detail"]["recipientAccountId"] = json!("333333333333");
        assert_eq!(Change::of(&contradicting), None);
        assert_eq!(Change::of(&json!({"source": "aws.scheduler"})), None);
        assert_eq!(Change::of(&event("aws.iam", "DeleteRole", json!({}))), None, "names no role");
    }

    #[test]
    fn a_key_is_named_by_its_id_or_its_arn() {
        let id = "1234abcd-12ab-34cd-56ef-1234567890ab";
        assert_eq!(key_id(&format!("arn:aws:kms:eu-west-1:222222222222:key/{id}")), Some(id));
        assert_eq!(key_id(id), Some(id));
        assert_eq!(key_id("alias/other"), None);
        let by_arn = Change::of(&event("aws.kms", "PutKeyPolicy", json!({"keyId": format!("arn:aws:kms:eu-west-1:222222222222:key/{id}")}))).unwrap();
        assert_eq!(by_arn.touched, Touched::Key(id.into()));
    }
}
