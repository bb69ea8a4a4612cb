//! The README's first command: the whole flow that exists so far, against the local emulator,
//! with every function running under Lambda runtime emulation. Prints each step.

use bucketlink::fault::Service;
use bucketlink_testkit::fixtures::{unique, APP_ORIGIN};
use bucketlink_testkit::gateway::{call, event, Answer};
use bucketlink_testkit::proxy::{Fault, Kind};
use bucketlink_testkit::samples;
use bucketlink_testkit::{Announcer, Customer, CustomerSpec, Emulator, Function, Mode, Permissions, Provider, Proxy, Sweep, Trust};
use serde_json::{json, Value};

const CUSTOMER_ACCOUNT: &str = "222222222222";
const TENANT: &str = "tenant-acme";

fn step(n: u32, text: &str) {
    println!("\n== {n}. {text}");
}

fn show(label: &str, value: &impl std::fmt::Display) {
    println!("   {label}: {value}");
}

fn show_json(label: &str, value: &Value) {
    let pretty = serde_json::to_string_pretty(value).unwrap_or_default().replace('\n', "\n      ");
    println!("   {label}:\n      {pretty}");
}

fn show_checks(answer: &Answer) {
    show("status", &answer.body["status"].as_str().unwrap_or("?"));
    for check in answer.body["checks"].as_array().into_iter().flatten() {
        println!("     {:<22} {:<5} {}", check["name"].as_str().unwrap_or(""), check["status"].as_str().unwrap_or(""), check["message"].as_str().unwrap_or(""));
        if let Some(fix) = check["remediation"].as_str().filter(|_| check["status"] != "pass") {
            println!("     {:<22} fix:  {fix}", "");
        }
    }
}

async fn api(function: &Function, method: &str, path: &str, body: Option<Value>) -> Answer {
    let text = body.map(|b| b.to_string());
    call(function, event(method, path, text.as_deref(), Some(TENANT), &[])).await
}

use bucketlink_testkit::events::event as fixture;

