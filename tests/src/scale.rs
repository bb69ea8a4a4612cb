//! A whole health sweep at scale: many integrations across many customer accounts (each its own
//! role, some with a broken policy), one dispatch, and the queue drained by concurrent
//! workers running `sweep::handle_batch` in this process, as Lambda containers would. Measures
//! wall time, this process's CPU time (the emulator is another process), the AWS calls the
//! emulator served, and DynamoDB read units.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;
use bucketlink::arn::RoleArn;
use bucketlink::bucket::BucketName;
use bucketlink::budget::Profile;
use bucketlink::checks::Checker;
use bucketlink::ids::{KeyPrefix, TenantId};
use bucketlink::integration::{Integration, Status};
use bucketlink::integrations::Integrations;
use bucketlink::region::Region;
use bucketlink::store::Store;
use bucketlink::sweep::{dispatch, handle_batch, Delivery};
use futures_util::stream::{self, StreamExt};
use serde_json::Value;

use crate::fixtures::{permission_document, trust_document, unique, Permissions, Trust, APP_ORIGIN};
use crate::{Announcer, Customer, CustomerSpec, Emulator, Provider, Sweep};

#[derive(Debug)]
pub struct Report {
    pub integrations: usize,
    pub accounts: usize,
    pub setup: Duration,
    pub dispatch: Duration,
    pub sweep: Duration,
    /// CPU time of this process (user + system) from dispatch to the last message handled.
    pub cpu: Duration,
    pub processed: usize,
    pub failed_messages: usize,
    pub status_events: usize,
    pub failing: usize,
    /// Calls the emulator served during dispatch and sweep, by action.
    pub calls: Value,
    /// DynamoDB read capacity the sweep's reads would consume on AWS.
    pub read_units: f64,
}

fn cpu_time() -> Duration {
    // utime and stime, fields 14 and 15 of /proc/self/stat, in clock ticks of 1/100 s.
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
    let fields: Vec<u64> = after_name.split_whitespace().skip(11).take(2).filter_map(|f| f.parse().ok()).collect();
    Duration::from_millis(fields.iter().sum::<u64>() * 10)
}

fn delta(after: &Value, before: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for (k, v) in after.as_object().into_iter().flatten() {
        let d = v.as_u64().unwrap_or(0) - before.get(k).and_then(Value::as_u64).unwrap_or(0);
        if d > 0 {
            out.insert(k.clone(), d.into());
        }
    }
    Value::Object(out)
}

async fn create_integration(provider: &Provider, store: &Store, customer: &Customer, n: usize, broken_every: usize) {
    let tenant = TenantId::parse(&format!("tenant-{}", n % 1000)).expect("tenant");
    let mut integration =
        Integration::new(tenant, format!("scale {n}"), Some(BucketName::parse(&customer.bucket).expect("bucket")), KeyPrefix::parse("").expect("prefix"), None);
    let role_name = format!("bucketlink-scale-{n}");
    let iam = aws_sdk_iam::Client::new(&customer.sdk);
    let trust = trust_document(&Trust::ExternalId(integration.external_id.as_str().to_owned()), &provider.role_arn);
    iam.create_role().role_name(&role_name).assume_role_policy_document(trust.to_string()).send().await.expect("create role");
    let permissions = if n % broken_every == broken_every - 1 { Permissions::NoObjectWildcard } else { Permissions::ReadOnly };
    let policy = permission_document(&permissions, &customer.bucket);
    iam.put_role_policy().role_name(&role_name).policy_name("read").policy_document(policy.to_string()).send().await.expect("role policy");
    integration.role_arn = Some(RoleArn::parse(&format!("arn:aws:iam::{}:role/{role_name}", customer.admin.account_id)).expect("role arn"));
    integration.region = Some(Region::us_east_1());
    integration.status = Status::Healthy;
    store.insert(&integration).await.expect("insert integration");
}

