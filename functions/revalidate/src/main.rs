//! The health sweep. A scheduled event (EventBridge) queues every integration with a role on the
//! sweep queue; a customer's change (a CloudTrail event forwarded to our bus) queues the
//! integrations it touches; a batch from that queue (SQS) checks each one again, reporting only
//! the messages to retry (`batchItemFailures`), so one integration never makes the others run
//! again. Status changes are announced by `status-events`, from the table's stream.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use bucketlink::aws::Clients;
use bucketlink::budget::Profile;
use bucketlink::change_events::{self, Change};
use bucketlink::checks::Checker;
use bucketlink::config::Config;
use bucketlink::integrations::Integrations;
use bucketlink::store::Store;
use bucketlink::sweep::{dispatch, handle_batch, on_change, Delivery};
use bucketlink::telemetry;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

struct App {
    service: Integrations,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    max_receives: u32,
    change_window: std::time::Duration,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let metrics = telemetry::init("revalidate");
    let config = Config::from_env_or_exit();
    let queue_url = Config::required_or_exit(config.sweep_queue_url.as_deref(), "BUCKETLINK_SWEEP_QUEUE_URL").to_owned();
    let clients = Clients::from_env(&config, Profile::Background).await;
    let service =
        Integrations::new(Store::new(clients.dynamodb.clone(), &config.table), Checker::from_clients(&clients, &config), config.provider_role_arn.clone());
    let app = App { service, sqs: clients.sqs, queue_url, max_receives: config.sweep_max_receives, change_window: config.change_window };
    let app = &app;
    run(service_fn(move |event: LambdaEvent<Value>| telemetry::flushed(metrics, handle(app, event.payload)))).await
}

async fn handle(app: &App, payload: Value) -> Result<Value, Error> {
    if payload.get("detail-type").and_then(Value::as_str) == Some(change_events::DETAIL_TYPE) {
        let Some(change) = Change::of(&payload) else {
            return Ok(json!({"affected": 0, "scheduled": 0}));
        };
        // Boxed: inline, the handler's future nests too deep for the compiler's layout query.
        let summary = Box::pin(on_change(app.service.store(), &app.sqs, &app.queue_url, &change, app.change_window)).await?;
        tracing::info!(call = change.call, affected = summary.affected, scheduled = summary.scheduled, "customer change");
        return Ok(json!(summary));
    }
    if payload.get("Records").is_none() {
        let summary = dispatch(app.service.store(), &app.sqs, &app.queue_url).await?;
        tracing::info!(
            integrations = summary.integrations,
            dispatched = summary.dispatched,
            next_principal_not_trusted = summary.next_principal_not_trusted,
            "sweep dispatched"
        );
        return Ok(json!(summary));
    }
    let batch: SqsEvent = serde_json::from_value(payload)?;
    let deliveries = batch
        .records
        .into_iter()
        .map(|r| Delivery {
            receive_count: r.attributes.get("ApproximateReceiveCount").and_then(|n| n.parse().ok()).unwrap_or(1),
            message_id: r.message_id.unwrap_or_default(),
            receipt_handle: r.receipt_handle,
            body: r.body,
        })
        .collect();
    let mut response = SqsBatchResponse::default();
    response.set_failures(handle_batch(&app.service, &app.sqs, &app.queue_url, app.max_receives, deliveries).await);
    Ok(serde_json::to_value(response)?)
}
