//! Lambda runtime emulation: our own host of the Lambda Runtime API, so a function binary runs
//! exactly as in Lambda (polling `/invocation/next`, posting `/response` or `/error`).

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{oneshot, Notify};

use crate::emulator::workspace_root;
use crate::listen::{serve, Listener};

/// What a function answered: its response payload, or the error it reported to the runtime.
pub type Outcome = Result<Value, Value>;

#[derive(Default)]
struct Queue {
    pending: Mutex<VecDeque<(String, Value)>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    arrived: Notify,
}

/// A running function binary and the Runtime API it polls.
pub struct Function {
    queue: Arc<Queue>,
    // Held for kill_on_drop: the function stops with the test.
    _child: Child,
    server: tokio::task::JoinHandle<()>,
    logs: Arc<Mutex<String>>,
}

/// Locates a function binary of this workspace in the profile the tests use, building it first
/// if needed: `cargo test --workspace` has built it already (each function has tests of its own),
/// so this cargo call is a no-op there; alone, a test binary or the demo still gets fresh binaries.
pub fn binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let profile_dir = BUILT.get_or_init(|| {
        let exe = std::env::current_exe().expect("executable path");
        // Tests run from target/<profile>/deps, binaries such as the demo from target/<profile>.
        let mut profile_dir = exe.parent().expect("target/<profile>").to_path_buf();
        if profile_dir.ends_with("deps") {
            profile_dir.pop();
        }
        let target_dir = profile_dir.parent().expect("target/").to_path_buf();
        let mut cargo = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cargo.current_dir(workspace_root()).args(["build", "--quiet", "--workspace", "--bins", "--tests", "--target-dir"]).arg(&target_dir);
        // Cargo sets CARGO_* variables for the test it runs; inherited, they make the nested
        // build's fingerprints differ and rebuild everything. The caller's own settings stay
        // (CARGO_INCREMENTAL=0 in CI: without it the nested build recompiles every crate of ours).
        const CALLERS: [&str; 3] = ["CARGO_HOME", "CARGO_INCREMENTAL", "CARGO_TARGET_DIR"];
        for (key, _) in std::env::vars_os() {
            if key.to_str().is_some_and(|k| (k.starts_with("CARGO_") && !CALLERS.contains(&k)) || k == "OUT_DIR") {
                cargo.env_remove(key);
            }
        }
        // target/release holds benchmark builds: the bench profile (optimized, no slow LTO).
        if profile_dir.file_name().is_some_and(|p| p == "release") {
            cargo.args(["--profile", "bench"]);
        }
        let status = cargo.status().expect("run cargo build");
        assert!(status.success(), "cargo build --workspace --bins failed");
        profile_dir
    });
    profile_dir.join(name)
}

impl Function {
    /// Starts `name` under the runtime emulation with `env` (plus the variables Lambda always sets).
    pub async fn start(name: &str, env: &[(&str, String)]) -> Function {
        let queue = Arc::new(Queue::default());
        let listener = Listener::bind(0).await.expect("bind runtime API");
        let addr = listener.address();
        let served = queue.clone();
        let server = serve(listener, move |request| answer(served.clone(), request));
        let mut command = Command::new(binary(name));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", &addr)
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().unwrap_or_else(|e| panic!("start {name}: {e}"));
        let logs = Arc::new(Mutex::new(String::new()));
        let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let sink = logs.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let mut all = sink.lock().expect("lock");
                all.push_str(&line);
                all.push('\n');
            }
        });
        Function { queue, _child: child, server, logs }
    }

    /// Everything the function has logged so far (its stdout, as CloudWatch would get it).
    pub fn logs(&self) -> String {
        self.logs.lock().expect("lock").clone()
    }

    /// One invocation: the event goes to the function, its answer comes back (30 s at most).
    pub async fn invoke(&self, event: Value) -> Outcome {
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = format!("req-{}", NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let (tx, rx) = oneshot::channel();
        self.queue.waiting.lock().expect("lock").insert(id.clone(), tx);
        self.queue.pending.lock().expect("lock").push_back((id, event));
        self.queue.arrived.notify_one();
        tokio::time::timeout(Duration::from_secs(30), rx).await.expect("the function answered within 30 s").expect("the runtime host stayed up")
    }
}

/// A function binary started without `BUCKETLINK_TABLE` must refuse to start, with one line naming it.
pub fn assert_cold_start_names_missing_variable(binary: &str) {
    let out = std::process::Command::new(binary)
        .env_clear()
        .env("BUCKETLINK_PROVIDER_ROLE_ARN", "arn:aws:iam::111111111111:role/bucketlink-provider")
        .env("BUCKETLINK_APP_ORIGINS", "https://app.example.com")
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .output()
        .expect("run the function");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{binary} must not start");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("BUCKETLINK_TABLE"), "{stderr}");
}

impl Drop for Function {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn answer(queue: Arc<Queue>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let reply = |status: u16, body: Bytes| Response::builder().status(status).body(Full::new(body)).expect("response");
    if path.ends_with("/runtime/invocation/next") {
        loop {
            let next = queue.pending.lock().expect("lock").pop_front();
            if let Some((id, event)) = next {
                let deadline = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_millis() + 30_000;
                return Ok(Response::builder()
                    .status(200)
                    .header("lambda-runtime-aws-request-id", &id)
                    .header("lambda-runtime-deadline-ms", deadline.to_string())
                    .header("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:111111111111:function:local")
                    .header("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000")
                    .body(Full::new(Bytes::from(event.to_string())))
                    .expect("response"));
            }
            queue.arrived.notified().await;
        }
    }
    let outcome = if path.ends_with("/response") {
        Some(Ok(parsed))
    } else if path.ends_with("/error") {
        Some(Err(parsed))
    } else {
        None
    };
    let id = path.split('/').rev().nth(1).unwrap_or_default().to_owned();
    match outcome {
        Some(outcome) => {
            if let Some(waiter) = queue.waiting.lock().expect("lock").remove(&id) {
                let _ = waiter.send(outcome);
            }
            Ok(reply(202, Bytes::from_static(b"{}")))
        }
        None => Ok(reply(404, Bytes::from_static(b"{}"))),
    }
}
