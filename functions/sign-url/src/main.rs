//! `POST /integrations/{id}/sign` (API Gateway HTTP API, payload v2): signed GET URLs, in request order.

use apigw::parse_body;
use apigw::{outcome, problem, respond, route, tenant};
use bucketlink::aws::Clients;
use bucketlink::budget::Profile;
use bucketlink::config::Config;
use bucketlink::presign::Endpoint;
use bucketlink::problem::Problem;
use bucketlink::sign_url::{SignRequest, SignService};
use bucketlink::store::Store;
use bucketlink::sts::CredentialCache;
use bucketlink::telemetry;
use lambda_http::{run, service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let metrics = telemetry::init("sign-url");
    let config = Config::from_env_or_exit();
    let clients = Clients::from_env(&config, Profile::Interactive).await;
    let endpoint = Endpoint::from_url(clients.sdk.endpoint_url());
    let service = SignService::new(
        Store::new(clients.dynamodb.clone(), &config.table),
        CredentialCache::new(clients.sts.clone()),
        endpoint,
        config.s3_path_style,
        config.url_ttl,
        config.url_max_ttl,
    );
    let service = &service;
    run(service_fn(move |request: Request| async move { Ok::<_, Error>(telemetry::flushed(metrics, handle(service, request)).await) })).await
}

async fn handle(service: &SignService, request: Request) -> Response<Body> {
    let Some(tenant) = tenant(&request) else { return problem(&Problem::unauthenticated()) };
    let (method, segments) = route(&request);
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let id = match (method.as_str(), segments.as_slice()) {
        ("POST", ["integrations", id, "sign"]) => id.to_string(),
        _ => return problem(&Problem::route_not_found(&method, request.uri().path())),
    };
    let answer = match parse_body::<SignRequest>(request.body().as_ref()) {
        Ok(body) => {
            let result = service.sign(&tenant, &id, body).await;
            if let Ok(signed) = &result {
                // Counts only: never a URL, signature or token in the logs.
                tracing::info!(integration = %id, rows = signed.results.len(), "signed");
            }
            outcome(200, result)
        }
        Err(e) => outcome::<()>(400, Err(e)),
    };
    respond(answer)
}
