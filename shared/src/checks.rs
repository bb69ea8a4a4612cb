//! The validation checks: run by the API (attach, refresh), the sweep and the dataset check.
//! Each says what it proved or what is wrong and exactly how to fix it. Later checks are skipped,
//! with the reason, when an earlier one makes them meaningless.

use std::time::{Duration, Instant, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_sts::error::ProvideErrorMetadata;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::arn::RoleArn;
use crate::external_id::ExternalId;
use crate::ids::IntegrationId;
use crate::integration::{Connection, Status};
use crate::region::Region;
use crate::sts::assume_role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    Fail,
    Warn,
    Skip,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub name: String,
    pub status: CheckStatus,
    pub code: String,
    pub message: String,
    pub remediation: Option<String>,
    pub duration_ms: u64,
}

/// The outcome of one run of every check.
#[derive(Debug, Clone)]
pub struct Report {
    pub status: Status,
    pub checks: Vec<CheckResult>,
    pub region: Option<Region>,
}

/// Builds the checks' clients once (per cold start) and runs them for any integration.
#[derive(Clone, Debug)]
pub struct Checker {
    sts: aws_sdk_sts::Client,
    sdk: SdkConfig,
    provider_principal: RoleArn,
    app_origins: Vec<String>,
    path_style: bool,
    http: reqwest::Client,
}

const SESSION_SECONDS: i32 = 900;

