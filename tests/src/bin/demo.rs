//! The README's first command: the whole flow that exists so far, against the local emulator,
//! with every function running under Lambda runtime emulation. Prints each step.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::presigning::PresigningConfig;
use bucketlink_testkit::fixtures::{assume, unique, APP_ORIGIN};
use bucketlink_testkit::{emulator::workspace_root, CustomerSpec, Emulator, Function, Mode, Provider, Trust};
use bucketlink_testkit::Customer;
use serde_json::Value;

const CUSTOMER_ACCOUNT: &str = "222222222222";

fn step(n: u32, text: &str) {
    println!("\n== {n}. {text}");
}

fn show(label: &str, value: &impl std::fmt::Display) {
    println!("   {label}: {value}");
}

fn event(name: &str) -> Value {
    let text = std::fs::read_to_string(workspace_root().join("events").join(name)).expect("event fixture");
    serde_json::from_str(&text).expect("event is JSON")
}

#[tokio::main]
async fn main() {
    step(1, "Start the local AWS emulator (moto + our launcher, IAM enforced)");
    let emu = Emulator::start(Mode::Patched);
    show("endpoint", &emu.endpoint);

    step(2, "Provider account: the role every bucketlink function runs as");
    let provider = Provider::create(&emu).await;
    show("provider principal (what customers trust)", &provider.role_arn);
    let table = provider.table().await;
    show("DynamoDB table", &table);

    step(3, "Customer account: a bucket with objects and CORS, and a role that trusts us with an external ID");
    let external_id = unique("demo-ext");
    let mut spec = CustomerSpec::new(CUSTOMER_ACCOUNT, Trust::ExternalId(external_id.clone()));
    spec.cors_origins = Some(vec![APP_ORIGIN.to_owned()]);
    spec.objects.push(("images/cat 1.jpg".to_owned(), b"\xff\xd8\xff\xe0 not really a cat".to_vec()));
    let customer = Customer::create(&emu, &provider.role_arn, spec).await;
    show("customer role", &customer.role_arn);
    show("bucket", &customer.bucket);
    show("external id", &external_id);

    step(4, "Assume the customer's role, as the provider");
    let session = assume(&provider.sdk, &customer.role_arn, Some(&external_id)).await.expect("the right external id works");
    show("with the right external id", &"credentials issued");
    for (label, id) in [("with a wrong external id", Some("guess")), ("with no external id", None)] {
        match assume(&provider.sdk, &customer.role_arn, id).await {
            Err((code, _)) => show(label, &code),
            Ok(_) => panic!("{label} must be denied"),
        }
    }

    step(5, "Sign a GET URL with the customer's session and fetch it like the browser will");
    let s3 = emu.s3(&emu.sdk_config(session, &customer.region).await);
    let presigning = PresigningConfig::builder().start_time(SystemTime::now()).expires_in(Duration::from_secs(300)).build().expect("ttl");
    let url = s3.get_object().bucket(&customer.bucket).key("hello.txt").presigned(presigning).await.expect("presign");
    let response = reqwest::get(url.uri()).await.expect("fetch");
    show("GET status", &response.status());
    show("body", &response.text().await.unwrap_or_default());
    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{}/{}/hello.txt", emu.endpoint, customer.bucket))
        .header("Origin", APP_ORIGIN)
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .expect("preflight");
    let allowed = preflight.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()).unwrap_or("none").to_owned();
    show("CORS preflight from the app", &format!("{} allow-origin={allowed}", preflight.status()));

    step(6, "Run each function under Lambda runtime emulation with its event from events/");
    let env = provider.function_env(&emu, &table);
    for (function, fixture) in [
        ("integrations", "integrations-list.json"),
        ("sign-url", "sign-url.json"),
        ("revalidate", "revalidate-schedule.json"),
        ("prevalidate", "prevalidate-s3-put.json"),
    ] {
        let running = Function::start(function, &env).await;
        let answer = match running.invoke(event(fixture)).await {
            Ok(v) => v,
            Err(e) => e,
        };
        let shown = match answer.get("body").and_then(Value::as_str) {
            Some(body) => format!("{} {body}", answer["statusCode"]),
            None => answer.to_string(),
        };
        show(&format!("{function} <- events/{fixture}"), &shown);
    }
    println!("\nDone. Everything ran against {} and stops with this program.", emu.endpoint);
}
