//! `POST /integrations/{id}/sign` (API Gateway HTTP API, payload v2): signed GET URLs, in request order.

use apigw::{problem, route, tenant};
use bucketlink::api::Problem;
use bucketlink::aws::Clients;
use bucketlink::config::Config;
use bucketlink::store::Store;
use lambda_http::{run, service_fn, Body, Error, Request, Response};
use serde::Deserialize;

const MAX_URLS: usize = 1000;
const MAX_EXPIRES_IN: u64 = 3600;

struct App {
    store: Store,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignRequest {
    urls: Vec<String>,
    expires_in: Option<u64>,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env_or_exit();
    let clients = Clients::from_env(&config).await;
    let app = App { store: Store::new(clients.dynamodb, &config.table) };
    let app = &app;
    run(service_fn(move |request: Request| async move { Ok::<_, Error>(handle(app, request).await) })).await
}

async fn handle(app: &App, request: Request) -> Response<Body> {
    let Some(tenant) = tenant(&request) else { return problem(&Problem::unauthenticated()) };
    let (method, segments) = route(&request);
    let id = match (method.as_str(), segments.as_slice()) {
        ("POST", [first, id, last]) if first == "integrations" && last == "sign" => id.clone(),
        _ => return problem(&Problem::route_not_found(&method, request.uri().path())),
    };
    let body: SignRequest = match serde_json::from_slice(request.body().as_ref()) {
        Ok(body) => body,
        Err(err) => return problem(&Problem::new(400, "INVALID_BODY", "Malformed request body", err.to_string())),
    };
    if body.urls.is_empty() || body.urls.len() > MAX_URLS {
        let detail = format!("urls must hold 1 to {MAX_URLS} URLs, got {}", body.urls.len());
        return problem(&Problem::new(422, "INVALID_FIELD", "Invalid field: urls", detail));
    }
    if let Some(expires_in) = body.expires_in.filter(|s| !(1..=MAX_EXPIRES_IN).contains(s)) {
        let detail = format!("expires_in must be 1 to {MAX_EXPIRES_IN} seconds, got {expires_in}");
        return problem(&Problem::new(422, "INVALID_FIELD", "Invalid field: expires_in", detail));
    }
    if bucketlink::ids::IntegrationId::parse(&id).is_err() {
        return problem(&Problem::integration_not_found(&id));
    }
    match app.store.get(&tenant, &id).await {
        Ok(None) => problem(&Problem::integration_not_found(&id)),
        Ok(Some(found)) => problem(&Problem::new(
            409,
            "INTEGRATION_NOT_READY",
            "Integration cannot serve data",
            format!("Integration {id} is {}; URLs are signed only for a validated integration.", found.status.as_str()),
        )),
        Err(err) => {
            tracing::error!(error = %err, "store request failed");
            problem(&Problem::from(&err))
        }
    }
}
