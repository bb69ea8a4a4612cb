//! Prevalidation records: `pk = TENANT#<tenant>`, `sk = OBJECT#<integration>#<sha256(bucket/key)>`
//! (hashed: keys may be 1024 bytes, more than a sort key holds; the bucket is in it so that an
//! integration moved to another bucket never reads the old bucket's verdicts), `record` (the
//! JSON of an `ObjectRecord`), `status` and `code` (to filter on), `sequencer` (S3's event order
//! for the key, zero-padded so that string order is event order; absent for records not made
//! from an event), `checked_at`, and `expires_at` (the TTL: 30 days on). The item has no `bucket`
//! attribute on purpose: it must stay out of the `by_bucket` index.

use std::collections::HashMap;

use aws_lc_rs::digest;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

use super::{epoch_seconds_in, n, s, tenant_pk, Item, Store, StoreError, TTL_ATTRIBUTE};
use crate::ids::{IntegrationId, TenantId};
use crate::record::{ObjectRecord, ObjectStatus};

const BATCH_GET: usize = 100;
const RECORD_DAYS: u64 = 30;

fn record_sk(integration: &str, bucket: &str, key: &str) -> AttributeValue {
    let mut hasher = digest::Context::new(&digest::SHA256);
    hasher.update(bucket.as_bytes());
    hasher.update(b"/");
    hasher.update(key.as_bytes());
    let hex: String = hasher.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect();
    s(format!("OBJECT#{integration}#{hex}"))
}

/// One page of an integration's records; `next_cursor` to pass back for the next.
#[derive(Debug, Clone)]
pub struct RecordPage {
    pub items: Vec<ObjectRecord>,
    pub next_cursor: Option<String>,
}

/// Which records a page holds.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    pub status: Option<ObjectStatus>,
    pub code: Option<String>,
}

/// S3 sequencers are hex strings of varying length; compared after left-padding with zeros.
pub fn normalize_sequencer(sequencer: &str) -> String {
    format!("{:0>64}", sequencer.to_ascii_uppercase())
}

/// What became of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Stored,
    /// A record from the same or a later event is already there: this delivery is a repeat or late.
    Superseded,
}

fn from_record_item(item: &Item) -> Result<ObjectRecord, StoreError> {
    let text = item.get("record").and_then(|v| v.as_s().ok()).ok_or_else(|| StoreError::Corrupt("record missing".into()))?;
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("record: {e}")))
}

impl Store {
    /// Stores `record` unless a record from the same or a later event (by `sequencer`) is stored.
    pub async fn put_object_record(&self, tenant: &TenantId, record: &ObjectRecord, sequencer: Option<&str>) -> Result<Written, StoreError> {
        let json = serde_json::to_string(record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", tenant_pk(tenant))
            .item("sk", record_sk(&record.integration, &record.bucket, &record.key))
            .item("record", s(json))
            .item("status", s(record.status.as_str()))
            .item("code", s(&record.code))
            .item("checked_at", s(&record.checked_at))
            .item(TTL_ATTRIBUTE, n(epoch_seconds_in(RECORD_DAYS * 86_400)));
        if let Some(sequencer) = sequencer {
            put = put
                .item("sequencer", s(normalize_sequencer(sequencer)))
                .condition_expression("attribute_not_exists(sequencer) OR sequencer < :seq")
                .expression_attribute_values(":seq", s(normalize_sequencer(sequencer)));
        }
        match put.send().await.map_err(StoreError::from) {
            Ok(_) => Ok(Written::Stored),
            Err(StoreError::Conflict) => Ok(Written::Superseded),
            Err(e) => Err(e),
        }
    }

    /// The stored record of `key` in `bucket` and the event sequencer it came from.
    pub async fn object_record(
        &self,
        tenant: &TenantId,
        integration: &IntegrationId,
        bucket: &str,
        key: &str,
    ) -> Result<Option<(ObjectRecord, Option<String>)>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", tenant_pk(tenant))
            .key("sk", record_sk(integration.as_str(), bucket, key))
            .consistent_read(true)
            .send()
            .await?;
        let Some(item) = out.item else { return Ok(None) };
        let sequencer = item.get("sequencer").and_then(|v| v.as_s().ok()).cloned();
        Ok(Some((from_record_item(&item)?, sequencer)))
    }

