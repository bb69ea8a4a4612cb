//! The real-shaped events of `events/`, compiled into the harness: one per trigger, and the
//! JSON Schema of the events we publish.

use serde_json::Value;

const EVENTS: &[(&str, &str)] = &[
    ("changes-iam-trust-policy.json", include_str!("../../events/changes-iam-trust-policy.json")),
    ("changes-kms-disable.json", include_str!("../../events/changes-kms-disable.json")),
    ("changes-s3-cors.json", include_str!("../../events/changes-s3-cors.json")),
    ("integrations-list.json", include_str!("../../events/integrations-list.json")),
    ("prevalidate-eventbridge.json", include_str!("../../events/prevalidate-eventbridge.json")),
    ("prevalidate-s3-put.json", include_str!("../../events/prevalidate-s3-put.json")),
    ("prevalidate-sqs.json", include_str!("../../events/prevalidate-sqs.json")),
    ("revalidate-schedule.json", include_str!("../../events/revalidate-schedule.json")),
    ("revalidate-sqs-batch.json", include_str!("../../events/revalidate-sqs-batch.json")),
    ("sign-url.json", include_str!("../../events/sign-url.json")),
    ("status-events-stream.json", include_str!("../../events/status-events-stream.json")),
];

/// The event `events/<name>`, parsed.
pub fn event(name: &str) -> Value {
    let (_, text) = EVENTS.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no events/{name}"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("events/{name} is not JSON: {e}"))
}

/// Every one of `events` fits the JSON Schema of its `detail-type` in `events/schemas/`, by the
/// `jsonschema` package of the emulator's virtualenv (Draft 2020-12).
pub fn assert_fit_schema(events: &[Value]) {
    let root = crate::emulator::workspace_root();
    let check = "import json, os, sys\nfrom jsonschema import Draft202012Validator\nbad = []\nfor event in json.load(sys.stdin):\n    path = os.path.join(sys.argv[1], f\"{event.get('detail-type')}.json\")\n    if not os.path.exists(path):\n        bad.append(f\"no schema for {event.get('detail-type')!r}\")\n        continue\n    schema = json.load(open(path))\n    Draft202012Validator.check_schema(schema)\n    bad += [f'{e.json_path}: {e.message}' for e in Draft202012Validator(schema).iter_errors(event)]\nprint('\\n'.join(bad))\nsys.exit(1 if bad else 0)";
    let mut child = std::process::Command::new(root.join(".venv/bin/python"))
        .args(["-c", check])
        .arg(root.join("events/schemas"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the emulator's python");
    use std::io::Write;
    child.stdin.take().expect("stdin").write_all(serde_json::to_string(events).unwrap().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "events that do not fit the schema: {}\n{events:#?}", String::from_utf8_lossy(&out.stdout));
}
