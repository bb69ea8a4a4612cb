//! The validation checks: run by the API (attach, refresh), the sweep and the dataset check.
//! Each says what it proved or what is wrong and exactly how to fix it. Later checks are skipped,
//! with the reason, when an earlier one makes them meaningless.
//!
//! A check reaches a verdict (pass, fail, warn) only from an answer about the customer's setup.
//! When AWS or the network fails it instead, or the check runs out of time, its status is
//! `error`: it names the service, asks nothing of the customer, and the run reaches no verdict
//! unless another check failed on its own evidence.

use std::time::{Duration, Instant, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_sdk_s3::presigning::PresigningConfig;
use serde_json::json;

use crate::arn::RoleArn;
use crate::aws::Clients;
use crate::bucket::BucketName;
use crate::budget::{self, Deadline};
use crate::config::Config;
use crate::external_id::ExternalId;
use crate::fault::{self, Failure, Fault, Service};
use crate::ids::IntegrationId;
use crate::integration::{CheckResult, CheckStatus, Connection, Status};
use crate::refusal::Refusal;
use crate::region::Region;
use crate::rotation::ExternalIds;
use crate::sts::assume_role;
use crate::telemetry;

/// The outcome of one run of every check.
#[derive(Debug, Clone)]
pub struct CheckRun {
    /// The status the evidence proves; `None` when the run reached no verdict.
    pub verdict: Option<Status>,
    pub checks: Vec<CheckResult>,
    pub region: Option<Region>,
    /// The role accepted a rotation's new external ID (the run used it).
    pub new_external_id_accepted: bool,
    /// Why the new external ID could not be tried (AWS failing, or no time left): not the role's answer.
    pub new_external_id_fault: Option<Fault>,
}

/// What the checks prove together: a failure proven on its own evidence decides (`insecure` for
/// the external ID, or a retired one still accepted), otherwise any check without a verdict leaves the run without one, and only
/// a run where every check reached its verdict is `healthy`.
fn verdict(checks: &[CheckResult]) -> Option<Status> {
    let failed = |name: Option<&str>| checks.iter().any(|c| c.status == CheckStatus::Fail && name.is_none_or(|n| c.name == n));
    // A role that takes a retired ID is insecure; one that takes only the retired ID fails first.
    if failed(Some("external_id_required")) || (failed(Some(ROTATION)) && !failed(Some("role_assumable"))) {
        Some(Status::Insecure)
    } else if failed(None) {
        Some(Status::Failing)
    } else if checks.iter().any(|c| c.status == CheckStatus::Error) {
        None
    } else {
        Some(Status::Healthy)
    }
}

/// What runs the checks of a connection: `Checker` against AWS; a scripted one in the use
/// cases' unit tests.
pub trait Checks: Send + Sync {
    /// Every check, within `budget::CHECKS` and never past `deadline` (the caller's answer).
    fn run(&self, id: &IntegrationId, ids: &ExternalIds, conn: &Connection, deadline: Deadline) -> impl std::future::Future<Output = CheckRun> + Send;
}

impl Checks for Checker {
    async fn run(&self, id: &IntegrationId, ids: &ExternalIds, conn: &Connection, deadline: Deadline) -> CheckRun {
        Checker::run(self, id, ids, conn, deadline).await
    }
}

/// Builds the checks' clients once (per cold start) and runs them for any integration.
#[derive(Clone, Debug)]
pub struct Checker {
    sts: aws_sdk_sts::Client,
    /// During a migration: the next principal, and STS as it.
    next: Option<(RoleArn, aws_sdk_sts::Client)>,
    sdk: SdkConfig,
    provider_principal: RoleArn,
    app_origins: Vec<String>,
    path_style: bool,
    http: reqwest::Client,
}

const CHECK_SESSION_SECONDS: i32 = 900;

/// The checks, in the order they run.
pub const NAMES: [&str; 6] = ["role_assumable", "external_id_required", "bucket_region", "list_objects", "object_read", "cors"];
/// The check of an external ID rotation, after those, while one runs or once one has ended.
pub const ROTATION: &str = "external_id_rotation";
/// During a migration to a new principal, last: whether the role trusts it too.
pub const NEXT_PRINCIPAL: &str = "next_provider_principal";

/// Runs one check within `budget::CHECK` and what is left of the run's deadline; a check cut
/// short gives `None` for its value and a `CHECK_TIMED_OUT` result.
async fn within<T>(
    deadline: &Deadline,
    name: &'static str,
    service: Service,
    check: impl std::future::Future<Output = (T, CheckResult)>,
) -> (Option<T>, CheckResult) {
    let started = Instant::now();
    match deadline.bound(budget::CHECK, check).await {
        Some((value, result)) => (Some(value), result),
        None => (None, timed_out(name, service, started)),
    }
}

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

    /// AWS failed this check: no verdict, and nothing for the customer to do.
    fn inconclusive(self, fault: &Fault) -> CheckResult {
        self.done(CheckStatus::Error, fault.code(), format!("{fault}, so this check reached no verdict."), Some(NOTHING_TO_DO.to_owned()))
    }
}

