//! The import check: which rows of an import file will work, before the customer imports it.
//!
//! Per row, in order: a `global_key` not seen before in the file, a known declared `media_type`,
//! a `row_data` URL naming the integration's bucket (and prefix, and region when the URL names
//! one), an object that exists and is readable, and bytes of the declared type. Objects are
//! judged from fresh prevalidation records where there are some, the rest are inspected with
//! bounded concurrency. Rows borrow from the request body: each row's text is held once.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};

use crate::budget::{self, Deadline};
use crate::error::Error;
use crate::fault::{Fault, Service};
use crate::ids::TenantId;
use crate::inspection::{Inspect, Inspector};
use crate::integration::{Connection, Integration};
use crate::media::DataType;
use crate::record::{ObjectRecord, ObjectStatus};
use crate::s3url;
use crate::store::Store;

pub const MAX_ROWS: usize = 10_000;
/// An import file of 10,000 rows with long URLs; still under Lambda's 6 MB request limit.
pub const MAX_BODY_BYTES: usize = 6 * 1000 * 1000;
/// A prevalidation record younger than this is trusted instead of reading the object again.
const RECORD_FRESH_FOR: Duration = Duration::from_secs(3600);
/// Objects inspected at once: as many of 10,000 unprevalidated rows as can be inspected within
/// `budget::IMPORT_INSPECTIONS`; the rest say they were not checked.
const CONCURRENCY: usize = 64;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRow<'a> {
    #[serde(borrow)]
    pub row_data: Cow<'a, str>,
    #[serde(borrow)]
    pub global_key: Cow<'a, str>,
    #[serde(borrow, default)]
    pub media_type: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest<'a> {
    #[serde(borrow)]
    pub rows: Vec<ImportRow<'a>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RowStatus {
    Ok,
    Error,
}

/// One row's verdict. The row is its place in `results` and its `global_key`: its `row_data` is
/// not echoed, so that 10,000 rows of long URLs still fit in Lambda's 6 MB answer.
#[derive(Debug, Serialize)]
pub struct RowResult<'a> {
    pub global_key: &'a str,
    pub status: RowStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<DataType>,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub total: usize,
    pub ok: usize,
    pub by_code: BTreeMap<String, usize>,
}

#[derive(Debug, Serialize)]
pub struct ImportReport<'a> {
    pub summary: Summary,
    pub results: Vec<RowResult<'a>>,
}

/// A row's verdict before its object is looked at: an error, or the key to look at.
enum Pending {
    Done(&'static str, String),
    Object { key: String, declared: Option<DataType> },
}

fn fresh(record: &ObjectRecord) -> bool {
    crate::timestamp::age(&record.checked_at).is_some_and(|age| age < RECORD_FRESH_FOR)
}

async fn inspect(inspector: &impl Inspect, integration: &Integration, conn: &Connection, key: String) -> (String, Result<ObjectRecord, Fault>) {
    let result = inspector.inspect(integration, conn, &key).await;
    (key, result)
}

/// The import check, built once per cold start.
#[derive(Debug)]
pub struct Importer<I = Inspector> {
    store: Store,
    inspector: I,
    /// Rows one tenant may check per minute: one tenant's imports never starve the others.
    rows_per_minute: u64,
}

impl<I: Inspect> Importer<I> {
    pub fn new(store: Store, inspector: I, rows_per_minute: u64) -> Self {
        Importer { store, inspector, rows_per_minute }
    }

