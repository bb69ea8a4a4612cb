//! A fault-injecting proxy between the functions and the emulator: the functions' AWS endpoint is
//! the proxy, which forwards every request unchanged (the `Host` header too, so signatures stay
//! valid) unless a fault matches it. Faults answer in each service's own wire format (S3 XML,
//! STS query XML, DynamoDB / EventBridge / SQS JSON), hang, delay, or reset the connection.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bucketlink::fault::Service;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

/// What a fault does to a request it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Never answers (the connection stays open).
    Hang,
    /// Answers late, then normally.
    Delay(Duration),
    /// The service's own 500 error.
    ServerError,
    /// The service's own throttling error.
    Throttle,
    /// Closes the connection with a TCP reset, without an answer.
    Reset,
}

impl Kind {
    /// The failing kinds every service is tried with.
    pub const FAILURES: [Kind; 4] = [Kind::Hang, Kind::ServerError, Kind::Throttle, Kind::Reset];
}

#[derive(Debug, Clone)]
pub struct Fault {
    pub service: Service,
    /// `None` for every operation of the service; else e.g. `AssumeRole`, `GetItem`,
    /// `PutEvents`, `GetObject`, `HeadObject`, `Preflight`, `GetBucketLocation`.
    pub operation: Option<&'static str>,
    pub kind: Kind,
}

impl Fault {
    pub fn on(service: Service, kind: Kind) -> Self {
        Fault { service, operation: None, kind }
    }

    pub fn on_operation(service: Service, operation: &'static str, kind: Kind) -> Self {
        Fault { service, operation: Some(operation), kind }
    }
}

#[derive(Default)]
struct State {
    faults: Vec<Fault>,
    /// Requests a fault was applied to, by service.
    applied: Vec<(Service, String)>,
}

pub struct Proxy {
    pub endpoint: String,
    state: Arc<Mutex<State>>,
    server: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// A proxy on a free port of 127.0.0.1 in front of `upstream` (`http://127.0.0.1:<port>`).
    pub async fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let endpoint = format!("http://{}", listener.local_addr().expect("address"));
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let state = Arc::new(Mutex::new(State::default()));
        let server = tokio::spawn(serve(listener, upstream, state.clone()));
        Proxy { endpoint, state, server }
    }

    /// From now on, requests matching `fault` fail as it says (until `clear`).
    pub fn inject(&self, fault: Fault) {
        self.state.lock().expect("lock").faults.push(fault);
    }

    /// AWS behaves again.
    pub fn clear(&self) {
        self.state.lock().expect("lock").faults.clear();
    }

    /// The operations a fault was applied to so far (proof that the fault was met).
    pub fn applied(&self) -> Vec<(Service, String)> {
        self.state.lock().expect("lock").applied.clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(listener: TcpListener, upstream: String, state: Arc<Mutex<State>>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { return };
        // A second handle on the same socket: a reset sets SO_LINGER 0 on it and closes it, so
        // that the close hyper does next sends RST instead of FIN.
        let Ok(std) = stream.into_std() else { continue };
        let Ok(twin) = std.try_clone() else { continue };
        let Ok(stream) = TcpStream::from_std(std) else { continue };
        let twin = Arc::new(Mutex::new(Some(twin)));
        let (upstream, state) = (upstream.clone(), state.clone());
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(request, upstream.clone(), state.clone(), twin.clone()));
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

#[derive(Debug)]
struct ResetByProxy;

impl std::fmt::Display for ResetByProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by the fault proxy")
    }
}

impl std::error::Error for ResetByProxy {}

type Twin = Arc<Mutex<Option<std::net::TcpStream>>>;

async fn handle(request: Request<Incoming>, upstream: String, state: Arc<Mutex<State>>, twin: Twin) -> Result<Response<Full<Bytes>>, ResetByProxy> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let target = classify(&parts, &body);
    let fault = target.as_ref().and_then(|(service, operation)| {
        let mut state = state.lock().expect("lock");
        let kind = state.faults.iter().find(|f| f.service == *service && f.operation.is_none_or(|o| o == operation)).map(|f| f.kind)?;
        state.applied.push((*service, operation.clone()));
        Some((*service, kind))
    });
    match fault {
        Some((_, Kind::Hang)) => {
            tokio::time::sleep(Duration::from_secs(120)).await;
            Err(ResetByProxy)
        }
        Some((_, Kind::Reset)) => {
            if let Some(socket) = twin.lock().expect("lock").take() {
                let _ = socket2::SockRef::from(&socket).set_linger(Some(Duration::ZERO));
            }
            Err(ResetByProxy)
        }
        Some((service, Kind::ServerError)) => Ok(error_answer(service, false)),
        Some((service, Kind::Throttle)) => Ok(error_answer(service, true)),
        Some((_, Kind::Delay(by))) => {
            tokio::time::sleep(by).await;
            Ok(forward(parts, body, &upstream).await)
        }
        None => Ok(forward(parts, body, &upstream).await),
    }
}

