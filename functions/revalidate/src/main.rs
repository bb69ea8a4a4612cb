//! The scheduled health sweep (EventBridge schedule): find every integration that has a bucket.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use bucketlink::aws::Clients;
use bucketlink::config::Config;
use bucketlink::integration::Status;
use bucketlink::store::Store;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde::Serialize;

#[derive(Serialize)]
struct SweepSummary {
    integrations: usize,
    awaiting_role: usize,
    due: usize,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env_or_exit();
    let clients = Clients::from_env(&config).await;
    let store = Store::new(clients.dynamodb, &config.table);
    let store = &store;
    run(service_fn(move |event: LambdaEvent<EventBridgeEvent>| async move { sweep(store, event).await })).await
}

async fn sweep(store: &Store, event: LambdaEvent<EventBridgeEvent>) -> Result<SweepSummary, Error> {
    let integrations = store.with_buckets().await?;
    let awaiting_role = integrations.iter().filter(|i| i.status == Status::AwaitingRole).count();
    let summary = SweepSummary { integrations: integrations.len(), awaiting_role, due: integrations.len() - awaiting_role };
    tracing::info!(
        schedule = event.payload.resources.as_ref().and_then(|r| r.first()).map(String::as_str).unwrap_or("manual"),
        integrations = summary.integrations,
        due = summary.due,
        "sweep planned"
    );
    Ok(summary)
}