    /// Checks every row of an import file (within `budget::IMPORT`), answering within Lambda's
    /// answer size or saying how to split the file.
    pub async fn check<'a>(&self, tenant: &TenantId, id: &str, request: &'a ImportRequest<'a>) -> Result<ImportReport<'a>, Error> {
        let report = check(&self.store, &self.inspector, self.rows_per_minute, tenant, id, request).await?;
        let size = serde_json::to_vec(&report).map(|v| v.len()).unwrap_or(usize::MAX);
        if size > MAX_ANSWER_BYTES {
            let fits = (request.rows.len() * MAX_ANSWER_BYTES / size).max(1);
            return Err(Error::Invalid {
                field: "rows".into(),
                code: "IMPORT_ANSWER_TOO_LARGE",
                message: format!("the results of {} rows would not fit in one answer ({size} bytes); send at most {fits} rows per request", request.rows.len()),
            });
        }
        Ok(report)
    }
}

/// What an answer may weigh: Lambda returns at most 6 MB, and the body is escaped once more
/// inside API Gateway's response document.
const MAX_ANSWER_BYTES: usize = 5_000_000;

async fn check<'a>(
    store: &Store,
    inspector: &impl Inspect,
    rows_per_minute: u64,
    tenant: &TenantId,
    id: &str,
    request: &'a ImportRequest<'a>,
) -> Result<ImportReport<'a>, Error> {
    if request.rows.is_empty() || request.rows.len() > MAX_ROWS {
        return Err(Error::Invalid {
            field: "rows".into(),
            code: "INVALID_FIELD",
            message: format!("rows must hold 1 to {MAX_ROWS} rows, got {}", request.rows.len()),
        });
    }
    let deadline = Deadline::after(budget::IMPORT);
    let integration =
        deadline.call(Service::DynamoDb, async { store.get(tenant, id).await.map_err(Error::from) }).await?.ok_or_else(|| Error::NotFound(id.to_owned()))?;
    let Some(conn) = integration.connection().filter(|_| integration.status.serves_data()) else {
        return Err(Error::NotReady { id: id.to_owned(), status: integration.status.as_str() });
    };
    let rows = request.rows.len() as u64;
    let quota = deadline
        .call(Service::DynamoDb, async { store.take_quota(tenant, "import-rows", rows, rows_per_minute, Duration::from_secs(60)).await.map_err(Error::from) });
    if let Some(retry_after) = quota.await? {
        return Err(Error::RateLimited {
            retry_after,
            detail: format!("This tenant may check {rows_per_minute} import rows per minute; these {rows} rows would pass it. Retry in {retry_after} s, or send fewer rows per request."),
        });
    }
    let bucket = &conn.bucket;

    let mut seen = HashSet::with_capacity(request.rows.len());
    let pending: Vec<Pending> = request
        .rows
        .iter()
        .map(|row| {
            if row.global_key.trim().is_empty() {
                return Pending::Done("MISSING_GLOBAL_KEY", "Every row needs a global_key.".into());
            }
            if !seen.insert(row.global_key.as_ref()) {
                return Pending::Done(
                    "DUPLICATE_GLOBAL_KEY",
                    format!("global_key {:?} is used by an earlier row; global keys must be unique.", row.global_key),
                );
            }
            let declared = match row.media_type.as_deref().map(|m| (m, DataType::from_declared(m))) {
                None => None,
                Some((_, Some(t))) => Some(t),
                Some((m, None)) => {
                    let known: Vec<&str> = DataType::ALL.iter().map(|t| t.as_str()).collect();
                    return Pending::Done("INVALID_MEDIA_TYPE", format!("media_type {m:?} is not one of {} (or a MIME type of one).", known.join(", ")));
                }
            };
            let object = match s3url::parse_for(&row.row_data, bucket, &integration.prefix) {
                Ok(object) => object,
                Err(e) => return Pending::Done(e.code(), e.to_string()),
            };
            if let (Some(named), Some(actual)) = (&object.region, &integration.region) {
                if named != actual {
                    return Pending::Done(
                        "REGION_MISMATCH",
                        format!("The URL names region {named}, but bucket {bucket} is in {actual}: use its {actual} URL."),
                    );
                }
            }
            Pending::Object { key: object.key, declared }
        })
        .collect();

    let keys: Vec<&str> = {
        let mut distinct = HashSet::new();
        pending.iter().filter_map(|p| if let Pending::Object { key, .. } = p { Some(key.as_str()) } else { None }).filter(|k| distinct.insert(*k)).collect()
    };
    // Prevalidation records spare reading objects again; without them (DynamoDB failing), every
    // object is inspected instead.
    let stored =
        deadline.call(Service::DynamoDb, async { store.object_records(tenant, &integration.id, bucket.as_str(), &keys).await.map_err(Error::from) }).await;
    let stored = stored.unwrap_or_else(|e| {
        tracing::warn!(integration = %integration.id, error = %e, "prevalidation records not read; inspecting every object");
        HashMap::new()
    });
    let mut records: HashMap<String, Result<ObjectRecord, Fault>> = stored.into_iter().filter(|(_, r)| fresh(r)).map(|(k, r)| (k, Ok(r))).collect();
    let to_inspect: Vec<String> = keys.into_iter().filter(|k| !records.contains_key(*k)).map(str::to_owned).collect();
    let inspections = stream::iter(to_inspect).map(|key| inspect(inspector, &integration, &conn, key)).buffer_unordered(CONCURRENCY);
    let mut inspections = std::pin::pin!(inspections.take_until(tokio::time::sleep(budget::IMPORT_INSPECTIONS.min(deadline.remaining()))));
    while let Some((key, result)) = inspections.next().await {
        records.insert(key, result);
    }

    let mut by_code = BTreeMap::new();
    let results: Vec<RowResult<'a>> = request
        .rows
        .iter()
        .zip(pending)
        .map(|(row, pending)| {
            let mut result = RowResult { global_key: &row.global_key, status: RowStatus::Error, code: None, message: None, media_type: None };
            let verdict = match pending {
                Pending::Done(code, message) => Err((code.to_owned(), message)),
                Pending::Object { key, declared } => match records.get(&key) {
                    None => Err((
                        "OBJECT_NOT_CHECKED".to_owned(),
                        format!("The object was not reached within the check's {} s; run the check again for the rest.", budget::IMPORT_INSPECTIONS.as_secs()),
                    )),
                    Some(Err(fault)) => Err((
                        "OBJECT_NOT_CHECKED".to_owned(),
                        format!("The object could not be checked: {fault}. This says nothing about the object; run the check again in a few minutes."),
                    )),
                    Some(Ok(record)) if record.status == ObjectStatus::Rejected => Err((record.code.clone(), record.reason.clone())),
                    Some(Ok(record)) => {
                        result.media_type = record.data_type;
                        match (declared, record.data_type) {
                            (Some(d), Some(actual)) if d != actual => Err((
                                "MEDIA_TYPE_MISMATCH".to_owned(),
                                format!(
                                    "The row declares {} but the object is {} ({}).",
                                    d.as_str(),
                                    actual.as_str(),
                                    record.media_type.as_deref().unwrap_or("unknown")
                                ),
                            )),
                            _ => Ok(()),
                        }
                    }
                },
            };
            match verdict {
                Ok(()) => result.status = RowStatus::Ok,
                Err((code, message)) => {
                    *by_code.entry(code.clone()).or_insert(0) += 1;
                    result.code = Some(code);
                    result.message = Some(message);
                }
            }
            result
        })
        .collect();
    let ok = results.iter().filter(|r| r.status == RowStatus::Ok).count();
    Ok(ImportReport { summary: Summary { total: results.len(), ok, by_code }, results })
}

