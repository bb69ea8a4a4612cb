//! Each function binary, under Lambda runtime emulation, answers its real-shaped event from `events/`.

use bucketlink::integration::Status;
use bucketlink_testkit::fixtures::insert_integration;
use bucketlink_testkit::{Emulator, Function, Provider, Sweep};
use serde_json::{json, Value};

use bucketlink_testkit::events::event as fixture;

fn body(response: &Value) -> Value {
    serde_json::from_str(response["body"].as_str().expect("body is a string")).expect("body is JSON")
}

async fn environment() -> (Provider, String, Vec<(&'static str, String)>) {
    let emu = Emulator::shared();
    let provider = Provider::create(emu).await;
    let table = provider.table().await;
    let env = provider.function_env(emu, &table);
    (provider, table, env)
}

#[tokio::test]
async fn integrations_lists_the_callers_integrations_only() {
    let (provider, table, env) = environment().await;
    let mine = insert_integration(&provider, &table, "tenant-acme", "acme-data", Status::Healthy).await;
    let theirs = insert_integration(&provider, &table, "tenant-other", "other-data", Status::Healthy).await;
    let function = Function::start("integrations", &env).await;
    let event = fixture("integrations-list.json");

    let response = function.invoke(event.clone()).await.expect("a response");
    assert_eq!(response["statusCode"], 200);
    assert_eq!(response["headers"]["content-type"], "application/json");
    let listed = body(&response);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["items"][0]["id"], mine.id.as_str());
    assert_eq!(listed["next_cursor"], Value::Null);

    let mut other = event.clone();
    other["rawPath"] = json!(format!("/integrations/{}", theirs.id));
    other["requestContext"]["http"]["path"] = json!(format!("/integrations/{}", theirs.id));
    other["rawQueryString"] = json!("");
    other.as_object_mut().unwrap().remove("queryStringParameters");
    let response = function.invoke(other).await.expect("a response");
    assert_eq!(response["statusCode"], 404, "another tenant's integration looks missing");
    assert_eq!(response["headers"]["content-type"], "application/problem+json");
    assert_eq!(body(&response)["code"], "INTEGRATION_NOT_FOUND");

    let mut anonymous = event.clone();
    anonymous["requestContext"].as_object_mut().unwrap().remove("authorizer");
    let response = function.invoke(anonymous).await.expect("a response");
    assert_eq!(response["statusCode"], 401);
    assert_eq!(body(&response)["code"], "UNAUTHENTICATED");

    let mut bad_limit = event;
    bad_limit["rawQueryString"] = json!("limit=lots");
    bad_limit["queryStringParameters"] = json!({"limit": "lots"});
    let response = function.invoke(bad_limit).await.expect("a response");
    assert_eq!(response["statusCode"], 400);
    assert!(body(&response)["detail"].as_str().unwrap().contains("limit"));
}

#[tokio::test]
async fn sign_url_refuses_unknown_and_unvalidated_integrations() {
    let (provider, table, env) = environment().await;
    let function = Function::start("sign-url", &env).await;
    let event = fixture("sign-url.json");

    let response = function.invoke(event.clone()).await.expect("a response");
    assert_eq!(response["statusCode"], 404);
    assert_eq!(body(&response)["code"], "INTEGRATION_NOT_FOUND");

    let pending = insert_integration(&provider, &table, "tenant-acme", "acme-data", Status::AwaitingRole).await;
    let mut event = event;
    let path = format!("/integrations/{}/sign", pending.id);
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["path"] = json!(path);
    let response = function.invoke(event.clone()).await.expect("a response");
    assert_eq!(response["statusCode"], 409);
    assert_eq!(body(&response)["code"], "INTEGRATION_NOT_READY");

    let mut malformed = event;
    malformed["body"] = json!("{\"urls\": \"not a list\"}");
    let response = function.invoke(malformed).await.expect("a response");
    assert_eq!(response["statusCode"], 422);
    assert_eq!(body(&response)["code"], "INVALID_FIELD");
    assert!(body(&response)["detail"].as_str().unwrap().starts_with("urls:"));
}

