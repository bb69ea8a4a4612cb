//! DynamoDB: the one table that holds all state.
//!
//! Items (all strings unless noted; `pk`/`sk` are the table's keys):
//! - integration: `pk = TENANT#<tenant>`, `sk = INTEGRATION#<id>`; `id`, `tenant`, `name`,
//!   `status`, `external_id`, `prefix`, `created_at`, `updated_at`, `version` (number), and when
//!   known `bucket`, `role_arn`, `kms_key_arn`, `region`, `last_checked_at`, `verified_at`,
//!   `inconclusive_at`, `checks` (JSON text), `retired_external_id`, and during an external ID
//!   rotation `rotation_old_external_id`, `rotation_new_external_id`, `rotation_started_at`,
//!   `rotation_ends_at`, `rotation_accepted_at`. The table's stream (new and old images) carries
//!   each write of it to `status_events`: a changed `status` is an event owed.
//!   `bucket` is the partition key of the sparse GSI `by_bucket`: an integration is there once it
//!   names a bucket; `role_key` (`<account>/<role name>`) and `kms_key_id` those of `by_role` and
//!   `by_kms_key`, which map a customer's change to the integrations it touches.
//! - history: `pk = TENANT#<tenant>`, `sk = HISTORY#<id>#<checked_at>#<version>`; `status`,
//!   `checks`, and `expires_at` (number, epoch seconds: the table's TTL attribute, 30 days on).
//! - prevalidation record of an object: see `records`.
//! - idempotency record: `pk = TENANT#<tenant>`, `sk = IDEMPOTENCY#<key>`; `request`,
//!   `status` (number), `body`, `expires_at` (24 hours on).
//! - recheck claim: `pk = TENANT#<tenant>`, `sk = RECHECK#<id>`; `due_at` (number, epoch
//!   milliseconds), `expires_at`: a change-triggered check is due (`claim_recheck`).
//! - quota counter: `pk = TENANT#<tenant>`, `sk = QUOTA#<name>#<window start>`; `used` (number),
//!   `expires_at` (two windows on).
//!
//! Access patterns: a tenant's integrations (Query `pk`, `begins_with(sk, INTEGRATION#)`, paged by
//! the last id); one integration (consistent GetItem); an integration's last checks (Query
//! `HISTORY#<id>#`, newest first); every integration with a bucket (Scan of `by_bucket`); a
//! bucket's integrations (Query `by_bucket`). Every integration write is conditional on `version`.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
use aws_sdk_dynamodb::Client;

use crate::arn::{KmsKeyArn, RoleArn};
use crate::bucket::BucketName;
use crate::external_id::ExternalId;
use crate::fault::{self, Failure, Fault, Service};
use crate::ids::{IntegrationId, KeyPrefix, TenantId};
use crate::integration::{Integration, Status};
use crate::region::Region;
use crate::rotation::{Rotation, Step};

mod records;
pub use records::{normalize_sequencer, RecordFilter, RecordPage, Written};

pub const BY_BUCKET_INDEX: &str = "by_bucket";
/// Integrations by `role_key` (`<account>/<role name>`): what a change to a role touches.
pub const BY_ROLE_INDEX: &str = "by_role";
/// Integrations by `kms_key_id` (the key's id): what a change to a key touches.
pub const BY_KMS_KEY_INDEX: &str = "by_kms_key";
/// Segments of the sweep's parallel scan.
pub const SCAN_SEGMENTS: i32 = 4;
pub const TTL_ATTRIBUTE: &str = "expires_at";
pub(crate) const MAX_PAGE: i32 = 100;
const HISTORY_DAYS: u64 = 30;
const IDEMPOTENCY_HOURS: u64 = 24;