/// The service a request is for (from its SigV4 credential scope, in the header or the query)
/// and its operation. Our emulator's own `/_bucketlink/` endpoints are never faulted.
fn classify(parts: &http::request::Parts, body: &[u8]) -> Option<(Service, String)> {
    let path = parts.uri.path();
    if path.starts_with("/_bucketlink/") {
        return None;
    }
    let query = parts.uri.query().unwrap_or_default();
    let authorization = parts.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let scope = authorization
        .split("Credential=")
        .nth(1)
        .map(str::to_owned)
        .or_else(|| query.split('&').find_map(|p| p.strip_prefix("X-Amz-Credential=")).map(|c| c.replace("%2F", "/").replace("%2f", "/")));
    let service = match scope.as_deref().and_then(|s| s.split('/').nth(3)) {
        Some("sts") => Service::Sts,
        Some("dynamodb") => Service::DynamoDb,
        Some("sqs") => Service::Sqs,
        Some("events") => Service::EventBridge,
        // S3, and S3's anonymous CORS preflights.
        _ => Service::S3,
    };
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).and_then(|t| t.rsplit('.').next());
    let operation = match (service, target) {
        (_, Some(op)) => op.to_owned(),
        (Service::Sts, None) => {
            let form = String::from_utf8_lossy(body);
            form.split('&').find_map(|p| p.strip_prefix("Action=")).unwrap_or("unknown").to_owned()
        }
        _ => {
            let keys: Vec<&str> = query.split('&').map(|p| p.split('=').next().unwrap_or_default()).collect();
            match parts.method.as_str() {
                "OPTIONS" => "Preflight",
                _ if keys.contains(&"location") => "GetBucketLocation",
                _ if keys.contains(&"list-type") => "ListObjectsV2",
                "HEAD" => "HeadObject",
                "GET" => "GetObject",
                "PUT" => "PutObject",
                other => other,
            }
            .to_owned()
        }
    };
    Some((service, operation))
}

/// A 500 or a throttling answer exactly as the service sends it.
fn error_answer(service: Service, throttle: bool) -> Response<Full<Bytes>> {
    let request_id = "b1a2c3d4-fault-proxy";
    let (status, content_type, body, query_error) = match (service, throttle) {
        (Service::S3, false) => (500, "application/xml", format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message><RequestId>{request_id}</RequestId></Error>"), None),
        (Service::S3, true) => (503, "application/xml", format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>{request_id}</RequestId></Error>"), None),
        (Service::Sts, false) => (500, "text/xml", format!("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>An internal error occurred.</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"), None),
        (Service::Sts, true) => (400, "text/xml", format!("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"), None),
        (Service::DynamoDb, false) => (500, "application/x-amz-json-1.0", r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}"#.to_owned(), None),
        (Service::DynamoDb, true) => (400, "application/x-amz-json-1.0", r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#.to_owned(), None),
        (Service::EventBridge, false) => (500, "application/x-amz-json-1.1", r#"{"__type":"InternalException","message":"An internal error occurred."}"#.to_owned(), None),
        (Service::EventBridge, true) => (400, "application/x-amz-json-1.1", r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_owned(), None),
        (Service::Sqs, false) => (500, "application/x-amz-json-1.0", r#"{"__type":"com.amazon.coral.service#InternalFailure","message":"An internal error occurred."}"#.to_owned(), Some("InternalFailure;Receiver")),
        (Service::Sqs, true) => (400, "application/x-amz-json-1.0", r#"{"__type":"com.amazon.coral.availability#ThrottlingException","message":"Rate exceeded"}"#.to_owned(), Some("ThrottlingException;Sender")),
    };
    let mut response = Response::builder().status(status).header("content-type", content_type).header("x-amzn-requestid", request_id);
    if let Some(query_error) = query_error {
        response = response.header("x-amzn-query-error", query_error);
    }
    response.body(Full::new(Bytes::from(body))).expect("an error answer")
}

async fn forward(parts: http::request::Parts, body: Bytes, upstream: &str) -> Response<Full<Bytes>> {
    let unreachable = || Response::builder().status(502).body(Full::new(Bytes::from_static(b"fault proxy: emulator unreachable"))).expect("response");
    let Ok(stream) = TcpStream::connect(upstream).await else { return unreachable() };
    let Ok((mut sender, connection)) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await else { return unreachable() };
    tokio::spawn(connection);
    let mut request = Request::from_parts(parts, Full::new(body));
    request.headers_mut().remove("transfer-encoding");
    let Ok(response) = sender.send_request(request).await else { return unreachable() };
    let (mut parts, body) = response.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    parts.headers.remove("transfer-encoding");
    parts.headers.remove("connection");
    Response::from_parts(parts, Full::new(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> http::request::Parts {
        let mut builder = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        builder.body(()).unwrap().into_parts().0
    }

    #[test]
    fn requests_are_told_apart_by_service_and_operation() {
        let sigv4 = |service: &str| format!("AWS4-HMAC-SHA256 Credential=AKIA/20261130/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=x");
        let sts = parts("POST", "/", &[("authorization", &sigv4("sts"))]);
        assert_eq!(classify(&sts, b"Action=AssumeRole&Version=2011-06-15"), Some((Service::Sts, "AssumeRole".into())));
        let ddb = parts("POST", "/", &[("authorization", &sigv4("dynamodb")), ("x-amz-target", "DynamoDB_20120810.GetItem")]);
        assert_eq!(classify(&ddb, b"{}"), Some((Service::DynamoDb, "GetItem".into())));
        let presigned = parts("GET", "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIA%2F20261130%2Fus-east-1%2Fs3%2Faws4_request", &[]);
        assert_eq!(classify(&presigned, b""), Some((Service::S3, "GetObject".into())));
        let location = parts("GET", "/b?location", &[("authorization", &sigv4("s3"))]);
        assert_eq!(classify(&location, b""), Some((Service::S3, "GetBucketLocation".into())));
        assert_eq!(classify(&parts("OPTIONS", "/b/k", &[]), b""), Some((Service::S3, "Preflight".into())));
        assert_eq!(classify(&parts("POST", "/_bucketlink/clock", &[]), b""), None);
    }
}