/// Builds the scene (every `broken_every`-th integration's role lacks `/*` on its object
/// resource), then runs one sweep with `workers` concurrent queue consumers.
pub async fn run(emu: &Emulator, integrations: usize, accounts: usize, workers: usize, broken_every: usize) -> Report {
    let started = Instant::now();
    let provider = Provider::create(emu).await;
    let table = provider.table().await;
    let sweep = Sweep::create(&provider).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&provider.sdk);
    let store = Store::new(dynamo, &table);
    let mut customers = Vec::with_capacity(accounts);
    for a in 0..accounts {
        let mut spec = CustomerSpec::new(&format!("{}", 910_000_000_000u64 + a as u64), Trust::NoCondition);
        spec.bucket = unique("scale");
        spec.cors_origins = Some(vec![APP_ORIGIN.to_owned()]);
        customers.push(Customer::create(emu, &provider.role_arn, spec).await);
    }
    stream::iter(0..integrations)
        .map(|n| create_integration(&provider, &store, &customers[n % accounts], n, broken_every))
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
    let setup = started.elapsed();

    let principal = RoleArn::parse(&provider.role_arn).expect("provider role");
    // The clients a function builds: the same timeouts and retries.
    let sdk = Profile::Background.apply(&provider.sdk);
    let checker = Checker::new(&sdk, aws_sdk_sts::Client::new(&sdk), bucketlink::budget::http_client(), principal.clone(), vec![APP_ORIGIN.to_owned()], true);
    let service = Integrations::new(store.clone(), checker, principal);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let announcer = Announcer::start(&provider, &emu.endpoint, &table, &sweep).await;
    announcer.pump().await;

    let calls_before = emu.calls().await;
    let cpu_before = cpu_time();
    let t0 = Instant::now();
    let summary = dispatch(&store, &sqs, &sweep.queue_url).await.expect("dispatch");
    let dispatch_time = t0.elapsed();
    let processed = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let worker = |_: usize| async {
        let deadline = Instant::now() + Duration::from_secs(3600);
        while processed.load(Ordering::Relaxed) < summary.dispatched && Instant::now() < deadline {
            let out = sqs
                .receive_message()
                .queue_url(&sweep.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount)
                .send()
                .await
                .expect("receive");
            let messages = out.messages.unwrap_or_default();
            if messages.is_empty() {
                continue;
            }
            let batch = messages
                .iter()
                .map(|m| Delivery {
                    message_id: m.message_id().unwrap_or_default().to_owned(),
                    receipt_handle: m.receipt_handle().map(str::to_owned),
                    body: m.body().map(str::to_owned),
                    receive_count: m
                        .attributes()
                        .and_then(|a| a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount))
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(1),
                })
                .collect();
            let failures = handle_batch(&service, &sqs, &sweep.queue_url, 5, batch).await;
            failed.fetch_add(failures.len(), Ordering::Relaxed);
            let done: Vec<_> = messages
                .iter()
                .filter(|m| !failures.iter().any(|f| Some(f.as_str()) == m.message_id()))
                .enumerate()
                .map(|(n, m)| {
                    DeleteMessageBatchRequestEntry::builder().id(n.to_string()).receipt_handle(m.receipt_handle().unwrap_or_default()).build().expect("entry")
                })
                .collect();
            processed.fetch_add(done.len(), Ordering::Relaxed);
            if !done.is_empty() {
                sqs.delete_message_batch().queue_url(&sweep.queue_url).set_entries(Some(done)).send().await.expect("delete");
            }
        }
    };
    futures_util::future::join_all((0..workers).map(worker)).await;
    let sweep_time = t0.elapsed();
    let cpu = cpu_time().saturating_sub(cpu_before);
    // The stream's relay announces the changes (in its own process, not counted as our CPU).
    announcer.pump().await;
    let calls = delta(&emu.calls().await, &calls_before);

    let all = store.with_buckets().await.expect("read back");
    let failing = all.iter().filter(|i| i.status == Status::Failing).count();
    let status_events = sweep.events().await.len();
    // On AWS: the scan reads every index item once, eventually consistent (0.5 unit per 4 KB of
    // data read, summed per page); each revalidation's GetItem is strongly consistent (1 unit per
    // 4 KB, rounded up per item), counted as the emulator served them (redeliveries included).
    let item_bytes: Vec<usize> = all.iter().map(|i| serde_json::to_string(i).map(|s| s.len() + 200).unwrap_or(4096)).collect();
    let scan_units = item_bytes.iter().sum::<usize>() as f64 / 4096.0 * 0.5;
    let units_per_get = item_bytes.iter().map(|b| b.div_ceil(4096)).sum::<usize>() as f64 / item_bytes.len().max(1) as f64;
    let get_units = calls.get("dynamodb:GetItem").and_then(Value::as_u64).unwrap_or(0) as f64 * units_per_get;
    Report {
        integrations,
        accounts,
        setup,
        dispatch: dispatch_time,
        sweep: sweep_time,
        cpu,
        processed: processed.into_inner(),
        failed_messages: failed.into_inner(),
        status_events,
        failing,
        calls,
        read_units: scan_units + get_units,
    }
}
