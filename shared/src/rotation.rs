//! External ID rotation: a new external ID that the role accepts alongside the old one for a
//! grace window, then alone. Pure: the states and their steps; `integrations` runs them.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::external_id::ExternalId;
use crate::timestamp;

/// How long both IDs are accepted unless the caller says otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(7 * 86_400);
/// The longest window a rotation may keep the old ID working.
pub const MAX_GRACE: Duration = Duration::from_secs(90 * 86_400);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rotation {
    /// The ID being replaced: accepted (and used, until the role accepts the new one) during the window.
    pub old_external_id: ExternalId,
    pub new_external_id: ExternalId,
    pub started_at: String,
    /// When the rotation ends by itself: from then on only the new ID is used.
    pub ends_at: String,
    /// When the checks first saw the role accept the new ID: from then on it is the one used.
    pub accepted_at: Option<String>,
}

impl Rotation {
    pub fn start(old: ExternalId, grace: Duration, now: SystemTime) -> Rotation {
        Rotation {
            old_external_id: old,
            new_external_id: ExternalId::generate(),
            started_at: timestamp::rfc3339(now),
            ends_at: timestamp::rfc3339(now + grace),
            accepted_at: None,
        }
    }

    pub fn is_due(&self, now: SystemTime) -> bool {
        timestamp::parse(&self.ends_at).is_none_or(|end| end <= now)
    }
}

/// The external IDs one run of the checks uses and probes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIds {
    /// What the role is assumed with, for the checks and for signing.
    pub active: ExternalId,
    /// During a rotation, until the role accepts it: the new ID, probed.
    pub pending: Option<ExternalId>,
    /// After a rotation: the old ID, which the role must refuse.
    pub retired: Option<ExternalId>,
}

/// A step of a rotation, as the bus and the history announce it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Started,
    Accepted,
    Completed,
    Cancelled,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Started => "rotation_started",
            Step::Accepted => "rotation_accepted",
            Step::Completed => "rotation_completed",
            Step::Cancelled => "rotation_cancelled",
        }
    }

    /// The step one write took, from the rotation before it to the one after, and the external
    /// ID in use after it.
    pub fn between(old: Option<&Rotation>, new: Option<&Rotation>, external_id_after: &ExternalId) -> Option<Step> {
        match (old, new) {
            (None, Some(_)) => Some(Step::Started),
            (Some(o), Some(n)) if o.accepted_at.is_none() && n.accepted_at.is_some() => Some(Step::Accepted),
            (Some(o), None) if *external_id_after == o.new_external_id => Some(Step::Completed),
            (Some(_), None) => Some(Step::Cancelled),
            _ => None,
        }
    }
}

/// A grace window asked for in seconds: 0 (the new ID alone, at once) up to `MAX_GRACE`.
pub fn grace(seconds: Option<u64>) -> Result<Duration, String> {
    match seconds {
        None => Ok(DEFAULT_GRACE),
        Some(s) if Duration::from_secs(s) <= MAX_GRACE => Ok(Duration::from_secs(s)),
        Some(_) => Err(format!("grace_seconds must be 0 to {} (90 days)", MAX_GRACE.as_secs())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotation_is_due_at_its_end() {
        let now = SystemTime::now();
        let r = Rotation::start(ExternalId::generate(), Duration::from_secs(60), now);
        assert_ne!(r.old_external_id, r.new_external_id);
        assert!(!r.is_due(now) && r.is_due(now + Duration::from_secs(61)));
        assert!(Rotation::start(ExternalId::generate(), Duration::ZERO, now).is_due(now), "a window of 0 ends at once");
    }

    #[test]
    fn steps_follow_the_writes() {
        let now = SystemTime::now();
        let started = Rotation::start(ExternalId::generate(), DEFAULT_GRACE, now);
        let mut accepted = started.clone();
        accepted.accepted_at = Some(timestamp::rfc3339(now));
        let (old, new) = (&started.old_external_id, &started.new_external_id);
        assert_eq!(Step::between(None, Some(&started), old), Some(Step::Started));
        assert_eq!(Step::between(Some(&started), Some(&started), old), None);
        assert_eq!(Step::between(Some(&started), Some(&accepted), new), Some(Step::Accepted));
        assert_eq!(Step::between(Some(&accepted), None, new), Some(Step::Completed));
        assert_eq!(Step::between(Some(&accepted), None, old), Some(Step::Cancelled));
        assert_eq!(Step::between(None, None, old), None);
    }

    #[test]
    fn grace_windows_are_bounded() {
        assert_eq!(grace(None), Ok(DEFAULT_GRACE));
        assert_eq!(grace(Some(0)), Ok(Duration::ZERO));
        assert!(grace(Some(MAX_GRACE.as_secs() + 1)).is_err());
    }
}