#[tokio::test]
async fn revalidate_dispatches_from_the_schedule_and_reports_only_bad_messages() {
    let (provider, table, mut env) = environment().await;
    let sweep = Sweep::create(&provider).await;
    env.extend(sweep.env());
    insert_integration(&provider, &table, "tenant-acme", "acme-data", Status::Healthy).await;
    insert_integration(&provider, &table, "tenant-acme", "acme-more", Status::AwaitingRole).await;
    let function = Function::start("revalidate", &env).await;
    let response = function.invoke(fixture("revalidate-schedule.json")).await.expect("a response");
    assert_eq!(response, json!({"integrations": 2, "awaiting_role": 1, "dispatched": 1, "next_principal_not_trusted": 0}));
    let dispatched = function.logs();
    let line = dispatched.lines().find(|l| l.contains("sweep dispatched")).expect("the sweep is logged");
    assert_eq!(serde_json::from_str::<Value>(line).expect("logs are JSON")["fields"]["dispatched"], 1);
    assert_eq!(sweep.queued_batch().await["Records"].as_array().unwrap().len(), 1);

    // The fixture's first message names an integration that does not exist (deleted since
    // dispatch: left alone); the second is not a sweep item (poison: reported, so it ends in the DLQ).
    let response = function.invoke(fixture("revalidate-sqs-batch.json")).await.expect("a response");
    assert_eq!(response, json!({"batchItemFailures": [{"itemIdentifier": "2e1424d4-f796-459a-8184-9c92662be6da"}]}));
}

#[tokio::test]
async fn prevalidate_reads_each_delivery_form_in_events() {
    let (provider, table, env) = environment().await;
    // A bucket nobody may read yet: each event is understood, and no object is touched.
    insert_integration(&provider, &table, "tenant-acme", "acme-data", Status::AwaitingRole).await;
    let function = Function::start("prevalidate", &env).await;
    for name in ["prevalidate-s3-put.json", "prevalidate-eventbridge.json"] {
        let response = function.invoke(fixture(name)).await.expect("a response");
        assert_eq!(response, json!({"objects": 1, "outcomes": []}), "{name}");
    }
    let response = function.invoke(fixture("prevalidate-sqs.json")).await.expect("a response");
    assert_eq!(response, json!({"batchItemFailures": []}));

    let mut broken = fixture("prevalidate-s3-put.json");
    broken["Records"][0]["s3"]["object"]["key"] = json!("bad%zzkey");
    let error = function.invoke(broken).await.expect_err("an invocation error");
    assert!(error.to_string().contains("not valid URL encoding"), "{error}");
    assert!(!error.to_string().contains("bad%zzkey") && !function.logs().contains("zzkey"), "object keys never in errors or logs: {error}");
}

#[tokio::test]
async fn status_events_announces_a_status_change_from_a_stream_batch() {
    let (provider, _table, mut env) = environment().await;
    let sweep = Sweep::create(&provider).await;
    env.extend(sweep.env());
    let function = Function::start("status-events", &env).await;
    // A MODIFY of an integration (healthy → failing) and the INSERT of its history entry.
    let response = function.invoke(fixture("status-events-stream.json")).await.expect("a response");
    assert_eq!(response, json!({"batchItemFailures": []}));
    let events = sweep.events().await;
    assert_eq!(events.len(), 1, "one event for the status change, none for the history entry: {events:?}");
    assert_eq!(
        events[0],
        json!({"event_id": "01JD7ZK3Q4W8X9Y0ABCDEFGHJK:7", "tenant": "tenant-acme", "integration": "01JD7ZK3Q4W8X9Y0ABCDEFGHJK", "version": 7,
            "old_status": "healthy", "new_status": "failing", "failing_checks": ["object_read"], "changed_at": "2026-11-24T15:00:00Z"})
    );
    let logs = function.logs();
    assert!(logs.contains("status changes published"), "{logs}");
}
