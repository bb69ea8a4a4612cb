//! Times as bucketlink writes them: RFC 3339, UTC, whole seconds. No I/O.

use std::time::{Duration, SystemTime};

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub fn rfc3339(at: SystemTime) -> String {
    let secs = at.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_secs() as i64;
    OffsetDateTime::from_unix_timestamp(secs).ok().and_then(|t| t.format(&Rfc3339).ok()).unwrap_or_default()
}

pub fn now() -> String {
    rfc3339(SystemTime::now())
}

/// A time we wrote; `None` for text that is not one.
pub fn parse(written: &str) -> Option<SystemTime> {
    let at = OffsetDateTime::parse(written, &Rfc3339).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(at.unix_timestamp()).ok()?))
}

/// How long ago a time we wrote was; `None` for text that is not one.
pub fn age(written: &str) -> Option<Duration> {
    let at = OffsetDateTime::parse(written, &Rfc3339).ok()?;
    Some((OffsetDateTime::now_utc() - at).unsigned_abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_seconds_in_utc_and_back() {
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_532_400_750)), "2026-11-24T15:00:00Z");
        assert!(age(&now()).unwrap() < Duration::from_secs(2));
        assert_eq!(age("yesterday"), None);
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_532_400);
        assert_eq!(parse(&rfc3339(at)), Some(at));
    }
}