pub type Item = HashMap<String, AttributeValue>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the item changed since it was read")]
    Conflict,
    /// DynamoDB or the network failed (5xx, throttling after retries, timeout): try again.
    #[error(transparent)]
    Unavailable(Fault),
    /// DynamoDB refused the request itself: our defect or configuration, not worth a retry.
    #[error("DynamoDB refused the request: {0}")]
    Failed(String),
    #[error("stored item is malformed: {0}")]
    Corrupt(String),
}

impl<E> From<SdkError<E, HttpResponse>> for StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    fn from(err: SdkError<E, HttpResponse>) -> Self {
        if err.code() == Some("ConditionalCheckFailedException") {
            return StoreError::Conflict;
        }
        match fault::of_sdk(Service::DynamoDb, &err) {
            Failure::Fault(fault) => StoreError::Unavailable(fault),
            Failure::Refused { .. } => StoreError::Failed(DisplayErrorContext(&err).to_string()),
        }
    }
}

/// One page of a tenant's integrations; `next_cursor` is the last id, to pass back as `cursor`.
#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<Integration>,
    pub next_cursor: Option<String>,
}

/// Where the next page of a scan starts.
#[derive(Debug, Clone)]
pub struct ScanCursor(Item);

/// A stored answer to a request made with an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub request: String,
    pub status: u16,
    pub body: String,
}

#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn tenant_pk(tenant: &TenantId) -> AttributeValue {
    s(format!("TENANT#{tenant}"))
}

fn integration_sk(id: &str) -> AttributeValue {
    s(format!("INTEGRATION#{id}"))
}

fn epoch_seconds_in(seconds: u64) -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default() + seconds
}

/// Everything a paged read returns: `page` reads one page from a cursor and answers its items
/// and the next page's cursor.
async fn all_pages<T, C, F, Fut>(page: F) -> Result<Vec<T>, StoreError>
where
    F: Fn(Option<C>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<C>), StoreError>>,
{
    let mut found = Vec::new();
    let mut cursor = None;
    loop {
        let (items, next) = page(cursor).await?;
        found.extend(items);
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok(found),
        }
    }
}

struct Reader<'a>(&'a Item);

impl Reader<'_> {
    fn opt(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
    }

    fn req(&self, name: &str) -> Result<&str, StoreError> {
        self.opt(name).ok_or_else(|| StoreError::Corrupt(format!("attribute {name} missing or not a string")))
    }

    fn parsed<T, E: std::fmt::Display>(&self, name: &str, parse: impl Fn(&str) -> Result<T, E>) -> Result<Option<T>, StoreError> {
        self.opt(name).map(|v| parse(v).map_err(|e| StoreError::Corrupt(format!("{name}: {e}")))).transpose()
    }
}

/// How a role is named in a change event: its account and its name (IAM events name no path).
pub fn role_key(role: &RoleArn) -> String {
    format!("{}/{}", role.account_id(), role.role_name())
}