struct Timer(Instant, &'static str);

impl Timer {
    fn start(name: &'static str) -> Self {
        Timer(Instant::now(), name)
    }

    fn done(self, status: CheckStatus, code: &str, message: impl Into<String>, remediation: Option<String>) -> CheckResult {
        CheckResult {
            name: self.1.to_owned(),
            status,
            code: code.to_owned(),
            message: message.into(),
            remediation,
            duration_ms: self.0.elapsed().as_millis() as u64,
        }
    }
}

fn skipped(name: &str, reason: &str) -> CheckResult {
    CheckResult { name: name.to_owned(), status: CheckStatus::Skip, code: "SKIPPED".to_owned(), message: reason.to_owned(), remediation: None, duration_ms: 0 }
}

/// S3's answer to GetBucketLocation: empty means us-east-1, `EU` the old name of eu-west-1.
fn region_from_location(constraint: Option<&str>) -> Option<Region> {
    match constraint.unwrap_or_default() {
        "" => Some(Region::us_east_1()),
        "EU" => Region::parse("eu-west-1").ok(),
        other => Region::parse(other).ok(),
    }
}

impl Checker {
    pub fn new(sdk: &SdkConfig, provider_principal: RoleArn, app_origins: Vec<String>, path_style: bool) -> Self {
        Checker {
            sts: aws_sdk_sts::Client::new(sdk),
            sdk: sdk.clone(),
            provider_principal,
            app_origins,
            path_style,
            http: reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("HTTP client"),
        }
    }

    async fn assume(&self, id: &IntegrationId, role: &RoleArn, external_id: Option<&str>) -> Result<Credentials, (String, String)> {
        let c = assume_role(&self.sts, id, role, external_id, SESSION_SECONDS).await.map_err(|e| (e.code, e.message))?;
        let expiry = SystemTime::try_from(c.expiration).ok();
        Ok(Credentials::new(c.access_key_id, c.secret_access_key, Some(c.session_token), expiry, "bucketlink-checks"))
    }

    fn s3(&self, credentials: Credentials, region: &Region) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk)
            .credentials_provider(credentials)
            .region(aws_config::Region::new(region.to_string()))
            .force_path_style(self.path_style)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    pub async fn run(&self, id: &IntegrationId, external_id: &ExternalId, conn: &Connection) -> Report {
        let mut checks = Vec::with_capacity(6);
        let (assumed, result) = self.role_assumable(id, external_id, conn).await;
        checks.push(result);
        let Some(credentials) = assumed else {
            for name in ["external_id_required", "bucket_region", "list_objects", "object_read", "cors"] {
                checks.push(skipped(name, "Skipped: the role could not be assumed."));
            }
            return Report { status: Status::Failing, checks, region: None };
        };
        let insecure = self.external_id_required(id, external_id, conn).await;
        let is_insecure = insecure.status == CheckStatus::Fail;
        checks.push(insecure);
        if is_insecure {
            for name in ["bucket_region", "list_objects", "object_read", "cors"] {
                checks.push(skipped(name, "Skipped: no data is read through a role that does not require our external ID."));
            }
            return Report { status: Status::Insecure, checks, region: None };
        }
        let (region, result) = self.bucket_region(credentials.clone(), conn).await;
        checks.push(result);
        let Some(region) = region else {
            for name in ["list_objects", "object_read", "cors"] {
                checks.push(skipped(name, "Skipped: the bucket's region is unknown."));
            }
            return Report { status: Status::Failing, checks, region: None };
        };
        let s3 = self.s3(credentials, &region);
        let (sample, result) = self.list_objects(&s3, conn).await;
        checks.push(result);
        let probe_key = sample.clone().unwrap_or_else(|| format!("{}bucketlink-cors-probe", conn.prefix));
        let signed = self.presign(&s3, conn, &probe_key).await;
        let read = match (&sample, &signed) {
            (Some(key), Ok(url)) => self.object_read(url, key, conn).await,
            (None, _) => skipped("object_read", "Skipped: no object was found to read (the prefix is empty or listing is denied)."),
            (_, Err(e)) => Timer::start("object_read").done(CheckStatus::Fail, "SIGNING_FAILED", format!("Could not sign a URL: {e}"), None),
        };
        // A GET that S3 refuses says nothing about CORS: then only the preflight is judged.
        let readable = read.status == CheckStatus::Pass;
        checks.push(read);
        match &signed {
            Ok(url) => checks.push(self.cors(url, readable).await),
            Err(_) => checks.push(skipped("cors", "Skipped: no URL could be signed.")),
        }
        let status = if checks.iter().any(|c| c.status == CheckStatus::Fail) { Status::Failing } else { Status::Healthy };
        Report { status, checks, region: Some(region) }
    }

    async fn role_assumable(&self, id: &IntegrationId, external_id: &ExternalId, conn: &Connection) -> (Option<Credentials>, CheckResult) {
        let timer = Timer::start("role_assumable");
        let principal = self.provider_principal.as_str();
        let fix = format!(
            "In the role's trust policy, allow \"Principal\": {{\"AWS\": \"{principal}\"}} the action sts:AssumeRole with \"Condition\": {{\"StringEquals\": {{\"sts:ExternalId\": \"{external_id}\"}}}}, and check that the role ARN {} is correct.",
            conn.role_arn
        );
        if conn.role_arn.partition() != self.provider_principal.partition() {
            let message = format!(
                "Role cannot be assumed: the role is in partition {}, but bucketlink runs in {}.",
                conn.role_arn.partition().as_str(),
                self.provider_principal.partition().as_str()
            );
            let fix = format!("Create the role in an AWS account of the {} partition.", self.provider_principal.partition().as_str());
            return (None, timer.done(CheckStatus::Fail, "ROLE_WRONG_PARTITION", message, Some(fix)));
        }
        match self.assume(id, &conn.role_arn, Some(external_id.as_str())).await {
            Ok(credentials) => {
                (Some(credentials), timer.done(CheckStatus::Pass, "ROLE_ASSUMED", "The role was assumed with this integration's external ID.", None))
            }
            Err((code, message)) if code == "RegionDisabledException" => {
                let region = self.sdk.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".to_owned());
                let fix = format!("Your AWS account admin must activate STS in the {region} region (IAM console → Account settings → Security Token Service (STS) → Endpoints).");
                (
                    None,
                    timer.done(
                        CheckStatus::Fail,
                        "STS_REGION_DISABLED",
                        format!("Role cannot be assumed: STS is not activated in {region} for the role's account ({message})."),
                        Some(fix),
                    ),
                )
            }
            Err((code, message)) if code == "AccessDenied" => {
                (None, timer.done(CheckStatus::Fail, "ROLE_CANNOT_BE_ASSUMED", format!("Role cannot be assumed: AWS said \"{message}\"."), Some(fix)))
            }
            Err((code, message)) => {
                (None, timer.done(CheckStatus::Fail, "ROLE_CANNOT_BE_ASSUMED", format!("Role cannot be assumed: STS answered {code}: {message}."), Some(fix)))
            }
        }
    }

    async fn external_id_required(&self, id: &IntegrationId, external_id: &ExternalId, conn: &Connection) -> CheckResult {
        let timer = Timer::start("external_id_required");
        let wrong = ExternalId::generate();
        let without = self.assume(id, &conn.role_arn, None).await;
        let with_wrong = self.assume(id, &conn.role_arn, Some(wrong.as_str())).await;
        if without.is_ok() || with_wrong.is_ok() {
            let how = match (without.is_ok(), with_wrong.is_ok()) {
                (true, true) => "without any external ID and with a wrong one",
                (true, false) => "without any external ID",
                _ => "with a wrong external ID",
            };
            return timer.done(
                CheckStatus::Fail,
                "EXTERNAL_ID_INSECURE",
                format!("External ID configured insecurely: the role can be assumed {how}, so another customer of ours could reach your data."),
                Some(format!(
                    "Add \"Condition\": {{\"StringEquals\": {{\"sts:ExternalId\": \"{external_id}\"}}}} to the trust policy statement that allows {}; no data is read until this is fixed.",
                    self.provider_principal
                )),
            );
        }
        timer.done(CheckStatus::Pass, "EXTERNAL_ID_REQUIRED", "The role refuses to be assumed without our external ID.", None)
    }

    async fn bucket_region(&self, credentials: Credentials, conn: &Connection) -> (Option<Region>, CheckResult) {
        let timer = Timer::start("bucket_region");
        let default_region = self.sdk.region().and_then(|r| Region::parse(r.as_ref()).ok()).unwrap_or_else(Region::us_east_1);
        let s3 = self.s3(credentials, &default_region);
        match s3.get_bucket_location().bucket(conn.bucket.as_str()).send().await {
            Ok(out) => match region_from_location(out.location_constraint().map(|c| c.as_str())) {
                Some(region) => {
                    let message = format!("Bucket {} is in {region}.", conn.bucket);
                    (Some(region), timer.done(CheckStatus::Pass, "BUCKET_REGION", message, None))
                }
                None => (None, timer.done(CheckStatus::Fail, "BUCKET_REGION_UNKNOWN", "S3 reported a region we do not know.", None)),
            },
            Err(e) => {
                let (code, fix) = match e.code() {
                    Some("NoSuchBucket") => ("BUCKET_NOT_FOUND", format!("Check the bucket name {:?}: no such bucket exists.", conn.bucket.as_str())),
                    Some("AccessDenied") => (
                        "BUCKET_LOCATION_DENIED",
                        format!(
                            "Allow \"s3:GetBucketLocation\" on \"arn:{}:s3:::{}\" in the role's permission policy.",
                            conn.role_arn.partition().as_str(),
                            conn.bucket
                        ),
                    ),
                    _ => ("BUCKET_REGION_UNKNOWN", "Retry the validation; if it keeps failing, check the bucket name.".to_owned()),
                };
                let message =
                    format!("Cannot determine the region of bucket {}: {}.", conn.bucket, e.message().unwrap_or(e.code().unwrap_or("request failed")));
                (None, timer.done(CheckStatus::Fail, code, message, Some(fix)))
            }
        }
    }

    async fn list_objects(&self, s3: &aws_sdk_s3::Client, conn: &Connection) -> (Option<String>, CheckResult) {
        let timer = Timer::start("list_objects");
        let listed = s3.list_objects_v2().bucket(conn.bucket.as_str()).prefix(conn.prefix.as_str()).max_keys(50).send().await;
        match listed {
            Ok(out) => {
                // One archived or empty object says nothing about access: read one that can be read.
                let readable =
                    |o: &&aws_sdk_s3::types::Object| !matches!(o.storage_class().map(|c| c.as_str()), Some("GLACIER" | "DEEP_ARCHIVE")) && o.size() != Some(0);
                let sample = out.contents().iter().filter(readable).filter_map(|o| o.key()).find(|k| !k.ends_with('/')).map(str::to_owned);
                let place = if conn.prefix.is_empty() { "in the bucket".to_owned() } else { format!("under {:?}", conn.prefix.as_str()) };
                let message = match &sample {
                    Some(_) => format!("Objects {place} can be listed."),
                    None => format!("Listing works, but there are no objects {place} yet."),
                };
                (sample, timer.done(CheckStatus::Pass, "LIST_ALLOWED", message, None))
            }
            Err(e) if e.code() == Some("AccessDenied") => {
                let mut statement = json!({"Effect": "Allow", "Action": "s3:ListBucket",
                    "Resource": format!("arn:{}:s3:::{}", conn.role_arn.partition().as_str(), conn.bucket)});
                if !conn.prefix.is_empty() {
                    statement["Condition"] = json!({"StringLike": {"s3:prefix": [format!("{}*", conn.prefix)]}});
                }
                let fix = format!("To browse the bucket when importing, add this statement to the role's permission policy: {statement}");
                (
                    None,
                    timer.done(
                        CheckStatus::Warn,
                        "LIST_OBJECTS_DENIED",
                        "The role may not list the bucket: signing works, but browsing the bucket for import does not.",
                        Some(fix),
                    ),
                )
            }
            Err(e) => {
                let message = format!("Listing the bucket failed: {}.", e.message().unwrap_or(e.code().unwrap_or("request failed")));
                (None, timer.done(CheckStatus::Warn, "LIST_OBJECTS_FAILED", message, None))
            }
        }
    }

    async fn presign(&self, s3: &aws_sdk_s3::Client, conn: &Connection, key: &str) -> Result<String, String> {
        let config = PresigningConfig::expires_in(Duration::from_secs(120)).map_err(|e| e.to_string())?;
        let request = s3.get_object().bucket(conn.bucket.as_str()).key(key).presigned(config).await.map_err(|e| e.to_string())?;
        Ok(request.uri().to_owned())
    }

    async fn object_read(&self, url: &str, key: &str, conn: &Connection) -> CheckResult {
        let timer = Timer::start("object_read");
        let response = match self.http.get(url).header("Range", "bytes=0-0").send().await {
            Ok(r) => r,
            Err(e) => return timer.done(CheckStatus::Fail, "CANNOT_ACCESS_DATA_ROW", format!("Cannot access data row: the request failed ({e})."), None),
        };
        let status = response.status().as_u16();
        if matches!(status, 200 | 206) {
            return timer.done(CheckStatus::Pass, "OBJECT_READABLE", format!("Object {key:?} was read through a signed URL."), None);
        }
        let body = response.text().await.unwrap_or_default();
        let s3_code = body.split("<Code>").nth(1).and_then(|s| s.split("</Code>").next()).unwrap_or("");
        let partition = conn.role_arn.partition().as_str();
        let cause = if s3_code == "InvalidObjectState" {
            "the object is archived (Glacier Flexible Retrieval or Deep Archive): restore it, or keep data rows in a storage class that is readable at once."
                .to_owned()
        } else if s3_code.starts_with("KMS") || body.contains("KMS") {
            match &conn.kms_key_arn {
                Some(key) => format!(
                    "the object is encrypted with a KMS key the role may not use: allow kms:Decrypt on {key} in the role's policy and the key's policy."
                ),
                None => "the object is encrypted with a KMS key: set the integration's kms_key_arn and allow kms:Decrypt on that key.".to_owned(),
            }
        } else {
            format!(
                "the role may not read objects. The permission policy's object resource must end in /* (\"arn:{partition}:s3:::{}/{}*\"), and no bucket policy may deny the role.",
                conn.bucket, conn.prefix
            )
        };
        timer.done(
            CheckStatus::Fail,
            "CANNOT_ACCESS_DATA_ROW",
            format!("Cannot access data row {key:?}: S3 answered {status} {s3_code}."),
            Some(format!("Most likely {cause}")),
        )
    }

    async fn cors(&self, url: &str, object_readable: bool) -> CheckResult {
        let timer = Timer::start("cors");
        let mut wrong = Vec::new();
        for origin in &self.app_origins {
            let preflight =
                self.http.request(reqwest::Method::OPTIONS, url).header("Origin", origin).header("Access-Control-Request-Method", "GET").send().await;
            let allowed =
                |r: &reqwest::Response| r.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()).is_some_and(|v| v == origin || v == "*");
            let mut ok = matches!(&preflight, Ok(r) if r.status().is_success() && allowed(r));
            if ok && object_readable {
                let get = self.http.get(url).header("Origin", origin).header("Range", "bytes=0-0").send().await;
                ok = matches!(&get, Ok(r) if allowed(r));
            }
            if !ok {
                wrong.push(origin.clone());
            }
        }
        if wrong.is_empty() {
            return timer.done(CheckStatus::Pass, "CORS_ALLOWED", format!("The bucket's CORS rules allow {}.", self.app_origins.join(", ")), None);
        }
        let configuration = json!([{
            "AllowedHeaders": ["*"],
            "AllowedMethods": ["GET", "HEAD"],
            "AllowedOrigins": self.app_origins,
            "ExposeHeaders": ["Content-Length", "Content-Range", "Content-Type", "ETag"],
            "MaxAgeSeconds": 3000
        }]);
        timer.done(
            CheckStatus::Fail,
            "INCORRECT_CORS_HEADER",
            format!("Incorrect CORS header: the bucket does not allow requests from {}.", wrong.join(", ")),
            Some(format!("In the S3 console, bucket → Permissions → Cross-origin resource sharing (CORS), set: {configuration}")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_location_answers_map_to_regions() {
        assert_eq!(region_from_location(None), Some(Region::us_east_1()));
        assert_eq!(region_from_location(Some("")), Some(Region::us_east_1()));
        assert_eq!(region_from_location(Some("EU")).unwrap().as_str(), "eu-west-1");
        assert_eq!(region_from_location(Some("ap-south-1")).unwrap().as_str(), "ap-south-1");
        assert_eq!(region_from_location(Some("moon")), None);
    }
}
