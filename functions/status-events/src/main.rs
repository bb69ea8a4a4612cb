//! The relay from the table's stream to the event bus: every write that changed an
//! integration's status becomes one `IntegrationStatusChanged` event. A batch whose events cannot
//! all be published reports the first record that was not (`batchItemFailures`): the stream
//! delivers it and what follows again, until EventBridge takes them.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use bucketlink::aws::Clients;
use bucketlink::budget::Profile;
use bucketlink::config::Config;
use bucketlink::status_events::{Publisher, StreamWrite};
use bucketlink::store::{integration_from_image, Item};
use bucketlink::telemetry;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let metrics = telemetry::init("status-events");
    let config = Config::from_env_or_exit();
    let bus = Config::required_or_exit(config.event_bus.as_deref(), "BUCKETLINK_EVENT_BUS").to_owned();
    let clients = Clients::from_env(&config, Profile::Background).await;
    let publisher = Publisher::new(clients.events, bus);
    let publisher = &publisher;
    run(service_fn(move |event: LambdaEvent<Event>| telemetry::flushed(metrics, handle(publisher, event.payload)))).await
}

/// An image that is not an integration, or cannot be read, owes no event: a corrupt image would
/// never read better on a retry, so it is logged and passed.
fn integration(record: &EventRecord, image: &serde_dynamo::Item) -> Option<bucketlink::integration::Integration> {
    if image.is_empty() {
        return None;
    }
    let item: Item = image.clone().into();
    integration_from_image(&item).unwrap_or_else(|e| {
        tracing::error!(event_id = record.event_id, error = %e, "stream image is not a readable integration; no event for it");
        None
    })
}

async fn handle(publisher: &Publisher, event: Event) -> Result<DynamoDbEventResponse, Error> {
    let writes: Vec<StreamWrite> = event
        .records
        .iter()
        .map(|r| StreamWrite {
            sequence_number: r.change.sequence_number.clone().unwrap_or_default(),
            old: integration(r, &r.change.old_image),
            new: integration(r, &r.change.new_image),
        })
        .collect();
    let mut response = DynamoDbEventResponse::default();
    match publisher.relay(&writes).await {
        Ok(published) => {
            if published > 0 {
                tracing::info!(published, "status changes published");
            }
        }
        Err((sequence_number, failure)) => {
            tracing::warn!(sequence_number, ?failure, "status change not published; the stream delivers it again");
            let mut failed = DynamoDbBatchItemFailure::default();
            failed.item_identifier = Some(sequence_number);
            response.batch_item_failures.push(failed);
        }
    }
    Ok(response)
}
