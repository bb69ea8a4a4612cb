//! `openapi.json` against the handlers: every route the handlers match is a path of the document
//! and every path a route; every status the error mapping can produce is declared on every
//! operation; and each operation, called on the real binaries with good and bad requests, answers
//! only statuses it declares.

use std::collections::BTreeSet;

use bucketlink_testkit::emulator::workspace_root;
use bucketlink_testkit::fixtures::{connect, Connected};
use bucketlink_testkit::gateway::{call, event};
use bucketlink_testkit::{Emulator, Function, Provider, Trust};
use serde_json::{json, Value};

const TENANT: &str = "tenant-openapi";

fn read(path: &str) -> String {
    std::fs::read_to_string(workspace_root().join(path)).unwrap()
}

fn document() -> Value {
    serde_json::from_str(&read("openapi.json")).expect("openapi.json is JSON")
}

fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }
    ops
}

/// The route arms of a handler: `("POST", ["integrations", id, "validate"])` is POST /integrations/{id}/validate.
fn handler_routes(source: &str) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
        let opening = format!("(\"{method}\", [");
        for piece in source.split(&opening).skip(1) {
            let segments = piece.split(']').next().unwrap();
            let path: String = segments
                .split(',')
                .map(|s| s.trim())
                .map(|s| if let Some(literal) = s.strip_prefix('"') { literal.trim_end_matches('"').to_owned() } else { format!("{{{s}}}") })
                .map(|s| format!("/{s}"))
                .collect();
            routes.insert((method.to_owned(), path));
        }
    }
    routes
}

/// Every status the one error mapping (and the API Gateway helpers) can answer.
fn error_statuses() -> BTreeSet<String> {
    read("shared/src/problem.rs")
        .split("Problem::new(")
        .skip(1)
        .filter_map(|rest| rest.trim_start().get(..3).filter(|s| s.bytes().all(|b| b.is_ascii_digit())).map(str::to_owned))
        .collect()
}

#[test]
fn routes_and_error_statuses_match_the_handlers() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut routes = handler_routes(&read("functions/integrations/src/main.rs"));
    routes.extend(handler_routes(&read("functions/sign-url/src/main.rs")));
    assert_eq!(routes, operations(&doc), "the handlers' routes are exactly the document's operations");

    // Each operation declares the statuses it can really answer (the live calls below hold it to
    // them); together they declare every status the error mapping has.
    let errors = error_statuses();
    assert!(errors.len() >= 8 && errors.contains("401") && errors.contains("429"), "{errors:?}");
    let mut declared_somewhere = BTreeSet::new();
    for (method, path) in operations(&doc) {
        let declared = &doc["paths"][&path][method.to_ascii_lowercase()]["responses"];
        // The authorizer's, the throttle's, ours, and AWS failing can meet any operation.
        for status in ["401", "429", "500", "503"] {
            assert!(declared.get(status).is_some(), "{method} {path} does not declare {status}");
        }
        declared_somewhere.extend(declared.as_object().unwrap().keys().cloned());
        let (success, answer) = declared.as_object().unwrap().iter().find(|(k, _)| k.starts_with('2')).expect("a success");
        if success != "204" {
            assert!(!answer["content"]["application/json"]["example"].is_null(), "{method} {path} has an example");
        }
    }
    for status in &errors {
        assert!(declared_somewhere.contains(status), "no operation declares {status}");
    }
}

