//! S3 object-created events, however they arrive (S3 notification, through SQS, or EventBridge):
//! each new object is inspected for every integration that reads it, and the verdict recorded.

use aws_lambda_events::event::sqs::SqsBatchResponse;
use bucketlink::aws::Clients;
use bucketlink::budget::Profile;
use bucketlink::config::Config;
use bucketlink::inspection::Inspector;
use bucketlink::object_events::{self, Delivery};
use bucketlink::prevalidation::Prevalidator;
use bucketlink::store::Store;
use bucketlink::telemetry;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let metrics = telemetry::init("prevalidate");
    let config = Config::from_env_or_exit();
    let clients = Clients::from_env(&config, Profile::Background).await;
    let prevalidator = Prevalidator::new(Store::new(clients.dynamodb.clone(), &config.table), Inspector::from_clients(&clients, &config));
    let prevalidator = &prevalidator;
    run(service_fn(move |event: LambdaEvent<Value>| telemetry::flushed(metrics, handle(prevalidator, event.payload)))).await
}

/// A direct delivery answers what it did (or fails, and Lambda retries it); an SQS delivery
/// answers the messages to retry (`batchItemFailures`).
async fn handle(prevalidator: &Prevalidator, payload: Value) -> Result<Value, Error> {
    match object_events::parse(payload)? {
        Delivery::Direct(objects) => Ok(json!({"objects": objects.len(), "outcomes": prevalidator.objects(&objects).await?})),
        Delivery::Queue(messages) => {
            let mut response = SqsBatchResponse::default();
            response.set_failures(prevalidator.messages(messages).await);
            Ok(serde_json::to_value(response)?)
        }
    }
}
