//! Load as Lambda brings it: several containers of a function (each a process of the real binary
//! under its own Runtime API host) taking invocations at once, against the emulator. The figures
//! are the whole machine's: the load generator, every container and the emulator share its cores.

use std::time::{Duration, Instant};

use bucketlink::ids::{IntegrationId, TenantId};
use bucketlink::store::Store;
use bucketlink::telemetry::ASSUME_ROLE;
use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::emf::datapoints;
use crate::fixtures::connect;
use crate::gateway::{call, event};
use crate::{Emulator, Function, Provider};

const TENANT: &str = "tenant-load";

/// Batch times, sorted.
#[derive(Debug, Default)]
pub struct Latencies(Vec<Duration>);

impl Latencies {
    fn sorted(mut times: Vec<Duration>) -> Self {
        times.sort();
        Latencies(times)
    }

    pub fn count(&self) -> usize {
        self.0.len()
    }

    /// The `p`-th percentile (nearest rank), in milliseconds.
    pub fn percentile(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0 * self.0.len() as f64).ceil() as usize).clamp(1, self.0.len());
        self.0[rank - 1].as_secs_f64() * 1000.0
    }
}

/// The emulator's `sts:AssumeRole` count and all its requests, from its stats.
async fn served(emu: &Emulator) -> (u64, u64) {
    let calls = emu.calls().await;
    let count = |k: &str| calls.get(k).and_then(Value::as_u64).unwrap_or(0);
    (count("sts:AssumeRole"), count("requests"))
}

#[derive(Debug)]
pub struct SignLoad {
    pub hosts: usize,
    pub integrations: usize,
    pub batch: usize,
    pub elapsed: Duration,
    pub batches: Latencies,
    pub urls_signed: usize,
    /// Invocations that failed or answered other than 200, and rows refused.
    pub errors: usize,
    /// AssumeRole calls the containers counted in their metrics (all outcomes).
    pub assume_role_metered: u64,
    /// AssumeRole calls the emulator served meanwhile (the provider's own session included: none,
    /// the containers hold environment credentials).
    pub assume_role_served: u64,
    pub emulator_requests: u64,
}

impl SignLoad {
    pub fn urls_per_second(&self) -> f64 {
        self.urls_signed as f64 / self.elapsed.as_secs_f64()
    }
}

/// `hosts` containers of `sign-url` signing `batch`-URL batches for `duration`, round-robin over
/// `integrations` integrations of as many customer accounts (first batches cold: every container
/// starts with no credentials).
pub async fn sign_url(emu: &Emulator, hosts: usize, integrations: usize, batch: usize, duration: Duration) -> SignLoad {
    let provider = Provider::create(emu).await;
    let table = provider.table().await;
    let env = provider.function_env(emu, &table);
    let api = Function::start("integrations", &env).await;
    let mut batches = Vec::with_capacity(integrations);
    for n in 0..integrations {
        let connected = connect(emu, &provider, &api, TENANT, &format!("{}", 820_000_000_000u64 + n as u64), |_| {}).await;
        assert_eq!(connected.status, "healthy", "integration {n} connected");
        let urls: Vec<String> =
            (0..batch).map(|i| format!("https://{}.s3.us-east-1.amazonaws.com/datasets/batch%20{i}/image_{i:05}.jpg", connected.customer.bucket)).collect();
        let body = json!({ "urls": urls }).to_string();
        batches.push(event("POST", &format!("/integrations/{}/sign", connected.id), Some(&body), Some(TENANT), &[]));
    }
    let containers = join_all((0..hosts).map(|_| Function::start("sign-url", &env))).await;
    let (assumed_before, requests_before) = served(emu).await;

    let started = Instant::now();
    let work = containers.iter().enumerate().map(|(host, container)| {
        let batches = &batches;
        async move {
            let (mut times, mut signed, mut errors) = (Vec::new(), 0, 0);
            let mut n = host;
            while started.elapsed() < duration {
                let t = Instant::now();
                let outcome = container.invoke(batches[n % batches.len()].clone()).await;
                times.push(t.elapsed());
                n += 1;
                let body: Option<Value> = outcome.ok().filter(|r| r["statusCode"] == 200).and_then(|r| serde_json::from_str(r["body"].as_str()?).ok());
                let Some(body) = body else {
                    errors += 1;
                    continue;
                };
                for row in body["results"].as_array().into_iter().flatten() {
                    if row.get("signed_url").is_some() {
                        signed += 1;
                    } else {
                        errors += 1;
                    }
                }
            }
            (times, signed, errors)
        }
    });
    let results = join_all(work).await;
    let elapsed = started.elapsed();
    let (assumed_after, requests_after) = served(emu).await;

    let assume_role_metered = containers
        .iter()
        .flat_map(|c| datapoints(&c.logs()))
        .filter(|p| p.name == ASSUME_ROLE)
        .map(|p| match &p.value {
            Value::Array(values) => values.iter().filter_map(Value::as_f64).sum::<f64>(),
            value => value.as_f64().unwrap_or(0.0),
        })
        .sum::<f64>() as u64;
    SignLoad {
        hosts,
        integrations,
        batch,
        elapsed,
        batches: Latencies::sorted(results.iter().flat_map(|r| r.0.iter().copied()).collect()),
        urls_signed: results.iter().map(|r| r.1).sum(),
        errors: results.iter().map(|r| r.2).sum(),
        assume_role_metered,
        assume_role_served: assumed_after - assumed_before,
        emulator_requests: requests_after - requests_before,
    }
}

