//! The health sweep: every integration with a role is checked again, fanned out through SQS. A
//! status change is saved like any other and announced from the table's stream
//! (`status_events`), so the sweep never publishes itself.
//!
//! Safe to run twice at once or to kill half way: a message only names an integration; handling
//! it reads the integration fresh, runs the checks, and saves conditionally on its version
//! (`Integrations::revalidate`), so a repeated message repeats a check and nothing else.
//!
//! When AWS does not answer properly the checks reach no verdict: the message then changes
//! nothing and goes back to the queue with a growing, jittered delay; its last attempt records
//! on the integration that the sweep was inconclusive, and when.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::budget::{self, Deadline};
use crate::change_events::{Change, Touched};
use crate::error::Error;
use crate::fault::{self, Failure, Fault, Service as Aws};
use crate::ids::{IntegrationId, TenantId};
use crate::integration::{CheckStatus, Status};
use crate::integrations::{Integrations, KeepInconclusive};
use crate::store::{Store, SCAN_SEGMENTS};

/// What one sweep queue message names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepItem {
    pub tenant: TenantId,
    pub id: IntegrationId,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct DispatchSummary {
    pub integrations: usize,
    pub awaiting_role: usize,
    pub dispatched: usize,
    /// During a migration to a new principal, from each integration's last checks: how many
    /// roles do not trust it yet (warned, or not checked).
    pub next_principal_not_trusted: usize,
    /// Integrations by status, and those whose last checks reached no verdict: for the metrics,
    /// not in the answer.
    #[serde(skip)]
    pub by_status: std::collections::BTreeMap<&'static str, usize>,
    #[serde(skip)]
    pub inconclusive: usize,
}

/// One sweep message as the queue delivered it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub message_id: String,
    pub receipt_handle: Option<String>,
    pub body: Option<String>,
    /// How many times SQS has delivered it, this time included.
    pub receive_count: u32,
}

/// Integrations of one customer account whose checks start per second of a sweep: hundreds of
/// integrations in one account are spread over minutes instead of hitting STS at once.
pub const PER_ACCOUNT_PER_SECOND: usize = 5;
/// SQS's longest message delay: an account's integrations beyond 15 minutes' worth share it.
const MAX_DELAY_SECONDS: usize = 900;

/// Spreads each customer account's checks over time: the n-th integration of an account waits
/// n / PER_ACCOUNT_PER_SECOND seconds, whatever other accounts have.
#[derive(Debug, Default)]
pub struct Pacer {
    seen: std::collections::HashMap<String, usize>,
}

impl Pacer {
    pub fn delay(&mut self, account: &str) -> i32 {
        let n = self.seen.entry(account.to_owned()).or_default();
        let delay = (*n / PER_ACCOUNT_PER_SECOND).min(MAX_DELAY_SECONDS);
        *n += 1;
        delay as i32
    }
}

