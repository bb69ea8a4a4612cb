//! External ID rotation end to end: the integrations and sign-url binaries under the Runtime API
//! host, the customer's role in the emulator changed exactly as the rotation's setup says (its
//! AWS CLI command run by the AWS CLI), and each step announced on the bus and kept in the history.

use std::time::Duration;

use bucketlink_testkit::fixtures::{connect, run_aws_cli, Connected, Deployment};
use bucketlink_testkit::gateway::{call, event, Answer};
use bucketlink_testkit::{Announcer, Customer, Emulator, Function, Provider, Sweep, Trust};
use serde_json::{json, Value};

const TENANT: &str = "tenant-rotation";

struct Api {
    emu: &'static Emulator,
    provider: Provider,
    integrations: Function,
    sign: Function,
    sweep: Sweep,
    announcer: Announcer,
}

impl Api {
    async fn start() -> Api {
        let emu = Emulator::shared();
        let provider = Provider::create(emu).await;
        let Deployment { table, sweep, env } = provider.deploy(emu).await;
        let integrations = Function::start("integrations", &env).await;
        let sign = Function::start("sign-url", &env).await;
        let announcer = Announcer::start(&provider, &emu.endpoint, &table, &sweep).await;
        Api { emu, provider, integrations, sign, sweep, announcer }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let function = if path.ends_with("/sign") { &self.sign } else { &self.integrations };
        call(function, event(method, path, body.map(|b| b.to_string()).as_deref(), Some(TENANT), &[])).await
    }

    async fn connected(&self, account: &str) -> (String, Customer) {
        let Connected { id, customer, status } = connect(self.emu, &self.provider, &self.integrations, TENANT, account, |_| {}).await;
        assert_eq!(status, "healthy");
        (id, customer)
    }

    /// The rotation steps announced on the bus since the last call (each fits its schema).
    async fn steps(&self) -> Vec<String> {
        self.announcer.pump().await;
        let events = self.sweep.whole_events().await;
        bucketlink_testkit::events::assert_fit_schema(&events);
        events.iter().filter(|e| e["detail-type"] == "ExternalIdRotation").map(|e| e["detail"]["step"].as_str().unwrap().to_owned()).collect()
    }
}

