//! The health sweep end to end: schedule → queue → checks → status-change events, with the
//! `integrations` and `revalidate` binaries under runtime emulation and real SQS and EventBridge
//! in the emulator.

use bucketlink_testkit::emf;
use bucketlink_testkit::fixtures::{connect, Connected, Deployment};
use bucketlink_testkit::gateway::{call, event};
use bucketlink_testkit::{Announcer, Emulator, Function, Permissions, Provider, Sweep, Trust};
use serde_json::{json, Value};

const CUSTOMER: &str = "666666666666";
const TENANT: &str = "tenant-acme";

fn scheduled() -> Value {
    bucketlink_testkit::events::event("revalidate-schedule.json")
}

/// One whole sweep: the schedule fires, the queued batch is handled; returns the batch answer.
async fn sweep_round(revalidate: &Function, sweep: &Sweep) -> Value {
    let dispatched = revalidate.invoke(scheduled()).await.expect("dispatch");
    assert!(dispatched["dispatched"].as_u64().unwrap() >= 1, "{dispatched}");
    revalidate.invoke(sweep.queued_batch().await).await.expect("batch")
}

#[tokio::test]
async fn a_broken_policy_flips_the_status_once_and_a_fix_flips_it_back() {
    let emu = Emulator::shared();
    let provider = Provider::create(emu).await;
    let Deployment { table, sweep, env } = provider.deploy(emu).await;
    let integrations = Function::start("integrations", &env).await;
    let revalidate = Function::start("revalidate", &env).await;
    let announcer = Announcer::start(&provider, &emu.endpoint, &table, &sweep).await;
    // What the bus received: the stream's relay runs after each step, as Lambda runs it. Every
    // event the real binaries publish fits the schema in the repository.
    let events = || async {
        announcer.pump().await;
        let whole = sweep.whole_events().await;
        bucketlink_testkit::events::assert_fit_schema(&whole);
        whole.into_iter().map(|e| e["detail"].clone()).collect::<Vec<Value>>()
    };

    let Connected { id, customer, status } = connect(emu, &provider, &integrations, TENANT, CUSTOMER, |_| {}).await;
    assert_eq!(status, "healthy");
    // A second, still awaiting its role: the sweep skips it.
    call(&integrations, event("POST", "/integrations", Some("{\"bucket\": \"acme-later\"}"), Some(TENANT), &[])).await;

    let status = || async { call(&integrations, event("GET", &format!("/integrations/{id}"), None, Some(TENANT), &[])).await.body };

    assert_eq!(status().await["status"], "healthy");
    let attached = events().await;
    assert_eq!(attached.len(), 1, "the attach itself announced awaiting_role → healthy: {attached:?}");
    assert_eq!((attached[0]["old_status"].as_str(), attached[0]["new_status"].as_str()), (Some("awaiting_role"), Some("healthy")));
    let answer = sweep_round(&revalidate, &sweep).await;
    assert_eq!(answer, json!({"batchItemFailures": []}));
    assert_eq!(events().await, Vec::<Value>::new(), "healthy stays healthy, silently");

    customer.set_permissions(&Permissions::NoObjectWildcard).await;
    assert_eq!(sweep_round(&revalidate, &sweep).await, json!({"batchItemFailures": []}));
    let failing = status().await;
    assert_eq!(failing["status"], "failing");
    let announced = events().await;
    assert_eq!(announced.len(), 1, "{announced:?}");
    let version = failing["version"].as_u64().unwrap();
    assert_eq!(
        announced[0],
        json!({"event_id": format!("{id}:{version}"), "tenant": TENANT, "integration": id, "version": version,
            "old_status": "healthy", "new_status": "failing", "failing_checks": ["object_read"], "changed_at": failing["updated_at"]})
    );

    sweep_round(&revalidate, &sweep).await;
    assert_eq!(events().await, Vec::<Value>::new(), "still failing: no second event");

    customer.set_permissions(&Permissions::ReadOnly).await;
    sweep_round(&revalidate, &sweep).await;
    assert_eq!(status().await["status"], "healthy");
    let announced = events().await;
    assert_eq!(announced.len(), 1);
    assert_eq!((announced[0]["old_status"].as_str(), announced[0]["new_status"].as_str()), (Some("failing"), Some("healthy")));

    customer.set_trust(&Trust::NoCondition, &provider.role_arn).await;
    sweep_round(&revalidate, &sweep).await;
    let announced = events().await;
    assert_eq!(announced[0]["new_status"], "insecure");
    assert_eq!(announced[0]["failing_checks"], json!(["external_id_required"]));

    let history = status().await["history"].as_array().unwrap().len();
    assert_eq!(history, 6, "the attach and five sweeps are in the history");

    // What an operator sees of it: the checks by outcome, the integrations by status at each
    // dispatch, AssumeRole calls, and the publisher's events and their age (EMF in the logs).
    use bucketlink::telemetry::*;
    emf::assert_metrics(&revalidate.logs(), &[CHECKS, INTEGRATIONS, INTEGRATIONS_INCONCLUSIVE, ASSUME_ROLE]);
    emf::assert_metrics(&announcer.function.logs(), &[EVENTS_PUBLISHED, EVENT_AGE_MS]);
    emf::assert_metrics(&integrations.logs(), &[CHECKS, ASSUME_ROLE]);
    let failing_reads = emf::datapoints(&revalidate.logs())
        .into_iter()
        .filter(|p| p.name == CHECKS && p.dimensions.contains(&("Code".to_owned(), "CANNOT_ACCESS_DATA_ROW".to_owned())))
        .count();
    assert!(failing_reads >= 2, "the two sweeps that found the read broken are counted");

    // A user's update while a sweep batch runs (another container): neither overwrites the other.
    let external_id = status().await["external_id"].as_str().unwrap().to_owned();
    customer.set_trust(&Trust::ExternalId(external_id), &provider.role_arn).await;
    revalidate.invoke(scheduled()).await.expect("dispatch");
    let batch = sweep.queued_batch().await;
    let before = status().await["version"].as_u64().unwrap();
    let renamed = json!({"name": "Renamed during the sweep", "bucket": customer.bucket, "role_arn": customer.role_arn}).to_string();
    let (user, swept) =
        tokio::join!(call(&integrations, event("PUT", &format!("/integrations/{id}"), Some(&renamed), Some(TENANT), &[])), revalidate.invoke(batch));
    assert_eq!((user.status, swept.unwrap()), (200, json!({"batchItemFailures": []})));
    let after = status().await;
    assert_eq!(after["name"], "Renamed during the sweep", "the user's update wins");
    assert_eq!(after["version"].as_u64(), Some(before + 2), "and the sweep's result landed too");
}

