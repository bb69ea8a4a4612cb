//! What arrives from S3, in each of the three ways it reaches a function: an S3 notification
//! (`{"Records": [{"eventSource": "aws:s3", ...}]}`), S3 notifications delivered through SQS (each
//! message body one notification, or the `s3:TestEvent` S3 sends when notifications are set up),
//! and EventBridge `Object Created` events. Object keys are URL-encoded with `+` for a space in
//! every form.

use serde::Deserialize;
use serde_json::Value;

/// One object created, with its key decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectCreated {
    pub bucket: String,
    pub key: String,
    pub size: Option<u64>,
    pub etag: Option<String>,
    /// S3's order of events for this key (hex; compare after left-padding).
    pub sequencer: Option<String>,
}

/// One SQS message: its objects, or why it cannot be read (it then goes back to the queue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub message_id: String,
    pub objects: Result<Vec<ObjectCreated>, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Direct S3 notification or EventBridge event: the whole invocation succeeds or is retried.
    Direct(Vec<ObjectCreated>),
    /// SQS batch: each message succeeds or fails on its own.
    Queue(Vec<Message>),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not an S3 object-created event: {0}")]
pub struct BadEvent(pub String);

#[derive(Deserialize)]
struct Notification {
    #[serde(rename = "Records", default)]
    records: Vec<Value>,
    #[serde(rename = "Event")]
    event: Option<String>,
}

#[derive(Deserialize)]
struct S3Record {
    #[serde(rename = "eventName")]
    event_name: String,
    s3: S3Entity,
}