const NOTHING_TO_DO: &str =
    "Nothing to do on your side: this says nothing about your setup. The check runs again with the next health sweep, or press refresh in a few minutes.";

/// A check that could not run for a reason of ours: skipped, and said so.
fn unchecked(result: CheckResult) -> CheckResult {
    CheckResult {
        status: CheckStatus::Skip,
        code: "NEXT_PRINCIPAL_UNCHECKED".to_owned(),
        message: format!("Not checked this time: bucketlink could not act as its next principal ({}).", result.message.trim_end_matches('.')),
        remediation: Some(NOTHING_TO_DO.to_owned()),
        ..result
    }
}

fn skipped(name: &str, reason: &str) -> CheckResult {
    CheckResult { name: name.to_owned(), status: CheckStatus::Skip, code: "SKIPPED".to_owned(), message: reason.to_owned(), remediation: None, duration_ms: 0 }
}

/// A check that did not finish in time (its calls' own timeouts normally end it first).
fn timed_out(name: &'static str, service: Service, started: Instant) -> CheckResult {
    Timer(started, name).done(
        CheckStatus::Error,
        "CHECK_TIMED_OUT",
        format!("The check did not finish within {} s: {service} answered too slowly, so it reached no verdict.", budget::CHECK.as_secs()),
        Some(NOTHING_TO_DO.to_owned()),
    )
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
    /// Checks with `sts` (as the principal customers trust, `provider_principal`).
    pub fn new(
        sdk: &SdkConfig,
        sts: aws_sdk_sts::Client,
        http: reqwest::Client,
        provider_principal: RoleArn,
        app_origins: Vec<String>,
        path_style: bool,
    ) -> Self {
        Checker { sts, next: None, sdk: sdk.clone(), provider_principal, app_origins, path_style, http }
    }

    /// The checker of a function, from its clients and configuration.
    pub fn from_clients(clients: &Clients, config: &Config) -> Self {
        let mut checker = Checker::new(
            &clients.sdk,
            clients.sts.clone(),
            clients.http.clone(),
            config.provider_role_arn.clone(),
            config.app_origins.clone(),
            config.s3_path_style,
        );
        if let (Some(next), Some(sts)) = (&config.next_provider_role_arn, &clients.next_sts) {
            checker.next = Some((next.clone(), sts.clone()));
        }
        checker
    }

    async fn assume(&self, id: &IntegrationId, conn: &Connection, external_id: Option<&str>) -> Result<Credentials, Failure> {
        let c = assume_role(&self.sts, id, &conn.role_arn, external_id, &conn.session_policy(), CHECK_SESSION_SECONDS).await?;
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

    /// Every check, within `budget::CHECKS` and `deadline`; each check within `budget::CHECK`. A rotation's
    /// new external ID is probed first (once the role accepts it, the whole run uses it), a
    /// retired one last.
    pub async fn run(&self, id: &IntegrationId, ids: &ExternalIds, conn: &Connection, deadline: Deadline) -> CheckRun {
        let deadline = deadline.within(budget::CHECKS);
        let mut rotation = None;
        let mut active = &ids.active;
        let mut new_external_id_fault = None;
        if let Some(new) = &ids.pending {
            let (fault, result) = within(&deadline, ROTATION, Service::Sts, self.new_external_id(id, new, &ids.active, conn)).await;
            if result.status == CheckStatus::Pass {
                active = new;
            }
            new_external_id_fault = fault.unwrap_or(Some(Fault::TimedOut(Service::Sts)));
            rotation = Some(result);
        }
        let mut run = self.six(&deadline, id, active, conn).await;
        run.new_external_id_fault = new_external_id_fault;
        if let Some(old) = &ids.retired {
            rotation = Some(within(&deadline, ROTATION, Service::Sts, async { ((), self.old_external_id(id, old, active, conn).await) }).await.1);
        }
        run.new_external_id_accepted = ids.pending.as_ref() == Some(active);
        if let Some(result) = rotation {
            run.checks.push(result);
            run.verdict = verdict(&run.checks);
        }
        if let Some((next, sts)) = &self.next {
            let result = within(&deadline, NEXT_PRINCIPAL, Service::Sts, async { ((), self.next_principal(next, sts, id, active, conn).await) }).await.1;
            // Whether our next principal is trusted yet changes nothing today: never a verdict.
            run.checks.push(if result.status == CheckStatus::Error { unchecked(result) } else { result });
        }
        for check in &run.checks {
            metrics::counter!(telemetry::CHECKS, "Check" => check.name.clone(), "Code" => check.code.clone()).increment(1);
        }
        run
    }

    async fn next_principal(&self, next: &RoleArn, sts: &aws_sdk_sts::Client, id: &IntegrationId, external_id: &ExternalId, conn: &Connection) -> CheckResult {
        let timer = Timer::start(NEXT_PRINCIPAL);
        match assume_role(sts, id, &conn.role_arn, Some(external_id.as_str()), &conn.session_policy(), CHECK_SESSION_SECONDS).await {
            Ok(_) => timer.done(
                CheckStatus::Pass,
                "NEXT_PRINCIPAL_TRUSTED",
                format!("The role trusts bucketlink's next principal {next} too: nothing changes for you when bucketlink switches to it."),
                None,
            ),
            Err(Failure::Refused { code, .. }) if code == "AccessDenied" => timer.done(
                CheckStatus::Warn,
                "NEXT_PRINCIPAL_NOT_TRUSTED",
                format!("The role does not trust bucketlink's next principal {next} yet: once bucketlink switches to it, the role would refuse us."),
                Some(format!(
                    "In the role's trust policy, set \"Principal\": {{\"AWS\": [\"{}\", \"{next}\"]}} (the setup shows the whole policy); keep the sts:ExternalId condition.",
                    self.provider_principal
                )),
            ),
            Err(Failure::Refused { code, message }) => timer.inconclusive(&Fault::unavailable(Service::Sts, format!("{code}: {message}"))),
            Err(Failure::Fault(fault)) => timer.inconclusive(&fault),
        }
    }

    async fn six(&self, deadline: &Deadline, id: &IntegrationId, external_id: &ExternalId, conn: &Connection) -> CheckRun {
        let deadline = *deadline;
        let mut checks = Vec::with_capacity(6);
        let skip_rest = |checks: &mut Vec<CheckResult>, reason: &str| {
            for name in NAMES.iter().skip(checks.len()) {
                checks.push(skipped(name, reason));
            }
        };

        let (assumed, result) = within(&deadline, "role_assumable", Service::Sts, self.role_assumable(id, external_id, conn)).await;
        let reached = result.status != CheckStatus::Error;
        checks.push(result);
        let Some(credentials) = assumed.flatten() else {
            let reason = if reached { "Skipped: the role could not be assumed." } else { "Skipped: whether the role can be assumed is not known yet." };
            skip_rest(&mut checks, reason);
            return CheckRun { verdict: verdict(&checks), checks, region: None, new_external_id_accepted: false, new_external_id_fault: None };
        };

        let (_, insecure) =
            within(&deadline, "external_id_required", Service::Sts, async { ((), self.external_id_required(id, external_id, conn).await) }).await;
        let status = insecure.status;
        checks.push(insecure);
        match status {
            CheckStatus::Fail => skip_rest(&mut checks, "Skipped: no data is read through a role that does not require our external ID."),
            CheckStatus::Error => skip_rest(&mut checks, "Skipped: no data is read until the role is known to require our external ID."),
            _ => {}
        }
        if checks.len() == NAMES.len() {
            return CheckRun { verdict: verdict(&checks), checks, region: None, new_external_id_accepted: false, new_external_id_fault: None };
        }

        let (region, result) = within(&deadline, "bucket_region", Service::S3, self.bucket_region(credentials.clone(), conn)).await;
        let reached = result.status != CheckStatus::Error;
        checks.push(result);
        let Some(region) = region.flatten() else {
            skip_rest(&mut checks, if reached { "Skipped: the bucket's region is unknown." } else { "Skipped: the bucket's region is not known yet." });
            return CheckRun { verdict: verdict(&checks), checks, region: None, new_external_id_accepted: false, new_external_id_fault: None };
        };

        let s3 = self.s3(credentials, &region);
        let (sample, result) = within(&deadline, "list_objects", Service::S3, self.list_objects(&s3, conn)).await;
        let sample = sample.flatten();
        checks.push(result);
        let probe_key = sample.clone().unwrap_or_else(|| format!("{}bucketlink-cors-probe", conn.prefix));
        let signed = self.presign(&s3, conn, &probe_key).await;
        let read = match (&sample, &signed) {
            (Some(key), Ok(url)) => within(&deadline, "object_read", Service::S3, async { ((), self.object_read(url, key, conn).await) }).await.1,
            (None, _) if checks.last().is_some_and(|c| c.status == CheckStatus::Error) => {
                skipped("object_read", "Skipped: the bucket could not be listed to find an object to read.")
            }
            (None, _) => skipped("object_read", "Skipped: no object was found to read (the prefix is empty or listing is denied)."),
            (_, Err(e)) => Timer::start("object_read").done(CheckStatus::Fail, "SIGNING_FAILED", format!("Could not sign a URL: {e}"), None),
        };
        // A GET that S3 refuses says nothing about CORS: then only the preflight is judged.
        let readable = read.status == CheckStatus::Pass;
        checks.push(read);
        match &signed {
            Ok(url) => checks.push(within(&deadline, "cors", Service::S3, async { ((), self.cors(url, &conn.bucket, readable).await) }).await.1),
            Err(_) => checks.push(skipped("cors", "Skipped: no URL could be signed.")),
        }
        CheckRun { verdict: verdict(&checks), checks, region: Some(region), new_external_id_accepted: false, new_external_id_fault: None }
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
        match self.assume(id, conn, Some(external_id.as_str())).await {
            Ok(credentials) => {
                (Some(credentials), timer.done(CheckStatus::Pass, "ROLE_ASSUMED", "The role was assumed with this integration's external ID.", None))
            }
            Err(Failure::Fault(fault)) => (None, timer.inconclusive(&fault)),
            Err(Failure::Refused { code, message }) if code == "RegionDisabledException" => {
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
            Err(Failure::Refused { code, message }) if code == "AccessDenied" => {
                (None, timer.done(CheckStatus::Fail, "ROLE_CANNOT_BE_ASSUMED", format!("Role cannot be assumed: AWS said \"{message}\"."), Some(fix)))
            }
            Err(Failure::Refused { code, message }) => {
                (None, timer.done(CheckStatus::Fail, "ROLE_CANNOT_BE_ASSUMED", format!("Role cannot be assumed: STS answered {code}: {message}."), Some(fix)))
            }
        }
    }

    async fn external_id_required(&self, id: &IntegrationId, external_id: &ExternalId, conn: &Connection) -> CheckResult {
        let timer = Timer::start("external_id_required");
        let wrong = ExternalId::generate();
        let (without, with_wrong) = tokio::join!(self.assume(id, conn, None), self.assume(id, conn, Some(wrong.as_str())));
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
        // Both probes must be refused by the role itself; a fault proves nothing either way.
        if let Some(Err(Failure::Fault(fault))) = [without, with_wrong].into_iter().find(|r| matches!(r, Err(Failure::Fault(_)))) {
            return timer.inconclusive(&fault);
        }
        timer.done(CheckStatus::Pass, "EXTERNAL_ID_REQUIRED", "The role refuses to be assumed without our external ID.", None)
    }

    /// Whether the role takes the new ID, and the fault when AWS did not let us know.
    async fn new_external_id(&self, id: &IntegrationId, new: &ExternalId, old: &ExternalId, conn: &Connection) -> (Option<Fault>, CheckResult) {
        let timer = Timer::start(ROTATION);
        let result = match self.assume(id, conn, Some(new.as_str())).await {
            Ok(_) => timer.done(
                CheckStatus::Pass,
                "NEW_EXTERNAL_ID_ACCEPTED",
                "The role accepts the new external ID: the checks and signing use it from now on. Complete the rotation once the role no longer accepts the old one.",
                None,
            ),
            Err(Failure::Fault(fault)) => return (Some(fault.clone()), timer.inconclusive(&fault)),
            Err(Failure::Refused { .. }) => timer.done(
                CheckStatus::Warn,
                "NEW_EXTERNAL_ID_NOT_ACCEPTED",
                "The role does not accept the new external ID yet; the old one is used until it does.",
                Some(format!(
                    "In the role's trust policy, set \"Condition\": {{\"StringEquals\": {{\"sts:ExternalId\": [\"{new}\", \"{old}\"]}}}} (both IDs, for the rotation's window), then run the checks again."
                )),
            ),
        };
        (None, result)
    }

    async fn old_external_id(&self, id: &IntegrationId, old: &ExternalId, active: &ExternalId, conn: &Connection) -> CheckResult {
        let timer = Timer::start(ROTATION);
        match self.assume(id, conn, Some(old.as_str())).await {
            Ok(_) => timer.done(
                CheckStatus::Fail,
                "OLD_EXTERNAL_ID_ACCEPTED",
                format!("The role still accepts the external ID the rotation retired ({old}): whoever knows it can still use the role."),
                Some(format!(
                    "In the role's trust policy, remove \"{old}\" from the sts:ExternalId condition, leaving \"Condition\": {{\"StringEquals\": {{\"sts:ExternalId\": \"{active}\"}}}}; no data is read until then."
                )),
            ),
            Err(Failure::Fault(fault)) => timer.inconclusive(&fault),
            Err(Failure::Refused { .. }) => timer.done(CheckStatus::Pass, "OLD_EXTERNAL_ID_REFUSED", "The role refuses the external ID the rotation retired.", None),
        }
    }

    async fn bucket_region(&self, credentials: Credentials, conn: &Connection) -> (Option<Region>, CheckResult) {
        let timer = Timer::start("bucket_region");
        let default_region = self.sdk.region().and_then(|r| Region::parse(r.as_ref()).ok()).unwrap_or_else(Region::us_east_1);
        let s3 = self.s3(credentials, &default_region);
        let err = match s3.get_bucket_location().bucket(conn.bucket.as_str()).send().await {
            Ok(out) => {
                return match region_from_location(out.location_constraint().map(|c| c.as_str())) {
                    Some(region) => {
                        let message = format!("Bucket {} is in {region}.", conn.bucket);
                        (Some(region), timer.done(CheckStatus::Pass, "BUCKET_REGION", message, None))
                    }
                    None => (None, timer.done(CheckStatus::Fail, "BUCKET_REGION_UNKNOWN", "S3 reported a region we do not know.", None)),
                };
            }
            Err(e) => fault::of_sdk(Service::S3, &e),
        };
        let (s3_code, message) = match err {
            Failure::Fault(fault) => return (None, timer.inconclusive(&fault)),
            Failure::Refused { code, message } => (code, message),
        };
        let (code, fix) = match s3_code.as_str() {
            "NoSuchBucket" => ("BUCKET_NOT_FOUND", format!("Check the bucket name {:?}: no such bucket exists.", conn.bucket.as_str())),
            "AccessDenied" => (
                "BUCKET_LOCATION_DENIED",
                format!(
                    "Allow \"s3:GetBucketLocation\" on \"arn:{}:s3:::{}\" in the role's permission policy.",
                    conn.role_arn.partition().as_str(),
                    conn.bucket
                ),
            ),
            _ => ("BUCKET_REGION_UNKNOWN", "Check the bucket name, then retry the validation.".to_owned()),
        };
        let message = format!("Cannot determine the region of bucket {}: {message}.", conn.bucket);
        (None, timer.done(CheckStatus::Fail, code, message, Some(fix)))
    }

    async fn list_objects(&self, s3: &aws_sdk_s3::Client, conn: &Connection) -> (Option<String>, CheckResult) {
        let timer = Timer::start("list_objects");
        let listed = s3.list_objects_v2().bucket(conn.bucket.as_str()).prefix(conn.prefix.as_str()).max_keys(50).send().await;
        let failure = match listed {
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
                return (sample, timer.done(CheckStatus::Pass, "LIST_ALLOWED", message, None));
            }
            Err(e) => fault::of_sdk(Service::S3, &e),
        };
        match failure {
            Failure::Fault(fault) => (None, timer.inconclusive(&fault)),
            Failure::Refused { code, .. } if code == "AccessDenied" => {
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
            Failure::Refused { message, .. } => {
                (None, timer.done(CheckStatus::Warn, "LIST_OBJECTS_FAILED", format!("Listing the bucket failed: {message}."), None))
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
            Err(e) => return timer.inconclusive(&fault::of_http(Service::S3, &e)),
        };
        let status = response.status().as_u16();
        if matches!(status, 200 | 206) {
            return timer.done(CheckStatus::Pass, "OBJECT_READABLE", format!("Object {key:?} was read through a signed URL."), None);
        }
        let body = match response.text().await {
            Ok(body) => body,
            Err(e) => return timer.inconclusive(&fault::of_http(Service::S3, &e)),
        };
        let s3_code = crate::refusal::s3_error_code(&body);
        if let Some(fault) = fault::of_status(Service::S3, status, s3_code) {
            return timer.inconclusive(&fault);
        }
        // One reading of S3's refusal for the checks and the inspections (`refusal`).
        let fix = Refusal::of(status, &body).unwrap_or(Refusal::AccessDenied).fix(conn, None, None);
        timer.done(CheckStatus::Fail, "CANNOT_ACCESS_DATA_ROW", format!("Cannot access data row {key:?}: S3 answered {status} {s3_code}."), Some(fix))
    }

    /// Whether `origin` may read `url` from a browser: the preflight, and (when S3 lets the
    /// object be read at all) the GET's own CORS header. `Err` when S3 did not answer properly.
    async fn origin_allowed(&self, url: &str, origin: &str, object_readable: bool) -> Result<bool, Fault> {
        let allowed =
            |r: &reqwest::Response| r.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()).is_some_and(|v| v == origin || v == "*");
        let answered = |r: reqwest::Result<reqwest::Response>| -> Result<reqwest::Response, Fault> {
            let r = r.map_err(|e| fault::of_http(Service::S3, &e))?;
            match fault::of_status(Service::S3, r.status().as_u16(), "") {
                Some(fault) => Err(fault),
                None => Ok(r),
            }
        };
        let preflight =
            answered(self.http.request(reqwest::Method::OPTIONS, url).header("Origin", origin).header("Access-Control-Request-Method", "GET").send().await)?;
        if !(preflight.status().is_success() && allowed(&preflight)) {
            return Ok(false);
        }
        if !object_readable {
            return Ok(true);
        }
        let get = answered(self.http.get(url).header("Origin", origin).header("Range", "bytes=0-0").send().await)?;
        Ok(allowed(&get))
    }

    async fn cors(&self, url: &str, bucket: &BucketName, object_readable: bool) -> CheckResult {
        let timer = Timer::start("cors");
        let mut wrong = Vec::new();
        let mut fault = None;
        for origin in &self.app_origins {
            match self.origin_allowed(url, origin, object_readable).await {
                Ok(true) => {}
                Ok(false) => wrong.push(origin.clone()),
                Err(f) => fault = Some(f),
            }
        }
        if wrong.is_empty() {
            if let Some(fault) = fault {
                return timer.inconclusive(&fault);
            }
            return timer.done(CheckStatus::Pass, "CORS_ALLOWED", format!("The bucket's CORS rules allow {}.", self.app_origins.join(", ")), None);
        }
        let rules = crate::policy::cors_rules(&self.app_origins);
        let command = crate::policy::cors_cli_command(bucket.as_str(), &self.app_origins);
        timer.done(
            CheckStatus::Fail,
            "INCORRECT_CORS_HEADER",
            format!("Incorrect CORS header: the bucket does not allow requests from {}.", wrong.join(", ")),
            Some(format!(
                "In the S3 console, bucket → Permissions → Cross-origin resource sharing (CORS), set: {rules}\nOr with the AWS CLI (this replaces the bucket's CORS rules; add any you keep to the list): {command}"
            )),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &str, status: CheckStatus) -> CheckResult {
        CheckResult { name: name.to_owned(), status, code: String::new(), message: String::new(), remediation: None, duration_ms: 0 }
    }

    #[test]
    fn only_evidence_decides_the_status() {
        use CheckStatus::*;
        let run = |statuses: [CheckStatus; 6]| verdict(&NAMES.iter().zip(statuses).map(|(n, s)| result(n, s)).collect::<Vec<_>>());
        assert_eq!(run([Pass, Pass, Pass, Warn, Pass, Pass]), Some(Status::Healthy));
        assert_eq!(run([Error, Skip, Skip, Skip, Skip, Skip]), None, "an STS outage is nobody's failure");
        assert_eq!(run([Pass, Pass, Pass, Pass, Pass, Error]), None, "never healthy without every verdict");
        assert_eq!(run([Pass, Pass, Pass, Pass, Fail, Error]), Some(Status::Failing), "a read refused on its own evidence");
        assert_eq!(run([Pass, Fail, Skip, Skip, Skip, Skip]), Some(Status::Insecure));
        assert_eq!(run([Fail, Skip, Skip, Skip, Skip, Skip]), Some(Status::Failing));
    }

    #[test]
    fn bucket_location_answers_map_to_regions() {
        assert_eq!(region_from_location(None), Some(Region::us_east_1()));
        assert_eq!(region_from_location(Some("")), Some(Region::us_east_1()));
        assert_eq!(region_from_location(Some("EU")).unwrap().as_str(), "eu-west-1");
        assert_eq!(region_from_location(Some("ap-south-1")).unwrap().as_str(), "ap-south-1");
        assert_eq!(region_from_location(Some("moon")), None);
    }
}
