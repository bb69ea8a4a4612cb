//! `prevalidate`: each new object is inspected, for every integration that may read it, before
//! anyone imports it; the verdict is stored as that integration's record of the object.
//!
//! S3 delivers at least once and not in order: a record carries the event's `sequencer`, and a
//! delivery whose sequencer is not newer than the stored one changes nothing.

use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde::Serialize;

use crate::error::Error;
use crate::inspection::{Inspect, Inspector};
use crate::integration::{Connection, Integration};
use crate::object_events::{Message, ObjectCreated};
use crate::record::ObjectStatus;
use crate::store::{normalize_sequencer, Store, Written};

/// Objects inspected at once inside one invocation.
const CONCURRENCY: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    Recorded,
    /// The same or a later event for this key was already recorded.
    Superseded,
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub integration: String,
    pub bucket: String,
    pub key: String,
    pub status: ObjectStatus,
    pub code: String,
    pub fate: Fate,
}

#[derive(Debug)]
pub struct Prevalidator<I = Inspector> {
    store: Store,
    inspector: I,
}

/// The connection through which `integration` reads `key`, if it does.
fn reads(integration: &Integration, key: &str) -> Option<Connection> {
    integration.connection().filter(|c| integration.status.serves_data() && c.prefix.contains_key(key))
}

impl<I: Inspect> Prevalidator<I> {
    pub fn new(store: Store, inspector: I) -> Self {
        Prevalidator { store, inspector }
    }

    /// Inspects one new object for each integration that reads it.
    pub async fn object(&self, object: &ObjectCreated) -> Result<Vec<Outcome>, Error> {
        let integrations = self.store.for_bucket(&object.bucket).await?;
        let mut outcomes = Vec::new();
        for (integration, conn) in integrations.iter().filter_map(|i| Some((i, reads(i, &object.key)?))) {
            if let Some(outcome) = self.for_integration(integration, &conn, object).await? {
                outcomes.push(outcome);
            }
        }
        if outcomes.is_empty() {
            tracing::info!(bucket = %object.bucket, "no healthy integration reads this object");
        }
        Ok(outcomes)
    }

    async fn for_integration(&self, integration: &Integration, conn: &Connection, object: &ObjectCreated) -> Result<Option<Outcome>, Error> {
        let sequencer = object.sequencer.as_deref();
        if let Some(incoming) = sequencer.map(normalize_sequencer) {
            let stored = self.store.object_record(&integration.tenant, &integration.id, conn.bucket.as_str(), &object.key).await?;
            if let Some((record, Some(stored))) = stored.filter(|(_, s)| s.as_ref().is_some_and(|s| *s >= incoming)) {
                tracing::info!(integration = %integration.id, stored, incoming, "repeated or late delivery: record kept");
                return Ok(Some(Outcome {
                    integration: integration.id.to_string(),
                    bucket: object.bucket.clone(),
                    key: object.key.clone(),
                    status: record.status,
                    code: record.code,
                    fate: Fate::Superseded,
                }));
            }
        }
        // AWS failing says nothing about the object: no record, and the delivery is retried.
        let record = self.inspector.inspect(integration, conn, &object.key).await?;
        let written = self.store.put_object_record(&integration.tenant, &record, sequencer).await?;
        tracing::info!(integration = %integration.id, code = %record.code, ?written, "object prevalidated");
        metrics::counter!(crate::telemetry::RECORDS, "Code" => record.code.clone()).increment(1);
        Ok(Some(Outcome {
            integration: record.integration,
            bucket: record.bucket,
            key: record.key,
            status: record.status,
            code: record.code,
            fate: if written == Written::Stored { Fate::Recorded } else { Fate::Superseded },
        }))
    }

    /// Every object of a direct delivery (S3 notification, EventBridge), or an error: Lambda then
    /// retries the whole event, which repeats inspections and changes nothing else.
    pub async fn objects(&self, objects: &[ObjectCreated]) -> Result<Vec<Outcome>, Error> {
        let per_object: Vec<Vec<Outcome>> = stream::iter(objects).map(|o| self.object(o)).buffered(CONCURRENCY).try_collect().await?;
        Ok(per_object.into_iter().flatten().collect())
    }

    /// The messages of an SQS delivery, each on its own; the ids of those to deliver again.
    pub async fn messages(&self, messages: Vec<Message>) -> Vec<String> {
        stream::iter(messages)
            .map(|message| async move {
                let result = match &message.objects {
                    Ok(objects) => self.objects(objects).await.map(|_| ()).map_err(|e| e.to_string()),
                    Err(unreadable) => Err(unreadable.clone()),
                };
                result.err().map(|error| {
                    tracing::warn!(message_id = %message.message_id, error, "message not handled; SQS will retry it");
                    message.message_id
                })
            })
            .buffer_unordered(CONCURRENCY)
            .filter_map(|failed| async move { failed })
            .collect()
            .await
    }
}