    /// The stored records of many keys of `bucket` at once (BatchGetItem, 100 per call), by key.
    pub async fn object_records(
        &self,
        tenant: &TenantId,
        integration: &IntegrationId,
        bucket: &str,
        keys: &[&str],
    ) -> Result<HashMap<String, ObjectRecord>, StoreError> {
        let mut found = HashMap::new();
        for chunk in keys.chunks(BATCH_GET) {
            let wanted: Vec<Item> = chunk
                .iter()
                .map(|key| Item::from([("pk".to_owned(), tenant_pk(tenant)), ("sk".to_owned(), record_sk(integration.as_str(), bucket, key))]))
                .collect();
            let mut request = Some(KeysAndAttributes::builder().set_keys(Some(wanted)).build().map_err(|e| StoreError::Corrupt(e.to_string()))?);
            while let Some(keys_and_attributes) = request.take() {
                let out = self.client.batch_get_item().request_items(&self.table, keys_and_attributes).send().await?;
                for item in out.responses.as_ref().and_then(|r| r.get(&self.table)).into_iter().flatten() {
                    let record = from_record_item(item)?;
                    found.insert(record.key.clone(), record);
                }
                request = out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).filter(|k| !k.keys().is_empty());
            }
        }
        Ok(found)
    }

    /// One page of an integration's records (in no meaningful order), those that match `filter`;
    /// `cursor` is a `next_cursor` of the previous page. A page may hold fewer than `limit`
    /// records and still have a next one: `limit` counts records read, the filter applies after.
    pub async fn integration_records(
        &self,
        tenant: &TenantId,
        integration: &IntegrationId,
        filter: &RecordFilter,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<RecordPage, StoreError> {
        let prefix = format!("OBJECT#{integration}#");
        let mut query = self.tenant_items(tenant, &prefix).limit(limit.clamp(1, super::MAX_PAGE));
        if let Some(after) = cursor {
            query = query.exclusive_start_key("pk", tenant_pk(tenant)).exclusive_start_key("sk", s(format!("{prefix}{after}")));
        }
        let mut conditions = Vec::new();
        if let Some(status) = filter.status {
            conditions.push("#status = :status");
            query = query.expression_attribute_names("#status", "status").expression_attribute_values(":status", s(status.as_str()));
        }
        if let Some(code) = &filter.code {
            conditions.push("#code = :code");
            query = query.expression_attribute_names("#code", "code").expression_attribute_values(":code", s(code));
        }
        if !conditions.is_empty() {
            query = query.filter_expression(conditions.join(" AND "));
        }
        let out = query.send().await?;
        let items = out.items().iter().map(from_record_item).collect::<Result<Vec<_>, _>>()?;
        let next_cursor =
            out.last_evaluated_key.as_ref().and_then(|k| k.get("sk")).and_then(|sk| sk.as_s().ok()).and_then(|sk| sk.strip_prefix(&prefix)).map(str::to_owned);
        Ok(RecordPage { items, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequencers_compare_in_event_order_once_padded() {
        let earlier = normalize_sequencer("0055AED6DCD90281E5");
        let later = normalize_sequencer("0055AED6DCD90281E6");
        let longer = normalize_sequencer("0055AED6DCD90281E500");
        assert!(earlier < later && later < longer);
        assert_eq!(normalize_sequencer("a1"), normalize_sequencer("A1"));
    }

    #[test]
    fn record_keys_are_bounded_whatever_the_object_key() {
        let AttributeValue::S(sk) = record_sk("01J0000000000000000000000A", "acme-data", &"k".repeat(1024)) else { panic!() };
        assert_eq!(sk.len(), "OBJECT#".len() + 26 + 1 + 64);
        assert_ne!(record_sk("01J0000000000000000000000A", "a", "k"), record_sk("01J0000000000000000000000A", "b", "k"), "tied to the bucket");
    }
}
