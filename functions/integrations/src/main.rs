//! The integrations API (API Gateway HTTP API, payload v2): parse, call `bucketlink`, shape the response.

use apigw::{json, problem, route, tenant};
use bucketlink::api::Problem;
use bucketlink::aws::Clients;
use bucketlink::config::Config;
use bucketlink::store::{Store, StoreError};
use lambda_http::{run, service_fn, Body, Error, Request, RequestExt, Response};

struct App {
    store: Store,
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
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let result = match (method.as_str(), segments.as_slice()) {
        ("GET", ["integrations"]) => list(app, &tenant, &request).await,
        ("GET", ["integrations", id]) => match app.store.get(&tenant, id).await {
            Ok(Some(found)) => Ok(json(200, &found)),
            Ok(None) => Err(Problem::integration_not_found(id)),
            Err(err) => Err(internal(&err)),
        },
        _ => Err(Problem::route_not_found(&method, request.uri().path())),
    };
    result.unwrap_or_else(|p| problem(&p))
}

async fn list(app: &App, tenant: &str, request: &Request) -> Result<Response<Body>, Problem> {
    let params = request.query_string_parameters();
    let limit = match params.first("limit") {
        None => 50,
        Some(raw) => raw.parse::<i32>().ok().filter(|n| (1..=100).contains(n)).ok_or_else(|| {
            Problem::new(
                400,
                "INVALID_PARAMETER",
                "Invalid query parameter",
                format!("limit must be a whole number from 1 to 100, got {raw:?}"),
            )
        })?,
    };
    let page = app.store.list(tenant, limit, params.first("cursor")).await.map_err(|e| internal(&e))?;
    Ok(json(200, &page))
}

fn internal(err: &StoreError) -> Problem {
    tracing::error!(error = %err, "store request failed");
    Problem::from(err)
}