#[cfg(test)]
mod tests {
    //! The import check's verdicts against scripted DynamoDB answers (aws-smithy-mocks) and a
    //! scripted inspector: no emulator.
    use std::sync::{Arc, Mutex};

    use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
    use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
    use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
    use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
    use aws_sdk_dynamodb::types::AttributeValue;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    use super::*;
    use crate::arn::RoleArn;
    use crate::bucket::BucketName;
    use crate::ids::{IntegrationId, KeyPrefix};
    use crate::integration::Status;
    use crate::record::tests::record;
    use crate::region::Region;
    use crate::store::to_item;

    const ID: &str = "01JD7ZK3Q4W8X9Y0ABCDEFGHJK";

    /// Inspects by script: `rows/late.jpg` meets an S3 timeout, everything else is a READY image.
    #[derive(Default, Clone)]
    struct Scripted {
        inspected: Arc<Mutex<Vec<String>>>,
    }

    impl Inspect for Scripted {
        async fn inspect(&self, integration: &Integration, conn: &Connection, key: &str) -> Result<ObjectRecord, Fault> {
            self.inspected.lock().unwrap().push(key.to_owned());
            if key == "rows/late.jpg" {
                return Err(Fault::TimedOut(Service::S3));
            }
            Ok(record(integration.id.as_str(), conn.bucket.as_str(), key, "READY", &crate::timestamp::now()))
        }
    }

    fn integration() -> Integration {
        let mut i = Integration::new(
            TenantId::parse("acme").unwrap(),
            "x".into(),
            Some(BucketName::parse("acme-data").unwrap()),
            KeyPrefix::parse("rows/").unwrap(),
            None,
        );
        i.id = IntegrationId::parse(ID).unwrap();
        i.role_arn = Some(RoleArn::parse("arn:aws:iam::222222222222:role/r").unwrap());
        i.region = Some(Region::parse("eu-west-1").unwrap());
        i.status = Status::Healthy;
        i
    }

    fn stored(r: &ObjectRecord) -> crate::store::Item {
        crate::store::Item::from([
            ("pk".to_owned(), AttributeValue::S("TENANT#acme".into())),
            ("sk".to_owned(), AttributeValue::S(format!("OBJECT#{ID}#{}", r.key))),
            ("record".to_owned(), AttributeValue::S(serde_json::to_string(r).unwrap())),
        ])
    }

