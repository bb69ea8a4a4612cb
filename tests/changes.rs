//! Change-triggered revalidation end to end: the customer really changes their role, bucket or
//! key in the emulator, and the harness delivers the CloudTrail event to `revalidate` as
//! EventBridge would (the emulator emits no CloudTrail events); the queued check runs through the
//! sweep queue, and status changes reach the bus through `status-events`.

use std::time::{Duration, Instant};

use bucketlink_testkit::fixtures::{connect, Connected, Deployment};
use bucketlink_testkit::gateway::{call, event};
use bucketlink_testkit::samples::cloudtrail_event;
use bucketlink_testkit::{Announcer, Emulator, Function, Provider, Sweep, Trust};
use serde_json::{json, Value};

const TENANT: &str = "tenant-changes";
const BUS_ARN: &str = "arn:aws:events:us-east-1:111111111111:event-bus/bucketlink-events";

struct Scene {
    provider: Provider,
    sweep: Sweep,
    integrations: Function,
    revalidate: Function,
    announcer: Announcer,
}

impl Scene {
    async fn new() -> Scene {
        let emu = Emulator::shared();
        let provider = Provider::create(emu).await;
        let Deployment { table, sweep, mut env } = provider.deploy(emu).await;
        env.push(("BUCKETLINK_CHANGE_WINDOW_SECONDS", "1".to_owned()));
        env.push(("BUCKETLINK_CHANGE_EVENT_BUS_ARN", BUS_ARN.to_owned()));
        let integrations = Function::start("integrations", &env).await;
        let revalidate = Function::start("revalidate", &env).await;
        let announcer = Announcer::start(&provider, &emu.endpoint, &table, &sweep).await;
        Scene { provider, sweep, integrations, revalidate, announcer }
    }

    async fn connected(&self, account: &str) -> Connected {
        let connected = connect(Emulator::shared(), &self.provider, &self.integrations, TENANT, account, |_| {}).await;
        assert_eq!(connected.status, "healthy");
        self.events().await;
        connected
    }

    /// What the customer's default bus forwards, delivered as EventBridge invokes a function.
    async fn change(&self, event: Value) -> Value {
        self.revalidate.invoke(event).await.expect("a change event is handled")
    }

    /// Waits out the change window, then delivers the queued checks as SQS would.
    async fn run_queued_checks(&self) -> Value {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        self.sweep.deliver(&self.revalidate).await
    }

    async fn status(&self, id: &str) -> Value {
        call(&self.integrations, event("GET", &format!("/integrations/{id}"), None, Some(TENANT), &[])).await.body
    }

    async fn events(&self) -> Vec<Value> {
        self.announcer.pump().await;
        self.sweep.events().await
    }
}

fn role_changed(account: &str, role: &str) -> Value {
    cloudtrail_event(account, "aws.iam", "UpdateAssumeRolePolicy", json!({"roleName": role, "policyDocument": "{}"}))
}

#[tokio::test]
async fn a_broken_trust_policy_is_noticed_through_its_event_and_so_is_the_repair() {
    let scene = Scene::new().await;
    let Connected { id, customer, .. } = scene.connected("701000000001").await;
    let external_id = scene.status(&id).await["external_id"].as_str().unwrap().to_owned();

    // The customer edits the trust policy so that it names another principal.
    customer.set_trust(&Trust::WrongPrincipal("arn:aws:iam::999999999999:role/someone-else".into()), &scene.provider.role_arn).await;
    let noticed = Instant::now();
    let answer = scene.change(role_changed("701000000001", &customer.role_name)).await;
    assert_eq!(answer, json!({"affected": 1, "scheduled": 1}));
    assert_eq!(scene.run_queued_checks().await, json!({"batchItemFailures": []}));
    let broken = scene.status(&id).await;
    assert_eq!(broken["status"], "failing", "{broken:#}");
    let events = scene.events().await;
    println!("event to status (window 1 s included): {} ms", noticed.elapsed().as_millis());
    assert_eq!(events.len(), 1, "exactly one status event: {events:?}");
    assert_eq!((events[0]["old_status"].as_str(), events[0]["new_status"].as_str()), (Some("healthy"), Some("failing")));
    assert_eq!(events[0]["failing_checks"], json!(["role_assumable"]));

    customer.set_trust(&Trust::ExternalId(external_id), &scene.provider.role_arn).await;
    assert_eq!(scene.change(role_changed("701000000001", &customer.role_name)).await["scheduled"], 1);
    scene.run_queued_checks().await;
    assert_eq!(scene.status(&id).await["status"], "healthy");
    let events = scene.events().await;
    assert_eq!(events.len(), 1);
    assert_eq!((events[0]["old_status"].as_str(), events[0]["new_status"].as_str()), (Some("failing"), Some("healthy")));
}

#[tokio::test]
async fn a_burst_of_events_about_one_role_leads_to_one_check() {
    let scene = Scene::new().await;
    let Connected { id, customer, .. } = scene.connected("702000000002").await;
    let before = scene.status(&id).await["history"].as_array().unwrap().len();
    let mut scheduled = 0;
    for _ in 0..10 {
        scheduled += scene.change(role_changed("702000000002", &customer.role_name)).await["scheduled"].as_u64().unwrap();
    }
    assert_eq!(scheduled, 1, "ten events within the window, one check");
    assert_eq!(scene.sweep.delayed_messages().await, 1, "one message, waiting out the window");
    assert_eq!(scene.run_queued_checks().await, json!({"batchItemFailures": []}));
    assert_eq!(scene.status(&id).await["history"].as_array().unwrap().len(), before + 1, "checked once");
}

