//! A prevalidation record: what we know of one object, for one integration, and whether it can
//! be imported (`ready`) or why not (`rejected`, with a code from `codes` and the fix).

use serde::{Deserialize, Serialize};

use crate::media::DataType;

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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A record of `key` in `bucket` as an inspection would make it.
    pub fn record(integration: &str, bucket: &str, key: &str, code: &str, checked_at: &str) -> ObjectRecord {
        let ready = code == "READY";
        ObjectRecord {
            integration: integration.to_owned(),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            status: if ready { ObjectStatus::Ready } else { ObjectStatus::Rejected },
            code: code.to_owned(),
            reason: if ready { "Readable image (image/jpeg).".to_owned() } else { "What is wrong and how to fix it.".to_owned() },
            data_type: ready.then_some(DataType::Image),
            media_type: ready.then(|| "image/jpeg".to_owned()),
            size: Some(1000),
            content_type: None,
            storage_class: None,
            kms_key_id: None,
            etag: None,
            notes: Vec::new(),
            checked_at: checked_at.to_owned(),
        }
    }

    #[test]
    fn statuses_read_back() {
        for status in [ObjectStatus::Ready, ObjectStatus::Rejected] {
            assert_eq!(ObjectStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(ObjectStatus::parse("maybe"), None);
    }
}