#[derive(Deserialize)]
struct S3Entity {
    bucket: Named,
    object: EventObject,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
struct EventObject {
    key: String,
    size: Option<u64>,
    #[serde(rename = "eTag", alias = "etag")]
    etag: Option<String>,
    sequencer: Option<String>,
}

#[derive(Deserialize)]
struct SqsRecord {
    #[serde(rename = "messageId")]
    message_id: String,
    body: String,
}

#[derive(Deserialize)]
struct BridgeEvent {
    #[serde(rename = "detail-type")]
    detail_type: String,
    source: String,
    detail: BridgeDetail,
}

#[derive(Deserialize)]
struct BridgeDetail {
    bucket: Named,
    object: EventObject,
}

fn created(bucket: String, object: EventObject) -> Result<ObjectCreated, BadEvent> {
    let key = decode_event_key(&object.key).map_err(|e| BadEvent(e.to_string()))?;
    Ok(ObjectCreated { bucket, key, size: object.size, etag: object.etag, sequencer: object.sequencer })
}

/// The objects of an S3 notification; other events than object-created (and test events) have none.
fn notification(value: Value) -> Result<Vec<ObjectCreated>, BadEvent> {
    let parsed: Notification = serde_json::from_value(value).map_err(|e| BadEvent(e.to_string()))?;
    if parsed.event.as_deref() == Some("s3:TestEvent") {
        return Ok(Vec::new());
    }
    let mut objects = Vec::with_capacity(parsed.records.len());
    for record in parsed.records {
        let record: S3Record = serde_json::from_value(record).map_err(|e| BadEvent(e.to_string()))?;
        if record.event_name.starts_with("ObjectCreated:") {
            objects.push(created(record.s3.bucket.name, record.s3.object)?);
        }
    }
    Ok(objects)
}

/// Tells the three forms apart and reads each.
pub fn parse(value: Value) -> Result<Delivery, BadEvent> {
    if value.get("detail-type").is_some() {
        let event: BridgeEvent = serde_json::from_value(value).map_err(|e| BadEvent(e.to_string()))?;
        if event.source != "aws.s3" || event.detail_type != "Object Created" {
            return Ok(Delivery::Direct(Vec::new()));
        }
        return Ok(Delivery::Direct(vec![created(event.detail.bucket.name, event.detail.object)?]));
    }
    let from_sqs = value.pointer("/Records/0/eventSource").and_then(Value::as_str) == Some("aws:sqs");
    if !from_sqs {
        return notification(value).map(Delivery::Direct);
    }
    let records = value.get("Records").cloned().unwrap_or_default();
    let records: Vec<SqsRecord> = serde_json::from_value(records).map_err(|e| BadEvent(e.to_string()))?;
    let messages = records
        .into_iter()
        .map(|r| Message {
            message_id: r.message_id,
            objects: serde_json::from_str(&r.body).map_err(|e| BadEvent(e.to_string())).and_then(notification).map_err(|e| e.to_string()),
        })
        .collect();
    Ok(Delivery::Queue(messages))
}

/// An object key that is not valid URL encoding. Its text says so without the key: errors end in
/// logs, and object keys never do.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("an object key in the event ({0} bytes) is not valid URL encoding")]
pub struct BadKey(pub usize);

/// Decodes an S3 event key exactly once: `+` is a space, `%XX` a byte, and the bytes must be UTF-8.
pub fn decode_event_key(raw: &str) -> Result<String, BadKey> {
    crate::encoding::decode(raw, crate::encoding::Plus::Space).ok_or(BadKey(raw.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let text = match name {
            "prevalidate-s3-put.json" => include_str!("../../events/prevalidate-s3-put.json"),
            "prevalidate-eventbridge.json" => include_str!("../../events/prevalidate-eventbridge.json"),
            "prevalidate-sqs.json" => include_str!("../../events/prevalidate-sqs.json"),
            other => panic!("no events/{other}"),
        };
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn each_delivery_form_in_events_is_read() {
        let Delivery::Direct(direct) = parse(fixture("prevalidate-s3-put.json")).unwrap() else { panic!("direct") };
        assert_eq!(direct[0].key, "photos/summer 2024/café 1.jpg");
        assert_eq!(direct[0].sequencer.as_deref(), Some("0055AED6DCD90281E5"));
        let Delivery::Direct(bridged) = parse(fixture("prevalidate-eventbridge.json")).unwrap() else { panic!("eventbridge") };
        assert_eq!(bridged.len(), 1);
        assert_eq!(bridged[0].key, "photos/summer 2024/café 1.jpg");
        let Delivery::Queue(messages) = parse(fixture("prevalidate-sqs.json")).unwrap() else { panic!("sqs") };
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].objects.as_ref().unwrap()[0].key, "photos/summer 2024/café 1.jpg");
        assert_eq!(messages[1].objects, Ok(vec![]), "the s3:TestEvent has no objects");
    }

    #[test]
    fn other_events_have_no_objects_and_garbage_is_refused() {
        let removed = serde_json::json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectRemoved:Delete",
            "s3": {"bucket": {"name": "b"}, "object": {"key": "k"}}}]});
        assert_eq!(parse(removed).unwrap(), Delivery::Direct(vec![]));
        let other = serde_json::json!({"detail-type": "Object Deleted", "source": "aws.s3", "detail": {"bucket": {"name": "b"}, "object": {"key": "k"}}});
        assert_eq!(parse(other).unwrap(), Delivery::Direct(vec![]));
        assert!(parse(serde_json::json!({"Records": [{"eventSource": "aws:s3"}]})).is_err());
        assert!(parse(serde_json::json!([1, 2])).is_err());
        let bad_body = serde_json::json!({"Records": [{"eventSource": "aws:sqs", "messageId": "m1", "body": "not json"}]});
        let Delivery::Queue(messages) = parse(bad_body).unwrap() else { panic!() };
        assert!(messages[0].objects.is_err());
    }

    #[test]
    fn decodes_spaces_plus_signs_and_unicode_once() {
        assert_eq!(decode_event_key("photos/summer+2024/a.jpg").unwrap(), "photos/summer 2024/a.jpg");
        assert_eq!(decode_event_key("a%2Bb%20c").unwrap(), "a+b c");
        assert_eq!(decode_event_key("caf%C3%A9%2Fx").unwrap(), "café/x");
        assert_eq!(decode_event_key("100%2525").unwrap(), "100%25");
        assert_eq!(decode_event_key("plain/key.txt").unwrap(), "plain/key.txt");
    }

    #[test]
    fn refuses_broken_encoding() {
        for raw in ["a%2", "a%zz", "%C3%28", "%"] {
            assert_eq!(decode_event_key(raw), Err(BadKey(raw.len())), "{raw}");
        }
    }
}
