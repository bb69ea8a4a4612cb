//! One object, inspected through the integration's role: HEAD for size, storage class and
//! encryption, then its first bytes through a presigned GET to learn what it really is. The
//! outcome is a record a person can act on: `ready`, or `rejected` with a code and the fix.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::budget::{self, Deadline};
use crate::fault::{self, Failure, Fault, Service};
use crate::integration::{now_rfc3339, Connection, Integration};
use crate::media::{self, DataType, SNIFF_BYTES};
use crate::s3url::Addressing;
use crate::sign::{Endpoint, Method, Target};
use crate::sts::CredentialCache;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectStatus {
    Ready,
    Rejected,
}

impl ObjectStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectStatus::Ready => "ready",
            ObjectStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [ObjectStatus::Ready, ObjectStatus::Rejected].into_iter().find(|v| v.as_str() == s)
    }
}

/// What we know of one object, for one integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRecord {
    pub integration: String,
    pub bucket: String,
    pub key: String,
    pub status: ObjectStatus,
    /// `READY`, or why not: `OBJECT_ARCHIVED`, `KMS_DECRYPT_DENIED`, `ACCESS_DENIED`,
    /// `UNSUPPORTED_MEDIA_TYPE`, `TOO_LARGE`, `EMPTY_OBJECT`, `OBJECT_NOT_FOUND`.
    pub code: String,
    pub reason: String,
    pub data_type: Option<DataType>,
    /// The media type the bytes have (sniffed, not claimed).
    pub media_type: Option<String>,
    pub size: Option<u64>,
    pub content_type: Option<String>,
    pub storage_class: Option<String>,
    pub kms_key_id: Option<String>,
    pub etag: Option<String>,
    /// Where the name or `Content-Type` says something else than the bytes.
    pub notes: Vec<String>,
    pub checked_at: String,
}

/// Upper size per data type; set with `BUCKETLINK_MAX_OBJECT_BYTES` (`image=100MiB,video=20GiB`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SizeLimits([u64; 7]);

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

impl Default for SizeLimits {
    fn default() -> Self {
        // Order of DataType::ALL: image, video, audio, text, document, html, geospatial.
        SizeLimits([100 * MIB, 20 * GIB, 2 * GIB, 50 * MIB, 500 * MIB, 50 * MIB, 10 * GIB])
    }
}

impl SizeLimits {
    pub fn of(&self, data_type: DataType) -> u64 {
        self.0[DataType::ALL.iter().position(|t| *t == data_type).unwrap_or_default()]
    }

    /// `type=size` pairs separated by commas; sizes in bytes or with KiB/MiB/GiB; unnamed types keep their default.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut limits = SizeLimits::default();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, size) = pair.split_once('=').ok_or_else(|| format!("{pair:?} is not type=size"))?;
            let data_type = DataType::ALL.into_iter().find(|t| t.as_str() == name.trim()).ok_or_else(|| format!("unknown data type {name:?}"))?;
            let size = size.trim();
            let (digits, unit) = size.find(|c: char| !c.is_ascii_digit()).map_or((size, ""), |i| size.split_at(i));
            let factor = match unit {
                "" | "B" => 1,
                "KiB" => 1 << 10,
                "MiB" => MIB,
                "GiB" => GIB,
                _ => return Err(format!("unknown size unit {unit:?} (use B, KiB, MiB or GiB)")),
            };
            let bytes = digits.parse::<u64>().ok().and_then(|d| d.checked_mul(factor)).filter(|b| *b > 0).ok_or_else(|| format!("bad size {size:?}"))?;
            limits.0[DataType::ALL.iter().position(|t| *t == data_type).unwrap_or_default()] = bytes;
        }
        Ok(limits)
    }
}

/// Reads objects through integrations' roles; built once per cold start.
#[derive(Debug)]
pub struct Inspector {
    credentials: CredentialCache,
    http: reqwest::Client,
    endpoint: Endpoint,
    force_path_style: bool,
    limits: SizeLimits,
}

