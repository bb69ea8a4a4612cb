//! Time budgets: how long each answer may take, and the timeouts and retries of every remote
//! call, chosen so that the calls one answer makes fit in its budget.
//!
//! Retries happen at one layer per call: the SDK's standard strategy (exponential backoff with
//! full jitter; throttling retried) inside each call, never our own loop around it. A queue's
//! redelivery (SQS) is the layer above that, with its own backoff.

use std::future::Future;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::SdkConfig;

use crate::fault::{Fault, Service};

/// An attach or refresh answers within this (API Gateway ends an HTTP API call at 30 s).
pub const ATTACH: Duration = Duration::from_secs(20);
/// Every check of one run together; the rest of `ATTACH` is for reading and saving.
pub const CHECKS: Duration = Duration::from_secs(14);
/// One check: its calls' own timeouts normally end it first (a hanging call costs 5 s).
pub const CHECK: Duration = Duration::from_secs(6);
/// A sign-url answer (the web app waits for it to show data rows).
pub const SIGN: Duration = Duration::from_millis(4500);
/// An import check answers within this; inspections stop at `IMPORT_INSPECTIONS`, and the rows
/// not reached by then say so.
pub const IMPORT: Duration = Duration::from_secs(20);
pub const IMPORT_INSPECTIONS: Duration = Duration::from_secs(15);
/// One object inspected for one integration (HEAD, then a ranged GET).
pub const INSPECTION: Duration = Duration::from_secs(8);
/// A sweep dispatch: well inside `revalidate`'s timeout, so a dispatch that cannot finish fails
/// visibly (an error, an alarm) instead of being killed.
pub const DISPATCH: Duration = Duration::from_secs(100);
/// A plain HTTP request to S3 (a presigned URL, a CORS preflight): connect and whole answer.
pub const HTTP_CONNECT: Duration = Duration::from_secs(1);
pub const HTTP_REQUEST: Duration = Duration::from_secs(4);

/// How the AWS SDK calls of a function are bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// sign-url: two short attempts, so that a GetItem and an AssumeRole fit in `SIGN`.
    Interactive,
    /// Everything else: three attempts within 5 s per call.
    Background,
}

impl Profile {
    pub fn timeouts(self) -> TimeoutConfig {
        let (attempt, operation) = match self {
            Profile::Interactive => (Duration::from_millis(1500), Duration::from_secs(2)),
            Profile::Background => (Duration::from_millis(2500), Duration::from_secs(5)),
        };
        TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(1))
            .read_timeout(attempt)
            .operation_attempt_timeout(attempt)
            .operation_timeout(operation)
            .build()
    }

    pub fn retries(self) -> RetryConfig {
        match self {
            Profile::Interactive => {
                RetryConfig::standard().with_max_attempts(2).with_initial_backoff(Duration::from_millis(50)).with_max_backoff(Duration::from_millis(500))
            }
            Profile::Background => {
                RetryConfig::standard().with_max_attempts(3).with_initial_backoff(Duration::from_millis(100)).with_max_backoff(Duration::from_secs(1))
            }
        }
    }

    /// `sdk` with this profile's timeouts and retries: every client built from it has them.
    pub fn apply(self, sdk: &SdkConfig) -> SdkConfig {
        sdk.to_builder().timeout_config(self.timeouts()).retry_config(self.retries()).build()
    }
}

/// The client for plain HTTP requests to S3: bounded, and never following a redirect (a
/// presigned URL answers itself or not at all).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(HTTP_CONNECT)
        .timeout(HTTP_REQUEST)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client with timeouts builds")
}

/// A point in time by which an answer is due; each step takes what is left of it.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Instant);

impl Deadline {
    pub fn after(budget: Duration) -> Self {
        Deadline(Instant::now() + budget)
    }

    /// The earlier of this deadline and `budget` from now: a step's own budget, never past the whole.
    pub fn within(&self, budget: Duration) -> Self {
        Deadline(self.0.min(Instant::now() + budget))
    }

    pub fn remaining(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }

    pub fn passed(&self) -> bool {
        self.remaining().is_zero()
    }

    /// Runs `work` for at most `limit` and never past the deadline; `None` when time ran out.
    pub async fn bound<T>(&self, limit: Duration, work: impl Future<Output = T>) -> Option<T> {
        tokio::time::timeout(limit.min(self.remaining()), work).await.ok()
    }

    /// Runs a call to `service` within what is left; when time runs out, `service` timed out.
    pub async fn call<T, E: From<Fault>>(&self, service: Service, call: impl Future<Output = Result<T, E>>) -> Result<T, E> {
        self.bound(self.remaining(), call).await.unwrap_or_else(|| Err(Fault::TimedOut(service).into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worst case of one call (every attempt times out, with the longest backoffs between)
    /// is cut by the operation timeout, which fits the budgets built on it.
    #[test]
    fn call_timeouts_fit_the_budgets() {
        for profile in [Profile::Interactive, Profile::Background] {
            let t = profile.timeouts();
            let r = profile.retries();
            let operation = t.operation_timeout().unwrap();
            assert!(t.operation_attempt_timeout().unwrap() < operation);
            assert!(r.max_attempts() >= 2, "one retry at least: a lost packet is not an outage");
            assert!(r.max_backoff() < operation);
        }
        let interactive = Profile::Interactive.timeouts().operation_timeout().unwrap();
        assert!(2 * interactive <= SIGN, "a GetItem and an AssumeRole fit in a sign-url answer");
        let background = Profile::Background.timeouts().operation_timeout().unwrap();
        assert!(background < CHECK, "a hanging call ends its check with a fault, not the check's deadline");
        assert!(CHECKS + background <= ATTACH, "the checks and the save fit an attach");
        assert!(ATTACH < Duration::from_secs(29), "API Gateway's limit");
        assert!(IMPORT_INSPECTIONS + background <= IMPORT);
        assert!(HTTP_REQUEST < CHECK);
    }

    /// A presigned URL answers itself: a redirect (to wherever) is not followed.
    #[tokio::test]
    async fn redirects_are_not_followed() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 1024];
            let _ = socket.read(&mut request).await;
            let answer = "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://169.254.169.254/latest/meta-data/\r\nContent-Length: 0\r\n\r\n";
            socket.write_all(answer.as_bytes()).await.unwrap();
        });
        let response = http_client().get(format!("http://{address}/bucket/key")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 307);
    }

    #[tokio::test]
    async fn a_deadline_cuts_work_short() {
        let deadline = Deadline::after(Duration::from_millis(50));
        assert_eq!(deadline.bound(Duration::from_secs(5), async { 7 }).await, Some(7));
        let slow = deadline.bound(Duration::from_secs(5), tokio::time::sleep(Duration::from_secs(5))).await;
        assert_eq!(slow, None);
        assert!(deadline.passed());
    }
}