#[tokio::test]
async fn every_operation_answers_only_what_it_declares() {
    let doc = document();
    let emu = Emulator::shared();
    let provider = Provider::create(emu).await;
    let table = provider.table().await;
    let env = provider.function_env(emu, &table);
    let integrations = Function::start("integrations", &env).await;
    let sign = Function::start("sign-url", &env).await;

    let Connected { id, customer, .. } = connect(emu, &provider, &integrations, TENANT, "999999999999", |_| {}).await;
    let bucket = customer.bucket.clone();
    let attach = json!({"name": "Docs", "bucket": bucket, "role_arn": customer.role_arn}).to_string();
    let object = format!("s3://{bucket}/hello.txt");
    let missing = "01ARZ3NDEKTSV4RRFFQ69G5FAV";

    // (operation, request path, body, tenant): the good request first, then ways to get it wrong.
    type Case<'a> = (&'a str, &'a str, String, Option<String>, Option<&'a str>);
    let cases: Vec<Case> = vec![
        ("POST", "/integrations", "/integrations".into(), Some("{\"bucket\": \"docs-bucket\"}".into()), Some(TENANT)),
        ("POST", "/integrations", "/integrations".into(), Some("{\"bucket\": \"Not A Bucket\"}".into()), Some(TENANT)),
        ("POST", "/integrations", "/integrations".into(), Some("{nope".into()), Some(TENANT)),
        ("POST", "/integrations", "/integrations".into(), Some(format!("{{\"name\": \"{}\"}}", "x".repeat(300_000))), Some(TENANT)),
        ("POST", "/integrations", "/integrations".into(), Some("{}".into()), None),
        ("GET", "/integrations", "/integrations?limit=10".into(), None, Some(TENANT)),
        ("GET", "/integrations", "/integrations?limit=0".into(), None, Some(TENANT)),
        ("PUT", "/integrations/{id}", format!("/integrations/{id}"), Some(attach.clone()), Some(TENANT)),
        ("PUT", "/integrations/{id}", format!("/integrations/{missing}"), Some(attach.clone()), Some(TENANT)),
        ("GET", "/integrations/{id}", format!("/integrations/{id}"), None, Some(TENANT)),
        ("GET", "/integrations/{id}", format!("/integrations/{missing}"), None, Some(TENANT)),
        ("POST", "/integrations/{id}/validate", format!("/integrations/{id}/validate"), None, Some(TENANT)),
        ("GET", "/integrations/{id}/objects", format!("/integrations/{id}/objects?status=ready"), None, Some(TENANT)),
        ("GET", "/integrations/{id}/objects", format!("/integrations/{id}/objects?status=maybe"), None, Some(TENANT)),
        ("GET", "/integrations/{id}/objects", format!("/integrations/{missing}/objects"), None, Some(TENANT)),
        (
            "POST",
            "/integrations/{id}/import-check",
            format!("/integrations/{id}/import-check"),
            Some(json!({"rows": [{"global_key": "a", "row_data": object}]}).to_string()),
            Some(TENANT),
        ),
        ("POST", "/integrations/{id}/import-check", format!("/integrations/{id}/import-check"), Some("{\"rows\": []}".into()), Some(TENANT)),
        ("POST", "/integrations/{id}/sign", format!("/integrations/{id}/sign"), Some(json!({"urls": [object]}).to_string()), Some(TENANT)),
        ("POST", "/integrations/{id}/sign", format!("/integrations/{id}/sign"), Some(json!({"urls": [object], "expires_in": 99999}).to_string()), Some(TENANT)),
        ("POST", "/integrations/{id}/sign", format!("/integrations/{missing}/sign"), Some(json!({"urls": [object]}).to_string()), Some(TENANT)),
        ("POST", "/policy/lint", "/policy/lint".into(), Some(json!({"policy": {"Version": "2012-10-17", "Statement": []}}).to_string()), Some(TENANT)),
        ("POST", "/policy/lint", "/policy/lint".into(), Some("{\"policy\": 5}".into()), Some(TENANT)),
        ("POST", "/integrations/{id}/external-id/cancel", format!("/integrations/{id}/external-id/cancel"), None, Some(TENANT)),
        ("POST", "/integrations/{id}/external-id", format!("/integrations/{id}/external-id"), Some("{\"grace_seconds\": 99999999}".into()), Some(TENANT)),
        ("POST", "/integrations/{id}/external-id", format!("/integrations/{id}/external-id"), None, Some(TENANT)),
        ("POST", "/integrations/{id}/external-id", format!("/integrations/{id}/external-id"), None, Some(TENANT)),
        ("POST", "/integrations/{id}/external-id/complete", format!("/integrations/{id}/external-id/complete"), None, Some(TENANT)),
        // (The customer pastes the rotation's trust policy here: see below.)
        ("POST", "/integrations/{id}/external-id/complete", format!("/integrations/{id}/external-id/complete"), None, Some(TENANT)),
        ("POST", "/integrations/{id}/external-id/cancel", format!("/integrations/{id}/external-id/cancel"), None, Some(TENANT)),
        ("POST", "/integrations/{id}/external-id", format!("/integrations/{id}/external-id"), Some("{\"grace_seconds\": 3600}".into()), Some(TENANT)),
        ("POST", "/integrations/{id}/external-id/cancel", format!("/integrations/{id}/external-id/cancel"), None, Some(TENANT)),
        ("DELETE", "/integrations/{id}", format!("/integrations/{id}"), None, Some(TENANT)),
        ("DELETE", "/integrations/{id}", format!("/integrations/{id}"), None, Some(TENANT)),
        ("POST", "/integrations/{id}/validate", format!("/integrations/{id}/validate"), None, Some(TENANT)),
    ];
    let mut seen_success = BTreeSet::new();
    let mut completes = 0;
    for (method, template, path, body, tenant) in &cases {
        if template.ends_with("/complete") {
            completes += 1;
            if completes == 2 {
                // The customer pastes the rotation's trust policy (both IDs): now it may complete.
                let rotating = call(&integrations, event("GET", &format!("/integrations/{id}"), None, Some(TENANT), &[])).await;
                customer.set_trust(&Trust::Document(rotating.body["setup"]["trust_policy"].clone()), &provider.role_arn).await;
            }
        }
        let function = if template.ends_with("/sign") { &sign } else { &integrations };
        let answer = call(function, event(method, path, body.as_deref(), *tenant, &[])).await;
        let declared = &doc["paths"][*template][method.to_ascii_lowercase()]["responses"];
        assert!(
            declared.get(answer.status.to_string()).is_some(),
            "{method} {path} answered {} which {template} does not declare: {:#}",
            answer.status,
            answer.body
        );
        assert_ne!(answer.body["code"], "ROUTE_NOT_FOUND", "{method} {path}");
        if answer.status < 300 {
            seen_success.insert((method.to_string(), template.to_string()));
        }
    }
    assert_eq!(seen_success, operations(&doc), "every operation was called successfully at least once");
}
