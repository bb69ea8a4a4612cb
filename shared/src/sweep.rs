//! The health sweep: every integration with a role is checked again, fanned out through SQS, and a
//! status change (healthy → failing, failing → healthy, anything → insecure) is published on the
//! event bus so the product can tell the customer.
//!
//! Safe to run twice at once or to kill half way: a message only names an integration; handling
//! it reads the integration fresh, runs the checks, and saves conditionally on its version
//! (`Service::validate`), so a repeated message repeats a check and nothing else.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::Error;
use crate::checks::CheckStatus;
use crate::ids::{IntegrationId, TenantId};
use crate::integration::Status;
use crate::service::Service;
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusChange {
    pub tenant: String,
    pub integration: String,
    pub old_status: Status,
    pub new_status: Status,
    pub failing_checks: Vec<String>,
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
                    summary.integrations += page.len();
                    summary.awaiting_role += page.len() - due.len();
                    summary.dispatched += sent;
                }
                match next {
                    Some(next) => cursor = Some(next),
                    None => return Ok::<_, Error>(()),
                }
            }
        }
    };
    futures_util::future::try_join_all((0..SCAN_SEGMENTS).map(segment)).await?;
    Ok(summary.into_inner().unwrap_or_else(|e| e.into_inner()))
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
    let out = sqs
        .send_message_batch()
        .queue_url(queue_url)
        .set_entries(Some(entries))
        .send()
        .await
        .map_err(|e| Error::Upstream { code: "SWEEP_QUEUE_UNAVAILABLE", message: aws_sdk_sqs::error::DisplayErrorContext(&e).to_string() })?;
    if !out.failed().is_empty() {
        return Err(Error::Upstream { code: "SWEEP_QUEUE_REFUSED", message: format!("{} messages were refused", out.failed().len()) });
    }
    Ok(out.successful().len())
}

/// Checks one integration again; publishes the change when its status changed. Integrations
/// deleted since dispatch, or still awaiting their role, are left alone.
pub async fn revalidate(service: &Service, events: &aws_sdk_eventbridge::Client, bus: &str, item: &SweepItem) -> Result<Option<StatusChange>, Error> {
    let Some((before, integration)) = service.revalidate(&item.tenant, item.id.as_str()).await? else { return Ok(None) };
    if integration.status == before {
        return Ok(None);
    }
    let change = StatusChange {
        tenant: item.tenant.to_string(),
        integration: item.id.to_string(),
        old_status: before,
        new_status: integration.status,
        failing_checks: integration.checks.iter().filter(|c| c.status == CheckStatus::Fail).map(|c| c.name.clone()).collect(),
    };
    let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
        .event_bus_name(bus)
        .source("bucketlink")
        .detail_type("IntegrationStatusChanged")
        .detail(json!(change).to_string())
        .build();
    let out = events
        .put_events()
        .entries(entry)
        .send()
        .await
        .map_err(|e| Error::Upstream { code: "EVENT_BUS_UNAVAILABLE", message: aws_sdk_eventbridge::error::DisplayErrorContext(&e).to_string() })?;
    if out.failed_entry_count() > 0 {
        return Err(Error::Upstream { code: "EVENT_BUS_REFUSED", message: "the status change event was refused".into() });
    }
    Ok(Some(change))
}

/// Messages handled at once inside one invocation: bounded, so one batch never floods STS.
pub const CONCURRENCY: usize = 4;

/// Handles one batch of sweep messages `(message_id, body)` with bounded concurrency; returns the
/// ids of the messages that failed (SQS retries those alone, and after a few tries moves them to
/// the dead-letter queue).
pub async fn handle_batch(service: &Service, events: &aws_sdk_eventbridge::Client, bus: &str, messages: Vec<(String, Option<String>)>) -> Vec<String> {
    use futures_util::stream::{self, StreamExt};
    let outcomes = stream::iter(messages)
        .map(|(message_id, body)| async move {
            let Some(item) = body.as_deref().and_then(|b| serde_json::from_str::<SweepItem>(b).ok()) else {
                tracing::warn!(message_id, "sweep message is not a sweep item; it will end in the DLQ");
                return Some(message_id);
            };
            match revalidate(service, events, bus, &item).await {
                Ok(Some(change)) => {
                    tracing::info!(integration = %item.id, old = change.old_status.as_str(), new = change.new_status.as_str(), "status changed");
                    None
                }
                Ok(None) => None,
                Err(err) => {
                    tracing::error!(integration = %item.id, error = %err, "revalidation failed; SQS will retry it");
                    Some(message_id)
                }
            }
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