#[tokio::test]
async fn events_from_another_account_or_about_something_else_change_nothing() {
    let scene = Scene::new().await;
    let Connected { customer, .. } = scene.connected("703000000003").await;
    let nothing = json!({"affected": 0, "scheduled": 0});
    // Another account names our customer's role and bucket: never acted on.
    assert_eq!(scene.change(role_changed("799999999999", &customer.role_name)).await, nothing);
    let foreign_bucket = cloudtrail_event("799999999999", "aws.s3", "DeleteBucketCors", json!({"bucketName": customer.bucket}));
    assert_eq!(scene.change(foreign_bucket).await, nothing);
    // The customer's account, but a role and a bucket of no integration, and calls that do not matter.
    assert_eq!(scene.change(role_changed("703000000003", "SomeOtherRole")).await, nothing);
    assert_eq!(scene.change(cloudtrail_event("703000000003", "aws.s3", "PutBucketCors", json!({"bucketName": "not-ours"}))).await, nothing);
    assert_eq!(scene.change(cloudtrail_event("703000000003", "aws.iam", "CreateUser", json!({"userName": "bob"}))).await, nothing);
    assert_eq!((scene.sweep.queue_depth().await, scene.sweep.delayed_messages().await), ((0, 0), 0), "no check queued");
}

#[tokio::test]
async fn bucket_and_key_changes_reach_the_integrations_that_depend_on_them() {
    let scene = Scene::new().await;
    let Connected { id, customer, .. } = scene.connected("704000000004").await;
    // A real change: the customer deletes the bucket's CORS.
    let s3 = Emulator::shared().s3(&customer.sdk);
    s3.delete_bucket_cors().bucket(&customer.bucket).send().await.unwrap();
    let answer = scene.change(cloudtrail_event("704000000004", "aws.s3", "DeleteBucketCors", json!({"bucketName": customer.bucket}))).await;
    assert_eq!(answer, json!({"affected": 1, "scheduled": 1}));
    scene.run_queued_checks().await;
    let status = scene.status(&id).await;
    assert_eq!(status["status"], "failing");
    assert!(status["checks"].as_array().unwrap().iter().any(|c| c["code"] == "INCORRECT_CORS_HEADER"), "{status:#}");

    // An integration with a KMS key: a change to the key, named by ARN or by id, reaches it.
    let key = "arn:aws:kms:us-east-1:704000000004:key/5c6d7e8f-1234-4abc-8def-0123456789ab";
    let body = json!({"name": "Acme", "bucket": customer.bucket, "role_arn": customer.role_arn, "kms_key_arn": key}).to_string();
    call(&scene.integrations, event("PUT", &format!("/integrations/{id}"), Some(&body), Some(TENANT), &[])).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for named in [key, "5c6d7e8f-1234-4abc-8def-0123456789ab"] {
        let answer = scene.change(cloudtrail_event("704000000004", "aws.kms", "PutKeyPolicy", json!({"keyId": named, "policyName": "default"}))).await;
        assert_eq!(answer["affected"], 1, "{named}: {answer}");
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
}

/// The forwarding we hand out deploys in the customer's account as CloudFormation: one rule per
/// family, each sending to our bus with the role EventBridge needs.
#[tokio::test]
async fn the_forwarding_template_deploys_in_the_customer_account() {
    let scene = Scene::new().await;
    let Connected { id, customer, .. } = scene.connected("705000000005").await;
    let view = scene.status(&id).await;
    let setup = &view["setup"]["change_events"];
    assert_eq!(setup["regions"], json!(["us-east-1"]), "{setup:#}");
    let parameters: Vec<aws_sdk_cloudformation::types::Parameter> = setup["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            aws_sdk_cloudformation::types::Parameter::builder()
                .parameter_key(p["ParameterKey"].as_str().unwrap())
                .parameter_value(p["ParameterValue"].as_str().unwrap())
                .build()
        })
        .collect();
    assert!(parameters.iter().any(|p| p.parameter_value() == Some(customer.role_name.as_str())), "the role we handed out: {setup:#}");
    let cfn = aws_sdk_cloudformation::Client::new(&customer.sdk);
    let stack = format!("bucketlink-changes-{id}");
    cfn.create_stack()
        .stack_name(&stack)
        .template_body(setup["template_body"].as_str().unwrap())
        .set_parameters(Some(parameters))
        .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityIam)
        .send()
        .await
        .expect("the forwarding stack deploys");
    let rules = aws_sdk_eventbridge::Client::new(&customer.sdk).list_rules().send().await.unwrap();
    let ours: Vec<String> = rules.rules().iter().filter_map(|r| r.name()).filter(|n| n.contains(&stack) || n.contains("Changes")).map(str::to_owned).collect();
    assert!(ours.len() >= 2, "the role's and the bucket's rules (no key here): {ours:?}");
    for rule in &ours {
        let targets = aws_sdk_eventbridge::Client::new(&customer.sdk).list_targets_by_rule().rule(rule).send().await.unwrap();
        assert_eq!(targets.targets()[0].arn(), BUS_ARN, "{rule} forwards to our bus");
    }
}