const URL_LIFETIME: Duration = Duration::from_secs(120);

/// What HEAD told.
#[derive(Debug, Default)]
struct Head {
    size: Option<u64>,
    content_type: Option<String>,
    storage_class: Option<String>,
    restored: bool,
    archive_status: Option<String>,
    kms_key_id: Option<String>,
    etag: Option<String>,
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= GIB => format!("{:.1} GiB", b as f64 / GIB as f64),
        b if b >= MIB => format!("{:.1} MiB", b as f64 / MIB as f64),
        b if b >= 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}

/// Why a read of an object that exists was refused, from S3's answer to the GET.
pub fn refusal(status: u16, body: &str, integration: &Integration, kms_key_id: Option<&str>) -> Option<(&'static str, String)> {
    let s3_code = fault::s3_error_code(body);
    let message = fault::s3_error_message(body);
    let bucket = integration.bucket.as_ref().map(|b| b.as_str()).unwrap_or_default();
    let partition = integration.role_arn.as_ref().map(|r| r.partition().as_str()).unwrap_or("aws");
    match (status, s3_code) {
        (_, "InvalidObjectState") => Some(("OBJECT_ARCHIVED", archived_reason(None))),
        (404, _) => Some(("OBJECT_NOT_FOUND", "No object with this key exists: it was deleted, or the key is misspelled.".to_owned())),
        (403, code) if code.starts_with("KMS") || message.contains("KMS") || message.contains("customer master key") || message.contains("kms:") => {
            let key = kms_key_id.or(integration.kms_key_arn.as_ref().map(|k| k.as_str())).unwrap_or("the object's KMS key");
            Some((
                "KMS_DECRYPT_DENIED",
                format!("The object is encrypted with {key}, which the role may not use to decrypt. Allow kms:Decrypt on {key} in the role's permission policy, and allow the role in the key policy."),
            ))
        }
        (403, _) => Some((
            "ACCESS_DENIED",
            format!(
                "The role may not read this object. Allow s3:GetObject on \"arn:{partition}:s3:::{bucket}/{}*\" in the role's permission policy, and check that no bucket policy denies the role.",
                integration.prefix
            ),
        )),
        _ => None,
    }
}

fn archived_reason(storage_class: Option<&str>) -> String {
    let tier = match storage_class {
        Some("DEEP_ARCHIVE") => "S3 Glacier Deep Archive",
        Some("INTELLIGENT_TIERING") => "an archive tier of S3 Intelligent-Tiering",
        _ => "S3 Glacier Flexible Retrieval",
    };
    format!("The object is in {tier} and cannot be read until it is restored. Restore it (S3 console → object → Actions → Initiate restore), or keep data rows in a storage class that is readable at once (STANDARD, STANDARD_IA, GLACIER_IR).")
}

impl Inspector {
    pub fn new(credentials: CredentialCache, endpoint: Endpoint, force_path_style: bool, limits: SizeLimits) -> Self {
        Inspector { credentials, http: budget::http_client(), endpoint, force_path_style, limits }
    }

