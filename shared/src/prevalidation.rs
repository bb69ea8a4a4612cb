//! `prevalidate`: each new object is inspected, for every integration that may read it, before
//! anyone imports it; the verdict is stored as that integration's record of the object.
//!
//! S3 delivers at least once and not in order: a record carries the event's `sequencer`, and a
//! delivery whose sequencer is not newer than the stored one changes nothing.

use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde::Serialize;

use crate::error::Error;
use crate::integration::{Connection, Integration};
use crate::object_events::{Delivery, ObjectCreated};
use crate::objects::{Inspector, ObjectStatus};
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

/// What a direct delivery did; an SQS delivery answers with the messages to retry, as Lambda's
/// partial batch response expects.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Direct {
        objects: usize,
        outcomes: Vec<Outcome>,
    },
    Queue {
        #[serde(rename = "batchItemFailures")]
        batch_item_failures: Vec<ItemFailure>,
    },
}

#[derive(Debug, Serialize)]
pub struct ItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

#[derive(Debug)]
pub struct Prevalidator {
    store: Store,
    inspector: Inspector,
}

/// The connection through which `integration` reads `key`, if it does.
fn reads(integration: &Integration, key: &str) -> Option<Connection> {
    integration.connection().filter(|c| integration.status.serves_data() && c.prefix.contains_key(key))
}

impl Prevalidator {
    pub fn new(store: Store, inspector: Inspector) -> Self {
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
        Ok(Some(Outcome {
            integration: record.integration,
            bucket: record.bucket,
            key: record.key,
            status: record.status,
            code: record.code,
            fate: if written == Written::Stored { Fate::Recorded } else { Fate::Superseded },
        }))
    }

    async fn objects(&self, objects: &[ObjectCreated]) -> Result<Vec<Outcome>, Error> {
        let per_object: Vec<Vec<Outcome>> = stream::iter(objects).map(|o| self.object(o)).buffered(CONCURRENCY).try_collect().await?;
        Ok(per_object.into_iter().flatten().collect())
    }

    /// A direct delivery: every object or an error (Lambda then retries the whole event, which
    /// repeats checks and changes nothing else). An SQS delivery: the ids of the messages to retry.
    pub async fn deliver(&self, delivery: Delivery) -> Result<Answer, Error> {
        match delivery {
            Delivery::Direct(objects) => Ok(Answer::Direct { objects: objects.len(), outcomes: self.objects(&objects).await? }),
            Delivery::Queue(messages) => {
                let failed = stream::iter(messages)
                    .map(|message| async move {
                        let result = match &message.objects {
                            Ok(objects) => self.objects(objects).await.map(|_| ()).map_err(|e| e.to_string()),
                            Err(unreadable) => Err(unreadable.clone()),
                        };
                        result.err().map(|error| {
                            tracing::warn!(message_id = %message.message_id, error, "message not handled; SQS will retry it");
                            ItemFailure { item_identifier: message.message_id }
                        })
                    })
                    .buffer_unordered(CONCURRENCY)
                    .filter_map(|failed| async move { failed })
                    .collect()
                    .await;
                Ok(Answer::Queue { batch_item_failures: failed })
            }
        }
    }
}