#[cfg(test)]
mod tests {
    //! Which integrations an object is inspected for, and when a delivery changes nothing:
    //! against scripted DynamoDB answers (aws-smithy-mocks) and a scripted inspector.
    use std::sync::{Arc, Mutex};

    use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
    use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
    use aws_sdk_dynamodb::operation::query::QueryOutput;
    use aws_sdk_dynamodb::types::AttributeValue;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    use super::*;
    use crate::arn::RoleArn;
    use crate::bucket::BucketName;
    use crate::fault::Fault;
    use crate::ids::{IntegrationId, KeyPrefix, TenantId};
    use crate::integration::Status;
    use crate::record::tests::record;
    use crate::record::ObjectRecord;
    use crate::store::to_item;

    #[derive(Default, Clone)]
    struct Scripted {
        inspected: Arc<Mutex<Vec<String>>>,
    }

    impl Inspect for Scripted {
        async fn inspect(&self, integration: &Integration, conn: &Connection, key: &str) -> Result<ObjectRecord, Fault> {
            self.inspected.lock().unwrap().push(integration.id.to_string());
            Ok(record(integration.id.as_str(), conn.bucket.as_str(), key, "READY", "2026-11-30T09:00:00Z"))
        }
    }

    fn integration(id: &str, status: Status, prefix: &str) -> Integration {
        let mut i = Integration::new(
            TenantId::parse("acme").unwrap(),
            "x".into(),
            Some(BucketName::parse("acme-data").unwrap()),
            KeyPrefix::parse(prefix).unwrap(),
            None,
        );
        i.id = IntegrationId::parse(id).unwrap();
        i.role_arn = Some(RoleArn::parse("arn:aws:iam::222222222222:role/r").unwrap());
        i.status = status;
        i
    }

    fn created(key: &str, sequencer: &str) -> ObjectCreated {
        ObjectCreated { bucket: "acme-data".into(), key: key.into(), size: Some(1000), etag: None, sequencer: Some(sequencer.into()) }
    }

    /// The bucket's integrations: a healthy one under `rows/`, a failing one, one under `other/`.
    fn prevalidator(stored_sequencer: Option<&'static str>, inspector: Scripted) -> (Prevalidator<Scripted>, aws_smithy_mocks::Rule) {
        let integrations = vec![
            to_item(&integration("01JD7ZK3Q4W8X9Y0ABCDEFGHJA", Status::Healthy, "rows/")),
            to_item(&integration("01JD7ZK3Q4W8X9Y0ABCDEFGHJB", Status::Failing, "rows/")),
            to_item(&integration("01JD7ZK3Q4W8X9Y0ABCDEFGHJC", Status::Healthy, "other/")),
        ];
        let query = mock!(aws_sdk_dynamodb::Client::query).then_output(move || QueryOutput::builder().set_items(Some(integrations.clone())).build());
        let get = mock!(aws_sdk_dynamodb::Client::get_item).then_output(move || {
            let item = stored_sequencer.map(|seq| {
                let r = record("01JD7ZK3Q4W8X9Y0ABCDEFGHJA", "acme-data", "rows/a.jpg", "OBJECT_ARCHIVED", "2026-11-30T08:00:00Z");
                crate::store::Item::from([
                    ("record".to_owned(), AttributeValue::S(serde_json::to_string(&r).unwrap())),
                    ("sequencer".to_owned(), AttributeValue::S(crate::store::normalize_sequencer(seq))),
                ])
            });
            GetItemOutput::builder().set_item(item).build()
        });
        let put = mock!(aws_sdk_dynamodb::Client::put_item).then_output(|| PutItemOutput::builder().build());
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&query, &get, &put]);
        (Prevalidator::new(Store::new(client, "t"), inspector), put)
    }

    #[tokio::test]
    async fn an_object_is_inspected_for_each_healthy_integration_that_reads_it() {
        let inspector = Scripted::default();
        let (prevalidator, put) = prevalidator(None, inspector.clone());
        let outcomes = prevalidator.objects(&[created("rows/a.jpg", "0055AED6DCD90281E5")]).await.unwrap();
        assert_eq!(outcomes.len(), 1);
        assert_eq!((outcomes[0].fate.clone(), outcomes[0].code.as_str()), (Fate::Recorded, "READY"));
        assert_eq!(*inspector.inspected.lock().unwrap(), ["01JD7ZK3Q4W8X9Y0ABCDEFGHJA"], "not the failing one, not the one under other/");
        assert_eq!(put.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_repeated_or_late_delivery_changes_nothing() {
        let inspector = Scripted::default();
        let (prevalidator, put) = prevalidator(Some("0055AED6DCD90281E6"), inspector.clone());
        let outcomes = prevalidator.objects(&[created("rows/a.jpg", "0055AED6DCD90281E5")]).await.unwrap();
        assert_eq!((outcomes[0].fate.clone(), outcomes[0].code.as_str()), (Fate::Superseded, "OBJECT_ARCHIVED"), "the stored, newer verdict stands");
        assert!(inspector.inspected.lock().unwrap().is_empty(), "nothing is read again");
        assert_eq!(put.num_calls(), 0);
    }
}