    /// Inspects `key` through the role of `integration` (connected as `conn`), within
    /// `budget::INSPECTION`. `Err` only when AWS did not answer properly, which says nothing
    /// about the object; every verdict about the object is a record.
    pub async fn inspect(&self, integration: &Integration, conn: &Connection, key: &str) -> Result<ObjectRecord, Fault> {
        let deadline = Deadline::after(budget::INSPECTION);
        let bucket = &conn.bucket;
        let mut record = ObjectRecord {
            integration: integration.id.to_string(),
            bucket: bucket.to_string(),
            key: key.to_owned(),
            status: ObjectStatus::Rejected,
            code: String::new(),
            reason: String::new(),
            data_type: None,
            media_type: None,
            size: None,
            content_type: None,
            storage_class: None,
            kms_key_id: None,
            etag: None,
            notes: Vec::new(),
            checked_at: now_rfc3339(),
        };
        let reject = |mut record: ObjectRecord, code: &str, reason: String| {
            record.code = code.to_owned();
            record.reason = reason;
            Ok(record)
        };
        let session = match deadline.call(Service::Sts, self.credentials.session(&integration.id, conn, &integration.external_id, URL_LIFETIME)).await {
            Ok(session) => session,
            Err(Failure::Fault(fault)) => return Err(fault),
            Err(Failure::Refused { code, message }) => {
                return reject(
                    record,
                    "ACCESS_DENIED",
                    format!("The integration's role cannot be assumed ({code}: {message}); validate the integration and fix its trust policy."),
                );
            }
        };
        let region = integration.region.as_ref().map(|r| r.as_str()).unwrap_or("us-east-1");
        let path_style = Addressing::for_bucket(bucket, self.force_path_style) == Addressing::Path;
        let target = Target { region, bucket: bucket.as_str(), key, path_style };
        let now = SystemTime::now();

        let head_url = session.signer.presign(Method::Head, &self.endpoint, &target, now, URL_LIFETIME);
        let response = deadline.call(Service::S3, async { self.http.head(head_url).send().await.map_err(|e| fault::of_http(Service::S3, &e)) }).await?;
        match response.status().as_u16() {
            200 => {}
            404 => return reject(record, "OBJECT_NOT_FOUND", "No object with this key exists: it was deleted, or the key is misspelled.".to_owned()),
            403 => {
                let (code, reason) = refusal(403, "", integration, None).expect("403 is a refusal");
                return reject(record, code, reason);
            }
            status => {
                return Err(fault::of_status(Service::S3, status, "").unwrap_or_else(|| Fault::unavailable(Service::S3, format!("HEAD answered HTTP {status}"))))
            }
        }
        let head = Head {
            size: header(&response, "content-length").and_then(|v| v.parse().ok()),
            content_type: header(&response, "content-type"),
            storage_class: header(&response, "x-amz-storage-class"),
            restored: header(&response, "x-amz-restore").is_some_and(|v| v.contains("ongoing-request=\"false\"")),
            archive_status: header(&response, "x-amz-archive-status"),
            kms_key_id: header(&response, "x-amz-server-side-encryption-aws-kms-key-id"),
            etag: header(&response, "etag").map(|e| e.trim_matches('"').to_owned()),
        };
        record.size = head.size;
        record.content_type = head.content_type.clone();
        record.storage_class = head.storage_class.clone();
        record.kms_key_id = head.kms_key_id.clone();
        record.etag = head.etag.clone();

        let archived = matches!(head.storage_class.as_deref(), Some("GLACIER" | "DEEP_ARCHIVE")) && !head.restored;
        if archived || head.archive_status.is_some() {
            let class = if head.archive_status.is_some() { Some("INTELLIGENT_TIERING") } else { head.storage_class.as_deref() };
            return reject(record, "OBJECT_ARCHIVED", archived_reason(class));
        }
        if head.size == Some(0) {
            return reject(record, "EMPTY_OBJECT", "The object is empty (0 bytes): upload the file again.".to_owned());
        }

        let get_url = session.signer.presign(Method::Get, &self.endpoint, &target, now, URL_LIFETIME);
        let range = format!("bytes=0-{}", SNIFF_BYTES - 1);
        let (status, body) = deadline
            .call(Service::S3, async {
                let response = self.http.get(get_url).header("Range", range).send().await.map_err(|e| fault::of_http(Service::S3, &e))?;
                let status = response.status().as_u16();
                Ok::<_, Fault>((status, response.bytes().await.map_err(|e| fault::of_http(Service::S3, &e))?))
            })
            .await?;
        if !matches!(status, 200 | 206) {
            let text = String::from_utf8_lossy(&body);
            if let Some(fault) = fault::of_status(Service::S3, status, fault::s3_error_code(&text)) {
                return Err(fault);
            }
            return match refusal(status, &text, integration, head.kms_key_id.as_deref()) {
                Some((code, reason)) => reject(record, code, reason),
                None => Err(Fault::unavailable(Service::S3, format!("GET answered HTTP {status}"))),
            };
        }

        let Some(sniffed) = media::sniff(&body) else {
            let claimed = head.content_type.as_deref().map(|c| format!(" (its Content-Type says {c})")).unwrap_or_default();
            let reason = format!(
                "The bytes are not an image, video, audio, text, PDF, HTML or geospatial file we can import{claimed}. Convert it to a supported format."
            );
            return reject(record, "UNSUPPORTED_MEDIA_TYPE", reason);
        };
        record.data_type = Some(sniffed.data_type);
        record.media_type = Some(sniffed.mime.to_owned());
        record.notes = media::mismatches(key, head.content_type.as_deref(), sniffed);
        let limit = self.limits.of(sniffed.data_type);
        if let Some(size) = head.size.filter(|s| *s > limit) {
            let reason =
                format!("The object is {}; {} files may be at most {}. Split or compress it.", human_size(size), sniffed.data_type.as_str(), human_size(limit));
            return reject(record, "TOO_LARGE", reason);
        }
        record.status = ObjectStatus::Ready;
        record.code = "READY".to_owned();
        record.reason = format!("Readable {} ({}).", sniffed.data_type.as_str(), sniffed.mime);
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arn::{KmsKeyArn, RoleArn};
    use crate::bucket::BucketName;
    use crate::ids::{KeyPrefix, TenantId};

    fn integration() -> Integration {
        let mut i = Integration::new(
            TenantId::parse("acme").unwrap(),
            "x".into(),
            Some(BucketName::parse("acme-data").unwrap()),
            KeyPrefix::parse("rows/").unwrap(),
            None,
        );
        i.role_arn = Some(RoleArn::parse("arn:aws:iam::222222222222:role/r").unwrap());
        i
    }

    #[test]
    fn size_limits_parse_with_units_and_keep_defaults() {
        let limits = SizeLimits::parse("image=5MiB, text=1024").unwrap();
        assert_eq!(limits.of(DataType::Image), 5 * MIB);
        assert_eq!(limits.of(DataType::Text), 1024);
        assert_eq!(limits.of(DataType::Video), 20 * GIB);
        for bad in ["image", "pictures=5", "image=5TB", "image=0", "image=x"] {
            assert!(SizeLimits::parse(bad).is_err(), "{bad}");
        }
    }

    /// AWS's answers as S3 sends them (tests/prevalidate.rs meets the KMS one end to end).
    #[test]
    fn refusals_are_told_apart_by_s3s_answer() {
        let kms = "<Error><Code>AccessDenied</Code><Message>The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.</Message></Error>";
        let key = "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let (code, reason) = refusal(403, kms, &integration(), Some(key)).unwrap();
        assert_eq!(code, "KMS_DECRYPT_DENIED");
        assert!(reason.contains(key) && reason.contains("kms:Decrypt"), "{reason}");
        let mut with_key = integration();
        with_key.kms_key_arn = Some(KmsKeyArn::parse(key).unwrap());
        assert!(refusal(403, kms, &with_key, None).unwrap().1.contains(key));

        let denied = "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
        let (code, reason) = refusal(403, denied, &integration(), None).unwrap();
        assert_eq!(code, "ACCESS_DENIED");
        assert!(reason.contains("arn:aws:s3:::acme-data/rows/*"), "{reason}");

        let archived = "<Error><Code>InvalidObjectState</Code><Message>The operation is not valid for the object's storage class</Message></Error>";
        assert_eq!(refusal(403, archived, &integration(), None).unwrap().0, "OBJECT_ARCHIVED");
        assert_eq!(refusal(404, "<Error><Code>NoSuchKey</Code></Error>", &integration(), None).unwrap().0, "OBJECT_NOT_FOUND");
        assert_eq!(refusal(503, "<Error><Code>SlowDown</Code></Error>", &integration(), None), None);
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(0), "0 bytes");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(3 * GIB / 2), "1.5 GiB");
    }
}
