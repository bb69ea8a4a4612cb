//! Prevalidation records: `pk = TENANT#<tenant>`, `sk = OBJECT#<integration>#<sha256(key)>`
//! (hashed: keys may be 1024 bytes, more than a sort key holds), `record` (the JSON of an
//! `ObjectRecord`), `sequencer` (S3's event order for the key, zero-padded so that string order is
//! event order; absent for records not made from an event) and `checked_at`. The item has no
//! `bucket` attribute on purpose: it must stay out of the `by_bucket` index.

use std::collections::HashMap;

use aws_lc_rs::digest;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

use super::{s, tenant_pk, Item, Store, StoreError};
use crate::ids::{IntegrationId, TenantId};
use crate::objects::ObjectRecord;

const BATCH_GET: usize = 100;

fn record_sk(integration: &str, key: &str) -> AttributeValue {
    let hash = digest::digest(&digest::SHA256, key.as_bytes());
    let hex: String = hash.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    s(format!("OBJECT#{integration}#{hex}"))
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
            .item("sk", record_sk(&record.integration, &record.key))
            .item("record", s(json))
            .item("checked_at", s(&record.checked_at));
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

    /// The stored record of `key` and the event sequencer it came from.
    pub async fn object_record(&self, tenant: &TenantId, integration: &IntegrationId, key: &str) -> Result<Option<(ObjectRecord, Option<String>)>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", tenant_pk(tenant))
            .key("sk", record_sk(integration.as_str(), key))
            .consistent_read(true)
            .send()
            .await?;
        let Some(item) = out.item else { return Ok(None) };
        let sequencer = item.get("sequencer").and_then(|v| v.as_s().ok()).cloned();
        Ok(Some((from_record_item(&item)?, sequencer)))
    }

    /// The stored records of many keys at once (BatchGetItem, 100 per call), by key.
    pub async fn object_records(&self, tenant: &TenantId, integration: &IntegrationId, keys: &[&str]) -> Result<HashMap<String, ObjectRecord>, StoreError> {
        let mut found = HashMap::new();
        for chunk in keys.chunks(BATCH_GET) {
            let wanted: Vec<Item> =
                chunk.iter().map(|key| Item::from([("pk".to_owned(), tenant_pk(tenant)), ("sk".to_owned(), record_sk(integration.as_str(), key))])).collect();
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

    /// An integration's records, in no particular order (up to `limit`).
    pub async fn integration_records(&self, tenant: &TenantId, integration: &IntegrationId, limit: i32) -> Result<Vec<ObjectRecord>, StoreError> {
        let out = self.tenant_items(tenant, &format!("OBJECT#{integration}#")).limit(limit).send().await?;
        out.items().iter().map(from_record_item).collect()
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
        let AttributeValue::S(sk) = record_sk("01J0000000000000000000000A", &"k".repeat(1024)) else { panic!() };
        assert_eq!(sk.len(), "OBJECT#".len() + 26 + 1 + 64);
    }
}
