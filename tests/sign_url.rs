//! `sign-url` end to end: URLs signed by the function (under runtime emulation) are fetched over
//! plain HTTP from the emulator, which verifies every signature.

use std::time::Duration;

use bucketlink_testkit::emf;
use bucketlink_testkit::fixtures::{connect, Connected};
use bucketlink_testkit::gateway::{call, event, Answer};
use bucketlink_testkit::{Customer, Emulator, Function, Provider, Trust};
use serde_json::{json, Value};

const CUSTOMER: &str = "555555555555";
const TENANT: &str = "tenant-acme";
const AWKWARD: &str = "data/a b+c=d&e/日本語 ~%.txt";

struct Setup {
    integrations: Function,
    sign: Function,
    id: String,
    customer: Customer,
}

async fn setup(trust: Option<Trust>) -> Setup {
    let emu = Emulator::shared();
    let provider = Provider::create(emu).await;
    let table = provider.table().await;
    let env = provider.function_env(emu, &table);
    let integrations = Function::start("integrations", &env).await;
    let sign = Function::start("sign-url", &env).await;
    let Connected { id, customer, .. } = connect(emu, &provider, &integrations, TENANT, CUSTOMER, |spec| {
        spec.objects.push((AWKWARD.to_owned(), b"awkward bytes".to_vec()));
        if let Some(trust) = trust {
            spec.trust = trust;
        }
    })
    .await;
    Setup { integrations, sign, id, customer }
}

async fn sign(s: &Setup, body: Value) -> Answer {
    call(&s.sign, event("POST", &format!("/integrations/{}/sign", s.id), Some(&body.to_string()), Some(TENANT), &[])).await
}

#[tokio::test]
async fn signed_urls_fetch_the_bytes_and_nothing_else() {
    let s = setup(None).await;
    let bucket = &s.customer.bucket;
    let urls = json!([
        format!("https://{bucket}.s3.us-east-1.amazonaws.com/hello.txt"),
        format!("s3://{bucket}/{AWKWARD}"),
        "https://someone-elses-bucket.s3.amazonaws.com/hello.txt",
        format!("https://{bucket}.s3.amazonaws.com/hello.txt?X-Amz-Signature=abc"),
        "https://example.com/hello.txt",
    ]);
    let answer = sign(&s, json!({"urls": urls, "expires_in": 300})).await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
    let results = answer.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    for (i, row) in results.iter().enumerate() {
        assert_eq!(row["url"], urls[i], "rows come back in request order");
    }
    assert_eq!(results[2]["error"]["code"], "URL_WRONG_BUCKET");
    assert_eq!(results[3]["error"]["code"], "URL_ALREADY_SIGNED");
    assert_eq!(results[4]["error"]["code"], "URL_NOT_S3");
    assert!(results[2].get("signed_url").is_none(), "a refused row is never signed");

    let http = reqwest::Client::new();
    for (row, bytes) in [(&results[0], &b"hello from the customer"[..]), (&results[1], b"awkward bytes")] {
        let signed = row["signed_url"].as_str().unwrap();
        let response = http.get(signed).send().await.unwrap();
        assert_eq!(response.status(), 200, "{signed}");
        assert_eq!(response.bytes().await.unwrap().as_ref(), bytes);
        let expires_at = time::OffsetDateTime::parse(row["expires_at"].as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap();
        let left = expires_at - time::OffsetDateTime::now_utc();
        assert!(left <= time::Duration::seconds(300) && left > time::Duration::seconds(250), "{left}");
    }

    let signed = results[0]["signed_url"].as_str().unwrap();
    let at = signed.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len();
    let mut tampered = signed.to_owned();
    tampered.replace_range(at..at + 1, if &signed[at..at + 1] == "0" { "1" } else { "0" });
    let response = http.get(&tampered).send().await.unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("SignatureDoesNotMatch"));

    let short = sign(&s, json!({"urls": [format!("s3://{bucket}/hello.txt")], "expires_in": 1})).await;
    let expiring = short.body["results"][0]["signed_url"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let response = http.get(&expiring).send().await.unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("Request has expired"));

    // The logs say what happened, never a URL, signature, credential or token.
    let logs = s.sign.logs();
    use bucketlink::telemetry::*;
    emf::assert_metrics(&logs, &[URLS_SIGNED, ROWS_REFUSED, SIGN_BATCH_MS, ASSUME_ROLE]);
    assert!(logs.contains("\"rows\":5"), "{logs}");
    let signature = &signed[at..at + 64];
    let token_start = signed.find("X-Amz-Security-Token=").unwrap() + "X-Amz-Security-Token=".len();
    for secret in ["X-Amz-", signature, &signed[token_start..token_start + 40], bucket.as_str()] {
        assert!(!logs.contains(secret), "logs leak {secret:?}:\n{logs}");
    }
}

#[tokio::test]
async fn only_integrations_whose_checks_pass_are_served() {
    let s = setup(Some(Trust::NoCondition)).await;
    let answer = sign(&s, json!({"urls": [format!("s3://{}/hello.txt", s.customer.bucket)]})).await;
    assert_eq!((answer.status, answer.body["code"].as_str()), (409, Some("INTEGRATION_NOT_READY")));
    assert!(answer.body["detail"].as_str().unwrap().contains("insecure"));
    let other_tenant =
        call(&s.sign, event("POST", &format!("/integrations/{}/sign", s.id), Some("{\"urls\": [\"s3://b/k\"]}"), Some("tenant-mallory"), &[])).await;
    assert_eq!(other_tenant.status, 404);
    let _ = &s.integrations;
}

#[tokio::test]
async fn batch_and_ttl_limits_are_enforced() {
    let s = setup(None).await;
    let too_many: Vec<String> = (0..1001).map(|i| format!("s3://{}/k{i}", s.customer.bucket)).collect();
    for (body, field) in [
        (json!({"urls": too_many}), "urls"),
        (json!({"urls": []}), "urls"),
        (json!({"urls": ["s3://b/k"], "expires_in": 3601}), "expires_in"),
        (json!({"urls": ["s3://b/k"], "expires_in": 0}), "expires_in"),
    ] {
        let answer = sign(&s, body).await;
        assert_eq!(answer.status, 422);
        assert!(answer.body["detail"].as_str().unwrap().starts_with(field), "{:#}", answer.body);
    }
    let thousand: Vec<String> = (0..1000).map(|i| format!("s3://{}/k{i}", s.customer.bucket)).collect();
    let answer = sign(&s, json!({"urls": thousand})).await;
    assert_eq!(answer.body["results"].as_array().unwrap().len(), 1000);
}

#[tokio::test]
async fn containers_at_once_assume_each_role_once_and_sign_everything() {
    // The README's load run in small: 3 containers, 2 integrations, 50-URL batches for 3 s.
    let load = bucketlink_testkit::load::sign_url(Emulator::shared(), 3, 2, 50, Duration::from_secs(3)).await;
    assert!(load.batches.count() >= 6, "every container signed more than once: {load:?}");
    assert_eq!(load.errors, 0, "{load:?}");
    assert_eq!(load.urls_signed, load.batches.count() * 50);
    assert_eq!(load.assume_role_metered, 6, "one AssumeRole per container and integration: {load:?}");
    // Other tests share the emulator, so its count can only bound ours from above.
    assert!(load.assume_role_served >= 6, "{load:?}");
}
