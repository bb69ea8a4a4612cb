//! The real-shaped events of `events/`, compiled into the harness: one per trigger, and the
//! JSON Schema of the events we publish.

use serde_json::Value;

const EVENTS: &[(&str, &str)] = &[
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

/// `events/schemas/IntegrationStatusChanged.json`.
pub fn status_changed_schema() -> Value {
    serde_json::from_str(include_str!("../../events/schemas/IntegrationStatusChanged.json")).expect("the schema is JSON")
}
