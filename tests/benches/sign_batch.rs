//! The `sign-url` handler end to end, with warm credentials: a 1000-URL batch event in, JSON out,
//! through the real binary under runtime emulation (its one DynamoDB read goes to the emulator).
//!
//!     cargo bench -p bucketlink-testkit --bench sign_batch        (scripts/bench runs it)

use std::time::Instant;

use bucketlink_testkit::fixtures::APP_ORIGIN;
use bucketlink_testkit::gateway::event;
use bucketlink_testkit::{Customer, CustomerSpec, Emulator, Function, Mode, Provider, Trust};
use serde_json::json;

#[tokio::main]
async fn main() {
    let emu = Emulator::start(Mode::Patched);
    let provider = Provider::create(&emu).await;
    let table = provider.table().await;
    let env = provider.function_env(&emu, &table);
    let integrations = Function::start("integrations", &env).await;
    let sign = Function::start("sign-url", &env).await;
    let created = integrations.invoke(event("POST", "/integrations", Some("{}"), Some("tenant-bench"), &[])).await.unwrap();
    let created: serde_json::Value = serde_json::from_str(created["body"].as_str().unwrap()).unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let mut spec = CustomerSpec::new("777777777777", Trust::ExternalId(created["external_id"].as_str().unwrap().to_owned()));
    spec.cors_origins = Some(vec![APP_ORIGIN.to_owned()]);
    let customer = Customer::create(&emu, &provider.role_arn, spec).await;
    let attach = json!({"name": "bench", "bucket": customer.bucket, "role_arn": customer.role_arn}).to_string();
    integrations.invoke(event("PUT", &format!("/integrations/{id}"), Some(&attach), Some("tenant-bench"), &[])).await.unwrap();

    let urls: Vec<String> =
        (0..1000).map(|i| format!("https://{}.s3.us-east-1.amazonaws.com/datasets/batch%20{i}/image_{i:05}.jpg", customer.bucket)).collect();
    let body = json!({"urls": urls}).to_string();
    let batch = event("POST", &format!("/integrations/{id}/sign"), Some(&body), Some("tenant-bench"), &[]);
    let warm = sign.invoke(batch.clone()).await.unwrap();
    assert_eq!(warm["statusCode"], 200, "{warm}");
    let mut times: Vec<f64> = Vec::new();
    for _ in 0..21 {
        let start = Instant::now();
        let answer = sign.invoke(batch.clone()).await.unwrap();
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(answer["statusCode"], 200);
    }
    times.sort_by(f64::total_cmp);
    println!("\nsign-url handler, 1000-URL batch with warm credentials (event in -> JSON out, incl. runtime API and one DynamoDB read):");
    println!("| median | fastest | slowest | per URL (median) |");
    println!("|---:|---:|---:|---:|");
    println!("| {:.2} ms | {:.2} ms | {:.2} ms | {:.2} µs |", times[10], times[0], times[20], times[10]);
}
