//! DynamoDB: the one table that holds all state.
//!
//! Item shapes (all in one table, `pk`/`sk` strings):
//! - integration: `pk = TENANT#<tenant>`, `sk = INTEGRATION#<id>`; `id`, `tenant`, `name`, `status`,
//!   `version` (number), and `bucket` once the customer has named one. `bucket` is also the partition
//!   key of the sparse GSI `by_bucket`, so an integration appears there only when it has a bucket.
//!
//! Access patterns: a tenant's integrations (Query on `pk`, paginated by the last id); one
//! integration (GetItem); every integration that has a bucket (Scan, for the sweep); the
//! integrations of a bucket (Query on `by_bucket`, for object-created events).

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;
use serde::Serialize;

pub const BY_BUCKET_INDEX: &str = "by_bucket";
const MAX_PAGE: i32 = 100;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the item changed since it was read")]
    Conflict,
    #[error("DynamoDB throttled the request")]
    Throttled,
    #[error("DynamoDB request failed: {0}")]
    Unavailable(String),
    #[error("stored item is malformed: {0}")]
    Corrupt(String),
}

impl<E, R> From<SdkError<E, R>> for StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    fn from(err: SdkError<E, R>) -> Self {
        match err.code() {
            Some("ThrottlingException" | "ProvisionedThroughputExceededException" | "RequestLimitExceeded") => {
                StoreError::Throttled
            }
            Some("ConditionalCheckFailedException") => StoreError::Conflict,
            _ => StoreError::Unavailable(DisplayErrorContext(&err).to_string()),
        }
    }
}

/// What the list and read endpoints show of an integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntegrationSummary {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub status: String,
    pub bucket: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page {
    pub items: Vec<IntegrationSummary>,
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
}

fn tenant_pk(tenant: &str) -> AttributeValue {
    AttributeValue::S(format!("TENANT#{tenant}"))
}

fn integration_sk(id: &str) -> AttributeValue {
    AttributeValue::S(format!("INTEGRATION#{id}"))
}

fn string(item: &HashMap<String, AttributeValue>, name: &str) -> Result<String, StoreError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .ok_or_else(|| StoreError::Corrupt(format!("attribute {name} missing or not a string")))
}

fn summary(item: &HashMap<String, AttributeValue>) -> Result<IntegrationSummary, StoreError> {
    Ok(IntegrationSummary {
        id: string(item, "id")?,
        tenant: string(item, "tenant")?,
        name: string(item, "name")?,
        status: string(item, "status")?,
        bucket: item.get("bucket").and_then(|v| v.as_s().ok()).cloned(),
    })
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Store { client, table: table.into() }
    }

    /// Creates the table and its index (for local runs and tests; `template.yaml` does it on AWS).
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let key = |name: &str, kind| KeySchemaElement::builder().attribute_name(name).key_type(kind).build().expect("key");
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute")
        };
        let by_bucket = GlobalSecondaryIndex::builder()
            .index_name(BY_BUCKET_INDEX)
            .key_schema(key("bucket", KeyType::Hash))
            .key_schema(key("pk", KeyType::Range))
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()
            .expect("index");
        let result = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .attribute_definitions(attr("pk"))
            .attribute_definitions(attr("sk"))
            .attribute_definitions(attr("bucket"))
            .global_secondary_indexes(by_bucket)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if matches!(e.err(), CreateTableError::ResourceInUseException(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get(&self, tenant: &str, id: &str) -> Result<Option<IntegrationSummary>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", tenant_pk(tenant))
            .key("sk", integration_sk(id))
            .consistent_read(true)
            .send()
            .await?;
        out.item.as_ref().map(summary).transpose()
    }

    /// One page of a tenant's integrations, oldest first; `cursor` is the last id of the previous page.
    pub async fn list(&self, tenant: &str, limit: i32, cursor: Option<&str>) -> Result<Page, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", tenant_pk(tenant))
            .expression_attribute_values(":prefix", AttributeValue::S("INTEGRATION#".into()))
            .limit(limit.clamp(1, MAX_PAGE));
        if let Some(after) = cursor {
            query = query.exclusive_start_key("pk", tenant_pk(tenant)).exclusive_start_key("sk", integration_sk(after));
        }
        let out = query.send().await?;
        let items = out.items().iter().map(summary).collect::<Result<Vec<_>, _>>()?;
        let next_cursor = out.last_evaluated_key.is_some().then(|| items.last().map(|i| i.id.clone())).flatten();
        Ok(Page { items, next_cursor })
    }

    /// Every integration that has a bucket: what the health sweep visits.
    pub async fn with_buckets(&self) -> Result<Vec<IntegrationSummary>, StoreError> {
        let mut found = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .index_name(BY_BUCKET_INDEX)
                .set_exclusive_start_key(start.take())
                .send()
                .await?;
            for item in out.items() {
                found.push(summary(item)?);
            }
            match out.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(found),
            }
        }
    }

    /// The integrations whose bucket is `bucket`, across tenants.
    pub async fn for_bucket(&self, bucket: &str) -> Result<Vec<IntegrationSummary>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_BUCKET_INDEX)
            .key_condition_expression("bucket = :b")
            .expression_attribute_values(":b", AttributeValue::S(bucket.to_owned()))
            .send()
            .await?;
        out.items().iter().map(summary).collect()
    }
}