#[derive(Debug)]
pub struct ApiLoad {
    pub hosts: usize,
    pub rounds: usize,
    pub elapsed: Duration,
    pub attaches: Latencies,
    pub refreshes: Latencies,
    /// Answers other than 200.
    pub errors: Vec<String>,
    /// Integrations whose final state misses a write that was answered 200: a version, the last
    /// name, or a history entry short.
    pub lost_updates: Vec<String>,
    pub emulator_requests: u64,
}

/// One integration under load and what the answers say it must hold afterwards.
struct Target {
    connected: crate::fixtures::Connected,
    path: String,
    version: u64,
    written: usize,
    name: String,
}

/// `hosts` containers of the integrations API (an even number): each round, every pair of them
/// writes one integration at the same moment, one attaching it again under a new name, the other
/// refreshing its checks, so `hosts` requests run at once and every write races another.
pub async fn integrations_api(emu: &Emulator, hosts: usize, rounds: usize) -> ApiLoad {
    assert!(hosts >= 2 && hosts.is_multiple_of(2), "containers come in pairs");
    let provider = Provider::create(emu).await;
    let table = provider.table().await;
    let env = provider.function_env(emu, &table);
    let containers = join_all((0..hosts).map(|_| Function::start("integrations", &env))).await;
    let mut targets = Vec::new();
    for n in 0..hosts / 2 {
        let connected = connect(emu, &provider, &containers[0], TENANT, &format!("{}", 830_000_000_000u64 + n as u64), |_| {}).await;
        assert_eq!(connected.status, "healthy", "integration {n} connected");
        let path = format!("/integrations/{}", connected.id);
        let version = call(&containers[0], event("GET", &path, None, Some(TENANT), &[])).await.body["version"].as_u64().expect("a version");
        targets.push(Target { connected, path, version, written: 0, name: "Acme".into() });
    }
    let (_, requests_before) = served(emu).await;

    let started = Instant::now();
    let (mut attaches, mut refreshes, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let requests = containers.iter().enumerate().map(|(host, container)| {
            let Target { connected, path, .. } = &targets[host / 2];
            let (method, route, body) = if host % 2 == 0 {
                let body = json!({"name": format!("round {round}"), "bucket": connected.customer.bucket, "role_arn": connected.customer.role_arn});
                ("PUT", path.clone(), Some(body.to_string()))
            } else {
                ("POST", format!("{path}/validate"), None)
            };
            async move {
                let t = Instant::now();
                let answer = call(container, event(method, &route, body.as_deref(), Some(TENANT), &[])).await;
                (host % 2 == 0, t.elapsed(), answer)
            }
        });
        for (host, (attach, took, answer)) in join_all(requests).await.into_iter().enumerate() {
            let target = &mut targets[host / 2];
            if answer.status == 200 {
                target.written += 1;
                if attach {
                    target.name = format!("round {round}");
                }
            } else {
                errors.push(format!("{} {}: {}", if attach { "attach" } else { "refresh" }, answer.status, answer.body));
            }
            if attach { &mut attaches } else { &mut refreshes }.push(took);
        }
    }
    let elapsed = started.elapsed();
    let (_, requests_after) = served(emu).await;

    let store = Store::new(aws_sdk_dynamodb::Client::new(&provider.sdk), &table);
    let tenant = TenantId::parse(TENANT).expect("tenant");
    let mut lost_updates = Vec::new();
    for Target { connected, path, version, written, name } in &targets {
        let now = call(&containers[0], event("GET", path, None, Some(TENANT), &[])).await.body;
        let id = IntegrationId::parse(&connected.id).expect("an integration id");
        let history = store.history(&tenant, &id, 1000).await.expect("history").len();
        // The attach that connected it wrote one history entry; every write answered 200 one more.
        let expected = (version + *written as u64, name.clone(), 1 + written);
        let found = (now["version"].as_u64().unwrap_or(0), now["name"].as_str().unwrap_or_default().to_owned(), history);
        if found != expected {
            lost_updates.push(format!("{}: (version, name, history entries) {found:?}, expected {expected:?}", connected.id));
        }
    }
    ApiLoad {
        hosts,
        rounds,
        elapsed,
        attaches: Latencies::sorted(attaches),
        refreshes: Latencies::sorted(refreshes),
        errors,
        lost_updates,
        emulator_requests: requests_after - requests_before,
    }
}
