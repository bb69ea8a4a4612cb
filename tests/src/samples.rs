//! Real objects of every import data type (and the ways objects go wrong), and the S3 events that
//! announce them in each delivery form, shaped like `events/prevalidate-*.json`.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::StorageClass;
use serde_json::{json, Value};

pub struct Sample {
    pub key: &'static str,
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub storage_class: Option<StorageClass>,
    /// What prevalidation must conclude: `READY` or the rejection code, and the data type.
    pub expect_code: &'static str,
    pub expect_type: Option<&'static str>,
}

const JPEG: &[u8] = include_bytes!("../samples/gradient.jpg");
const PNG: &[u8] = include_bytes!("../samples/gradient.png");

/// An ISO base media file: `ftyp` (isom), a `free` box and an empty `mdat`.
fn mp4() -> Vec<u8> {
    let mut out = Vec::new();
    let boxed = |out: &mut Vec<u8>, kind: &[u8; 4], payload: &[u8]| {
        out.extend_from_slice(&(8 + payload.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(payload);
    };
    boxed(&mut out, b"ftyp", b"isom\0\0\x02\0isomiso2avc1mp41");
    boxed(&mut out, b"free", &[]);
    boxed(&mut out, b"mdat", &[0; 64]);
    out
}

/// A tenth of a second of a 440 Hz tone: 16-bit mono PCM at 8 kHz.
fn wav() -> Vec<u8> {
    let samples: Vec<i16> = (0..800).map(|n| ((n as f64 * 440.0 * std::f64::consts::TAU / 8000.0).sin() * 8000.0) as i16).collect();
    let data_len = samples.len() as u32 * 2;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&16000u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// A one-page PDF with a valid cross-reference table.
pub fn pdf() -> Vec<u8> {
    let objects = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (n, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", n + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes());
    out
}

pub fn all() -> Vec<Sample> {
    let sample = |key, bytes: Vec<u8>, content_type, code, data_type| Sample {
        key,
        bytes,
        content_type,
        storage_class: None,
        expect_code: code,
        expect_type: data_type,
    };
    let geojson = br#"{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [13.4, 52.5]}, "properties": {"name": "Berlin"}}]}"#;
    let html = b"<!DOCTYPE html>\n<html><head><title>Row</title></head><body><p>A data row.</p></body></html>\n";
    let mut samples = vec![
        sample("rows/photo.jpg", JPEG.to_vec(), "image/jpeg", "READY", Some("image")),
        sample("rows/icon.png", PNG.to_vec(), "image/png", "READY", Some("image")),
        sample("rows/clip.mp4", mp4(), "video/mp4", "READY", Some("video")),
        sample("rows/tone.wav", wav(), "audio/wav", "READY", Some("audio")),
        sample("rows/paper.pdf", pdf(), "application/pdf", "READY", Some("document")),
        sample("rows/page.html", html.to_vec(), "text/html", "READY", Some("html")),
        sample("rows/berlin.geojson", geojson.to_vec(), "application/geo+json", "READY", Some("geospatial")),
        sample("rows/notes.txt", b"Plain notes about the data set.\n".to_vec(), "text/plain", "READY", Some("text")),
        sample("rows/receipt.jpg", pdf(), "image/jpeg", "READY", Some("document")),
        sample("rows/summer 2024/café ü+1.jpg", JPEG.to_vec(), "image/jpeg", "READY", Some("image")),
        sample("rows/empty.txt", Vec::new(), "text/plain", "EMPTY_OBJECT", None),
        sample("rows/blob.bin", (0..=255u8).cycle().take(1024).collect(), "application/octet-stream", "UNSUPPORTED_MEDIA_TYPE", None),
        sample("rows/huge.txt", "a line of text that repeats\n".repeat(200).into_bytes(), "text/plain", "TOO_LARGE", Some("text")),
    ];
    let mut archived = sample("rows/archived.jpg", JPEG.to_vec(), "image/jpeg", "OBJECT_ARCHIVED", None);
    archived.storage_class = Some(StorageClass::Glacier);
    samples.push(archived);
    samples
}

/// The size limits the samples are judged by: `rows/huge.txt` (5.4 KiB) is over the text limit.
pub const LIMITS: &str = "text=4KiB";

pub async fn upload(s3: &aws_sdk_s3::Client, bucket: &str, sample: &Sample) {
    s3.put_object()
        .bucket(bucket)
        .key(sample.key)
        .content_type(sample.content_type)
        .set_storage_class(sample.storage_class.clone())
        .body(ByteStream::from(sample.bytes.clone()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {}: {e:?}", sample.key));
}

/// A key as S3 writes it into events: URL-encoded, `+` for a space.
pub fn event_key(key: &str) -> String {
    let mut out = String::new();
    for &b in key.as_bytes() {
        match b {
            b' ' => out.push('+'),
            b if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) => out.push(b as char),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// One S3 notification record for an object created.
pub fn s3_record(bucket: &str, key: &str, size: usize, sequencer: &str) -> Value {
    json!({
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-24T15:00:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "203.0.113.7"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
        "s3": {
            "s3SchemaVersion": "1.0", "configurationId": "bucketlink-prevalidate",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"}, "arn": format!("arn:aws:s3:::{bucket}")},
            "object": {"key": event_key(key), "size": size, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": sequencer}
        }
    })
}

pub fn s3_event(records: Vec<Value>) -> Value {
    json!({"Records": records})
}

/// An SQS batch whose message bodies are the given texts.
pub fn sqs_event(bodies: &[(&str, String)]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .map(|(id, body)| {
            json!({"messageId": id, "receiptHandle": format!("handle-{id}"), "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795532400000", "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1795532400010"},
                "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:111111111111:bucketlink-prevalidate", "awsRegion": "us-east-1"})
        })
        .collect();
    json!({"Records": records})
}

pub fn test_event(bucket: &str) -> String {
    json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-24T14:59:00.000Z", "Bucket": bucket,
        "RequestId": "5582815E1AEA5ADF", "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"})
    .to_string()
}

/// An EventBridge `Object Created` event, as a customer's bus forwards it to ours.
pub fn eventbridge_event(account: &str, bucket: &str, key: &str, size: usize, sequencer: &str) -> Value {
    json!({
        "version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103", "detail-type": "Object Created", "source": "aws.s3",
        "account": account, "time": "2026-11-24T15:00:00Z", "region": "us-east-1", "resources": [format!("arn:aws:s3:::{bucket}")],
        "detail": {"version": "0", "bucket": {"name": bucket},
            "object": {"key": event_key(key), "size": size, "etag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": sequencer},
            "request-id": "N4N7GDK58NMKJ12R", "requester": account, "source-ip-address": "203.0.113.7", "reason": "PutObject"}
    })
}

/// An "AWS API Call via CloudTrail" event as the customer's default bus forwards it to ours:
/// `call` on `source` (`aws.iam`, `aws.s3`, `aws.kms`) in `account`, with `parameters`.
pub fn cloudtrail_event(account: &str, source: &str, call: &str, parameters: Value) -> Value {
    let service = source.trim_start_matches("aws.");
    json!({
        "version": "0", "id": "6f2ad1b8-2b5f-4c0e-9d7a-1f2e3d4c5b6a", "detail-type": "AWS API Call via CloudTrail", "source": source,
        "account": account, "time": "2026-11-30T10:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLE:admin", "arn": format!("arn:aws:sts::{account}:assumed-role/Admin/admin"), "accountId": account},
            "eventTime": "2026-11-30T10:00:00Z", "eventSource": format!("{service}.amazonaws.com"), "eventName": call, "awsRegion": "us-east-1",
            "sourceIPAddress": "203.0.113.7", "userAgent": "aws-cli/2.17.0", "requestParameters": parameters, "responseElements": null,
            "requestID": "0a1b2c3d-1111-2222-3333-444455556666", "eventID": "9f8e7d6c-1111-2222-3333-444455556666", "readOnly": false,
            "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": account, "eventCategory": "Management"
        }
    })
}
