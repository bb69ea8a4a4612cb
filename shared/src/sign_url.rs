//! The `sign-url` use case: a batch of object URLs in, signed GET URLs out, in request order.
//! A row that does not name the integration's bucket and prefix is refused with a code, never
//! signed; only an integration whose last checks let data be read is served.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::budget::{self, Deadline};
use crate::error::Error;
use crate::fault::{Failure, Service as Aws};
use crate::ids::TenantId;
use crate::presign::{Endpoint, Target};
use crate::region::Region;
use crate::s3url::{self, Addressing};
use crate::store::Store;
use crate::sts::CredentialCache;
use crate::{telemetry, timestamp};

pub const MAX_URLS: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    pub urls: Vec<String>,
    pub expires_in: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct RowError {
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Row {
    Signed { url: String, signed_url: String, expires_at: String },
    Refused { url: String, error: RowError },
}

#[derive(Debug, Serialize)]
pub struct SignResponse {
    pub results: Vec<Row>,
}

#[derive(Debug)]
pub struct SignService {
    store: Store,
    credentials: CredentialCache,
    endpoint: Endpoint,
    force_path_style: bool,
    default_ttl: Duration,
    max_ttl: Duration,
}

impl SignService {
    pub fn new(store: Store, credentials: CredentialCache, endpoint: Endpoint, force_path_style: bool, default_ttl: Duration, max_ttl: Duration) -> Self {
        SignService { store, credentials, endpoint, force_path_style, default_ttl, max_ttl }
    }

    /// Signs within `budget::SIGN`: when DynamoDB or STS cannot serve in time, the answer is a
    /// fault (503 with `Retry-After`), never a late one.
    pub async fn sign(&self, tenant: &TenantId, id: &str, request: SignRequest) -> Result<SignResponse, Error> {
        let started = std::time::Instant::now();
        let deadline = Deadline::after(budget::SIGN);
        let invalid = |field: &str, message: String| Error::Invalid { field: field.to_owned(), code: "INVALID_FIELD", message };
        if request.urls.is_empty() || request.urls.len() > MAX_URLS {
            return Err(invalid("urls", format!("urls must hold 1 to {MAX_URLS} URLs, got {}", request.urls.len())));
        }
        let requested = match request.expires_in {
            None => self.default_ttl,
            Some(s) if (1..=self.max_ttl.as_secs()).contains(&s) => Duration::from_secs(s),
            Some(s) => return Err(invalid("expires_in", format!("expires_in must be 1 to {} seconds, got {s}", self.max_ttl.as_secs()))),
        };
        let integration = deadline
            .call(Aws::DynamoDb, async { self.store.get(tenant, id).await.map_err(Error::from) })
            .await?
            .ok_or_else(|| Error::NotFound(id.to_owned()))?;
        let Some(conn) = integration.connection().filter(|_| integration.status.serves_data()) else {
            return Err(Error::NotReady { id: id.to_owned(), status: integration.status.as_str() });
        };
        let bucket = &conn.bucket;
        let session = deadline
            .call(Aws::Sts, async {
                self.credentials.session(&integration.id, &conn, &integration.external_id, requested).await.map_err(|failure| match failure {
                    Failure::Fault(fault) => Error::Unavailable(fault),
                    Failure::Refused { code, message } => Error::RoleRefused(format!("Role cannot be assumed: STS answered {code}: {message}")),
                })
            })
            .await?;
        let now = SystemTime::now();
        let lifetime = session.url_lifetime(requested, now);
        let expires_at = timestamp::rfc3339(now + lifetime);
        let region = integration.region.clone().unwrap_or_else(Region::us_east_1);
        let path_style = Addressing::for_bucket(bucket, self.force_path_style) == Addressing::Path;
        let results = request
            .urls
            .into_iter()
            .map(|url| match s3url::parse_for(&url, bucket, &integration.prefix) {
                Ok(object) => {
                    let target = Target { region: region.as_str(), bucket: bucket.as_str(), key: &object.key, path_style };
                    let signed_url = session.signer.presign_get(&self.endpoint, &target, now, lifetime);
                    Row::Signed { url, signed_url, expires_at: expires_at.clone() }
                }
                Err(e) => Row::Refused { url, error: RowError { code: e.code(), message: e.to_string() } },
            })
            .collect::<Vec<Row>>();
        // One increment per batch: a batch is up to a thousand rows, and nearly all are signed.
        let mut signed = 0;
        for row in &results {
            match row {
                Row::Signed { .. } => signed += 1,
                Row::Refused { error, .. } => metrics::counter!(telemetry::ROWS_REFUSED, "Code" => error.code).increment(1),
            }
        }
        metrics::counter!(telemetry::URLS_SIGNED).increment(signed);
        metrics::histogram!(telemetry::SIGN_BATCH_MS).record(started.elapsed().as_secs_f64() * 1000.0);
        Ok(SignResponse { results })
    }
}
