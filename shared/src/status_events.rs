//! `IntegrationStatusChanged` events, announced from the table's stream: the status write is the
//! record that an event is owed (one atomic write), and the relay that reads the stream publishes
//! it, retried until EventBridge takes it. Whoever changed the status (an attach, a refresh, the
//! sweep), the change is announced once; a retry after a lost answer can announce it again, with
//! the same `event_id`, so a consumer drops the duplicate. Each step of an external ID rotation
//! is announced the same way (`ExternalIdRotation`).

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use serde::Serialize;

use crate::fault::{self, Failure, Fault, Service};
use crate::integration::CheckStatus;
use crate::integration::{Integration, Status};
use crate::rotation::Step;
use crate::telemetry;

pub const SOURCE: &str = "bucketlink";
pub const DETAIL_TYPE: &str = "IntegrationStatusChanged";
pub const ROTATION_DETAIL_TYPE: &str = "ExternalIdRotation";
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

/// The `detail` of an `ExternalIdRotation` event: a rotation started, the role accepted the new
/// ID (from then on it is used), or the rotation was completed or cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RotationChange {
    /// `<integration>:<version>:rotation`: the same for every delivery of this step.
    pub event_id: String,
    pub tenant: String,
    pub integration: String,
    pub version: u64,
    pub step: Step,
    /// When a rotation in progress ends by itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<String>,
    pub changed_at: String,
}

impl RotationChange {
    pub fn between(old: &Integration, new: &Integration) -> Option<Self> {
        let step = Step::between(old.rotation.as_ref(), new.rotation.as_ref(), &new.external_id).filter(|_| old.id == new.id)?;
        Some(RotationChange {
            event_id: format!("{}:{}:rotation", new.id, new.version),
            tenant: new.tenant.to_string(),
            integration: new.id.to_string(),
            version: new.version,
            step,
            ends_at: new.rotation.as_ref().map(|r| r.ends_at.clone()),
            changed_at: new.updated_at.clone(),
        })
    }
}

/// An event owed for one write.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owed {
    Status(StatusChange),
    Rotation(RotationChange),
}

impl Owed {
    fn of(old: &Integration, new: &Integration) -> impl Iterator<Item = Owed> {
        let status = StatusChange::between(old, new).map(Owed::Status);
        let rotation = RotationChange::between(old, new).map(Owed::Rotation);
        status.into_iter().chain(rotation)
    }

    fn changed_at(&self) -> &str {
        match self {
            Owed::Status(change) => &change.changed_at,
            Owed::Rotation(change) => &change.changed_at,
        }
    }

    fn entry(&self, bus: &str) -> PutEventsRequestEntry {
        let (detail_type, detail) = match self {
            Owed::Status(change) => (DETAIL_TYPE, serde_json::to_string(change)),
            Owed::Rotation(change) => (ROTATION_DETAIL_TYPE, serde_json::to_string(change)),
        };
        PutEventsRequestEntry::builder()
            .event_bus_name(bus)
            .source(SOURCE)
            .detail_type(detail_type)
            .detail(detail.expect("an event's detail serializes"))
            .build()
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

    /// Publishes the status changes and rotation steps among `writes`, in stream order. `Err`
    /// carries the sequence number of the first write whose event was not published, and why:
    /// the stream delivers it, and everything after it, again.
    pub async fn relay(&self, writes: &[StreamWrite]) -> Result<usize, (String, Failure)> {
        let owed: Vec<(&str, Owed)> = writes
            .iter()
            .filter_map(|w| Some((w.sequence_number.as_str(), w.old.as_ref()?, w.new.as_ref()?)))
            .flat_map(|(sequence, old, new)| Owed::of(old, new).map(move |o| (sequence, o)))
            .collect();
        let mut published = 0;
        for chunk in owed.chunks(BATCH) {
            let put = self.put(chunk.iter().map(|(_, owed)| owed)).await;
            // A PutEvents can take the first entries of a chunk and refuse the rest.
            let taken = put.as_ref().map_or_else(|(index, _)| *index, |()| chunk.len());
            metrics::counter!(telemetry::EVENTS_PUBLISHED).increment(taken as u64);
            for (_, owed) in &chunk[..taken] {
                if let Some(age) = crate::timestamp::age(owed.changed_at()) {
                    metrics::histogram!(telemetry::EVENT_AGE_MS).record(age.as_secs_f64() * 1000.0);
                }
            }
            published += taken;
            if let Err((index, failure)) = put {
                // Everything from there on comes again with the stream's next delivery.
                metrics::counter!(telemetry::EVENTS_NOT_PUBLISHED).increment((owed.len() - published) as u64);
                return Err((chunk[index].0.to_owned(), failure));
            }
        }
        Ok(published)
    }

    /// One PutEvents; `Err` names the first entry that was not taken.
    async fn put<'a>(&self, owed: impl Iterator<Item = &'a Owed>) -> Result<(), (usize, Failure)> {
        let entries: Vec<PutEventsRequestEntry> = owed.map(|o| o.entry(&self.bus)).collect();
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

    #[test]
    fn each_rotation_step_is_owed_once_with_its_status_change() {
        let mut old = integration(Status::Healthy, 4);
        old.role_arn = Some(crate::arn::RoleArn::parse("arn:aws:iam::222222222222:role/r").unwrap());
        let mut started = old.clone();
        started.version = 5;
        started.start_rotation(crate::rotation::DEFAULT_GRACE, std::time::SystemTime::now());
        let owed: Vec<Owed> = Owed::of(&old, &started).collect();
        assert!(matches!(&owed[..], [Owed::Rotation(r)] if r.step == Step::Started && r.event_id.ends_with(":5:rotation") && r.ends_at.is_some()));
        let mut completed = started.clone();
        completed.version = 6;
        completed.complete_rotation();
        completed.status = Status::Insecure;
        let owed: Vec<Owed> = Owed::of(&started, &completed).collect();
        assert!(matches!(&owed[..], [Owed::Status(_), Owed::Rotation(r)] if r.step == Step::Completed && r.ends_at.is_none()), "{owed:?}");
        assert_eq!(Owed::of(&completed, &completed).count(), 0);
    }
}