/// The scale benchmark's path (`scripts/bench-sweep`) at a test's size: every integration is
/// dispatched, checked once and acknowledged; the broken ones, and only they, fail and are announced.
#[tokio::test]
async fn a_sweep_over_many_accounts_checks_each_integration_once() {
    let (integrations, accounts) = (40, 4);
    // Its own emulator: the call counts must not include the other test's.
    let emu = Emulator::start(bucketlink_testkit::Mode::Patched);
    let report = bucketlink_testkit::scale::run(&emu, integrations, accounts, 4, 10).await;
    // SQS delivers at least once (and moto's receive races under concurrent consumers): a message
    // may be handled twice, which repeats a check and must not repeat an event.
    assert!(report.processed >= integrations && report.failed_messages == 0, "{report:#?}");
    let broken = integrations / 10;
    assert_eq!((report.failing, report.status_events), (broken, broken), "{report:#?}");
    assert_eq!(report.calls["dynamodb:Scan"], 4, "one parallel scan of four segments: {report:#?}");
    let batches = report.calls["sqs:SendMessageBatch"].as_u64().unwrap();
    assert!((4..=8).contains(&batches), "ten per batch, per scan segment: {report:#?}");
    let puts = report.calls["events:PutEvents"].as_u64().unwrap() as usize;
    assert!((1..=broken).contains(&puts), "the relay puts up to ten changes at once: {report:#?}");
}
