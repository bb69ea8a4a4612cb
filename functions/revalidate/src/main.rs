//! The health sweep. A scheduled event (EventBridge) queues every integration with a role on the
//! sweep queue; a batch from that queue (SQS) checks each one again, reporting only the messages
//! that failed (`batchItemFailures`), so one bad integration never makes the others run again.

use aws_lambda_events::event::sqs::SqsEvent;
use bucketlink::arn::RoleArn;
use bucketlink::aws::Clients;
use bucketlink::checks::Checker;
use bucketlink::config::Config;
use bucketlink::service::Service;
use bucketlink::store::Store;
use bucketlink::sweep::{dispatch, handle_batch};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

struct App {
    service: Service,
    clients: Clients,
    queue_url: String,
    bus: String,
}

fn required(value: Option<String>, name: &str) -> String {
    value.unwrap_or_else(|| {
        eprintln!("bucketlink cold start failed: environment variable {name} is required but not set");
        std::process::exit(1)
    })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env_or_exit();
    let queue_url = required(config.sweep_queue_url.clone(), "BUCKETLINK_SWEEP_QUEUE_URL");
    let bus = required(config.event_bus.clone(), "BUCKETLINK_EVENT_BUS");
    let clients = Clients::from_env(&config).await;
    let principal = RoleArn::parse(&config.provider_role_arn).expect("validated by Config");
    let checker = Checker::new(&clients.sdk, principal.clone(), config.app_origins.clone(), config.s3_path_style);
    let service = Service::new(Store::new(clients.dynamodb.clone(), &config.table), checker, principal);
    let app = App { service, clients, queue_url, bus };
    let app = &app;
    run(service_fn(move |event: LambdaEvent<Value>| async move { handle(app, event.payload).await })).await
}

async fn handle(app: &App, payload: Value) -> Result<Value, Error> {
    if payload.get("Records").is_none() {
        let summary = dispatch(app.service.store(), &app.clients.sqs, &app.queue_url).await?;
        tracing::info!(integrations = summary.integrations, dispatched = summary.dispatched, "sweep dispatched");
        return Ok(json!(summary));
    }
    let batch: SqsEvent = serde_json::from_value(payload)?;
    let messages = batch.records.into_iter().map(|r| (r.message_id.unwrap_or_default(), r.body)).collect();
    let failed = handle_batch(&app.service, &app.clients.events, &app.bus, messages).await;
    Ok(json!({"batchItemFailures": failed.into_iter().map(|id| json!({"itemIdentifier": id})).collect::<Vec<_>>()}))
}
