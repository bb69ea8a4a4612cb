//! The whole product on this machine: the emulator with the provider account and a sample
//! customer account, the five functions under the Runtime API host, the HTTP API as the template
//! routes it, the setup page, and what AWS would do between them (S3 announcing new objects,
//! the schedule starting a sweep, SQS and the table's stream delivering to their functions).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use serde_json::Value;

use crate::fixtures::{unique, Provider, Sweep};
use crate::http_api::HttpApi;
use crate::listen::Listener;
use crate::runtime::Function;
use crate::{sam, samples, site, Account, Announcer, Emulator, Mode};

pub const SAMPLE_ACCOUNT: &str = "222222222222";

pub struct Options {
    /// 0: free ports.
    pub app_port: u16,
    pub api_port: u16,
    pub tenant: String,
    /// How often the schedule starts a health sweep.
    pub sweep_every: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options { app_port: 0, api_port: 0, tenant: "tenant-local".to_owned(), sweep_every: Duration::from_secs(300) }
    }
}

/// The sample customer's account: an administrator and a bucket of sample objects (no CORS, no
/// role: making those is the walk-through).
pub struct SampleAccount {
    pub admin: Account,
    pub sdk: SdkConfig,
    pub bucket: String,
    pub keys: Vec<String>,
}

pub struct Product {
    pub emulator: Emulator,
    pub provider: Provider,
    pub table: String,
    pub customer: SampleAccount,
    /// The setup page's origin: the app origin the checks and the bucket's CORS are about.
    pub app_origin: String,
    pub api_url: String,
    pub functions: HashMap<&'static str, Arc<Function>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Product {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Product {
    pub async fn start(options: Options) -> Product {
        let app = Listener::bind(options.app_port).await.unwrap_or_else(|e| panic!("port {} for the page: {e}", options.app_port));
        let api = Listener::bind(options.api_port).await.unwrap_or_else(|e| panic!("port {} for the API: {e}", options.api_port));
        let (app_origin, api_url) = (app.origin.clone(), api.origin.clone());
        let emulator = Emulator::start(Mode::Patched);
        let provider = Provider::create(&emulator).await;
        let table = provider.table().await;
        let sweep = Sweep::create(&provider).await;
        let mut env = provider.function_env(&emulator, &table);
        env.retain(|(k, _)| *k != "BUCKETLINK_APP_ORIGINS");
        env.push(("BUCKETLINK_APP_ORIGINS", app_origin.clone()));
        env.extend(sweep.env());
        let mut functions = HashMap::new();
        for name in ["integrations", "sign-url", "revalidate", "prevalidate"] {
            functions.insert(name, Arc::new(Function::start(name, &env).await));
        }
        let announcer = Announcer::start(&provider, &emulator.endpoint, &table, &sweep).await;
        let customer = sample_account(&emulator).await;

        let template = sam::template();
        let routes = sam::routes(&template);
        let served: HashMap<String, Arc<Function>> = routes.iter().map(|r| (r.binary.clone(), functions[r.binary.as_str()].clone())).collect();
        let mut tasks = vec![
            HttpApi::new(routes, served, sam::api_cors(&template), vec![app_origin.clone()]).serve(api),
            site::serve_site(app, site::config_js(&api_url, &options.tenant)),
        ];
        tasks.push(tokio::spawn(announce_objects(emulator.s3(&customer.sdk), customer.bucket.clone(), functions["prevalidate"].clone())));
        tasks.push(tokio::spawn(run_sweeps(sweep, functions["revalidate"].clone(), options.sweep_every)));
        tasks.push(tokio::spawn(async move {
            loop {
                announcer.pump().await;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }));
        Product { emulator, provider, table, customer, app_origin, api_url, functions, tasks }
    }
}

async fn sample_account(emulator: &Emulator) -> SampleAccount {
    let admin = emulator.account(SAMPLE_ACCOUNT).await;
    let sdk = emulator.sdk_config(admin.credentials(), crate::fixtures::REGION).await;
    let s3 = emulator.s3(&sdk);
    let bucket = unique("sample-data");
    s3.create_bucket().bucket(&bucket).send().await.expect("create the sample bucket");
    let mut keys = Vec::new();
    for sample in samples::all() {
        samples::upload(&s3, &bucket, &sample).await;
        keys.push(sample.key.to_owned());
    }
    SampleAccount { admin, sdk, bucket, keys }
}

/// S3's object-created notifications, played by looking at the bucket: each object is announced
/// to `prevalidate` until an integration took it (an object no healthy integration reads yet is
/// announced again on the next look, so the samples get their records once one is set up).
async fn announce_objects(s3: aws_sdk_s3::Client, bucket: String, prevalidate: Arc<Function>) {
    let mut recorded: HashSet<(String, String)> = HashSet::new();
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let Ok(listed) = s3.list_objects_v2().bucket(&bucket).send().await else { continue };
        for object in listed.contents() {
            let (Some(key), Some(etag)) = (object.key(), object.e_tag()) else { continue };
            let seen = (key.to_owned(), etag.to_owned());
            if recorded.contains(&seen) {
                continue;
            }
            let size = object.size().unwrap_or_default() as usize;
            let record = samples::s3_record(&bucket, key, size, &format!("{:016X}", recorded.len()));
            let answer = prevalidate.invoke(samples::s3_event(vec![record])).await;
            if answer.is_ok_and(|a| a["outcomes"].as_array().is_some_and(|o| !o.is_empty())) {
                recorded.insert(seen);
            }
        }
    }
}

/// EventBridge's schedule (`revalidate-schedule.json`) and the sweep queue's event source.
async fn run_sweeps(sweep: Sweep, revalidate: Arc<Function>, every: Duration) {
    let schedule: Value = crate::events::event("revalidate-schedule.json");
    loop {
        tokio::time::sleep(every).await;
        if revalidate.invoke(schedule.clone()).await.is_err() {
            continue;
        }
        // A message whose checks were inconclusive stays queued for its retry (a later round).
        for _ in 0..1000 {
            if sweep.queue_depth().await.0 == 0 {
                break;
            }
            sweep.deliver(&revalidate).await;
        }
    }
}
