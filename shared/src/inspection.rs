//! One object, inspected through the integration's role: HEAD for size, storage class and
//! encryption, then its first bytes through a presigned GET to learn what it really is. The
//! outcome is a record a person can act on: `ready`, or `rejected` with a code and the fix.

use std::time::{Duration, SystemTime};

use crate::aws::Clients;
use crate::budget::{self, Deadline};
use crate::config::Config;
use crate::fault::{self, Failure, Fault, Service};
use crate::integration::{Connection, Integration};
use crate::media::{self, human_size, SizeLimits, SNIFF_BYTES};
use crate::presign::{Endpoint, Method, Target};
use crate::record::{ObjectRecord, ObjectStatus};
use crate::refusal::Refusal;
use crate::s3url::Addressing;
use crate::sts::CredentialCache;
use crate::timestamp;

/// What inspects an object through an integration's role: `Inspector` against AWS; a scripted
/// one in the use cases' unit tests. `Err` only when AWS failed.
pub trait Inspect: Send + Sync {
    fn inspect(&self, integration: &Integration, conn: &Connection, key: &str) -> impl std::future::Future<Output = Result<ObjectRecord, Fault>> + Send;
}

impl Inspect for Inspector {
    async fn inspect(&self, integration: &Integration, conn: &Connection, key: &str) -> Result<ObjectRecord, Fault> {
        Inspector::inspect(self, integration, conn, key).await
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

impl Inspector {
    pub fn new(credentials: CredentialCache, http: reqwest::Client, endpoint: Endpoint, force_path_style: bool, limits: SizeLimits) -> Self {
        Inspector { credentials, http, endpoint, force_path_style, limits }
    }

    /// The inspector of a function, from its clients and configuration.
    pub fn from_clients(clients: &Clients, config: &Config) -> Self {
        let endpoint = Endpoint::from_url(clients.sdk.endpoint_url());
        Inspector::new(CredentialCache::new(clients.sts.clone()), clients.http.clone(), endpoint, config.s3_path_style, config.object_limits.clone())
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
            checked_at: timestamp::now(),
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
            404 => return reject(record, Refusal::NotFound.code(), Refusal::NotFound.fix(conn, None, None)),
            403 => {
                return reject(record, Refusal::AccessDenied.code(), Refusal::AccessDenied.fix(conn, None, None));
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
            return reject(record, Refusal::Archived.code(), Refusal::Archived.fix(conn, None, class));
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
            if let Some(fault) = fault::of_status(Service::S3, status, crate::refusal::s3_error_code(&text)) {
                return Err(fault);
            }
            return match Refusal::of(status, &text) {
                Some(refusal) => reject(record, refusal.code(), refusal.fix(conn, head.kms_key_id.as_deref(), head.storage_class.as_deref())),
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
