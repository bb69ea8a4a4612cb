//! Metrics in CloudWatch's Embedded Metric Format, through the `metrics` facade and
//! `metrics_cloudwatch_embedded`: one catalogue of names, each with its dimensions, which are
//! never a tenant, an integration, a bucket or a key. A function writes them to its log after each
//! invocation (`flush`); CloudWatch turns each document into datapoints in `NAMESPACE`.

use metrics_cloudwatch_embedded::{Builder, Collector};
use tracing_subscriber::filter::LevelFilter;

pub const NAMESPACE: &str = "bucketlink";

/// Checks run, by `Check` and `Code` (the inconclusive ones too: `AWS_UNAVAILABLE`, ...).
pub const CHECKS: &str = "Checks";
/// At each sweep's dispatch: integrations by `Status`, from the table.
pub const INTEGRATIONS: &str = "Integrations";
/// At each sweep's dispatch: integrations whose last checks reached no verdict.
pub const INTEGRATIONS_INCONCLUSIVE: &str = "IntegrationsInconclusive";
/// Sweep messages that reached no verdict: their checks did not (delivered again, or recorded on
/// the last try), or AWS failed the revalidation itself (delivered again).
pub const SWEEP_INCONCLUSIVE: &str = "SweepInconclusive";
/// sign-url: URLs signed, rows refused by `Code`, and each batch's time (milliseconds).
pub const URLS_SIGNED: &str = "UrlsSigned";
pub const ROWS_REFUSED: &str = "RowsRefused";
pub const SIGN_BATCH_MS: &str = "SignBatchMilliseconds";
/// AssumeRole calls on customers' roles, by `Outcome` (`ok`, `refused`, `fault`).
pub const ASSUME_ROLE: &str = "AssumeRole";
/// Prevalidation records written, by `Code`.
pub const RECORDS: &str = "ObjectRecords";
/// The status-change publisher: events put on the bus, how long after their change (ms), and
/// deliveries it could not publish (the stream delivers them again).
pub const EVENTS_PUBLISHED: &str = "EventsPublished";
pub const EVENT_AGE_MS: &str = "EventAgeMilliseconds";
pub const EVENTS_NOT_PUBLISHED: &str = "EventsNotPublished";

/// Every metric, and the dimensions besides `Function` it carries.
pub const CATALOGUE: &[(&str, &[&str])] = &[
    (CHECKS, &["Check", "Code"]),
    (INTEGRATIONS, &["Status"]),
    (INTEGRATIONS_INCONCLUSIVE, &[]),
    (SWEEP_INCONCLUSIVE, &[]),
    (URLS_SIGNED, &[]),
    (ROWS_REFUSED, &["Code"]),
    (SIGN_BATCH_MS, &[]),
    (ASSUME_ROLE, &["Outcome"]),
    (RECORDS, &["Code"]),
    (EVENTS_PUBLISHED, &[]),
    (EVENT_AGE_MS, &[]),
    (EVENTS_NOT_PUBLISHED, &[]),
];

/// Once per cold start: the log subscriber, then this function's metrics collector (`Function`
/// dimension); `None` (and a log line) if a collector is installed already.
pub fn init(function: &'static str) -> Option<&'static Collector> {
    init_logs();
    match Builder::new().cloudwatch_namespace(NAMESPACE).with_dimension("Function", function).init() {
        Ok(collector) => Some(collector),
        Err(e) => {
            tracing::error!(error = %e, "metrics are not collected");
            None
        }
    }
}

/// Logs as Lambda's advanced logging controls ask: JSON when `AWS_LAMBDA_LOG_FORMAT` is `JSON`,
/// at the level `AWS_LAMBDA_LOG_LEVEL` (else `RUST_LOG`, else INFO) names. A level only, not
/// `RUST_LOG`'s per-module directives: those need a regex engine in every package, for a feature
/// nobody uses in Lambda (lambda_runtime's default subscriber brings one).
fn init_logs() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG"));
    let level = level.ok().and_then(|l| l.parse::<LevelFilter>().ok()).unwrap_or(LevelFilter::INFO);
    let logs = tracing_subscriber::fmt().with_target(false).without_time().with_max_level(level);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    // Err only when a subscriber is set already (a test's, say): that one keeps logging.
    let _ = if json { logs.json().try_init() } else { logs.try_init() };
}

/// Runs one invocation's `work`, then writes what it measured to the log.
pub async fn flushed<T>(collector: Option<&'static Collector>, work: impl std::future::Future<Output = T>) -> T {
    let outcome = work.await;
    flush(collector);
    outcome
}

/// Writes what was measured since the last flush to the log, as EMF documents.
fn flush(collector: Option<&'static Collector>) {
    if let Some(collector) = collector {
        if let Err(e) = collector.flush(std::io::stdout()) {
            tracing::warn!(error = %e, "metrics not written");
        }
    }
}
