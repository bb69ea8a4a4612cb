//! When AWS misbehaves: every flow, with the real function binaries under runtime emulation,
//! through the fault proxy between them and the emulator. For S3, STS, DynamoDB, SQS and
//! EventBridge hanging, failing (500), throttling and resetting connections: nothing answers 5xx
//! without a problem body, no customer is blamed for AWS's fault, no status changes and no event
//! is lost or doubled, no answer comes later than its budget, and once the fault ends everything
//! works again without a restart. Each case has its own proxy, table and functions; the cases of
//! one flow run at once.

use std::future::Future;
use std::time::{Duration, Instant};

use bucketlink::budget;
use bucketlink::fault::Service;
use bucketlink_testkit::fixtures::{unique, APP_ORIGIN};
use bucketlink_testkit::gateway::{call, event, Answer};
use bucketlink_testkit::proxy::{Fault, Kind};
use bucketlink_testkit::samples;
use bucketlink_testkit::{Announcer, Customer, CustomerSpec, Emulator, Function, Permissions, Provider, Proxy, Sweep, Trust};
use futures_util::future::join_all;
use serde_json::{json, Value};

const TENANT: &str = "tenant-faults";
/// What the harness adds to a function's own answer time (runtime host, JSON, loopback).
const SLACK: Duration = Duration::from_millis(750);

/// One case's world: AWS behind its own proxy, a table, the sweep's queue and bus.
struct Scene {
    provider: Provider,
    table: String,
    proxy: Proxy,
    sweep: Sweep,
}

impl Scene {
    async fn new() -> Scene {
        let emu = Emulator::shared();
        let provider = Provider::create(emu).await;
        let table = provider.table().await;
        let proxy = Proxy::start(&emu.endpoint).await;
        let sweep = Sweep::create(&provider).await;
        Scene { provider, table, proxy, sweep }
    }

    /// A function whose AWS is behind the proxy.
    async fn function(&self, name: &str) -> Function {
        let mut env = self.provider.function_env_at(&self.proxy.endpoint, &self.table);
        env.extend(self.sweep.env());
        env.push(("BUCKETLINK_MAX_OBJECT_BYTES", samples::LIMITS.to_owned()));
        Function::start(name, &env).await
    }

    async fn announcer(&self) -> Announcer {
        Announcer::start(&self.provider, &self.proxy.endpoint, &self.table, &self.sweep).await
    }

    /// A new integration and the customer account set up from it (bucket, CORS, role, objects).
    async fn customer(&self, integrations: &Function, account: &str) -> (String, Customer) {
        let created = call(integrations, event("POST", "/integrations", Some("{\"name\": \"Faults\"}"), Some(TENANT), &[])).await;
        assert_eq!(created.status, 201, "{:#}", created.body);
        let id = created.body["id"].as_str().unwrap().to_owned();
        let mut spec = CustomerSpec::new(account, Trust::ExternalId(created.body["external_id"].as_str().unwrap().to_owned()));
        spec.cors_origins = Some(vec![APP_ORIGIN.to_owned()]);
        spec.objects.push(("rows/photo.jpg".to_owned(), samples::all()[0].bytes.clone()));
        let customer = Customer::create(Emulator::shared(), &self.provider.role_arn, spec).await;
        (id, customer)
    }

    /// A healthy integration, attached while AWS behaves.
    async fn healthy(&self, integrations: &Function, account: &str) -> (String, Customer) {
        let (id, customer) = self.customer(integrations, account).await;
        let attached = attach(integrations, &id, &customer).await;
        assert_eq!(attached.body["status"], "healthy", "{:#}", attached.body);
        (id, customer)
    }

    /// Every item of the table (read directly, not through the proxy).
    async fn items(&self) -> Vec<Value> {
        let out = aws_sdk_dynamodb::Client::new(&self.provider.admin_sdk).scan().table_name(&self.table).send().await.expect("scan");
        out.items().iter().map(|item| json!(format!("{item:?}"))).collect()
    }
}

async fn attach(integrations: &Function, id: &str, customer: &Customer) -> Answer {
    let body = json!({"name": "Faults", "bucket": customer.bucket, "role_arn": customer.role_arn}).to_string();
    call(integrations, event("PUT", &format!("/integrations/{id}"), Some(&body), Some(TENANT), &[])).await
}

