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
use crate::store::Store;

/// What one sweep queue message names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepItem {
    pub tenant: TenantId,
    pub id: IntegrationId,
}

#[derive(Debug, Default, Serialize)]
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

/// Reads every integration with a bucket and queues those that have a role, ten per batch.
pub async fn dispatch(store: &Store, sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Result<DispatchSummary, Error> {
    let all = store.with_buckets().await?;
    let due: Vec<SweepItem> =
        all.iter().filter(|i| i.status != Status::AwaitingRole).map(|i| SweepItem { tenant: i.tenant.clone(), id: i.id.clone() }).collect();
    let mut summary = DispatchSummary { integrations: all.len(), awaiting_role: all.len() - due.len(), dispatched: 0 };
    for batch in due.chunks(10) {
        let entries = batch
            .iter()
            .enumerate()
            .map(|(n, item)| {
                aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                    .id(n.to_string())
                    .message_body(serde_json::to_string(item).expect("a sweep item serializes"))
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
        summary.dispatched += out.successful().len();
    }
    Ok(summary)
}

/// Checks one integration again; publishes the change when its status changed. Integrations
/// deleted since dispatch, or still awaiting their role, are left alone.
pub async fn revalidate(service: &Service, events: &aws_sdk_eventbridge::Client, bus: &str, item: &SweepItem) -> Result<Option<StatusChange>, Error> {
    let before = match service.store().get(&item.tenant, item.id.as_str()).await? {
        Some(i) if i.status != Status::AwaitingRole => i.status,
        _ => return Ok(None),
    };
    let after = service.validate(&item.tenant, item.id.as_str()).await?;
    let integration = &after.integration;
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
