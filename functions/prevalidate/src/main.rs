//! S3 object-created events, however they arrive (S3 notification, through SQS, or EventBridge):
//! each new object is inspected for every integration that reads it, and the verdict recorded.

use bucketlink::aws::Clients;
use bucketlink::budget::Profile;
use bucketlink::config::Config;
use bucketlink::object_events;
use bucketlink::objects::Inspector;
use bucketlink::prevalidation::{Answer, Prevalidator};
use bucketlink::sign::Endpoint;
use bucketlink::store::Store;
use bucketlink::sts::CredentialCache;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env_or_exit();
    let clients = Clients::from_env(&config, Profile::Background).await;
    let inspector = Inspector::new(
        CredentialCache::new(clients.sts.clone()),
        Endpoint::from_url(clients.sdk.endpoint_url()),
        config.s3_path_style,
        config.object_limits.clone(),
    );
    let prevalidator = Prevalidator::new(Store::new(clients.dynamodb.clone(), &config.table), inspector);
    let prevalidator = &prevalidator;
    run(service_fn(move |event: LambdaEvent<Value>| async move { handle(prevalidator, event.payload).await })).await
}

async fn handle(prevalidator: &Prevalidator, payload: Value) -> Result<Answer, Error> {
    let delivery = object_events::parse(payload)?;
    Ok(prevalidator.deliver(delivery).await?)
}