    fn importer(quota_left: bool, inspector: Scripted) -> Importer<Scripted> {
        let integration = integration();
        let get = mock!(aws_sdk_dynamodb::Client::get_item).then_output(move || GetItemOutput::builder().set_item(Some(to_item(&integration))).build());
        let quota = if quota_left {
            mock!(aws_sdk_dynamodb::Client::update_item).then_output(|| UpdateItemOutput::builder().build())
        } else {
            mock!(aws_sdk_dynamodb::Client::update_item).then_error(|| {
                let meta = aws_sdk_dynamodb::error::ErrorMetadata::builder().code("ConditionalCheckFailedException").build();
                UpdateItemError::ConditionalCheckFailedException(ConditionalCheckFailedException::builder().meta(meta).build())
            })
        };
        // A fresh record of rows/fresh.jpg (rejected: archived) and a stale one of rows/stale.jpg.
        let two_hours_ago = crate::timestamp::rfc3339(std::time::SystemTime::now() - Duration::from_secs(7200));
        let records = vec![
            stored(&record(ID, "acme-data", "rows/fresh.jpg", "OBJECT_ARCHIVED", &crate::timestamp::now())),
            stored(&record(ID, "acme-data", "rows/stale.jpg", "OBJECT_ARCHIVED", &two_hours_ago)),
        ];
        let batch = mock!(aws_sdk_dynamodb::Client::batch_get_item).then_output(move || BatchGetItemOutput::builder().responses("t", records.clone()).build());
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&get, &quota, &batch]);
        Importer::new(Store::new(client, "t"), inspector, 50_000)
    }

    fn rows(rows: &[(&str, &str, Option<&str>)]) -> String {
        let rows: Vec<serde_json::Value> = rows.iter().map(|(k, url, m)| serde_json::json!({"global_key": k, "row_data": url, "media_type": m})).collect();
        serde_json::json!({"rows": rows}).to_string()
    }

    #[tokio::test]
    async fn each_row_gets_its_verdict_and_fresh_records_spare_a_read() {
        let inspector = Scripted::default();
        let importer = importer(true, inspector.clone());
        let body = rows(&[
            ("a", "s3://acme-data/rows/fresh.jpg", None),
            ("b", "s3://acme-data/rows/stale.jpg", None),
            ("c", "https://acme-data.s3.eu-west-1.amazonaws.com/rows/new.jpg", Some("video")),
            ("d", "s3://acme-data/rows/late.jpg", None),
            ("a", "s3://acme-data/rows/other.jpg", None),
            ("", "s3://acme-data/rows/x.jpg", None),
            ("e", "s3://someone-else/rows/x.jpg", None),
            ("f", "https://acme-data.s3.us-west-2.amazonaws.com/rows/x.jpg", None),
            ("g", "s3://acme-data/rows/x.jpg", Some("spreadsheet")),
            ("h", "s3://acme-data/elsewhere/x.jpg", None),
        ]);
        let request: ImportRequest = serde_json::from_str(&body).unwrap();
        let report = importer.check(&TenantId::parse("acme").unwrap(), ID, &request).await.unwrap();
        let verdicts: Vec<(&str, Option<&str>)> = report.results.iter().map(|r| (r.global_key, r.code.as_deref())).collect();
        assert_eq!(
            verdicts,
            [
                ("a", Some("OBJECT_ARCHIVED")),
                ("b", None),
                ("c", Some("MEDIA_TYPE_MISMATCH")),
                ("d", Some("OBJECT_NOT_CHECKED")),
                ("a", Some("DUPLICATE_GLOBAL_KEY")),
                ("", Some("MISSING_GLOBAL_KEY")),
                ("e", Some("URL_WRONG_BUCKET")),
                ("f", Some("REGION_MISMATCH")),
                ("g", Some("INVALID_MEDIA_TYPE")),
                ("h", Some("URL_OUTSIDE_PREFIX")),
            ]
        );
        assert!(report.results[3].message.as_deref().unwrap().contains("Amazon S3 did not answer in time"));
        let mut inspected = inspector.inspected.lock().unwrap().clone();
        inspected.sort();
        assert_eq!(inspected, ["rows/late.jpg", "rows/new.jpg", "rows/stale.jpg"], "the fresh record is used as it is; the stale one is read again");
        assert_eq!((report.summary.total, report.summary.ok), (10, 1));
    }

    #[tokio::test]
    async fn a_tenant_past_its_rows_for_the_minute_waits() {
        let importer = importer(false, Scripted::default());
        let body = rows(&[("a", "s3://acme-data/rows/new.jpg", None)]);
        let request: ImportRequest = serde_json::from_str(&body).unwrap();
        let refused = importer.check(&TenantId::parse("acme").unwrap(), ID, &request).await;
        assert!(matches!(refused, Err(Error::RateLimited { retry_after, .. }) if (1..=60).contains(&retry_after)), "{refused:?}");
    }
}