#[tokio::main]
async fn main() {
    step(1, "Start the local AWS emulator (moto + our launcher, IAM enforced)");
    let emu = Emulator::start(Mode::Patched);
    show("endpoint", &emu.endpoint);

    step(2, "Provider account: the role every bucketlink function runs as, and the table");
    let provider = Provider::create(&emu).await;
    show("provider principal (what customers trust)", &provider.role_arn);
    let table = provider.table().await;
    show("DynamoDB table", &table);
    let mut env = provider.function_env(&emu, &table);
    env.push(("BUCKETLINK_MAX_OBJECT_BYTES", samples::LIMITS.to_owned()));
    let integrations = Function::start("integrations", &env).await;

    step(3, "The customer starts an integration: POST /integrations (the integrations function)");
    let bucket = unique("acme-demo");
    let created = api(&integrations, "POST", "/integrations", Some(json!({"name": "Acme images", "bucket": bucket}))).await;
    let id = created.body["id"].as_str().expect("an id").to_owned();
    show("HTTP", &created.status);
    show("id", &id);
    show("status", &created.body["status"]);
    show("external id", &created.body["external_id"]);
    show_json("trust policy to paste", &created.body["setup"]["trust_policy"]);
    show_json("permission policy to paste", &created.body["setup"]["permission_policy"]);

    step(4, "In the customer's account (222222222222): the bucket with CORS, and the role made from those two policies");
    let mut spec = CustomerSpec::new(CUSTOMER_ACCOUNT, Trust::Document(created.body["setup"]["trust_policy"].clone()));
    spec.bucket = bucket.clone();
    spec.permissions = Permissions::Document(created.body["setup"]["permission_policy"].clone());
    spec.cors_origins = Some(vec![APP_ORIGIN.to_owned()]);
    spec.objects.push(("images/cat 1.jpg".to_owned(), b"\xff\xd8\xff\xe0 a cat".to_vec()));
    let customer = Customer::create(&emu, &provider.role_arn, spec).await;
    show("role ARN to paste back", &customer.role_arn);

    step(5, "The customer saves the role: PUT /integrations/{id} runs every check");
    let attach = json!({"name": "Acme images", "bucket": bucket, "role_arn": customer.role_arn});
    let attached = api(&integrations, "PUT", &format!("/integrations/{id}"), Some(attach)).await;
    show("HTTP", &attached.status);
    show_checks(&attached);

    step(6, "The customer 'simplifies' the trust policy (drops the ExternalId condition) and presses refresh");
    customer.set_trust(&Trust::NoCondition, &provider.role_arn).await;
    let refreshed = api(&integrations, "POST", &format!("/integrations/{id}/validate"), None).await;
    show_checks(&refreshed);

    step(7, "They put the condition back: healthy again");
    customer.set_trust(&Trust::Document(created.body["setup"]["trust_policy"].clone()), &provider.role_arn).await;
    show_checks(&api(&integrations, "POST", &format!("/integrations/{id}/validate"), None).await);

    step(8, "Lint a policy before saving it: the trust policy printed in the seed docs (empty external ID)");
    let seed = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::340636424752:role/lb-aws-delegated-access-role"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": ""}}}]});
    let linted = api(&integrations, "POST", "/policy/lint", Some(json!({"policy": seed, "integration_id": id}))).await;
    for finding in linted.body["findings"].as_array().into_iter().flatten() {
        println!(
            "     {} ({}): {}\n       fix: {}",
            finding["code"].as_str().unwrap_or(""),
            finding["severity"].as_str().unwrap_or(""),
            finding["message"].as_str().unwrap_or(""),
            finding["fix"].as_str().unwrap_or("")
        );
    }

    step(9, "The app asks for signed URLs (sign-url), and fetches one like the browser will");
    let sweep = Sweep::create(&provider).await;
    env.extend(sweep.env());
    env.push(("BUCKETLINK_CHANGE_WINDOW_SECONDS", "1".to_owned()));
    let signer = Function::start("sign-url", &env).await;
    let urls = json!({"urls": [format!("https://{bucket}.s3.us-east-1.amazonaws.com/images/cat%201.jpg"), "https://other-bucket.s3.amazonaws.com/x.jpg"], "expires_in": 300});
    let signed = call(&signer, event("POST", &format!("/integrations/{id}/sign"), Some(&urls.to_string()), Some(TENANT), &[])).await;
    for row in signed.body["results"].as_array().into_iter().flatten() {
        match row["signed_url"].as_str() {
            Some(url) => {
                let fetched = reqwest::get(url).await.map(|r| r.status().to_string()).unwrap_or_else(|e| e.to_string());
                show(&format!("{} -> signed, expires {}, GET", row["url"].as_str().unwrap_or(""), row["expires_at"].as_str().unwrap_or("")), &fetched);
            }
            None => show(&format!("{} -> refused", row["url"].as_str().unwrap_or("")), &row["error"]["code"]),
        }
    }

    step(10, "The customer uploads data rows; prevalidate inspects each one as S3 announces it");
    let prevalidate = Function::start("prevalidate", &env).await;
    let s3 = emu.s3(&customer.sdk);
    let objects = samples::all();
    for object in &objects {
        samples::upload(&s3, &bucket, object).await;
    }
    let records = objects.iter().enumerate().map(|(n, o)| samples::s3_record(&bucket, o.key, o.bytes.len(), &format!("0055AED6DCD9{n:06X}"))).collect();
    let answer = prevalidate.invoke(samples::s3_event(records)).await.unwrap_or_else(|e| e);
    show("objects in the S3 event", &answer["objects"]);
    let listed = api(&integrations, "GET", &format!("/integrations/{id}/objects?limit=100"), None).await;
    let mut stored: Vec<Value> = listed.body["items"].as_array().cloned().unwrap_or_default();
    stored.sort_by(|a, b| a["key"].as_str().cmp(&b["key"].as_str()));
    println!("   prevalidation records (GET /integrations/{{id}}/objects):");
    for record in stored {
        let text = |field: &str| record[field].as_str().unwrap_or("-").to_owned();
        println!("     {:<32} {:<22} {:<10} {}", text("key"), text("code"), text("data_type"), record["media_type"].as_str().unwrap_or(""));
        if record["code"] != "READY" {
            println!("     {:<32} why: {}", "", text("reason"));
        }
        for note in record["notes"].as_array().into_iter().flatten() {
            println!("     {:<32} note: {}", "", note.as_str().unwrap_or(""));
        }
    }
    let rejected = api(&integrations, "GET", &format!("/integrations/{id}/objects?status=rejected"), None).await;
    show("rejected ones (?status=rejected)", &rejected.body["items"].as_array().map_or(0, Vec::len));

    step(11, "Before importing, the app checks an import file: POST /integrations/{id}/import-check");
    let url = |key: &str| format!("https://{bucket}.s3.us-east-1.amazonaws.com/{}", samples::event_key(key).replace('+', "%20"));
    let rows = json!({"rows": [
        {"global_key": "row-1", "row_data": url("rows/photo.jpg"), "media_type": "IMAGE"},
        {"global_key": "row-2", "row_data": url("rows/clip.mp4"), "media_type": "VIDEO"},
        {"global_key": "row-3", "row_data": format!("s3://{bucket}/rows/paper.pdf"), "media_type": "DOCUMENT"},
        {"global_key": "row-4", "row_data": url("rows/receipt.jpg"), "media_type": "IMAGE"},
        {"global_key": "row-2", "row_data": url("rows/tone.wav"), "media_type": "AUDIO"},
        {"global_key": "row-5", "row_data": url("rows/archived.jpg"), "media_type": "IMAGE"},
        {"global_key": "row-6", "row_data": url("rows/not-uploaded.jpg"), "media_type": "IMAGE"},
        {"global_key": "row-7", "row_data": "https://someone-else.s3.amazonaws.com/rows/photo.jpg", "media_type": "IMAGE"}
    ]});
    let checked = api(&integrations, "POST", &format!("/integrations/{id}/import-check"), Some(rows)).await;
    show("HTTP", &checked.status);
    show("summary", &checked.body["summary"]);
    for row in checked.body["results"].as_array().into_iter().flatten() {
        let verdict = row["code"].as_str().unwrap_or("ok");
        println!("     {:<6} {:<22} {}", row["global_key"].as_str().unwrap_or(""), verdict, row["message"].as_str().unwrap_or(""));
    }

    step(12, "The scheduled health sweep (revalidate): the customer removes /* from the policy, the sweep notices");
    let revalidate = Function::start("revalidate", &env).await;
    customer.set_permissions(&Permissions::NoObjectWildcard).await;
    let dispatched = revalidate.invoke(fixture("revalidate-schedule.json")).await.unwrap_or_else(|e| e);
    show("dispatched", &dispatched);
    let batch = revalidate.invoke(sweep.queued_batch().await).await.unwrap_or_else(|e| e);
    show("queue batch answered", &batch);
    show("status now", &api(&integrations, "GET", &format!("/integrations/{id}"), None).await.body["status"]);

    step(13, "Every status change is announced from the table's stream (status-events → the event bus)");
    let announcer = Announcer::start(&provider, &emu.endpoint, &table, &sweep).await;
    let pumped = announcer.pump().await;
    show("stream records relayed", &pumped.acknowledged);
    for change in sweep.events().await {
        println!(
            "     IntegrationStatusChanged {:<30} {:>13} -> {:<9} failing: {}",
            change["event_id"].as_str().unwrap_or(""),
            change["old_status"].as_str().unwrap_or(""),
            change["new_status"].as_str().unwrap_or(""),
            change["failing_checks"]
        );
    }

    step(14, "AWS misbehaves: S3 answers 500 InternalError to every call while the customer presses refresh");
    customer.set_permissions(&Permissions::ReadOnly).await;
    let proxy = Proxy::start(&emu.endpoint).await;
    let mut proxied = provider.function_env_at(&proxy.endpoint, &table);
    proxied.push(("BUCKETLINK_MAX_OBJECT_BYTES", samples::LIMITS.to_owned()));
    let behind_proxy = Function::start("integrations", &proxied).await;
    show("the customer restores /*; refresh", &api(&behind_proxy, "POST", &format!("/integrations/{id}/validate"), None).await.body["status"]);
    announcer.pump().await;
    for change in sweep.events().await {
        show("announced", &format!("{} -> {}", change["old_status"].as_str().unwrap_or(""), change["new_status"].as_str().unwrap_or("")));
    }
    proxy.inject(Fault::on(Service::S3, Kind::ServerError));
    let refreshed = api(&behind_proxy, "POST", &format!("/integrations/{id}/validate"), None).await;
    show_checks(&refreshed);
    show("notice", &refreshed.body["notice"].as_str().unwrap_or(""));
    proxy.clear();
    show("refresh once S3 is back", &api(&behind_proxy, "POST", &format!("/integrations/{id}/validate"), None).await.body["status"]);
    announcer.pump().await;
    show("status events caused by the S3 outage", &sweep.events().await.len());

    step(15, "The customer edits the role's trust policy; its CloudTrail event reaches us and the change is checked at once");
    customer.set_trust(&Trust::WrongPrincipal("arn:aws:iam::999999999999:role/someone-else".into()), &provider.role_arn).await;
    let noticed = std::time::Instant::now();
    let change =
        samples::cloudtrail_event(CUSTOMER_ACCOUNT, "aws.iam", "UpdateAssumeRolePolicy", json!({"roleName": customer.role_name, "policyDocument": "{}"}));
    show("revalidate, given the event as EventBridge delivers it", &revalidate.invoke(change).await.unwrap_or_else(|e| e));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    show("the queued check (after the 1 s window)", &sweep.deliver(&revalidate).await);
    show("status", &api(&integrations, "GET", &format!("/integrations/{id}"), None).await.body["status"]);
    announcer.pump().await;
    for change in sweep.events().await {
        show(
            "IntegrationStatusChanged",
            &format!("{} -> {} ({})", change["old_status"].as_str().unwrap_or(""), change["new_status"].as_str().unwrap_or(""), change["failing_checks"]),
        );
    }
    show("from the event to the announced status", &format!("{} ms", noticed.elapsed().as_millis()));

    step(16, "The customer rotates the external ID: a new one, a window where the role takes both, then the new one alone");
    customer.set_trust(&Trust::Document(created.body["setup"]["trust_policy"].clone()), &provider.role_arn).await;
    show("trust policy restored, status", &api(&integrations, "POST", &format!("/integrations/{id}/validate"), None).await.body["status"]);
    let rotating = api(&integrations, "POST", &format!("/integrations/{id}/external-id"), Some(json!({"grace_seconds": 604800}))).await;
    show("rotation", &rotating.body["rotation"]);
    show_json("trust policy for the window (both IDs)", &rotating.body["setup"]["trust_policy"]);
    show("its AWS CLI command", &rotating.body["setup"]["cli_commands"][0].as_str().unwrap_or("").chars().take(110).collect::<String>());
    customer.set_trust(&Trust::Document(rotating.body["setup"]["trust_policy"].clone()), &provider.role_arn).await;
    let accepted = api(&integrations, "POST", &format!("/integrations/{id}/validate"), None).await;
    show_checks(&accepted);
    show("external ID in use now", &accepted.body["external_id"]);
    customer.set_trust(&Trust::Document(rotating.body["setup_after_rotation"]["trust_policy"].clone()), &provider.role_arn).await;
    let completed = api(&integrations, "POST", &format!("/integrations/{id}/external-id/complete"), None).await;
    show_checks(&completed);
    show("retired external ID", &completed.body["retired_external_id"]);
    announcer.pump().await;
    for step in sweep.whole_events().await.iter().filter(|e| e["detail-type"] == "ExternalIdRotation") {
        show("ExternalIdRotation", &step["detail"]["step"]);
    }

    println!("\nDone. Everything ran against {} and stops with this program.", emu.endpoint);
    println!("To do the customer's setup yourself, in a browser: scripts/serve (the setup page, the API and a sample customer account).");
}
