//! Lambda's DynamoDB event source mapping, as the harness plays it: the table's stream is read
//! through the real SDK and handed to a function binary in Lambda's event shape. A batch whose
//! answer names a failed record is delivered again from that record, as Lambda does with
//! `ReportBatchItemFailures`; nothing after it is skipped.

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use serde_json::{json, Map, Value};
use tokio::sync::Mutex;

use crate::runtime::Function;

const BATCH: i32 = 100;

pub struct StreamRelay {
    client: aws_sdk_dynamodbstreams::Client,
    stream_arn: String,
    shard_id: String,
    /// Where the next delivery starts: at a failed record, or after the last acknowledged one
    /// (`None`: at the shard's beginning).
    next: Mutex<Option<(ShardIteratorType, String)>>,
}

/// What one `pump` did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pumped {
    /// Records the function acknowledged.
    pub acknowledged: usize,
    /// The record the function reported as failed (delivered again by the next `pump`).
    pub failed_at: Option<String>,
}

impl StreamRelay {
    /// The relay of `table`'s stream, from its first record (`TRIM_HORIZON`).
    pub async fn new(sdk: &SdkConfig, table: &str) -> StreamRelay {
        let described = aws_sdk_dynamodb::Client::new(sdk).describe_table().table_name(table).send().await.expect("describe table");
        let stream_arn = described.table.and_then(|t| t.latest_stream_arn).expect("the table has a stream");
        let client = aws_sdk_dynamodbstreams::Client::new(sdk);
        let stream = client.describe_stream().stream_arn(&stream_arn).send().await.expect("describe stream");
        let shard_id = stream.stream_description.and_then(|d| d.shards.and_then(|s| s.into_iter().next())).and_then(|s| s.shard_id).expect("a shard");
        StreamRelay { client, stream_arn, shard_id, next: Mutex::new(None) }
    }

    async fn records(&self, from: Option<&(ShardIteratorType, String)>) -> Vec<Record> {
        let iterator = self.client.get_shard_iterator().stream_arn(&self.stream_arn).shard_id(&self.shard_id);
        let iterator = match from {
            Some((kind, sequence)) => iterator.shard_iterator_type(kind.clone()).sequence_number(sequence),
            None => iterator.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        let iterator = iterator.send().await.expect("shard iterator").shard_iterator;
        let out = self.client.get_records().set_shard_iterator(iterator).limit(BATCH).send().await.expect("get records");
        out.records.unwrap_or_default()
    }

    /// Delivers every record not yet acknowledged to `function`, batch by batch, until the
    /// stream holds nothing new or the function reports a failure.
    pub async fn pump(&self, function: &Function) -> Pumped {
        let mut next = self.next.lock().await;
        let mut pumped = Pumped::default();
        loop {
            let records = self.records(next.as_ref()).await;
            if records.is_empty() {
                return pumped;
            }
            let event = json!({"Records": records.iter().map(|r| lambda_record(r, &self.stream_arn)).collect::<Vec<_>>()});
            let answer = function.invoke(event).await.unwrap_or_else(|e| panic!("the stream consumer failed the invocation: {e}"));
            let failed = answer["batchItemFailures"].as_array().and_then(|f| f.first()).and_then(|f| f["itemIdentifier"].as_str()).map(str::to_owned);
            let sequence = |r: &Record| r.dynamodb.as_ref().and_then(|d| d.sequence_number.clone()).unwrap_or_default();
            match failed {
                Some(at) => {
                    pumped.acknowledged += records.iter().take_while(|r| sequence(r) != at).count();
                    *next = Some((ShardIteratorType::AtSequenceNumber, at.clone()));
                    pumped.failed_at = Some(at);
                    return pumped;
                }
                None => {
                    pumped.acknowledged += records.len();
                    *next = records.last().map(|r| (ShardIteratorType::AfterSequenceNumber, sequence(r)));
                }
            }
        }
    }
}

/// A stream record in the shape Lambda hands to a function (`aws_lambda_events::dynamodb`).
fn lambda_record(record: &Record, stream_arn: &str) -> Value {
    let change = record.dynamodb.as_ref().expect("a stream record");
    let image = |item: Option<&HashMap<String, AttributeValue>>| item.map(|i| Value::Object(i.iter().map(|(k, v)| (k.clone(), attribute(v))).collect()));
    let mut dynamodb = Map::new();
    dynamodb.insert("ApproximateCreationDateTime".into(), json!(change.approximate_creation_date_time.map(|t| t.secs()).unwrap_or_default()));
    dynamodb.insert("Keys".into(), image(change.keys.as_ref()).unwrap_or(json!({})));
    for (name, item) in [("NewImage", change.new_image.as_ref()), ("OldImage", change.old_image.as_ref())] {
        if let Some(value) = image(item) {
            dynamodb.insert(name.into(), value);
        }
    }
    dynamodb.insert("SequenceNumber".into(), json!(change.sequence_number));
    dynamodb.insert("SizeBytes".into(), json!(change.size_bytes.unwrap_or_default()));
    dynamodb.insert("StreamViewType".into(), json!(change.stream_view_type.as_ref().map(|t| t.as_str())));
    json!({
        "eventID": record.event_id,
        "eventName": record.event_name.as_ref().map(|n| n.as_str()),
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": record.aws_region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    })
}

/// DynamoDB JSON of one attribute value.
fn attribute(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::Null(_) => json!({"NULL": true}),
        AttributeValue::Ss(v) => json!({"SS": v}),
        AttributeValue::Ns(v) => json!({"NS": v}),
        AttributeValue::L(v) => json!({"L": v.iter().map(attribute).collect::<Vec<_>>()}),
        AttributeValue::M(m) => json!({"M": m.iter().map(|(k, v)| (k.clone(), attribute(v))).collect::<Map<_, _>>()}),
        other => panic!("attribute type not used by bucketlink: {other:?}"),
    }
}
