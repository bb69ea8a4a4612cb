//! Moving bucketlink to a new provider principal, end to end: while the next principal is
//! configured, setups trust both, the checks say per integration whether its role trusts the next
//! one and the sweep counts those that do not; after the switch-over, the functions assume the new
//! principal first, and the integrations whose roles trust it stay healthy.

use bucketlink_testkit::fixtures::{connect, unique, Connected, Deployment, PROVIDER_ACCOUNT, PROVIDER_ROLE};
use bucketlink_testkit::gateway::{call, event, Answer};
use bucketlink_testkit::{Customer, CustomerSpec, Emulator, Function, Permissions, Provider, Trust};
use serde_json::{json, Value};

const TENANT: &str = "tenant-migration";

fn check<'a>(answer: &'a Answer, name: &str) -> &'a Value {
    answer.body["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("no {name} check: {:#}", answer.body))
}

async fn api(function: &Function, method: &str, path: &str, body: Option<Value>) -> Answer {
    call(function, event(method, path, body.map(|b| b.to_string()).as_deref(), Some(TENANT), &[])).await
}

/// The next principal as the runbook makes it (a role that trusts the current one and may assume
/// customers' roles), and the current one's policy as template.yaml grants it during a migration
/// and after the switch-over: of its own account's roles, only that one.
async fn next_principal(provider: &Provider) -> String {
    let iam = aws_sdk_iam::Client::new(&provider.admin_sdk);
    let name = unique("bucketlink-provider-next");
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": provider.role_arn}, "Action": "sts:AssumeRole"}]});
    let next = iam.create_role().role_name(&name).assume_role_policy_document(trust.to_string()).send().await.unwrap().role.unwrap().arn;
    let assume_customers = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/*"},
        {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceAccount": PROVIDER_ACCOUNT}}}]});
    iam.put_role_policy().role_name(&name).policy_name("bucketlink").policy_document(assume_customers.to_string()).send().await.unwrap();
    let current = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/*"},
        {"Effect": "Deny", "Action": "sts:AssumeRole", "NotResource": [next], "Condition": {"StringEquals": {"aws:ResourceAccount": PROVIDER_ACCOUNT}}},
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": format!("arn:aws:dynamodb:*:{PROVIDER_ACCOUNT}:table/*")},
        {"Effect": "Allow", "Action": ["sqs:*", "events:PutEvents"], "Resource": "*"}]});
    iam.put_role_policy().role_name(PROVIDER_ROLE).policy_name("bucketlink-provider").policy_document(current.to_string()).send().await.unwrap();
    next
}

#[tokio::test]
async fn the_migration_reports_who_does_not_trust_the_next_principal_and_the_switch_over_keeps_those_who_do() {
    let emu = Emulator::shared();
    let provider = Provider::create(emu).await;
    let next = next_principal(&provider).await;
    let Deployment { env, .. } = provider.deploy(emu).await;
    let mut migrating = env.clone();
    migrating.push(("BUCKETLINK_NEXT_PROVIDER_ROLE_ARN", next.clone()));
    let integrations = Function::start("integrations", &migrating).await;
    let revalidate = Function::start("revalidate", &migrating).await;

    // A customer who sets up during the migration pastes a trust policy naming both principals.
    let bucket = unique("migrating");
    let created = api(&integrations, "POST", "/integrations", Some(json!({"bucket": bucket}))).await;
    let trust = created.body["setup"]["trust_policy"].clone();
    assert_eq!(trust["Statement"][0]["Principal"]["AWS"], json!([provider.role_arn, next]));
    let parameters = created.body["setup"]["cloudformation"]["parameters"].as_array().unwrap();
    assert!(parameters.contains(&json!({"ParameterKey": "NextProviderPrincipal", "ParameterValue": next})));
    let linted = api(&integrations, "POST", "/policy/lint", Some(json!({"policy": trust, "kind": "trust", "integration_id": created.body["id"]}))).await;
    assert_eq!(linted.body["findings"], json!([]), "both principals are fine during the migration");
    let mut spec = CustomerSpec::new("555555555551", Trust::Document(trust));
    spec.bucket = bucket.clone();
    spec.permissions = Permissions::Document(created.body["setup"]["permission_policy"].clone());
    spec.cors_origins = Some(vec![bucketlink_testkit::fixtures::APP_ORIGIN.to_owned()]);
    let ready = Customer::create(emu, &provider.role_arn, spec).await;
    let ready_id = created.body["id"].as_str().unwrap().to_owned();
    let attached =
        api(&integrations, "PUT", &format!("/integrations/{ready_id}"), Some(json!({"name": "Ready", "bucket": bucket, "role_arn": ready.role_arn}))).await;
    assert_eq!(attached.body["status"], "healthy", "{:#}", attached.body);
    assert_eq!(check(&attached, "next_provider_principal")["code"], "NEXT_PRINCIPAL_TRUSTED");

    // One who set up before it trusts the current principal only: still healthy, and told what to add.
    let Connected { id: late_id, status, .. } = connect(emu, &provider, &integrations, TENANT, "555555555552", |_| {}).await;
    assert_eq!(status, "healthy");
    let late = api(&integrations, "POST", &format!("/integrations/{late_id}/validate"), None).await;
    let warned = check(&late, "next_provider_principal");
    assert_eq!((warned["status"].as_str(), warned["code"].as_str()), (Some("warn"), Some("NEXT_PRINCIPAL_NOT_TRUSTED")));
    assert!(warned["remediation"].as_str().unwrap().contains(&next), "{warned:#}");

    // The sweep counts the roles that do not trust the next principal yet.
    let dispatched = revalidate.invoke(bucketlink_testkit::events::event("revalidate-schedule.json")).await.expect("dispatch");
    assert_eq!((dispatched["integrations"].as_u64(), dispatched["next_principal_not_trusted"].as_u64()), (Some(2), Some(1)), "{dispatched}");

    // The switch-over: the functions take the next principal first and assume customers' roles from it.
    let mut switched = env.clone();
    switched.retain(|(k, _)| *k != "BUCKETLINK_PROVIDER_ROLE_ARN");
    switched.push(("BUCKETLINK_PROVIDER_ROLE_ARN", next.clone()));
    switched.push(("BUCKETLINK_ASSUME_PROVIDER_ROLE", "true".to_owned()));
    let after = Function::start("integrations", &switched).await;
    let kept = api(&after, "POST", &format!("/integrations/{ready_id}/validate"), None).await;
    assert_eq!(kept.body["status"], "healthy", "{:#}", kept.body);
    assert_eq!(kept.body["provider_principal"], next.as_str());
    assert!(kept.body["checks"].as_array().unwrap().iter().all(|c| c["name"] != "next_provider_principal"), "no migration any more");
    let lost = api(&after, "POST", &format!("/integrations/{late_id}/validate"), None).await;
    assert_eq!(lost.body["status"], "failing");
    assert!(check(&lost, "role_assumable")["remediation"].as_str().unwrap().contains(&next), "the fix names the principal to trust now");
    let old_trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": [provider.role_arn, next]}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": kept.body["external_id"]}}}]});
    let linted = api(&after, "POST", "/policy/lint", Some(json!({"policy": old_trust, "kind": "trust", "integration_id": ready_id}))).await;
    assert_eq!(linted.body["findings"][0]["code"], "TRUST_EXTRA_PRINCIPAL", "after it, the old principal is a finding");
}
