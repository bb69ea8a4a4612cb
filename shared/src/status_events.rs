//! `IntegrationStatusChanged` events, announced from the table's stream: the status write is the
//! record that an event is owed (one atomic write), and the relay that reads the stream publishes
//! it, retried until EventBridge takes it. Whoever changed the status (an attach, a refresh, the
//! sweep), the change is announced once; a retry after a lost answer can announce it again, with
//! the same `event_id`, so a consumer drops the duplicate.

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use serde::Serialize;

use crate::fault::{self, Failure, Fault, Service};
use crate::integration::CheckStatus;
use crate::integration::{Integration, Status};

pub const SOURCE: &str = "bucketlink";
pub const DETAIL_TYPE: &str = "IntegrationStatusChanged";
/// PutEvents takes at most ten entries.
const BATCH: usize = 10;

/// The `detail` of an `IntegrationStatusChanged` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusChange {
    /// `<integration>:<version>`: the same for every delivery of this change.
    pub event_id: String,
    pub tenant: String,
    pub integration: String,
    pub version: u64,
    pub old_status: Status,
    pub new_status: Status,
    pub failing_checks: Vec<String>,
    pub changed_at: String,
}

impl StatusChange {
    /// The change from one stored version of an integration to the next, when its status changed.
    pub fn between(old: &Integration, new: &Integration) -> Option<Self> {
        (old.status != new.status && old.id == new.id).then(|| StatusChange {
            event_id: format!("{}:{}", new.id, new.version),
            tenant: new.tenant.to_string(),
            integration: new.id.to_string(),
            version: new.version,
            old_status: old.status,
            new_status: new.status,
            failing_checks: new.checks.iter().filter(|c| c.status == CheckStatus::Fail).map(|c| c.name.clone()).collect(),
            changed_at: new.updated_at.clone(),
        })
    }
}

/// One record of the table's stream: where it is in the stream, and the integration before and
/// after the write (`None` for items that are not integrations, and for inserts and deletes).
#[derive(Debug)]
pub struct StreamWrite {
    pub sequence_number: String,
    pub old: Option<Integration>,
    pub new: Option<Integration>,
}

#[derive(Debug, Clone)]
pub struct Publisher {
    events: aws_sdk_eventbridge::Client,
    bus: String,
}

impl Publisher {
    pub fn new(events: aws_sdk_eventbridge::Client, bus: impl Into<String>) -> Self {
        Publisher { events, bus: bus.into() }
    }

    /// Publishes the status changes among `writes`, in stream order. `Err` carries the sequence
    /// number of the first write whose event was not published, and why: the stream delivers
    /// it, and everything after it, again.
    pub async fn relay(&self, writes: &[StreamWrite]) -> Result<usize, (String, Failure)> {
        let owed: Vec<(&str, StatusChange)> =
            writes.iter().filter_map(|w| Some((w.sequence_number.as_str(), StatusChange::between(w.old.as_ref()?, w.new.as_ref()?)?))).collect();
        for chunk in owed.chunks(BATCH) {
            if let Err((index, failure)) = self.put(chunk.iter().map(|(_, change)| change)).await {
                return Err((chunk[index].0.to_owned(), failure));
            }
        }
        Ok(owed.len())
    }

    /// One PutEvents; `Err` names the first entry that was not taken.
    async fn put(&self, changes: impl Iterator<Item = &StatusChange>) -> Result<(), (usize, Failure)> {
        let entries: Vec<PutEventsRequestEntry> = changes
            .map(|change| {
                PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus)
                    .source(SOURCE)
                    .detail_type(DETAIL_TYPE)
                    .detail(serde_json::to_string(change).expect("a status change serializes"))
                    .build()
            })
            .collect();
        let out = self.events.put_events().set_entries(Some(entries)).send().await.map_err(|e| (0, fault::of_sdk(Service::EventBridge, &e)))?;
        if out.failed_entry_count() == 0 {
            return Ok(());
        }
        let (index, entry) = out.entries().iter().enumerate().find(|(_, e)| e.error_code().is_some()).unwrap_or((0, &out.entries()[0]));
        let code = entry.error_code().unwrap_or("unknown");
        // Entry errors are throttling and internal failures, except for a malformed entry,
        // which would be our defect.
        let failure = if code == "MalformedDetail" || code == "InvalidArgument" {
            Failure::Refused { code: code.to_owned(), message: entry.error_message().unwrap_or_default().to_owned() }
        } else {
            Fault::unavailable(Service::EventBridge, format!("the event was not taken: {code}")).into()
        };
        Err((index, failure))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{KeyPrefix, TenantId};
    use crate::integration::CheckResult;

    fn integration(status: Status, version: u64) -> Integration {
        let mut i = Integration::new(TenantId::parse("acme").unwrap(), "x".into(), None, KeyPrefix::default(), None);
        i.status = status;
        i.version = version;
        i
    }

    #[test]
    fn a_change_is_owed_only_when_the_status_changed() {
        let old = integration(Status::Healthy, 4);
        let mut new = old.clone();
        new.version = 5;
        assert_eq!(StatusChange::between(&old, &new), None, "a check that changed nothing");
        new.status = Status::Failing;
        new.checks = vec![CheckResult {
            name: "object_read".into(),
            status: CheckStatus::Fail,
            code: "CANNOT_ACCESS_DATA_ROW".into(),
            message: String::new(),
            remediation: None,
            duration_ms: 1,
        }];
        let change = StatusChange::between(&old, &new).unwrap();
        assert_eq!(change.event_id, format!("{}:5", old.id), "stable across redeliveries of this write");
        assert_eq!((change.old_status, change.new_status), (Status::Healthy, Status::Failing));
        assert_eq!(change.failing_checks, ["object_read"]);
        let other = integration(Status::Failing, 1);
        assert_eq!(StatusChange::between(&old, &other), None, "two different integrations");
    }
}