pub(crate) fn to_item(i: &Integration) -> Item {
    let mut item = Item::from([
        ("pk".to_owned(), tenant_pk(&i.tenant)),
        ("sk".to_owned(), integration_sk(i.id.as_str())),
        ("id".to_owned(), s(i.id.as_str())),
        ("tenant".to_owned(), s(i.tenant.as_str())),
        ("name".to_owned(), s(&i.name)),
        ("status".to_owned(), s(i.status.as_str())),
        ("external_id".to_owned(), s(i.external_id.as_str())),
        ("prefix".to_owned(), s(i.prefix.as_str())),
        ("checks".to_owned(), s(serde_json::to_string(&i.checks).unwrap_or_else(|_| "[]".into()))),
        ("created_at".to_owned(), s(&i.created_at)),
        ("updated_at".to_owned(), s(&i.updated_at)),
        ("version".to_owned(), n(i.version)),
    ]);
    let optional = [
        ("bucket", i.bucket.as_ref().map(|b| b.to_string())),
        ("role_arn", i.role_arn.as_ref().map(|r| r.to_string())),
        ("kms_key_arn", i.kms_key_arn.as_ref().map(|k| k.as_str().to_owned())),
        ("region", i.region.as_ref().map(|r| r.to_string())),
        ("last_checked_at", i.last_checked_at.clone()),
        ("role_key", i.role_arn.as_ref().map(role_key)),
        ("kms_key_id", i.kms_key_arn.as_ref().map(|k| k.key_id().to_owned())),
        ("verified_at", i.verified_at.clone()),
        ("inconclusive_at", i.inconclusive_at.clone()),
        ("retired_external_id", i.retired_external_id.as_ref().map(|e| e.as_str().to_owned())),
        ("rotation_old_external_id", i.rotation.as_ref().map(|r| r.old_external_id.as_str().to_owned())),
        ("rotation_new_external_id", i.rotation.as_ref().map(|r| r.new_external_id.as_str().to_owned())),
        ("rotation_started_at", i.rotation.as_ref().map(|r| r.started_at.clone())),
        ("rotation_ends_at", i.rotation.as_ref().map(|r| r.ends_at.clone())),
        ("rotation_accepted_at", i.rotation.as_ref().and_then(|r| r.accepted_at.clone())),
    ];
    for (name, value) in optional {
        if let Some(v) = value {
            item.insert(name.to_owned(), s(v));
        }
    }
    item
}

/// The integration an item of the table's stream holds; `None` for the other kinds of item.
pub fn integration_from_image(item: &Item) -> Result<Option<Integration>, StoreError> {
    match item.get("sk").and_then(|v| v.as_s().ok()) {
        Some(sk) if sk.starts_with("INTEGRATION#") => from_item(item).map(Some),
        _ => Ok(None),
    }
}