/// Queues every integration that has a role, ten per SendMessageBatch, each delayed by the
/// account's `Pacer`. Reads the index page by page (segments in parallel), so memory stays
/// bounded by a page whatever the number of integrations.
pub async fn dispatch(store: &Store, sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Result<DispatchSummary, Error> {
    let deadline = Deadline::after(budget::DISPATCH);
    deadline.bound(budget::DISPATCH, dispatch_all(store, sqs, queue_url)).await.unwrap_or_else(|| {
        Err(Error::Internal(format!("the dispatch did not finish within {} s; the next schedule dispatches again", budget::DISPATCH.as_secs())))
    })
}

async fn dispatch_all(store: &Store, sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Result<DispatchSummary, Error> {
    let pacer = std::sync::Mutex::new(Pacer::default());
    let summary = std::sync::Mutex::new(DispatchSummary::default());
    let segment = |segment: i32| {
        let (pacer, summary) = (&pacer, &summary);
        async move {
            let mut cursor = None;
            loop {
                let (page, next) = store.scan_page(segment, cursor).await?;
                let due: Vec<(i32, SweepItem)> = {
                    let mut pacer = pacer.lock().unwrap_or_else(|e| e.into_inner());
                    page.iter()
                        .filter(|i| i.status != Status::AwaitingRole)
                        .filter_map(|i| {
                            let account = i.role_arn.as_ref()?.account_id();
                            Some((pacer.delay(account), SweepItem { tenant: i.tenant.clone(), id: i.id.clone() }))
                        })
                        .collect()
                };
                let mut sent = 0;
                for batch in due.chunks(10) {
                    sent += send_batch(sqs, queue_url, batch).await?;
                }
                {
                    let mut summary = summary.lock().unwrap_or_else(|e| e.into_inner());
                    for integration in &page {
                        *summary.by_status.entry(integration.status.as_str()).or_default() += 1;
                    }
                    summary.inconclusive += page.iter().filter(|i| i.inconclusive_at.is_some()).count();
                    summary.integrations += page.len();
                    summary.awaiting_role += page.len() - due.len();
                    summary.dispatched += sent;
                    summary.next_principal_not_trusted +=
                        page.iter().filter(|i| i.checks.iter().any(|c| c.name == crate::checks::NEXT_PRINCIPAL && c.status != CheckStatus::Pass)).count();
                }
                match next {
                    Some(next) => cursor = Some(next),
                    None => return Ok::<_, Error>(()),
                }
            }
        }
    };
    futures_util::future::try_join_all((0..SCAN_SEGMENTS).map(segment)).await?;
    let summary = summary.into_inner().unwrap_or_else(|e| e.into_inner());
    // Every status, those with no integration too: a gauge left at its last value would lie.
    for status in [Status::AwaitingRole, Status::Unverified, Status::Healthy, Status::Failing, Status::Insecure] {
        let count = summary.by_status.get(status.as_str()).copied().unwrap_or(0);
        metrics::gauge!(crate::telemetry::INTEGRATIONS, "Status" => status.as_str()).set(count as f64);
    }
    metrics::gauge!(crate::telemetry::INTEGRATIONS_INCONCLUSIVE).set(summary.inconclusive as f64);
    Ok(summary)
}

async fn send_batch(sqs: &aws_sdk_sqs::Client, queue_url: &str, batch: &[(i32, SweepItem)]) -> Result<usize, Error> {
    let entries = batch
        .iter()
        .enumerate()
        .map(|(n, (delay, item))| {
            aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                .id(n.to_string())
                .message_body(serde_json::to_string(item).expect("a sweep item serializes"))
                .delay_seconds(*delay)
                .build()
                .expect("id and body are set")
        })
        .collect();
    let out = sqs.send_message_batch().queue_url(queue_url).set_entries(Some(entries)).send().await.map_err(|e| match fault::of_sdk(Aws::Sqs, &e) {
        Failure::Fault(fault) => Error::Unavailable(fault),
        Failure::Refused { code, message } => Error::Internal(format!("SQS refused the sweep messages: {code}: {message}")),
    })?;
    if let Some(failed) = out.failed().first() {
        let fault = if failed.sender_fault() {
            None
        } else {
            Some(Fault::unavailable(Aws::Sqs, format!("{} messages not queued: {}", out.failed().len(), failed.code())))
        };
        return Err(fault.map(Error::Unavailable).unwrap_or_else(|| Error::Internal(format!("SQS refused a sweep message: {}", failed.code()))));
    }
    Ok(out.successful().len())
}

/// What a change event led to.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct ChangeSummary {
    /// Integrations of the change's account that depend on what it touched.
    pub affected: usize,
    /// Checks queued (the others already had one due within the window).
    pub scheduled: usize,
}

/// Queues a check of every integration a customer's change touches, at most one per integration
/// per `window`: a CloudFormation update emits several calls, and one check after the last of
/// them sees them all. Only integrations whose role is in the account the change happened in
/// count, so no account can make us check someone else's integrations. When queueing fails the
/// invocation fails and Lambda retries it a minute later: by then the claims made this time have
/// lapsed (they last `window`), so the retry claims and queues again.
pub async fn on_change(store: &Store, sqs: &aws_sdk_sqs::Client, queue_url: &str, change: &Change, window: Duration) -> Result<ChangeSummary, Error> {
    let candidates = match &change.touched {
        Touched::Role(name) => store.for_role(&format!("{}/{name}", change.account)).await?,
        Touched::Bucket(bucket) => store.for_bucket(bucket).await?,
        Touched::Key(id) => store.for_kms_key(id).await?,
    };
    let affected: Vec<_> =
        candidates.into_iter().filter(|i| i.status != Status::AwaitingRole && i.role_arn.as_ref().is_some_and(|r| r.account_id() == change.account)).collect();
    let mut summary = ChangeSummary { affected: affected.len(), scheduled: 0 };
    let mut due = Vec::new();
    for integration in &affected {
        if store.claim_recheck(&integration.tenant, &integration.id, window).await? {
            due.push((window.as_secs().min(MAX_DELAY_SECONDS as u64) as i32, SweepItem { tenant: integration.tenant.clone(), id: integration.id.clone() }));
        }
    }
    for batch in due.chunks(10) {
        summary.scheduled += send_batch(sqs, queue_url, batch).await?;
    }
    Ok(summary)
}

/// What became of one sweep message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Checked and saved; the status it had and has now.
    Checked { before: Status, after: Status },
    /// The checks reached no verdict: nothing written; SQS delivers it again.
    Inconclusive,
    /// The checks reached no verdict on the last attempt: the integration records that, with
    /// its status unchanged.
    InconclusiveRecorded,
    /// Deleted since dispatch, or still awaiting its role.
    Gone,
}