async fn get(integrations: &Function, id: &str) -> Value {
    call(integrations, event("GET", &format!("/integrations/{id}"), None, Some(TENANT), &[])).await.body
}

async fn timed<T>(work: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let out = work.await;
    (out, started.elapsed())
}

/// Tries `attempt` every half second until `done` holds of its answer (a failed AssumeRole is
/// held for a few seconds, so recovery is not instant), for at most 12 s; the last answer.
async fn eventually<T, F: Future<Output = T>>(mut attempt: impl FnMut() -> F, done: impl Fn(&T) -> bool) -> T {
    let started = Instant::now();
    loop {
        let answer = attempt().await;
        if done(&answer) || started.elapsed() > Duration::from_secs(12) {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn case(service: Service, kind: Kind) -> String {
    format!("{service} {kind:?}")
}

/// The cases of a flow: each service it calls, failing in each way.
fn cases(services: &[Service]) -> Vec<(Service, Kind)> {
    services.iter().flat_map(|s| Kind::FAILURES.iter().map(move |k| (*s, *k))).collect()
}

/// A 503 problem that names the service, blames nobody, and says when to retry.
fn assert_unavailable(answer: &Answer, service: Service, what: &str) {
    assert_eq!(answer.status, 503, "{what}: {:#}", answer.body);
    assert_eq!(answer.content_type, "application/problem+json", "{what}");
    let code = answer.body["code"].as_str().unwrap_or_default();
    assert!(code.starts_with("AWS_"), "{what}: {code}");
    let detail = answer.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(&service.to_string()), "{what}: the problem names {service}: {detail}");
    assert!(answer.retry_after.as_deref().is_some_and(|s| s.parse::<u32>().is_ok()), "{what}: Retry-After");
}

/// Checks that reached no verdict because of AWS: none failed, the inconclusive ones name the
/// service and ask nothing of the customer.
fn assert_nobody_blamed(body: &Value, service: Service, what: &str) {
    let checks = body["checks"].as_array().unwrap_or_else(|| panic!("{what}: checks in {body:#}"));
    let mut inconclusive = 0;
    for check in checks {
        let status = check["status"].as_str().unwrap();
        assert!(["pass", "warn", "skip", "error"].contains(&status), "{what}: a customer blamed for AWS's fault: {check:#}");
        if status == "error" {
            inconclusive += 1;
            let code = check["code"].as_str().unwrap();
            assert!(code.starts_with("AWS_") || code == "CHECK_TIMED_OUT", "{what}: {check:#}");
            assert!(check["message"].as_str().unwrap().contains(&service.to_string()), "{what}: names {service}: {check:#}");
            assert!(check["remediation"].as_str().unwrap().starts_with("Nothing to do on your side"), "{what}: {check:#}");
        }
    }
    assert!(inconclusive > 0, "{what}: the fault was noticed: {body:#}");
    assert!(body["notice"].as_str().is_some_and(|n| n.contains("no verdict")), "{what}: the answer says so plainly: {body:#}");
}

/// No stored item and no answer carries a signature or a session token.
fn assert_no_secrets<'a>(texts: impl IntoIterator<Item = &'a Value>, what: &str) {
    for text in texts {
        let text = text.to_string();
        for secret in ["X-Amz-Signature", "X-Amz-Security-Token", "X-Amz-Credential"] {
            assert!(!text.contains(secret), "{what}: {secret} in {text}");
        }
    }
}

#[tokio::test]
async fn attaching_when_aws_fails() {
    let mut all: Vec<(Service, Kind, Option<&'static str>)> =
        cases(&[Service::Sts, Service::S3, Service::DynamoDb]).into_iter().map(|(s, k)| (s, k, None)).collect();
    // DynamoDB failing only when the result is saved, after the checks ran.
    all.push((Service::DynamoDb, Kind::ServerError, Some("PutItem")));
    // Only the read through a signed URL failing: its error must not carry the URL's token.
    all.push((Service::S3, Kind::Reset, Some("GetObject")));
    let runs = all.into_iter().map(|(service, kind, operation)| async move {
        let what = format!("{} {}", case(service, kind), operation.unwrap_or_default());
        let scene = Scene::new().await;
        let integrations = scene.function("integrations").await;
        let (id, customer) = scene.customer(&integrations, "301000000001").await;
        scene.proxy.inject(match operation {
            Some(operation) => Fault::on_operation(service, operation, kind),
            None => Fault::on(service, kind),
        });
        let (answer, took) = timed(attach(&integrations, &id, &customer)).await;
        assert!(took <= budget::ATTACH + SLACK, "{what}: answered in {took:?}");
        assert!(scene.proxy.applied().iter().any(|(s, _)| *s == service), "{what}: the fault was met");
        if service == Service::DynamoDb {
            assert_unavailable(&answer, service, &what);
        } else {
            assert_eq!(answer.status, 200, "{what}: {:#}", answer.body);
            assert_eq!(answer.body["status"], "unverified", "{what}: a role never verified serves nothing: {:#}", answer.body);
            assert_nobody_blamed(&answer.body, service, &what);
        }
        scene.proxy.clear();
        let stored = get(&integrations, &id).await;
        if service == Service::DynamoDb {
            assert_eq!((stored["status"].as_str(), stored["version"].as_u64()), (Some("awaiting_role"), Some(1)), "{what}: nothing half-written");
        }
        let again = attach(&integrations, &id, &customer).await;
        assert_eq!(again.body["status"], "healthy", "{what}: works again once AWS does: {:#}", again.body);
        assert!(again.body.get("notice").is_none(), "{what}");
        assert_no_secrets([&answer.body, &again.body].into_iter().chain(scene.items().await.iter()), &what);
        (what, took)
    });
    for (what, took) in join_all(runs).await {
        println!("attach, {what}: {} ms", took.as_millis());
    }
}

#[tokio::test]
async fn refreshing_when_aws_fails() {
    let runs = cases(&[Service::Sts, Service::S3, Service::DynamoDb]).into_iter().map(|(service, kind)| async move {
        let what = case(service, kind);
        let scene = Scene::new().await;
        let integrations = scene.function("integrations").await;
        let announcer = scene.announcer().await;
        let (id, _customer) = scene.healthy(&integrations, "302000000002").await;
        announcer.pump().await;
        let before = scene.sweep.events().await;
        assert_eq!(before.len(), 1, "{what}: the attach announced healthy");
        let version = get(&integrations, &id).await["version"].as_u64().unwrap();

        scene.proxy.inject(Fault::on(service, kind));
        let (answer, took) = timed(call(&integrations, event("POST", &format!("/integrations/{id}/validate"), None, Some(TENANT), &[]))).await;
        assert!(took <= budget::ATTACH + SLACK, "{what}: answered in {took:?}");
        if service == Service::DynamoDb {
            assert_unavailable(&answer, service, &what);
        } else {
            assert_eq!(answer.status, 200, "{what}: {:#}", answer.body);
            assert_eq!(answer.body["status"], "healthy", "{what}: the status it had is kept");
            assert!(answer.body["inconclusive_at"].is_string(), "{what}");
            assert_nobody_blamed(&answer.body, service, &what);
        }
        scene.proxy.clear();
        announcer.pump().await;
        assert_eq!(scene.sweep.events().await, Vec::<Value>::new(), "{what}: no status changed, nothing announced");
        let stored = get(&integrations, &id).await;
        assert_eq!(stored["status"], "healthy", "{what}");
        let expected = if service == Service::DynamoDb { version } else { version + 1 };
        assert_eq!(stored["version"].as_u64(), Some(expected), "{what}");

        let again = call(&integrations, event("POST", &format!("/integrations/{id}/validate"), None, Some(TENANT), &[])).await;
        assert_eq!((again.body["status"].as_str(), &again.body["inconclusive_at"]), (Some("healthy"), &Value::Null), "{what}: {:#}", again.body);
        assert_no_secrets([&answer.body, &again.body].into_iter().chain(scene.items().await.iter()), &what);
        (what, took)
    });
    for (what, took) in join_all(runs).await {
        println!("refresh, {what}: {} ms", took.as_millis());
    }
}

#[tokio::test]
async fn rotating_when_aws_fails() {
    let runs = cases(&[Service::Sts, Service::DynamoDb]).into_iter().map(|(service, kind)| async move {
        let what = case(service, kind);
        let scene = Scene::new().await;
        let integrations = scene.function("integrations").await;
        let (id, customer) = scene.healthy(&integrations, "310000000010").await;
        let rotation = |step: &'static str| call(&integrations, event("POST", &format!("/integrations/{id}/external-id{step}"), None, Some(TENANT), &[]));
        if service == Service::DynamoDb {
            scene.proxy.inject(Fault::on(service, kind));
            let (answer, took) = timed(rotation("")).await;
            assert!(took <= budget::ATTACH + SLACK, "{what}: start answered in {took:?}");
            assert_unavailable(&answer, service, &what);
            scene.proxy.clear();
            assert_eq!(get(&integrations, &id).await["rotation"], Value::Null, "{what}: no rotation half-started");
        }
        let started = rotation("").await;
        assert_eq!(started.status, 200, "{what}: {:#}", started.body);
        let new = started.body["rotation"]["new_external_id"].as_str().unwrap().to_owned();
        // The customer pastes the window's trust policy: the role takes both IDs.
        customer.set_trust(&Trust::Document(started.body["setup"]["trust_policy"].clone()), &scene.provider.role_arn).await;

        scene.proxy.inject(Fault::on(service, kind));
        let (answer, took) = timed(rotation("/complete")).await;
        assert!(took <= budget::ATTACH + SLACK, "{what}: complete answered in {took:?}");
        // Never NEW_EXTERNAL_ID_NOT_ACCEPTED: the role was not asked, so it cannot be blamed.
        assert_unavailable(&answer, service, &what);
        scene.proxy.clear();
        let stored = get(&integrations, &id).await;
        assert_eq!(
            (stored["status"].as_str(), stored["rotation"]["new_external_id"].as_str()),
            (Some("healthy"), Some(new.as_str())),
            "{what}: still rotating"
        );

        // Once AWS answers: the new ID alone in the role, and the rotation completes healthy.
        customer.set_trust(&Trust::ExternalId(new.clone()), &scene.provider.role_arn).await;
        let completed = rotation("/complete").await;
        assert_eq!((completed.status, completed.body["status"].as_str()), (200, Some("healthy")), "{what}: {:#}", completed.body);
        assert_eq!((completed.body["external_id"].as_str(), &completed.body["rotation"]), (Some(new.as_str()), &Value::Null), "{what}");
        (what, took)
    });
    for (what, took) in join_all(runs).await {
        println!("rotation complete, {what}: {} ms", took.as_millis());
    }
}

#[tokio::test]
async fn signing_when_aws_fails() {
    let runs = cases(&[Service::Sts, Service::DynamoDb, Service::S3]).into_iter().map(|(service, kind)| async move {
        let what = case(service, kind);
        let scene = Scene::new().await;
        let integrations = scene.function("integrations").await;
        let (id, customer) = scene.healthy(&integrations, "303000000003").await;
        // A cold container: no credentials cached yet.
        let sign = scene.function("sign-url").await;
        let request = json!({"urls": [format!("s3://{}/hello.txt", customer.bucket)]}).to_string();
        let signing = || call(&sign, event("POST", &format!("/integrations/{id}/sign"), Some(&request), Some(TENANT), &[]));

        scene.proxy.inject(Fault::on(service, kind));
        let (answer, took) = timed(signing()).await;
        assert!(took <= Duration::from_secs(5) + SLACK, "{what}: answered in {took:?}");
        if service == Service::S3 {
            assert_eq!(answer.status, 200, "{what}: signing needs no S3: {:#}", answer.body);
        } else {
            assert_unavailable(&answer, service, &what);
        }
        scene.proxy.clear();
        // Then it recovers by itself.
        let recovered = eventually(signing, |answer| answer.status == 200).await;
        assert_eq!(recovered.status, 200, "{what}: {:#}", recovered.body);
        let url = recovered.body["results"][0]["signed_url"].as_str().unwrap();
        assert_eq!(reqwest::get(url).await.unwrap().status(), 200, "{what}: the URL works");

        // Warm: credentials cached, so an STS outage does not stop signing.
        scene.proxy.inject(Fault::on(Service::Sts, kind));
        assert_eq!(signing().await.status, 200, "{what}: cached credentials sign while STS is down");
        scene.proxy.clear();
        let refused = (answer.status != 200).then_some(&answer.body);
        assert_no_secrets(refused.into_iter().chain(scene.items().await.iter()), &what);
        (what, took)
    });
    for (what, took) in join_all(runs).await {
        println!("sign, {what}: {} ms", took.as_millis());
    }
}

#[tokio::test]
async fn sweeping_when_aws_fails() {
    let runs = cases(&[Service::Sts, Service::S3, Service::DynamoDb]).into_iter().map(|(service, kind)| async move {
        let what = case(service, kind);
        let scene = Scene::new().await;
        scene.sweep.set_visibility_timeout(0).await;
        let integrations = scene.function("integrations").await;
        let revalidate = scene.function("revalidate").await;
        let announcer = scene.announcer().await;
        let (id, _customer) = scene.healthy(&integrations, "304000000004").await;
        announcer.pump().await;
        scene.sweep.events().await;
        let version = get(&integrations, &id).await["version"].as_u64().unwrap();
        revalidate.invoke(json!({"source": "aws.scheduler", "detail-type": "Scheduled Event"})).await.expect("dispatch");

        scene.proxy.inject(Fault::on(service, kind));
        let (answer, took) = timed(scene.sweep.deliver(&revalidate)).await;
        assert!(took <= budget::ATTACH + SLACK, "{what}: a message took {took:?}");
        assert_eq!(answer["batchItemFailures"].as_array().map(Vec::len), Some(1), "{what}: retried: {answer}");
        // Back in the queue, but not at once: its retry waits out a backoff.
        assert_eq!(scene.sweep.queue_depth().await, (0, 1), "{what}");
        scene.proxy.clear();
        let stored = get(&integrations, &id).await;
        assert_eq!((stored["status"].as_str(), stored["version"].as_u64()), (Some("healthy"), Some(version)), "{what}: nothing written");
        announcer.pump().await;
        assert_eq!(scene.sweep.events().await, Vec::<Value>::new(), "{what}: no event for AWS's fault");
        bucketlink_testkit::emf::assert_metrics(&revalidate.logs(), &[bucketlink::telemetry::SWEEP_INCONCLUSIVE]);
        // (A hang may outlast the check's own budget, which then drops the call uncounted.)
        if service == Service::Sts && kind != Kind::Hang {
            let faults = bucketlink_testkit::emf::datapoints(&revalidate.logs());
            assert!(
                faults.iter().any(|p| p.name == bucketlink::telemetry::ASSUME_ROLE && p.dimensions.contains(&("Outcome".to_owned(), "fault".to_owned()))),
                "{what}: AssumeRole faults are counted"
            );
        }

        // The last attempt records that the sweep was inconclusive, and changes nothing else.
        scene.proxy.inject(Fault::on(service, kind));
        let last = json!({"Records": [{"messageId": "last-try", "receiptHandle": "gone", "body": json!({"tenant": TENANT, "id": id}).to_string(),
            "attributes": {"ApproximateReceiveCount": "5"}, "messageAttributes": {}, "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:111111111111:sweep", "awsRegion": "us-east-1"}]});
        let answer = revalidate.invoke(last).await.expect("batch");
        scene.proxy.clear();
        let stored = get(&integrations, &id).await;
        if service == Service::DynamoDb {
            assert_eq!(answer["batchItemFailures"].as_array().map(Vec::len), Some(1), "{what}: nothing could be recorded: {answer}");
        } else {
            assert_eq!(answer, json!({"batchItemFailures": []}), "{what}");
            assert!(stored["inconclusive_at"].is_string(), "{what}: {stored:#}");
            assert_eq!(stored["status"], "healthy", "{what}");
        }
        announcer.pump().await;
        assert_eq!(scene.sweep.events().await, Vec::<Value>::new(), "{what}");

        // AWS behaves: the next sweep checks it again.
        scene.sweep.purge().await;
        revalidate.invoke(json!({"source": "aws.scheduler", "detail-type": "Scheduled Event"})).await.expect("dispatch");
        assert_eq!(scene.sweep.deliver(&revalidate).await, json!({"batchItemFailures": []}), "{what}");
        let stored = get(&integrations, &id).await;
        assert_eq!((stored["status"].as_str(), &stored["inconclusive_at"]), (Some("healthy"), &Value::Null), "{what}");
        assert_no_secrets(scene.items().await.iter(), &what);
        (what, took)
    });
    for (what, took) in join_all(runs).await {
        println!("sweep, {what}: {} ms", took.as_millis());
    }
}

/// The sweep queue failing (dispatch) and the event bus failing when a status really changes.
#[tokio::test]
async fn the_sweep_queue_and_the_event_bus_failing() {
    let runs = Kind::FAILURES.into_iter().map(|kind| async move {
        let scene = Scene::new().await;
        let integrations = scene.function("integrations").await;
        let revalidate = scene.function("revalidate").await;
        let announcer = scene.announcer().await;
        let (id, customer) = scene.healthy(&integrations, "305000000005").await;

        let what = case(Service::Sqs, kind);
        scene.proxy.inject(Fault::on(Service::Sqs, kind));
        let (dispatched, took) = timed(revalidate.invoke(json!({"source": "aws.scheduler"}))).await;
        assert!(dispatched.is_err(), "{what}: a dispatch that could not queue fails visibly: {dispatched:?}");
        assert!(took <= Duration::from_secs(10), "{what}: {took:?}");
        scene.proxy.clear();
        let dispatched = revalidate.invoke(json!({"source": "aws.scheduler"})).await.expect("dispatch");
        assert_eq!(dispatched["dispatched"], 1, "{what}");

        // The customer breaks the policy; the sweep saves `failing` while the bus is down.
        let what = case(Service::EventBridge, kind);
        announcer.pump().await;
        scene.sweep.events().await;
        customer.set_permissions(&Permissions::NoObjectWildcard).await;
        assert_eq!(scene.sweep.deliver(&revalidate).await, json!({"batchItemFailures": []}), "{what}");
        assert_eq!(get(&integrations, &id).await["status"], "failing", "{what}");
        scene.proxy.inject(Fault::on(Service::EventBridge, kind));
        let (pumped, took) = timed(announcer.pump()).await;
        assert!(pumped.failed_at.is_some(), "{what}: {pumped:?}");
        assert!(took <= Duration::from_secs(10), "{what}: {took:?}");
        let again = announcer.pump().await;
        assert!(again.failed_at.is_some(), "{what}: still owed while the bus is down");
        scene.proxy.clear();
        let delivered = announcer.pump().await;
        assert_eq!(delivered.failed_at, None, "{what}");
        let events = scene.sweep.events().await;
        assert_eq!(events.len(), 1, "{what}: announced once the bus is back, and only once: {events:?}");
        assert_eq!((events[0]["old_status"].as_str(), events[0]["new_status"].as_str()), (Some("healthy"), Some("failing")), "{what}");
        let version = get(&integrations, &id).await["version"].as_u64().unwrap();
        assert_eq!(events[0]["event_id"], format!("{id}:{version}"), "{what}");
        announcer.pump().await;
        assert_eq!(scene.sweep.events().await, Vec::<Value>::new(), "{what}: not doubled");
        use bucketlink::telemetry::*;
        bucketlink_testkit::emf::assert_metrics(&announcer.function.logs(), &[EVENTS_NOT_PUBLISHED, EVENTS_PUBLISHED, EVENT_AGE_MS]);
        (what, took)
    });
    for (what, took) in join_all(runs).await {
        println!("relay, {what}: {} ms", took.as_millis());
    }
}

#[tokio::test]
async fn prevalidating_when_aws_fails() {
    let runs = cases(&[Service::Sts, Service::S3, Service::DynamoDb]).into_iter().map(|(service, kind)| async move {
        let what = case(service, kind);
        let scene = Scene::new().await;
        let integrations = scene.function("integrations").await;
        let (_, customer) = scene.healthy(&integrations, "306000000006").await;
        // Cold: no credentials cached.
        let prevalidate = scene.function("prevalidate").await;
        let key = "rows/photo.jpg";
        let notification = samples::s3_event(vec![samples::s3_record(&customer.bucket, key, 1000, "0055AED6DCD90281E5")]).to_string();
        let queued = samples::sqs_event(&[("m-1", notification.clone())]);

        scene.proxy.inject(Fault::on(service, kind));
        let (answer, took) = timed(prevalidate.invoke(queued.clone())).await;
        let answer = answer.expect("an SQS batch answers");
        assert!(took <= Duration::from_secs(20), "{what}: {took:?}");
        assert_eq!(answer, json!({"batchItemFailures": [{"itemIdentifier": "m-1"}]}), "{what}: retried, not judged");
        let direct = prevalidate.invoke(serde_json::from_str(&notification).unwrap()).await;
        assert!(direct.is_err(), "{what}: a direct delivery fails, so Lambda retries it");
        scene.proxy.clear();
        let records: Vec<Value> = scene.items().await.into_iter().filter(|i| i.as_str().is_some_and(|s| s.contains("OBJECT#"))).collect();
        assert!(records.is_empty(), "{what}: no record from AWS's fault: {records:?}");

        let recovered =
            eventually(|| async { prevalidate.invoke(queued.clone()).await.expect("batch") }, |answer| *answer == json!({"batchItemFailures": []})).await;
        assert_eq!(recovered, json!({"batchItemFailures": []}), "{what}");
        let items = scene.items().await;
        assert!(items.iter().any(|i| i.as_str().is_some_and(|s| s.contains("OBJECT#") && s.contains("READY"))), "{what}: {items:?}");
        assert_no_secrets(items.iter(), &what);
        (what, took)
    });
    for (what, took) in join_all(runs).await {
        println!("prevalidate, {what}: {} ms", took.as_millis());
    }
}

#[tokio::test]
async fn checking_an_import_file_when_aws_fails() {
    let runs = cases(&[Service::Sts, Service::S3, Service::DynamoDb]).into_iter().map(|(service, kind)| async move {
        let what = case(service, kind);
        let scene = Scene::new().await;
        let integrations = scene.function("integrations").await;
        let (id, customer) = scene.healthy(&integrations, "307000000007").await;
        let rows: Vec<Value> = ["hello.txt", "rows/photo.jpg"]
            .iter()
            .map(|key| json!({"row_data": format!("s3://{}/{key}", customer.bucket), "global_key": unique("row")}))
            .collect();
        let request = json!({"rows": rows}).to_string();
        // A fresh container: no credentials cached, no records to spare reading the objects.
        let fresh = scene.function("integrations").await;
        let check = |function| call(function, event("POST", &format!("/integrations/{id}/import-check"), Some(&request), Some(TENANT), &[]));

        scene.proxy.inject(Fault::on(service, kind));
        let (answer, took) = timed(check(&fresh)).await;
        assert!(took <= budget::IMPORT + SLACK, "{what}: {took:?}");
        if service == Service::DynamoDb {
            assert_unavailable(&answer, service, &what);
        } else {
            assert_eq!(answer.status, 200, "{what}: {:#}", answer.body);
            assert_eq!(answer.body["summary"]["by_code"], json!({"OBJECT_NOT_CHECKED": 2}), "{what}: {:#}", answer.body);
            for row in answer.body["results"].as_array().unwrap() {
                let message = row["message"].as_str().unwrap();
                assert!(message.contains(&service.to_string()) && message.contains("says nothing about the object"), "{what}: {message}");
            }
        }
        scene.proxy.clear();
        let recovered = eventually(|| check(&fresh), |answer| answer.body["summary"]["ok"] == 2).await;
        assert_eq!(recovered.body["summary"]["ok"], 2, "{what}: {:#}", recovered.body);
        assert_no_secrets([&answer.body, &recovered.body].into_iter().chain(scene.items().await.iter()), &what);
        (what, took)
    });
    for (what, took) in join_all(runs).await {
        println!("import check, {what}: {} ms", took.as_millis());
    }
}
