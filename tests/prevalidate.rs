//! `prevalidate` and the import check end to end: real objects of each type in a customer bucket,
//! announced in each delivery form (S3 notification, SQS, EventBridge), inspected through the
//! customer's role by the real binary under runtime emulation, with records read back from DynamoDB.

use aws_sdk_dynamodb::Client as Dynamo;
use bucketlink::ids::{IntegrationId, TenantId};
use bucketlink::record::ObjectRecord;
use bucketlink::store::Store;
use bucketlink_testkit::fixtures::{permission_document, unique, APP_ORIGIN};
use bucketlink_testkit::gateway::{call, event};
use bucketlink_testkit::samples::{self, Sample};
use bucketlink_testkit::{Customer, CustomerSpec, Emulator, Function, Permissions, Provider, Trust};
use serde_json::{json, Value};

const CUSTOMER: &str = "888888888888";
const TENANT: &str = "tenant-prevalidate";

struct Setup {
    integrations: Function,
    prevalidate: Function,
    store: Store,
    id: IntegrationId,
    customer: Customer,
    s3: aws_sdk_s3::Client,
}

async fn setup() -> Setup {
    setup_with(&[]).await
}

async fn setup_with(extra: &[(&'static str, &str)]) -> Setup {
    let emu = Emulator::shared();
    let provider = Provider::create(emu).await;
    let table = provider.table().await;
    let mut env = provider.function_env(emu, &table);
    env.push(("BUCKETLINK_MAX_OBJECT_BYTES", samples::LIMITS.to_owned()));
    env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let integrations = Function::start("integrations", &env).await;
    let prevalidate = Function::start("prevalidate", &env).await;
    let created = call(&integrations, event("POST", "/integrations", Some("{\"name\": \"Rows\"}"), Some(TENANT), &[])).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let mut spec = CustomerSpec::new(CUSTOMER, Trust::ExternalId(created.body["external_id"].as_str().unwrap().to_owned()));
    spec.cors_origins = Some(vec![APP_ORIGIN.to_owned()]);
    let customer = Customer::create(emu, &provider.role_arn, spec).await;
    let s3 = emu.s3(&customer.sdk);
    for sample in samples::all() {
        samples::upload(&s3, &customer.bucket, &sample).await;
    }
    let body = json!({"name": "Rows", "bucket": customer.bucket, "role_arn": customer.role_arn, "prefix": "rows/"}).to_string();
    let attached = call(&integrations, event("PUT", &format!("/integrations/{id}"), Some(&body), Some(TENANT), &[])).await;
    assert_eq!(attached.body["status"], "healthy", "{:#}", attached.body);
    let store = Store::new(Dynamo::new(&provider.sdk), &table);
    Setup { integrations, prevalidate, store, id: IntegrationId::parse(&id).unwrap(), customer, s3 }
}

impl Setup {
    async fn record(&self, key: &str) -> Option<(ObjectRecord, Option<String>)> {
        self.store.object_record(&TenantId::parse(TENANT).unwrap(), &self.id, &self.customer.bucket, key).await.unwrap()
    }

    async fn api(&self, method: &str, path: &str, body: Option<Value>) -> bucketlink_testkit::gateway::Answer {
        call(&self.integrations, event(method, &format!("/integrations/{}{path}", self.id), body.map(|b| b.to_string()).as_deref(), Some(TENANT), &[])).await
    }

    async fn deliver(&self, event: Value) -> Value {
        self.prevalidate.invoke(event).await.unwrap_or_else(|e| panic!("prevalidate failed: {e}"))
    }
}

fn sequencer(n: u32) -> String {
    format!("0055AED6DCD9{n:06X}")
}

#[tokio::test]
async fn every_object_of_a_direct_notification_gets_one_correct_record() {
    let s = setup().await;
    let all = samples::all();
    let outside = "elsewhere/not-ours.jpg";
    s.s3.put_object().bucket(&s.customer.bucket).key(outside).body(b"\xFF\xD8\xFF".to_vec().into()).send().await.unwrap();
    let mut records: Vec<Value> =
        all.iter().enumerate().map(|(n, o)| samples::s3_record(&s.customer.bucket, o.key, o.bytes.len(), &sequencer(n as u32))).collect();
    records.push(samples::s3_record(&s.customer.bucket, outside, 3, &sequencer(99)));
    let answer = s.deliver(samples::s3_event(records)).await;
    assert_eq!(answer["objects"], all.len() + 1);
    assert_eq!(answer["outcomes"].as_array().unwrap().len(), all.len(), "the object outside the prefix is nobody's: {answer:#}");

    for sample in &all {
        let (record, stored_sequencer) = s.record(sample.key).await.unwrap_or_else(|| panic!("no record for {}", sample.key));
        assert_eq!(record.code, sample.expect_code, "{}: {record:#?}", sample.key);
        assert_eq!(record.data_type.map(|t| t.as_str()), sample.expect_type, "{}", sample.key);
        assert_eq!(record.key, sample.key, "keys are decoded once");
        assert!(stored_sequencer.is_some());
        let ready = sample.expect_code == "READY";
        assert_eq!(record.status == bucketlink::record::ObjectStatus::Ready, ready, "{}", sample.key);
        assert!(ready || record.reason.len() > 40, "a rejection says what to do: {:?}", record.reason);
    }
    assert!(s.record(outside).await.is_none());

    let receipt = s.record("rows/receipt.jpg").await.unwrap().0;
    assert_eq!(receipt.media_type.as_deref(), Some("application/pdf"));
    assert_eq!(receipt.notes.len(), 2, "both the name and the Content-Type lie: {:?}", receipt.notes);
    let archived = s.record("rows/archived.jpg").await.unwrap().0;
    assert_eq!(archived.storage_class.as_deref(), Some("GLACIER"));
    assert!(archived.reason.contains("restore"), "{}", archived.reason);
    let huge = s.record("rows/huge.txt").await.unwrap().0;
    assert!(huge.reason.contains("4.0 KiB"), "{}", huge.reason);
    let photo = s.record("rows/photo.jpg").await.unwrap().0;
    assert!(photo.notes.is_empty() && photo.size == Some(all[0].bytes.len() as u64));
    let recorded = bucketlink_testkit::emf::datapoints(&s.prevalidate.logs());
    for code in ["READY", "OBJECT_ARCHIVED", "EMPTY_OBJECT", "TOO_LARGE"] {
        assert!(
            recorded.iter().any(|p| p.name == bucketlink::telemetry::RECORDS && p.dimensions.contains(&("Code".to_owned(), code.to_owned()))),
            "ObjectRecords by {code}"
        );
    }
}

#[tokio::test]
async fn sqs_and_eventbridge_deliveries_and_a_test_event() {
    let s = setup().await;
    let bucket = &s.customer.bucket;
    let wav = "rows/tone.wav";
    let unicode = "rows/summer 2024/café ü+1.jpg";
    let queued = samples::sqs_event(&[
        ("m-ok", samples::s3_event(vec![samples::s3_record(bucket, wav, 1644, &sequencer(1))]).to_string()),
        ("m-test", samples::test_event(bucket)),
        ("m-garbage", "{\"not\": \"an s3 event\"".to_owned()),
    ]);
    let answer = s.deliver(queued).await;
    assert_eq!(answer, json!({"batchItemFailures": [{"itemIdentifier": "m-garbage"}]}), "only the broken message is retried");
    assert_eq!(s.record(wav).await.unwrap().0.code, "READY");

    let bridged = s.deliver(samples::eventbridge_event(CUSTOMER, bucket, unicode, 670, &sequencer(2))).await;
    assert_eq!(bridged["outcomes"][0]["code"], "READY", "{bridged:#}");
    assert_eq!(s.record(unicode).await.unwrap().0.data_type.unwrap().as_str(), "image");
}

#[tokio::test]
async fn duplicate_and_out_of_order_deliveries_leave_one_correct_record() {
    let s = setup().await;
    let bucket = &s.customer.bucket;
    let key = "rows/notes.txt";
    let at = |n| samples::s3_event(vec![samples::s3_record(bucket, key, 10, &sequencer(n))]);

    s.deliver(at(5)).await;
    let first = s.record(key).await.unwrap();
    assert_eq!(first.0.data_type.unwrap().as_str(), "text");
    let again = s.deliver(at(5)).await;
    assert_eq!(again["outcomes"][0]["fate"], "superseded", "a repeated delivery changes nothing");
    let late = s.deliver(at(4)).await;
    assert_eq!(late["outcomes"][0]["fate"], "superseded", "an older event arriving late changes nothing");
    assert_eq!(s.record(key).await.unwrap(), first);

    // The object is overwritten with a PNG; its (newer) event replaces the record.
    let png = samples::all().into_iter().find(|o| o.key == "rows/icon.png").unwrap();
    samples::upload(&s.s3, bucket, &Sample { key, ..png }).await;
    let newer = s.deliver(at(6)).await;
    assert_eq!(newer["outcomes"][0]["fate"], "recorded");
    let (record, stored) = s.record(key).await.unwrap();
    assert_eq!(record.data_type.unwrap().as_str(), "image");
    assert_eq!(record.notes.len(), 1, "the name says text, the Content-Type and bytes say PNG: {:?}", record.notes);
    assert!(stored > first.1);
    // Both an old and the same event again, concurrently: still the one newest record.
    let (a, b) = tokio::join!(s.deliver(at(3)), s.deliver(at(6)));
    assert_eq!((a["outcomes"][0]["fate"].as_str(), b["outcomes"][0]["fate"].as_str()), (Some("superseded"), Some("superseded")));
    assert_eq!(s.record(key).await.unwrap().0, record);
}

#[tokio::test]
async fn import_check_reports_every_row_in_order() {
    let s = setup().await;
    let bucket = &s.customer.bucket;
    let url = |key: &str| format!("https://{bucket}.s3.us-east-1.amazonaws.com/{}", samples::event_key(key).replace('+', "%20"));
    // Prevalidate a few objects first: the check uses those records and inspects the rest.
    let records = ["rows/photo.jpg", "rows/paper.pdf"].iter().enumerate().map(|(n, k)| samples::s3_record(bucket, k, 1, &sequencer(n as u32))).collect();
    s.deliver(samples::s3_event(records)).await;

    let rows = json!([
        {"global_key": "a", "row_data": url("rows/photo.jpg"), "media_type": "IMAGE"},
        {"global_key": "b", "row_data": format!("s3://{bucket}/rows/paper.pdf"), "media_type": "document"},
        {"global_key": "c", "row_data": url("rows/clip.mp4")},
        {"global_key": "a", "row_data": url("rows/tone.wav")},
        {"global_key": "d", "row_data": url("rows/receipt.jpg"), "media_type": "IMAGE"},
        {"global_key": "e", "row_data": url("rows/archived.jpg")},
        {"global_key": "f", "row_data": url("rows/missing.jpg")},
        {"global_key": "g", "row_data": "https://someone-else.s3.amazonaws.com/rows/photo.jpg"},
        {"global_key": "h", "row_data": format!("https://{bucket}.s3.eu-west-1.amazonaws.com/rows/photo.jpg")},
        {"global_key": "i", "row_data": url("rows/berlin.geojson"), "media_type": "spreadsheet"},
        {"global_key": "j", "row_data": url("rows/summer 2024/café ü+1.jpg"), "media_type": "image/jpeg"},
        {"global_key": "k", "row_data": url("rows/empty.txt")},
    ]);
    let path = format!("/integrations/{}/import-check", s.id);
    let answer = call(&s.integrations, event("POST", &path, Some(&json!({"rows": rows}).to_string()), Some(TENANT), &[])).await;
    assert_eq!(answer.status, 200, "{:#}\n{}", answer.body, s.integrations.logs());
    let results = answer.body["results"].as_array().unwrap();
    let codes: Vec<(&str, &str)> =
        results.iter().map(|r| (r["global_key"].as_str().unwrap(), r["code"].as_str().unwrap_or(r["status"].as_str().unwrap()))).collect();
    assert_eq!(
        codes,
        [
            ("a", "ok"),
            ("b", "ok"),
            ("c", "ok"),
            ("a", "DUPLICATE_GLOBAL_KEY"),
            ("d", "MEDIA_TYPE_MISMATCH"),
            ("e", "OBJECT_ARCHIVED"),
            ("f", "OBJECT_NOT_FOUND"),
            ("g", "URL_WRONG_BUCKET"),
            ("h", "REGION_MISMATCH"),
            ("i", "INVALID_MEDIA_TYPE"),
            ("j", "ok"),
            ("k", "EMPTY_OBJECT"),
        ]
    );
    assert_eq!(results[2]["media_type"], "video");
    assert!(results[0].get("row_data").is_none(), "row_data is not echoed: the row is its place and global_key");
    assert!(results[4]["message"].as_str().unwrap().contains("application/pdf"));
    let summary = &answer.body["summary"];
    assert_eq!((summary["total"].as_u64(), summary["ok"].as_u64()), (Some(12), Some(4)));
    assert_eq!(summary["by_code"]["DUPLICATE_GLOBAL_KEY"], 1);
    assert_eq!(summary["by_code"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum::<u64>(), 8);

    let too_many: Vec<Value> = (0..10_001).map(|n| json!({"global_key": n.to_string(), "row_data": url("rows/photo.jpg")})).collect();
    let refused = call(&s.integrations, event("POST", &path, Some(&json!({"rows": too_many}).to_string()), Some(TENANT), &[])).await;
    assert_eq!((refused.status, refused.body["code"].as_str()), (422, Some("INVALID_FIELD")), "{:#}", refused.body);
    let unknown_field = call(&s.integrations, event("POST", &path, Some(r#"{"rows": [{"global_key": "a", "url": "x"}]}"#), Some(TENANT), &[])).await;
    assert_eq!((unknown_field.status, unknown_field.body["code"].as_str()), (422, Some("INVALID_FIELD")));
    let other_tenant = call(&s.integrations, event("POST", &path, Some(&json!({"rows": rows}).to_string()), Some("tenant-other"), &[])).await;
    assert_eq!(other_tenant.status, 404);
}

#[tokio::test]
async fn an_object_under_a_kms_key_the_role_may_not_use_is_rejected_until_it_may() {
    let s = setup().await;
    let bucket = &s.customer.bucket;
    let key_arn = format!("arn:aws:kms:us-east-1:{CUSTOMER}:key/1234abcd-12ab-34cd-56ef-1234567890ab");
    let key = "rows/secret.jpg";
    s.s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type("image/jpeg")
        .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::AwsKms)
        .ssekms_key_id(&key_arn)
        .body(samples::all().remove(0).bytes.into())
        .send()
        .await
        .unwrap();
    s.deliver(samples::s3_event(vec![samples::s3_record(bucket, key, 670, &sequencer(1))])).await;
    let (denied, _) = s.record(key).await.unwrap();
    assert_eq!(denied.code, "KMS_DECRYPT_DENIED", "{denied:#?}");
    assert!(denied.reason.contains(&key_arn) && denied.reason.contains("kms:Decrypt"), "{}", denied.reason);
    assert_eq!(denied.kms_key_id.as_deref(), Some(key_arn.as_str()), "HEAD still tells the key");

    let mut document = permission_document(&Permissions::ReadOnly, bucket);
    document["Statement"].as_array_mut().unwrap().push(json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn}));
    s.customer.set_permissions(&Permissions::Document(document)).await;
    s.deliver(samples::s3_event(vec![samples::s3_record(bucket, key, 670, &sequencer(2))])).await;
    assert_eq!(s.record(key).await.unwrap().0.code, "READY");
}

#[tokio::test]
async fn the_web_app_pages_through_records_by_status_and_code() {
    let s = setup().await;
    let all = samples::all();
    let records = all.iter().enumerate().map(|(n, o)| samples::s3_record(&s.customer.bucket, o.key, o.bytes.len(), &sequencer(n as u32))).collect();
    s.deliver(samples::s3_event(records)).await;
    let rejected = all.iter().filter(|o| o.expect_code != "READY").count();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = s.api("GET", &format!("/objects?limit=3{}", cursor.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default()), None).await;
        assert_eq!(page.status, 200, "{:#}", page.body);
        assert!(page.body["items"].as_array().unwrap().len() <= 3);
        seen.extend(page.body["items"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    seen.sort();
    let mut expected: Vec<String> = all.iter().map(|o| o.key.to_owned()).collect();
    expected.sort();
    assert_eq!(seen, expected, "every record once across the pages");

    let only_rejected = s.api("GET", "/objects?status=rejected&limit=100", None).await;
    let items = only_rejected.body["items"].as_array().unwrap();
    assert_eq!(items.len(), rejected);
    assert!(items.iter().all(|r| r["status"] == "rejected" && r["reason"].as_str().unwrap().len() > 20));
    let archived = s.api("GET", "/objects?code=OBJECT_ARCHIVED", None).await;
    assert_eq!(archived.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(archived.body["items"][0]["key"], "rows/archived.jpg");
    for bad in ["?status=maybe", "?code=lower", "?cursor=..%2F", "?limit=0"] {
        let answer = s.api("GET", &format!("/objects{bad}"), None).await;
        assert!(matches!(answer.status, 400 | 422), "{bad}: {:#}", answer.body);
    }
    let foreign = call(&s.integrations, event("GET", &format!("/integrations/{}/objects", s.id), None, Some("tenant-other"), &[])).await;
    assert_eq!(foreign.status, 404);
}

#[tokio::test]
async fn one_tenant_cannot_take_every_import_row() {
    let s = setup_with(&[("BUCKETLINK_IMPORT_ROWS_PER_MINUTE", "3")]).await;
    let rows = |n: usize| json!({"rows": (0..n).map(|i| json!({"global_key": i.to_string(), "row_data": "https://someone-else.s3.amazonaws.com/k"})).collect::<Vec<_>>()});
    assert_eq!(s.api("POST", "/import-check", Some(rows(2))).await.status, 200);
    let refused = s.api("POST", "/import-check", Some(rows(2))).await;
    assert_eq!((refused.status, refused.body["code"].as_str()), (429, Some("TENANT_RATE_LIMITED")), "{:#}", refused.body);
    let wait: u64 = refused.retry_after.as_deref().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(s.api("POST", "/import-check", Some(rows(1))).await.status, 200, "what is left of the minute is still there");
}

#[tokio::test]
async fn a_record_of_another_bucket_is_never_reused() {
    let s = setup().await;
    let key = "rows/photo.jpg";
    s.deliver(samples::s3_event(vec![samples::s3_record(&s.customer.bucket, key, 670, &sequencer(1))])).await;
    assert_eq!(s.record(key).await.unwrap().0.code, "READY");

    // The integration moves to another bucket of the account, which has no such object.
    let other = unique("moved");
    s.s3.create_bucket().bucket(&other).send().await.unwrap();
    s.s3.put_object().bucket(&other).key("rows/other.txt").body(b"some text".to_vec().into()).send().await.unwrap();
    let cors = aws_sdk_s3::types::CorsRule::builder().allowed_origins(APP_ORIGIN).allowed_methods("GET").allowed_headers("*").build().unwrap();
    s.s3.put_bucket_cors()
        .bucket(&other)
        .cors_configuration(aws_sdk_s3::types::CorsConfiguration::builder().cors_rules(cors).build().unwrap())
        .send()
        .await
        .unwrap();
    let mut both = permission_document(&Permissions::ReadOnly, &s.customer.bucket);
    both["Statement"].as_array_mut().unwrap().extend(permission_document(&Permissions::ReadOnly, &other)["Statement"].as_array().unwrap().clone());
    s.customer.set_permissions(&Permissions::Document(both)).await;
    let moved = json!({"name": "Rows", "bucket": other, "role_arn": s.customer.role_arn, "prefix": "rows/"});
    let attached = call(&s.integrations, event("PUT", &format!("/integrations/{}", s.id), Some(&moved.to_string()), Some(TENANT), &[])).await;
    assert_eq!(attached.body["status"], "healthy", "{:#}", attached.body);

    let rows = json!({"rows": [{"global_key": "a", "row_data": format!("s3://{other}/{key}")}]});
    let answer = s.api("POST", "/import-check", Some(rows)).await;
    assert_eq!(answer.body["results"][0]["code"], "OBJECT_NOT_FOUND", "not the old bucket's READY: {:#}", answer.body);
}

#[tokio::test]
async fn a_full_size_import_file_is_answered_within_lambdas_limit() {
    let s = setup().await;
    // 10,000 rows of long URLs, just under the 6 MB request limit; no object needs reading.
    let long_key = "k".repeat(515);
    let rows: Vec<Value> =
        (0..10_000).map(|i| json!({"global_key": format!("row-{i:05}"), "row_data": format!("https://someone-else.s3.amazonaws.com/{long_key}")})).collect();
    let body = json!({"rows": rows}).to_string();
    assert!(body.len() > 5_600_000 && body.len() < 6_000_000, "{}", body.len());
    let answer = call(&s.integrations, event("POST", &format!("/integrations/{}/import-check", s.id), Some(&body), Some(TENANT), &[])).await;
    assert_eq!(answer.status, 200, "{:#}", answer.body["detail"]);
    let size = answer.body.to_string().len();
    assert!(size < 5_000_000, "the answer fits Lambda's 6 MB with room for escaping: {size}");
    assert_eq!(answer.body["summary"]["by_code"]["URL_WRONG_BUCKET"], 10_000);

    // Global keys so long that the results alone would not fit: the API says how to split.
    let huge: Vec<Value> = (0..10_000).map(|i| json!({"global_key": format!("{i:05}{}", "g".repeat(530)), "row_data": "s3://someone-else/k"})).collect();
    let answer =
        call(&s.integrations, event("POST", &format!("/integrations/{}/import-check", s.id), Some(&json!({"rows": huge}).to_string()), Some(TENANT), &[]))
            .await;
    assert_eq!((answer.status, answer.body["code"].as_str()), (422, Some("IMPORT_ANSWER_TOO_LARGE")), "{:#}", answer.body);
    assert!(answer.body["detail"].as_str().unwrap().contains("rows per request"));
}