/// Checks one integration again. `last_try`: no redelivery follows, so a run without a verdict
/// is written down instead of being retried.
pub async fn revalidate(service: &Integrations, item: &SweepItem, last_try: bool) -> Result<Outcome, Error> {
    let keep = if last_try { KeepInconclusive::Yes } else { KeepInconclusive::No };
    let Some(checked) = service.revalidate(&item.tenant, item.id.as_str(), keep).await? else { return Ok(Outcome::Gone) };
    Ok(match (checked.conclusive, checked.saved) {
        (true, _) => Outcome::Checked { before: checked.before, after: checked.integration.status },
        (false, true) => Outcome::InconclusiveRecorded,
        (false, false) => Outcome::Inconclusive,
    })
}

/// Messages handled at once inside one invocation: bounded, so one batch never floods STS.
pub const CONCURRENCY: usize = 4;

/// The delay before a message that reached no verdict is delivered again: about 30 s after the
/// first attempt, doubling each time, up to 10 minutes; `jitter` (0 to 1) spreads it over the
/// upper half so that messages failed together do not return together.
pub fn retry_delay(receive_count: u32, jitter: f64) -> Duration {
    let full = (30u64 << receive_count.saturating_sub(1).min(5)).min(600);
    Duration::from_secs(full / 2 + (full as f64 / 2.0 * jitter.clamp(0.0, 1.0)) as u64)
}

/// Handles one batch of sweep messages with bounded concurrency; returns the ids of the messages
/// to deliver again (SQS retries those alone, after `retry_delay`; a message that cannot be read
/// at all ends in the dead-letter queue after its last attempt).
pub async fn handle_batch(service: &Integrations, sqs: &aws_sdk_sqs::Client, queue_url: &str, max_receives: u32, messages: Vec<Delivery>) -> Vec<String> {
    use futures_util::stream::{self, StreamExt};
    let outcomes = stream::iter(messages)
        .map(|delivery| async move {
            let Some(item) = delivery.body.as_deref().and_then(|b| serde_json::from_str::<SweepItem>(b).ok()) else {
                tracing::warn!(message_id = delivery.message_id, "sweep message is not a sweep item; it will end in the DLQ");
                return Some(delivery.message_id);
            };
            let last_try = delivery.receive_count >= max_receives;
            let retry = match revalidate(service, &item, last_try).await {
                Ok(Outcome::Checked { before, after }) => {
                    if before != after {
                        tracing::info!(integration = %item.id, old = before.as_str(), new = after.as_str(), "status changed");
                    }
                    false
                }
                Ok(Outcome::Gone) => false,
                Ok(Outcome::InconclusiveRecorded) => {
                    metrics::counter!(crate::telemetry::SWEEP_INCONCLUSIVE).increment(1);
                    tracing::warn!(integration = %item.id, attempts = delivery.receive_count, "sweep inconclusive on its last attempt; recorded, status unchanged");
                    false
                }
                Ok(Outcome::Inconclusive) => {
                    metrics::counter!(crate::telemetry::SWEEP_INCONCLUSIVE).increment(1);
                    tracing::warn!(integration = %item.id, attempt = delivery.receive_count, "sweep inconclusive: AWS did not answer properly; retried later");
                    true
                }
                Err(err) => {
                    metrics::counter!(crate::telemetry::SWEEP_INCONCLUSIVE).increment(1);
                    tracing::error!(integration = %item.id, error = %err, "revalidation failed; SQS will retry it");
                    true
                }
            };
            if !retry {
                return None;
            }
            if let Some(handle) = &delivery.receipt_handle {
                let jitter = f64::from(getrandom::u32().unwrap_or(u32::MAX / 2)) / f64::from(u32::MAX);
                let delay = retry_delay(delivery.receive_count, jitter);
                let changed = sqs.change_message_visibility().queue_url(queue_url).receipt_handle(handle).visibility_timeout(delay.as_secs() as i32).send().await;
                if let Err(e) = changed {
                    // The queue's own visibility timeout then decides when it comes back.
                    tracing::warn!(message_id = delivery.message_id, error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "retry delay not set");
                }
            }
            Some(delivery.message_id)
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    outcomes.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_with_jitter_and_a_ceiling() {
        let delays: Vec<u64> = (1..=8).map(|n| retry_delay(n, 1.0).as_secs()).collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 600, 600, 600]);
        assert_eq!(retry_delay(1, 0.0).as_secs(), 15, "at least half of the step");
        assert!(retry_delay(3, 0.5) < retry_delay(3, 1.0));
    }

    #[test]
    fn each_account_is_paced_on_its_own() {
        let mut pacer = Pacer::default();
        let delays: Vec<i32> = (0..12).map(|n| pacer.delay(if n % 3 == 0 { "222222222222" } else { "333333333333" })).collect();
        // 4 integrations in the first account (all in second 0), 8 in the second (5 in second 0, 3 in second 1).
        assert_eq!(delays, [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1]);
        let many: Vec<i32> = (0..10_000).map(|_| pacer.delay("444444444444")).collect();
        assert_eq!(many[4_499], 899);
        assert_eq!(*many.last().unwrap(), 900, "never beyond SQS's longest delay");
    }
}