fn check<'a>(answer: &'a Answer, name: &str) -> &'a Value {
    answer.body["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("no {name} check: {:#}", answer.body))
}

/// Runs one of the setup's AWS CLI commands, as shown, with the AWS CLI as the customer.
fn run_as(api: &Api, customer: &Customer, command: &str) {
    run_aws_cli(&api.emu.endpoint, &customer.admin, command);
}

async fn sign_and_fetch(api: &Api, id: &str, bucket: &str) -> u16 {
    let signed = api.call("POST", &format!("/integrations/{id}/sign"), Some(json!({"urls": [format!("s3://{bucket}/hello.txt")]}))).await;
    let url = signed.body["results"][0]["signed_url"].as_str().unwrap_or_else(|| panic!("{:#}", signed.body));
    reqwest::get(url).await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_customer_who_pastes_each_setup_stays_healthy_throughout() {
    let api = Api::start().await;
    let (id, customer) = api.connected("444444444441").await;
    let old = api.call("GET", &format!("/integrations/{id}"), None).await.body["external_id"].as_str().unwrap().to_owned();
    api.steps().await;

    let started = api.call("POST", &format!("/integrations/{id}/external-id"), Some(json!({"grace_seconds": 86400}))).await;
    assert_eq!(started.status, 200, "{:#}", started.body);
    let new = started.body["rotation"]["new_external_id"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(started.body["external_id"], old, "the old ID is used until the role accepts the new one");
    assert_eq!(started.body["status"], "healthy");
    let during = &started.body["setup"];
    assert_eq!(during["trust_policy"]["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"], json!([new, old]));
    let after = &started.body["setup_after_rotation"];
    assert_eq!(after["trust_policy"]["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"], json!(new));
    let parameters = during["cloudformation"]["parameters"].as_array().unwrap();
    assert!(parameters.contains(&json!({"ParameterKey": "PreviousExternalId", "ParameterValue": old})), "{parameters:?}");
    assert!(during["terraform"]["tfvars"].as_str().unwrap().contains(&format!("previous_external_id = \"{old}\"")));
    assert_eq!(api.steps().await, ["started"]);

    // Before the customer pastes anything: still healthy, and the rotation check says what to do.
    let waiting = api.call("POST", &format!("/integrations/{id}/validate"), None).await;
    assert_eq!(waiting.body["status"], "healthy");
    assert_eq!(check(&waiting, "external_id_rotation")["code"], "NEW_EXTERNAL_ID_NOT_ACCEPTED");
    assert!(check(&waiting, "external_id_rotation")["remediation"].as_str().unwrap().contains(&new));

    // The window's trust policy, by its CLI command: the role accepts both; from now on the new
    // ID is the one used, for the checks and for signing.
    let commands = during["cli_commands"].as_array().unwrap();
    assert_eq!(commands.len(), 1);
    run_as(&api, &customer, commands[0].as_str().unwrap());
    let linted = api.call("POST", "/policy/lint", Some(json!({"policy": during["trust_policy"], "kind": "trust", "integration_id": id}))).await;
    assert_eq!(linted.body["findings"], json!([]), "both IDs are fine during the rotation");
    let accepted = api.call("POST", &format!("/integrations/{id}/validate"), None).await;
    assert_eq!(accepted.body["status"], "healthy");
    assert_eq!(check(&accepted, "external_id_rotation")["code"], "NEW_EXTERNAL_ID_ACCEPTED");
    assert_eq!(accepted.body["external_id"], new);
    assert!(accepted.body["rotation"]["accepted_at"].is_string());
    assert_eq!(sign_and_fetch(&api, &id, &customer.bucket).await, 200);
    assert_eq!(api.steps().await, ["accepted"]);

    // The final trust policy, then completion: the checks prove the old ID refused.
    run_as(&api, &customer, after["cli_commands"][0].as_str().unwrap());
    let completed = api.call("POST", &format!("/integrations/{id}/external-id/complete"), None).await;
    assert_eq!(completed.status, 200, "{:#}", completed.body);
    assert_eq!(completed.body["status"], "healthy");
    assert_eq!((completed.body["rotation"].clone(), completed.body["retired_external_id"].clone()), (Value::Null, json!(old)));
    assert_eq!(check(&completed, "external_id_rotation")["code"], "OLD_EXTERNAL_ID_REFUSED");
    assert_eq!(sign_and_fetch(&api, &id, &customer.bucket).await, 200);
    assert_eq!(api.steps().await, ["completed"]);
    let linted = api.call("POST", "/policy/lint", Some(json!({"policy": during["trust_policy"], "kind": "trust", "integration_id": id}))).await;
    assert_eq!(linted.body["findings"][0]["code"], "TRUST_RETIRED_EXTERNAL_ID", "after it, the old ID is a finding");

    let history = api.call("GET", &format!("/integrations/{id}"), None).await.body["history"].clone();
    let events: Vec<&str> = history.as_array().unwrap().iter().filter_map(|h| h["event"].as_str()).collect();
    assert_eq!(events, ["rotation_completed", "rotation_accepted", "rotation_started"], "{history:#}");
    assert!(history.as_array().unwrap().iter().all(|h| h["status"] == "healthy"), "healthy throughout: {history:#}");
}

#[tokio::test]
async fn completion_waits_for_the_new_id_and_a_role_still_taking_the_old_one_is_flagged() {
    let api = Api::start().await;
    let (id, customer) = api.connected("444444444442").await;
    let started = api.call("POST", &format!("/integrations/{id}/external-id"), None).await;
    assert_eq!(started.status, 200);
    let (old, new) = (started.body["rotation"]["old_external_id"].clone(), started.body["rotation"]["new_external_id"].clone());
    assert_eq!(api.call("POST", &format!("/integrations/{id}/external-id"), None).await.body["code"], "ROTATION_IN_PROGRESS");

    let refused = api.call("POST", &format!("/integrations/{id}/external-id/complete"), None).await;
    assert_eq!((refused.status, refused.body["code"].as_str()), (409, Some("NEW_EXTERNAL_ID_NOT_ACCEPTED")), "{:#}", refused.body);
    assert!(refused.body["detail"].as_str().unwrap().contains(new.as_str().unwrap()));
    let still = api.call("GET", &format!("/integrations/{id}"), None).await;
    assert_eq!((still.body["external_id"].clone(), still.body["rotation"]["new_external_id"].clone()), (old.clone(), new.clone()));

    // The customer pastes the window's policy and completes at once, keeping the old ID.
    customer.set_trust(&Trust::Document(started.body["setup"]["trust_policy"].clone()), &api.provider.role_arn).await;
    let flagged = api.call("POST", &format!("/integrations/{id}/external-id/complete"), None).await;
    assert_eq!(flagged.status, 200, "{:#}", flagged.body);
    assert_eq!(flagged.body["status"], "insecure");
    let rotation = check(&flagged, "external_id_rotation");
    assert_eq!((rotation["status"].as_str(), rotation["code"].as_str()), (Some("fail"), Some("OLD_EXTERNAL_ID_ACCEPTED")));
    let fix = rotation["remediation"].as_str().unwrap();
    assert!(fix.contains(&format!("remove {old}")) && fix.contains(new.as_str().unwrap()), "{fix}");
    assert_eq!(api.call("POST", &format!("/integrations/{id}/sign"), Some(json!({"urls": ["s3://b/k"]}))).await.status, 409, "insecure signs nothing");

    // The statement fixed as said: healthy again.
    customer.set_trust(&Trust::ExternalId(new.as_str().unwrap().to_owned()), &api.provider.role_arn).await;
    let fixed = api.call("POST", &format!("/integrations/{id}/validate"), None).await;
    assert_eq!(fixed.body["status"], "healthy", "{:#}", fixed.body);
    assert_eq!(api.call("POST", &format!("/integrations/{id}/external-id/complete"), None).await.body["code"], "NO_ROTATION");
}

#[tokio::test]
async fn cancelling_restores_the_old_id_and_a_window_that_ends_completes_the_rotation() {
    let api = Api::start().await;
    let (id, customer) = api.connected("444444444443").await;
    let started = api.call("POST", &format!("/integrations/{id}/external-id"), None).await;
    let old = started.body["rotation"]["old_external_id"].clone();
    customer.set_trust(&Trust::Document(started.body["setup"]["trust_policy"].clone()), &api.provider.role_arn).await;
    assert_eq!(api.call("POST", &format!("/integrations/{id}/validate"), None).await.body["external_id"], started.body["rotation"]["new_external_id"]);

    let cancelled = api.call("POST", &format!("/integrations/{id}/external-id/cancel"), None).await;
    assert_eq!(cancelled.status, 200, "{:#}", cancelled.body);
    assert_eq!((cancelled.body["external_id"].clone(), cancelled.body["rotation"].clone()), (old.clone(), Value::Null));
    assert_eq!(cancelled.body["status"], "healthy");
    assert!(cancelled.body["checks"].as_array().unwrap().iter().all(|c| c["name"] != "external_id_rotation"), "nothing retired");
    assert_eq!(api.steps().await.last().map(String::as_str), Some("cancelled"));

    // A one-second window that the customer lets pass with the old policy: the rotation ends by
    // itself, the new ID alone is used, and the checks say what the role is missing.
    customer.set_trust(&Trust::ExternalId(old.as_str().unwrap().to_owned()), &api.provider.role_arn).await;
    let short = api.call("POST", &format!("/integrations/{id}/external-id"), Some(json!({"grace_seconds": 1}))).await;
    let new = short.body["rotation"]["new_external_id"].clone();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let ended = api.call("POST", &format!("/integrations/{id}/validate"), None).await;
    assert_eq!((ended.body["rotation"].clone(), ended.body["external_id"].clone()), (Value::Null, new.clone()), "{:#}", ended.body);
    assert_eq!(ended.body["status"], "failing");
    assert_eq!(check(&ended, "role_assumable")["code"], "ROLE_CANNOT_BE_ASSUMED");
    assert!(check(&ended, "role_assumable")["remediation"].as_str().unwrap().contains(new.as_str().unwrap()), "the fix names the new ID");
    assert_eq!(api.steps().await.last().map(String::as_str), Some("completed"));
}