fn from_item(item: &Item) -> Result<Integration, StoreError> {
    let r = Reader(item);
    fn corrupt(name: &'static str) -> impl Fn(String) -> StoreError {
        move |e| StoreError::Corrupt(format!("{name}: {e}"))
    }
    let external_id = |name: &'static str| r.opt(name).map(|v| ExternalId::from_stored(v).map_err(|e| corrupt(name)(e.to_string()))).transpose();
    let rotation = match external_id("rotation_new_external_id")? {
        None => None,
        Some(new_external_id) => Some(Rotation {
            old_external_id: external_id("rotation_old_external_id")?.ok_or_else(|| StoreError::Corrupt("rotation_old_external_id".into()))?,
            new_external_id,
            started_at: r.req("rotation_started_at")?.to_owned(),
            ends_at: r.req("rotation_ends_at")?.to_owned(),
            accepted_at: r.opt("rotation_accepted_at").map(str::to_owned),
        }),
    };
    Ok(Integration {
        rotation,
        retired_external_id: external_id("retired_external_id")?,
        id: IntegrationId::parse(r.req("id")?).map_err(|e| corrupt("id")(e.to_string()))?,
        tenant: TenantId::parse(r.req("tenant")?).map_err(|e| corrupt("tenant")(e.to_string()))?,
        name: r.req("name")?.to_owned(),
        status: Status::parse(r.req("status")?).ok_or_else(|| StoreError::Corrupt("status".into()))?,
        external_id: ExternalId::from_stored(r.req("external_id")?).map_err(|e| corrupt("external_id")(e.to_string()))?,
        bucket: r.parsed("bucket", BucketName::parse)?,
        prefix: KeyPrefix::parse(r.opt("prefix").unwrap_or_default()).map_err(|e| corrupt("prefix")(e.to_string()))?,
        kms_key_arn: r.parsed("kms_key_arn", KmsKeyArn::parse)?,
        role_arn: r.parsed("role_arn", RoleArn::parse)?,
        region: r.parsed("region", Region::parse)?,
        checks: serde_json::from_str(r.opt("checks").unwrap_or("[]")).map_err(|e| corrupt("checks")(e.to_string()))?,
        last_checked_at: r.opt("last_checked_at").map(str::to_owned),
        verified_at: r.opt("verified_at").map(str::to_owned),
        inconclusive_at: r.opt("inconclusive_at").map(str::to_owned),
        created_at: r.req("created_at")?.to_owned(),
        updated_at: r.req("updated_at")?.to_owned(),
        version: item.get("version").and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).ok_or_else(|| StoreError::Corrupt("version".into()))?,
    })
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Store { client, table: table.into() }
    }

    /// A query of a tenant's items whose sort key starts with `prefix`.
    fn tenant_items(&self, tenant: &TenantId, prefix: &str) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", tenant_pk(tenant))
            .expression_attribute_values(":prefix", s(prefix))
    }

    pub async fn insert(&self, integration: &Integration) -> Result<(), StoreError> {
        self.client.put_item().table_name(&self.table).set_item(Some(to_item(integration))).condition_expression("attribute_not_exists(pk)").send().await?;
        Ok(())
    }

    /// The integration `id` of `tenant`. An id that cannot exist is as absent as one that does
    /// not (an API answers both 404, never a 400 that tells the id's shape).
    pub async fn get(&self, tenant: &TenantId, id: &str) -> Result<Option<Integration>, StoreError> {
        if IntegrationId::parse(id).is_err() {
            return Ok(None);
        }
        let out =
            self.client.get_item().table_name(&self.table).key("pk", tenant_pk(tenant)).key("sk", integration_sk(id)).consistent_read(true).send().await?;
        out.item.as_ref().map(from_item).transpose()
    }

    /// Writes `integration` if nobody wrote since it was read at its `version`; returns it at the next version.
    pub async fn save(&self, integration: &Integration) -> Result<Integration, StoreError> {
        let mut next = integration.clone();
        next.version += 1;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&next)))
            .condition_expression("version = :read")
            .expression_attribute_values(":read", n(integration.version))
            .send()
            .await?;
        Ok(next)
    }

    /// Deletes an integration; false when there was none.
    pub async fn delete(&self, tenant: &TenantId, id: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", tenant_pk(tenant))
            .key("sk", integration_sk(id))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match result.map_err(StoreError::from) {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes what an integration left beside its item: its history and prevalidation records
    /// (BatchWriteItem, 25 at a time). Returns how many items went. Whatever a failure leaves
    /// expires by its TTL (30 days).
    pub async fn delete_derived(&self, tenant: &TenantId, id: &IntegrationId) -> Result<usize, StoreError> {
        let mut deleted = 0;
        for prefix in [format!("HISTORY#{id}#"), format!("OBJECT#{id}#")] {
            let keys = all_pages(|start| {
                let query = self.tenant_items(tenant, &prefix).projection_expression("pk, sk").set_exclusive_start_key(start);
                async move {
                    let out = query.send().await?;
                    Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
                }
            })
            .await?;
            for chunk in keys.chunks(25) {
                let mut requests: Vec<WriteRequest> = chunk
                    .iter()
                    .map(|key| WriteRequest::builder().delete_request(DeleteRequest::builder().set_key(Some(key.clone())).build().expect("a key")).build())
                    .collect();
                while !requests.is_empty() {
                    let out = self.client.batch_write_item().request_items(&self.table, requests).send().await?;
                    requests = out.unprocessed_items.and_then(|mut u| u.remove(&self.table)).unwrap_or_default();
                }
                deleted += chunk.len();
            }
        }
        Ok(deleted)
    }

    /// Takes `amount` from a tenant's allowance `name` of `limit` per `window` (fixed windows,
    /// one counter item each, expiring after). `Ok(None)` when taken, `Ok(Some(seconds))` when
    /// the allowance is spent: the seconds until the next window.
    pub async fn take_quota(&self, tenant: &TenantId, name: &str, amount: u64, limit: u64, window: std::time::Duration) -> Result<Option<u64>, StoreError> {
        let now = epoch_seconds_in(0);
        let window = window.as_secs().max(1);
        let start = now - now % window;
        let wait = start + window - now;
        if amount > limit {
            return Ok(Some(wait));
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", tenant_pk(tenant))
            .key("sk", s(format!("QUOTA#{name}#{start}")))
            .update_expression("ADD used :amount SET #ttl = :expires")
            .condition_expression("attribute_not_exists(used) OR used <= :room")
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":amount", n(amount))
            .expression_attribute_values(":room", n(limit - amount))
            .expression_attribute_values(":expires", n(start + 2 * window))
            .send()
            .await;
        match result.map_err(StoreError::from) {
            Ok(_) => Ok(None),
            Err(StoreError::Conflict) => Ok(Some(wait)),
            Err(e) => Err(e),
        }
    }

    /// One page of a tenant's integrations, oldest first; `cursor` is the last id of the previous page.
    pub async fn list(&self, tenant: &TenantId, limit: i32, cursor: Option<&IntegrationId>) -> Result<Page, StoreError> {
        let mut query = self.tenant_items(tenant, "INTEGRATION#").limit(limit.clamp(1, MAX_PAGE));
        if let Some(after) = cursor {
            query = query.exclusive_start_key("pk", tenant_pk(tenant)).exclusive_start_key("sk", integration_sk(after.as_str()));
        }
        let out = query.send().await?;
        let items = out.items().iter().map(from_item).collect::<Result<Vec<_>, _>>()?;
        let next_cursor = out.last_evaluated_key.is_some().then(|| items.last().map(|i| i.id.to_string())).flatten();
        Ok(Page { items, next_cursor })
    }

    /// Every integration that names a bucket (a parallel scan of the index in `SCAN_SEGMENTS`
    /// segments), all in memory: for tests and tools; the sweep reads page by page.
    pub async fn with_buckets(&self) -> Result<Vec<Integration>, StoreError> {
        let segments = (0..SCAN_SEGMENTS).map(|segment| all_pages(move |cursor| self.scan_page(segment, cursor)));
        Ok(futures_util::future::try_join_all(segments).await?.into_iter().flatten().collect())
    }

    /// One page (up to 1 MB) of segment `segment` of the parallel scan of every integration
    /// that names a bucket; the cursor of the next page, if there is one.
    pub async fn scan_page(&self, segment: i32, cursor: Option<ScanCursor>) -> Result<(Vec<Integration>, Option<ScanCursor>), StoreError> {
        let out = self
            .client
            .scan()
            .table_name(&self.table)
            .index_name(BY_BUCKET_INDEX)
            .segment(segment)
            .total_segments(SCAN_SEGMENTS)
            .set_exclusive_start_key(cursor.map(|c| c.0))
            .send()
            .await?;
        let items = out.items().iter().map(from_item).collect::<Result<Vec<_>, _>>()?;
        Ok((items, out.last_evaluated_key.map(ScanCursor)))
    }

    /// The integrations whose bucket is `bucket`, across tenants.
    pub async fn for_bucket(&self, bucket: &str) -> Result<Vec<Integration>, StoreError> {
        self.by_index(BY_BUCKET_INDEX, "bucket", bucket).await
    }

    /// The integrations whose role is `<account>/<name>` (`role_key`), across tenants.
    pub async fn for_role(&self, key: &str) -> Result<Vec<Integration>, StoreError> {
        self.by_index(BY_ROLE_INDEX, "role_key", key).await
    }

    /// The integrations whose KMS key has the id `key_id`, across tenants.
    pub async fn for_kms_key(&self, key_id: &str) -> Result<Vec<Integration>, StoreError> {
        self.by_index(BY_KMS_KEY_INDEX, "kms_key_id", key_id).await
    }

    async fn by_index(&self, index: &str, attribute: &str, value: &str) -> Result<Vec<Integration>, StoreError> {
        all_pages(|start| async move {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression("#k = :v")
                .expression_attribute_names("#k", attribute)
                .expression_attribute_values(":v", s(value))
                .set_exclusive_start_key(start)
                .send()
                .await?;
            let items = out.items().iter().map(from_item).collect::<Result<Vec<_>, _>>()?;
            Ok((items, out.last_evaluated_key))
        })
        .await
    }

    /// Claims the one check of an integration that changes within `window` lead to: true for
    /// the first change (whose check is then due at the window's end), false while a check is
    /// already due. A change always precedes its event, so the due check sees every change
    /// claimed in its window.
    pub async fn claim_recheck(&self, tenant: &TenantId, id: &IntegrationId, window: std::time::Duration) -> Result<bool, StoreError> {
        // Milliseconds: a window may be a second long.
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or_default();
        let due = now + window.as_millis() as u64;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", tenant_pk(tenant))
            .item("sk", s(format!("RECHECK#{id}")))
            .item("due_at", n(due))
            .item(TTL_ATTRIBUTE, n(due / 1000 + 3600))
            .condition_expression("attribute_not_exists(sk) OR due_at < :now")
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match result.map_err(StoreError::from) {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Keeps this version of the integration in its history (expires after 30 days): a check
    /// result, or the rotation `step` it took.
    pub async fn append_history(&self, integration: &Integration, step: Option<Step>) -> Result<(), StoreError> {
        let checked_at = match step {
            Some(_) => integration.updated_at.clone(),
            None => integration.last_checked_at.clone().unwrap_or_else(crate::timestamp::now),
        };
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", tenant_pk(&integration.tenant))
            .item("sk", s(format!("HISTORY#{}#{checked_at}#{:020}", integration.id, integration.version)))
            .item("status", s(integration.status.as_str()))
            .item("checks", s(serde_json::to_string(&integration.checks).unwrap_or_else(|_| "[]".into())))
            .item("checked_at", s(checked_at))
            .item(TTL_ATTRIBUTE, n(epoch_seconds_in(HISTORY_DAYS * 86_400)));
        if let Some(step) = step {
            put = put.item("event", s(step.as_str()));
        }
        put.send().await?;
        Ok(())
    }

    /// The last `limit` entries of an integration's history, newest first: (checked_at, status,
    /// the rotation step when the entry is one).
    pub async fn history(&self, tenant: &TenantId, id: &IntegrationId, limit: i32) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
        let out = self.tenant_items(tenant, &format!("HISTORY#{id}#")).scan_index_forward(false).limit(limit).send().await?;
        out.items()
            .iter()
            .map(|item| {
                let r = Reader(item);
                Ok((r.req("checked_at")?.to_owned(), r.req("status")?.to_owned(), r.opt("event").map(str::to_owned)))
            })
            .collect()
    }

    pub async fn idempotent_response(&self, tenant: &TenantId, key: &str) -> Result<Option<StoredResponse>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", tenant_pk(tenant))
            .key("sk", s(format!("IDEMPOTENCY#{key}")))
            .consistent_read(true)
            .send()
            .await?;
        let Some(item) = out.item else { return Ok(None) };
        let r = Reader(&item);
        let status = item.get("status").and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).unwrap_or(200);
        Ok(Some(StoredResponse { request: r.req("request")?.to_owned(), status, body: r.req("body")?.to_owned() }))
    }

    /// Records the answer to an idempotent request; the first writer wins.
    pub async fn remember_response(&self, tenant: &TenantId, key: &str, response: &StoredResponse) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", tenant_pk(tenant))
            .item("sk", s(format!("IDEMPOTENCY#{key}")))
            .item("request", s(&response.request))
            .item("status", n(u64::from(response.status)))
            .item("body", s(&response.body))
            .item(TTL_ATTRIBUTE, n(epoch_seconds_in(IDEMPOTENCY_HOURS * 3600)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result.map_err(StoreError::from) {
            Ok(_) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
