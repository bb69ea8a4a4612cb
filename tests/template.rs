//! `template.yaml` against the code: what the template promises operators must be what the
//! functions do.

use std::process::Command;
use std::time::Duration;

use bucketlink::budget;
use bucketlink_testkit::emulator::workspace_root;
use serde_json::Value;

/// The template as JSON, read by cfn-lint's own decoder (it knows `!Ref`, `!GetAtt`, ...).
fn template() -> Value {
    let root = workspace_root();
    let setup = Command::new("bash").arg(root.join("infra/local/setup.sh")).status().expect("setup");
    assert!(setup.success());
    let out = Command::new(root.join(".venv/bin/python"))
        .args(["-c", "import json, sys\nfrom cfnlint.decode import decode\nt, errors = decode(sys.argv[1])\nassert not errors, errors\nprint(json.dumps(t))"])
        .arg(root.join("template.yaml"))
        .output()
        .expect("run cfn-lint's decoder");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("the template as JSON")
}

fn timeout(template: &Value, function: &str) -> Duration {
    let seconds = template["Resources"][function]["Properties"]["Timeout"].as_u64().unwrap_or_else(|| panic!("{function} has a Timeout"));
    Duration::from_secs(seconds)
}

#[test]
fn each_function_times_out_after_its_budget_and_before_its_caller() {
    let t = template();
    let api_gateway = Duration::from_secs(30);
    for (function, budget) in [("IntegrationsFunction", budget::ATTACH.max(budget::IMPORT)), ("SignUrlFunction", budget::SIGN)] {
        let limit = timeout(&t, function);
        assert!(limit > budget && limit < api_gateway, "{function}: Timeout {limit:?}, budget {budget:?}");
    }
    // A sweep batch: ten messages, `CONCURRENCY` at a time, each within ATTACH; or a dispatch.
    let rounds = 10u32.div_ceil(bucketlink::sweep::CONCURRENCY as u32);
    let revalidate = timeout(&t, "RevalidateFunction");
    assert!(revalidate > budget::ATTACH * rounds && revalidate > budget::DISPATCH, "{revalidate:?}");
    let visibility = t["Resources"]["SweepQueue"]["Properties"]["VisibilityTimeout"].as_u64().unwrap();
    assert!(Duration::from_secs(visibility) >= revalidate * 6, "Lambda wants six times the consumer's timeout");
    assert!(timeout(&t, "PrevalidateFunction") > budget::INSPECTION * 3);
}

#[test]
fn the_sweep_and_its_queue_agree_on_the_last_attempt() {
    let t = template();
    let redrive = &t["Resources"]["SweepQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"];
    let variable = &t["Globals"]["Function"]["Environment"]["Variables"]["BUCKETLINK_SWEEP_MAX_RECEIVES"];
    assert_eq!(redrive, variable, "both are the SweepMaxReceiveCount parameter");
    assert_eq!(redrive["Ref"], "SweepMaxReceiveCount");
}

#[test]
fn status_changes_are_published_from_the_stream_until_they_are() {
    let t = template();
    assert_eq!(t["Resources"]["Table"]["Properties"]["StreamSpecification"]["StreamViewType"], "NEW_AND_OLD_IMAGES");
    let source = &t["Resources"]["StatusEventsFunction"]["Properties"]["Events"]["TableStream"]["Properties"];
    assert_eq!(source["FunctionResponseTypes"], serde_json::json!(["ReportBatchItemFailures"]));
    assert_eq!(source["MaximumRetryAttempts"], -1, "retried until published");
    assert!(source["DestinationConfig"]["OnFailure"]["Destination"].is_object(), "what the stream drops is set aside");
    let alarm = &t["Resources"]["StatusEventsOwedAlarm"]["Properties"];
    assert_eq!(alarm["MetricName"], "IteratorAge");
}
