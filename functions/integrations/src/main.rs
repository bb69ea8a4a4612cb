//! The integrations API (API Gateway HTTP API, payload v2): parse, call `bucketlink`, shape the response.

use apigw::{header, idempotent, outcome, problem, respond, route, tenant, Answer};
use apigw::{parse_body, parse_body_up_to};
use bucketlink::aws::Clients;
use bucketlink::budget::Profile;
use bucketlink::checks::Checker;
use bucketlink::config::Config;
use bucketlink::ids::TenantId;
use bucketlink::import::{self, ImportRequest, Importer};
use bucketlink::inspection::Inspector;
use bucketlink::integrations::{AttachRequest, CreateRequest, Integrations, LintRequest, RecordsQuery, RotationRequest};
use bucketlink::problem::Problem;
use bucketlink::store::Store;
use bucketlink::telemetry;
use lambda_http::{run, service_fn, Body, Error, Request, RequestExt, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let metrics = telemetry::init("integrations");
    let config = Config::from_env_or_exit();
    let clients = Clients::from_env(&config, Profile::Background).await;
    let store = Store::new(clients.dynamodb.clone(), &config.table);
    let service = Integrations::new(store.clone(), Checker::from_clients(&clients, &config), config.provider_role_arn.clone())
        .with_customer_template(config.customer_template_url.clone())
        .with_change_events(config.change_event_bus_arn.clone())
        .with_next_principal(config.next_provider_role_arn.clone());
    let importer = Importer::new(store, Inspector::from_clients(&clients, &config), config.import_rows_per_minute);
    let (service, importer) = (&service, &importer);
    run(service_fn(move |request: Request| async move { Ok::<_, Error>(telemetry::flushed(metrics, handle(service, importer, request)).await) })).await
}

async fn handle(service: &Integrations, importer: &Importer, request: Request) -> Response<Body> {
    let Some(tenant) = tenant(&request) else { return problem(&Problem::unauthenticated()) };
    let (method, segments) = route(&request);
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let body = request.body().as_ref();
    let answer = match (method.as_str(), segments.as_slice()) {
        ("POST", ["integrations"]) => create(service, &tenant, &request).await,
        ("GET", ["integrations"]) => list(service, &tenant, &request).await,
        ("GET", ["integrations", id]) => outcome(200, service.get(&tenant, id).await),
        ("PUT", ["integrations", id]) => attach(service, &tenant, id, &request).await,
        ("DELETE", ["integrations", id]) => outcome(204, service.delete(&tenant, id).await),
        ("POST", ["integrations", id, "validate"]) => outcome(200, service.validate(&tenant, id).await),
        ("GET", ["integrations", id, "objects"]) => records(service, &tenant, id, &request).await,
        ("POST", ["integrations", id, "external-id"]) => rotate(service, &tenant, id, &request).await,
        ("POST", ["integrations", id, "external-id", "complete"]) => outcome(200, service.complete_rotation(&tenant, id).await),
        ("POST", ["integrations", id, "external-id", "cancel"]) => outcome(200, service.cancel_rotation(&tenant, id).await),
        ("POST", ["integrations", id, "import-check"]) => match parse_body_up_to::<ImportRequest>(body, import::MAX_BODY_BYTES) {
            Ok(rows) => outcome(200, importer.check(&tenant, id, &rows).await),
            Err(e) => outcome::<()>(400, Err(e)),
        },
        ("POST", ["policy", "lint"]) => match parse_body::<LintRequest>(body) {
            Ok(lint) => outcome(200, service.lint(&tenant, lint).await),
            Err(e) => outcome::<()>(400, Err(e)),
        },
        _ => Answer::from(&Problem::route_not_found(&method, request.uri().path())),
    };
    respond(answer)
}

/// `limit` from the query string (1 to 100, 50 when absent), or the problem to answer.
fn limit(request: &Request) -> Result<i32, Answer> {
    match request.query_string_parameters().first("limit").map(|raw| raw.parse::<i32>().ok().filter(|n| (1..=100).contains(n))) {
        None => Ok(50),
        Some(Some(limit)) => Ok(limit),
        Some(None) => Err(Answer::from(&Problem::new(400, "INVALID_PARAMETER", "Invalid query parameter", "limit must be a whole number from 1 to 100"))),
    }
}

async fn list(service: &Integrations, tenant: &TenantId, request: &Request) -> Answer {
    let limit = match limit(request) {
        Ok(limit) => limit,
        Err(problem) => return problem,
    };
    outcome(200, service.list(tenant, limit, request.query_string_parameters().first("cursor")).await)
}

async fn records(service: &Integrations, tenant: &TenantId, id: &str, request: &Request) -> Answer {
    let limit = match limit(request) {
        Ok(limit) => limit,
        Err(problem) => return problem,
    };
    let params = request.query_string_parameters();
    let query = RecordsQuery { status: params.first("status"), code: params.first("code"), limit, cursor: params.first("cursor") };
    outcome(200, service.records(tenant, id, query).await)
}

/// A retried create (same `Idempotency-Key`) gets the first integration, not a second one.
async fn create(service: &Integrations, tenant: &TenantId, request: &Request) -> Answer {
    let body = request.body().as_ref();
    let fingerprint = format!("POST {}", String::from_utf8_lossy(body));
    let run = || async {
        match parse_body::<CreateRequest>(body) {
            Ok(create) => (outcome(201, service.create(tenant, create).await), true),
            Err(e) => (outcome::<()>(400, Err(e)), true),
        }
    };
    idempotent(service.store(), tenant, header(request, "idempotency-key"), &fingerprint, run).await
}

/// Starts an external ID rotation; a retry with the same `Idempotency-Key` gets the first answer,
/// not a second rotation.
async fn rotate(service: &Integrations, tenant: &TenantId, id: &str, request: &Request) -> Answer {
    let body = request.body().as_ref();
    let fingerprint = format!("POST {id}/external-id {}", String::from_utf8_lossy(body));
    let run = || async {
        let parsed = if body.iter().all(u8::is_ascii_whitespace) { Ok(RotationRequest::default()) } else { parse_body::<RotationRequest>(body) };
        match parsed {
            Ok(rotation) => (outcome(200, service.start_rotation(tenant, id, rotation).await), true),
            Err(e) => (outcome::<()>(400, Err(e)), true),
        }
    };
    idempotent(service.store(), tenant, header(request, "idempotency-key"), &fingerprint, run).await
}

async fn attach(service: &Integrations, tenant: &TenantId, id: &str, request: &Request) -> Answer {
    let body = request.body().as_ref();
    let fingerprint = format!("PUT {id} {}", String::from_utf8_lossy(body));
    let run = || async {
        match parse_body::<AttachRequest>(body) {
            Ok(attach) => {
                let result = service.attach(tenant, id, attach).await;
                let conclusive = result.as_ref().is_ok_and(|view| view.conclusive());
                (outcome(200, result), conclusive)
            }
            Err(e) => (outcome::<()>(400, Err(e)), true),
        }
    };
    idempotent(service.store(), tenant, header(request, "idempotency-key"), &fingerprint, run).await
}
