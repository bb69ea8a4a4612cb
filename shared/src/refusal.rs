//! Why S3 refused to read an object, from its answer: one reading for the `object_read` check
//! and for object inspections, and the fix for each cause. AWS's refusal of a read whose KMS key
//! the caller may not use says "customer master key", not "KMS": both readers must know that.
//! No I/O.

use crate::integration::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// In Glacier, Deep Archive or an Intelligent-Tiering archive tier, not restored.
    Archived,
    /// Encrypted with a KMS key the caller may not decrypt with.
    KmsDenied,
    NotFound,
    AccessDenied,
}

impl Refusal {
    /// The refusal an answer to a GET (or HEAD: no body) carries; `None` for other answers.
    /// Faults (5xx, throttling) are told apart before, by `fault::of_status`.
    pub fn of(status: u16, body: &str) -> Option<Refusal> {
        let code = s3_error_code(body);
        let message = s3_error_message(body);
        let kms = code.starts_with("KMS") || message.contains("KMS") || message.contains("customer master key") || message.contains("kms:");
        match (status, code) {
            (_, "InvalidObjectState") => Some(Refusal::Archived),
            (404, _) => Some(Refusal::NotFound),
            (403, _) if kms => Some(Refusal::KmsDenied),
            (403, _) => Some(Refusal::AccessDenied),
            _ => None,
        }
    }

    /// The code of a prevalidation record or import row.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Archived => "OBJECT_ARCHIVED",
            Refusal::KmsDenied => "KMS_DECRYPT_DENIED",
            Refusal::NotFound => "OBJECT_NOT_FOUND",
            Refusal::AccessDenied => "ACCESS_DENIED",
        }
    }

    /// What is wrong and how to fix it, reading through `conn`. `kms_key` is the object's key
    /// when S3 told it (HEAD); else the integration's, if any; `storage_class` names the tier.
    pub fn fix(self, conn: &Connection, kms_key: Option<&str>, storage_class: Option<&str>) -> String {
        match self {
            Refusal::Archived => {
                let tier = match storage_class {
                    Some("DEEP_ARCHIVE") => "S3 Glacier Deep Archive",
                    Some("INTELLIGENT_TIERING") => "an archive tier of S3 Intelligent-Tiering",
                    _ => "S3 Glacier Flexible Retrieval",
                };
                format!("The object is in {tier} and cannot be read until it is restored. Restore it (S3 console → object → Actions → Initiate restore), or keep data rows in a storage class that is readable at once (STANDARD, STANDARD_IA, GLACIER_IR).")
            }
            Refusal::KmsDenied => match kms_key.or(conn.kms_key_arn.as_ref().map(|k| k.as_str())) {
                Some(key) => format!(
                    "The object is encrypted with the KMS key {key}, which the role may not use to decrypt. Allow kms:Decrypt on {key} in the role's permission policy (the policy we hand out does, once the integration names the key), and allow the role in the key policy."
                ),
                None => "The object is encrypted with a KMS key the role may not use to decrypt. Set the integration's kms_key_arn to that key, allow kms:Decrypt on it in the role's permission policy, and allow the role in the key policy.".to_owned(),
            },
            Refusal::NotFound => "No object with this key exists: it was deleted, or the key is misspelled.".to_owned(),
            Refusal::AccessDenied => format!(
                "The role may not read this object. Allow s3:GetObject on \"arn:{}:s3:::{}/{}*\" in the role's permission policy (the object resource must end in /*), and check that no bucket policy denies the role.",
                conn.role_arn.partition().as_str(),
                conn.bucket,
                conn.prefix
            ),
        }
    }
}

/// The `<Code>` of an S3 XML error body (empty when there is none).
pub fn s3_error_code(body: &str) -> &str {
    xml_element(body, "Code")
}

/// The `<Message>` of an S3 XML error body (empty when there is none).
pub fn s3_error_message(body: &str) -> &str {
    xml_element(body, "Message")
}

fn xml_element<'a>(body: &'a str, name: &str) -> &'a str {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    body.split_once(open.as_str()).and_then(|(_, rest)| rest.split_once(close.as_str())).map(|(value, _)| value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arn::{KmsKeyArn, RoleArn};
    use crate::bucket::BucketName;
    use crate::ids::KeyPrefix;

    fn conn(kms: Option<&str>) -> Connection {
        Connection {
            bucket: BucketName::parse("acme-data").unwrap(),
            role_arn: RoleArn::parse("arn:aws:iam::222222222222:role/r").unwrap(),
            prefix: KeyPrefix::parse("rows/").unwrap(),
            kms_key_arn: kms.map(|k| KmsKeyArn::parse(k).unwrap()),
        }
    }

    /// AWS's answers as S3 sends them (the KMS one does not say "KMS").
    #[test]
    fn refusals_are_told_apart_by_s3s_answer() {
        let kms = "<Error><Code>AccessDenied</Code><Message>The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.</Message></Error>";
        let key = "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        assert_eq!(Refusal::of(403, kms), Some(Refusal::KmsDenied));
        let fix = Refusal::KmsDenied.fix(&conn(None), Some(key), None);
        assert!(fix.contains(key) && fix.contains("kms:Decrypt"), "{fix}");
        assert!(Refusal::KmsDenied.fix(&conn(Some(key)), None, None).contains(key), "the integration's key when S3 did not say");
        assert!(Refusal::KmsDenied.fix(&conn(None), None, None).contains("kms_key_arn"));

        let denied = "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
        assert_eq!(Refusal::of(403, denied), Some(Refusal::AccessDenied));
        assert!(Refusal::AccessDenied.fix(&conn(None), None, None).contains("arn:aws:s3:::acme-data/rows/*"));
        assert_eq!(Refusal::of(403, ""), Some(Refusal::AccessDenied), "HEAD has no body");

        let archived = "<Error><Code>InvalidObjectState</Code><Message>The operation is not valid for the object's storage class</Message></Error>";
        assert_eq!(Refusal::of(403, archived).map(Refusal::code), Some("OBJECT_ARCHIVED"));
        assert!(Refusal::Archived.fix(&conn(None), None, Some("DEEP_ARCHIVE")).contains("Deep Archive"));
        assert_eq!(Refusal::of(404, "<Error><Code>NoSuchKey</Code></Error>"), Some(Refusal::NotFound));
        assert_eq!(Refusal::of(503, "<Error><Code>SlowDown</Code></Error>"), None);
    }

    #[test]
    fn s3_error_bodies_are_read() {
        let body = "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
        assert_eq!((s3_error_code(body), s3_error_message(body)), ("AccessDenied", "Access Denied"));
        assert_eq!(s3_error_code("not xml"), "");
    }
}
