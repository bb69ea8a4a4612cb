//! S3 object-created events: find the integrations each new object belongs to.

use aws_lambda_events::event::s3::S3Event;
use bucketlink::aws::Clients;
use bucketlink::config::Config;
use bucketlink::events::decode_event_key;
use bucketlink::store::Store;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde::Serialize;

#[derive(Serialize)]
struct ObjectSeen {
    bucket: String,
    key: String,
    integrations: Vec<String>,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env_or_exit();
    let clients = Clients::from_env(&config).await;
    let store = Store::new(clients.dynamodb, &config.table);
    let store = &store;
    run(service_fn(move |event: LambdaEvent<S3Event>| async move { objects(store, event.payload).await })).await
}

async fn objects(store: &Store, event: S3Event) -> Result<Vec<ObjectSeen>, Error> {
    let mut seen = Vec::with_capacity(event.records.len());
    for record in event.records {
        let (Some(bucket), Some(raw_key)) = (record.s3.bucket.name, record.s3.object.key) else {
            tracing::warn!("record without bucket or key skipped");
            continue;
        };
        let key = decode_event_key(&raw_key)?;
        let integrations = store.for_bucket(&bucket).await?.into_iter().map(|i| i.id.to_string()).collect();
        seen.push(ObjectSeen { bucket, key, integrations });
    }
    Ok(seen)
}
