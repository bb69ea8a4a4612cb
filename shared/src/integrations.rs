//! The integrations use cases: what the API (and the sweep) do, minus HTTP.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::arn::{KmsKeyArn, RoleArn};
use crate::bucket::BucketName;
use crate::budget::{self, Deadline};
use crate::checks::{CheckRun, Checker, Checks};
use crate::error::Error;
use crate::fault::Service as Aws;
use crate::ids::{IntegrationId, KeyPrefix, TenantId};
use crate::integration::{CheckStatus, Connection, Integration, Status};
use crate::policy::lint::{self, Kind};
use crate::policy::{Grant, Setup};
use crate::record::{ObjectRecord, ObjectStatus};
use crate::rotation::{self, ExternalIds, Step};
use crate::store::{RecordFilter, Store};

const SAVE_ATTEMPTS: usize = 4;
const HISTORY_SHOWN: i32 = 10;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    pub name: Option<String>,
    pub bucket: Option<String>,
    pub prefix: Option<String>,
    pub kms_key_arn: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachRequest {
    pub name: String,
    pub bucket: String,
    pub role_arn: String,
    pub prefix: Option<String>,
    pub kms_key_arn: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintRequest {
    /// The policy as JSON text, or the document itself.
    pub policy: serde_json::Value,
    pub kind: Option<Kind>,
    pub integration_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct HistoryEntry {
    pub checked_at: String,
    pub status: String,
    /// A rotation's step (`rotation_started`, ...); absent for a run of the checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
}

/// `POST /integrations/{id}/external-id`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RotationRequest {
    /// How long the role may accept both IDs (default 7 days, 0 to 90 days).
    pub grace_seconds: Option<u64>,
}

/// An integration as the API shows it: with the principal to trust and, once the bucket is
/// known, the exact setup to paste.
#[derive(Debug, Serialize)]
pub struct IntegrationView {
    #[serde(flatten)]
    pub integration: Integration,
    pub provider_principal: String,
    pub provider_account_id: String,
    pub setup: Option<Setup>,
    /// During an external ID rotation: the setup once it ends (the new ID alone), while `setup`
    /// is the one for its window (both IDs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_after_rotation: Option<Setup>,
    /// Present when the last checks reached no verdict: what happened, in plain words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryEntry>>,
}

impl IntegrationView {
    /// Whether the last checks reached a verdict (an answer worth keeping for a retried request).
    pub fn conclusive(&self) -> bool {
        self.integration.inconclusive_at.is_none()
    }
}

/// What one run of the checks did to an integration.
#[derive(Debug)]
pub struct Checked {
    /// The status it had before (of the version the result was written over).
    pub before: Status,
    pub integration: Integration,
    /// False when the checks reached no verdict.
    pub conclusive: bool,
    /// False when nothing was written (an inconclusive sweep attempt that SQS will retry).
    pub saved: bool,
    /// During a rotation: why the checks could not try the new external ID, when AWS is why.
    pub new_external_id_fault: Option<crate::fault::Fault>,
}

/// Whether a run without a verdict is written down (the API always answers with what it did;
/// the sweep writes only on its last attempt and otherwise lets SQS retry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepInconclusive {
    Yes,
    No,
}

/// Which records a page of `GET /integrations/{id}/objects` holds.
#[derive(Debug, Clone, Copy)]
pub struct RecordsQuery<'a> {
    pub status: Option<&'a str>,
    pub code: Option<&'a str>,
    pub limit: i32,
    pub cursor: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct RecordsView {
    pub items: Vec<ObjectRecord>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ListView {
    pub items: Vec<IntegrationView>,
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Integrations<C = Checker> {
    store: Store,
    checker: C,
    provider_principal: RoleArn,
    next_provider_principal: Option<RoleArn>,
    customer_template_url: Option<String>,
    change_event_bus: Option<String>,
}

fn invalid(field: &str, code: &'static str, message: impl ToString) -> Error {
    Error::Invalid { field: field.to_owned(), code, message: message.to_string() }
}

fn name(raw: Option<&str>) -> Result<String, Error> {
    let name = raw.map(str::trim).unwrap_or("S3 bucket").to_owned();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(invalid("name", "INVALID_NAME", "name must be 1 to 100 characters, without control characters"));
    }
    Ok(name)
}

fn bucket(raw: &str) -> Result<BucketName, Error> {
    BucketName::parse(raw).map_err(|e| invalid("bucket", e.code(), e))
}

fn prefix(raw: Option<&str>) -> Result<KeyPrefix, Error> {
    KeyPrefix::parse(raw.unwrap_or_default()).map_err(|e| invalid("prefix", "INVALID_PREFIX", e))
}

fn kms(raw: Option<&str>) -> Result<Option<KmsKeyArn>, Error> {
    raw.filter(|k| !k.trim().is_empty()).map(KmsKeyArn::parse).transpose().map_err(|e| invalid("kms_key_arn", "INVALID_KMS_KEY_ARN", e))
}

impl<C: Checks> Integrations<C> {
    pub fn new(store: Store, checker: C, provider_principal: RoleArn) -> Self {
        Integrations { store, checker, provider_principal, next_provider_principal: None, customer_template_url: None, change_event_bus: None }
    }

    /// During a migration to a new principal: setups trust both, the linter takes both.
    pub fn with_next_principal(mut self, next: Option<RoleArn>) -> Self {
        self.next_provider_principal = next;
        self
    }

    /// Setups then carry a CloudFormation quick-create link to the template published at `url`.
    pub fn with_customer_template(mut self, url: Option<String>) -> Self {
        self.customer_template_url = url;
        self
    }

    /// Setups then offer to forward the customer's changes to this bus (its ARN).
    pub fn with_change_events(mut self, bus_arn: Option<String>) -> Self {
        self.change_event_bus = bus_arn;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn view(&self, integration: Integration) -> IntegrationView {
        let rotation = integration.rotation.as_ref();
        let grant = integration.bucket.as_ref().map(|bucket| Grant {
            integration: &integration.id,
            provider_principal: &self.provider_principal,
            next_provider_principal: self.next_provider_principal.as_ref(),
            // During a rotation the setup is about the new ID, whichever is in use yet.
            external_id: rotation.map_or(&integration.external_id, |r| &r.new_external_id),
            previous_external_id: rotation.map(|r| &r.old_external_id),
            existing_role: rotation.and(integration.role_arn.as_ref()).map(RoleArn::role_name),
            partition: self.provider_principal.partition(),
            bucket,
            prefix: &integration.prefix,
            kms_key: integration.kms_key_arn.as_ref(),
        });
        let setup = grant.as_ref().map(|grant| {
            let mut setup = grant.setup();
            if let Some(url) = self.customer_template_url.as_ref().filter(|_| rotation.is_none()) {
                setup.cloudformation = setup.cloudformation.with_quick_create(url, self.provider_principal.partition());
            }
            if let Some(bus) = &self.change_event_bus {
                let role = integration.role_arn.as_ref().map(RoleArn::role_name);
                setup.change_events = Some(grant.change_events(bus, integration.region.as_ref().map(|r| r.as_str()), role));
            }
            setup
        });
        let setup_after_rotation = grant.filter(|_| rotation.is_some()).map(|grant| Grant { previous_external_id: None, ..grant }.setup());
        IntegrationView {
            provider_principal: self.provider_principal.to_string(),
            provider_account_id: self.provider_principal.account_id().to_owned(),
            setup,
            setup_after_rotation,
            notice: notice(&integration),
            history: None,
            integration,
        }
    }

    async fn load(&self, tenant: &TenantId, id: &str) -> Result<Integration, Error> {
        self.store.get(tenant, id).await?.ok_or_else(|| Error::NotFound(id.to_owned()))
    }

    /// Step 1: a new integration, its external ID, and (when the bucket is known) the setup.
    pub async fn create(&self, tenant: &TenantId, request: CreateRequest) -> Result<IntegrationView, Error> {
        let integration = Integration::new(
            tenant.clone(),
            name(request.name.as_deref())?,
            request.bucket.as_deref().map(bucket).transpose()?,
            prefix(request.prefix.as_deref())?,
            kms(request.kms_key_arn.as_deref())?,
        );
        self.store.insert(&integration).await?;
        Ok(self.view(integration))
    }

    pub async fn get(&self, tenant: &TenantId, id: &str) -> Result<IntegrationView, Error> {
        let integration = self.load(tenant, id).await?;
        let history = self.store.history(tenant, &integration.id, HISTORY_SHOWN).await?;
        let mut view = self.view(integration);
        view.history = Some(history.into_iter().map(|(checked_at, status, event)| HistoryEntry { checked_at, status, event }).collect());
        Ok(view)
    }

    pub async fn list(&self, tenant: &TenantId, limit: i32, cursor: Option<&str>) -> Result<ListView, Error> {
        let cursor = cursor
            .map(|c| IntegrationId::parse(c).map_err(|_| invalid("cursor", "INVALID_CURSOR", "cursor must be a next_cursor value from a previous page")))
            .transpose()?;
        let page = self.store.list(tenant, limit, cursor.as_ref()).await?;
        Ok(ListView { items: page.items.into_iter().map(|i| self.view(i)).collect(), next_cursor: page.next_cursor })
    }

    /// Deletes the integration, then its history and prevalidation records; what a failure
    /// leaves of those expires by its TTL (idempotency records keep their 24 hours).
    pub async fn delete(&self, tenant: &TenantId, id: &str) -> Result<(), Error> {
        let Ok(integration) = IntegrationId::parse(id) else { return Err(Error::NotFound(id.to_owned())) };
        if !self.store.delete(tenant, id).await? {
            return Err(Error::NotFound(id.to_owned()));
        }
        let deadline = Deadline::after(budget::ATTACH);
        match deadline.call(Aws::DynamoDb, async { self.store.delete_derived(tenant, &integration).await.map_err(Error::from) }).await {
            Ok(deleted) => tracing::info!(%integration, deleted, "integration deleted with its history and records"),
            Err(e) => tracing::warn!(%integration, error = %e, "history and records left to expire"),
        }
        Ok(())
    }

    /// One page of an integration's prevalidation records, filtered by status and code.
    pub async fn records(&self, tenant: &TenantId, id: &str, query: RecordsQuery<'_>) -> Result<RecordsView, Error> {
        let integration = self.load(tenant, id).await?;
        let status = query
            .status
            .map(|s| ObjectStatus::parse(s).ok_or_else(|| invalid("status", "INVALID_PARAMETER", "status must be ready or rejected")))
            .transpose()?;
        let code = query.code.filter(|c| !c.is_empty() && c.len() <= 64 && c.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'));
        if query.code.is_some() && code.is_none() {
            return Err(invalid("code", "INVALID_PARAMETER", "code must be a record code such as READY or OBJECT_ARCHIVED"));
        }
        if query.cursor.is_some_and(|c| c.len() != 64 || !c.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Err(invalid("cursor", "INVALID_CURSOR", "cursor must be a next_cursor value from a previous page"));
        }
        let filter = RecordFilter { status, code: code.map(str::to_owned) };
        let page = self.store.integration_records(tenant, &integration.id, &filter, query.limit, query.cursor).await?;
        Ok(RecordsView { items: page.items, next_cursor: page.next_cursor })
    }

    /// Steps 3-4: the customer attaches the role; every check runs now.
    pub async fn attach(&self, tenant: &TenantId, id: &str, request: AttachRequest) -> Result<IntegrationView, Error> {
        let role_arn = RoleArn::parse(&request.role_arn).map_err(|e| invalid("role_arn", e.code(), e))?;
        // Our own account's roles are never a customer's: refused before any AssumeRole.
        if role_arn.account_id() == self.provider_principal.account_id() {
            return Err(invalid(
                "role_arn",
                "ROLE_IN_PROVIDER_ACCOUNT",
                format!(
                    "{role_arn} is in bucketlink's own AWS account ({}); create the role in the AWS account that owns your bucket",
                    self.provider_principal.account_id()
                ),
            ));
        }
        let connection = Connection {
            bucket: bucket(&request.bucket)?,
            role_arn,
            prefix: prefix(request.prefix.as_deref())?,
            kms_key_arn: kms(request.kms_key_arn.as_deref())?,
        };
        let name = name(Some(&request.name))?;
        let checked = self
            .check_and_save(tenant, id, KeepInconclusive::Yes, Deadline::after(budget::ATTACH), |integration| {
                integration.name = name.clone();
                integration.bucket = Some(connection.bucket.clone());
                integration.role_arn = Some(connection.role_arn.clone());
                integration.prefix = connection.prefix.clone();
                integration.kms_key_arn = connection.kms_key_arn.clone();
            })
            .await?;
        Ok(self.view(checked.integration))
    }

    /// The "refresh" button: run every check again.
    pub async fn validate(&self, tenant: &TenantId, id: &str) -> Result<IntegrationView, Error> {
        let checked = self.check_and_save(tenant, id, KeepInconclusive::Yes, Deadline::after(budget::ATTACH), |_| {}).await?;
        Ok(self.view(checked.integration))
    }

    /// The sweep's check: every check again. `None` for an integration deleted, or still
    /// awaiting its role. A run without a verdict is written only when `keep` says so.
    pub async fn revalidate(&self, tenant: &TenantId, id: &str, keep: KeepInconclusive) -> Result<Option<Checked>, Error> {
        match self.check_and_save(tenant, id, keep, Deadline::after(budget::ATTACH), |_| {}).await {
            Ok(done) => Ok(Some(done)),
            Err(Error::NotFound(_)) | Err(Error::Invalid { code: "ROLE_NOT_ATTACHED", .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Applies `change`, runs the checks, and saves conditionally on the version read, all
    /// by `deadline`. When another writer got there first, the change is applied again
    /// to what they wrote, and the checks run again only if what they check changed: nobody's
    /// update is lost. A status change is announced from the table's stream (`status_events`).
    async fn check_and_save(
        &self,
        tenant: &TenantId,
        id: &str,
        keep: KeepInconclusive,
        deadline: Deadline,
        change: impl Fn(&mut Integration),
    ) -> Result<Checked, Error> {
        let mut checked: Option<(Connection, ExternalIds, CheckRun)> = None;
        for _ in 0..SAVE_ATTEMPTS {
            let mut integration = deadline.call(Aws::DynamoDb, self.load(tenant, id)).await?;
            let before = integration.status;
            let rotation_before = integration.rotation.clone();
            let previous = integration.connection();
            change(&mut integration);
            // A rotation whose window is over ends before the checks: they prove the old ID refused.
            if integration.rotation.as_ref().is_some_and(|r| r.is_due(SystemTime::now())) {
                integration.complete_rotation();
            }
            let connection = integration
                .connection()
                .ok_or_else(|| invalid("role_arn", "ROLE_NOT_ATTACHED", "attach a role first: PUT /integrations/{id} with bucket and role_arn"))?;
            let ids = integration.external_ids();
            let report = match checked.take() {
                Some((c, i, report)) if c == connection && i == ids => report,
                _ => self.checker.run(&integration.id, &ids, &connection, deadline).await,
            };
            let conclusive = report.verdict.is_some();
            if !conclusive && keep == KeepInconclusive::No {
                return Ok(Checked { before, integration, conclusive, saved: false, new_external_id_fault: report.new_external_id_fault });
            }
            record(&mut integration, &report, previous.as_ref() == Some(&connection));
            match deadline.call(Aws::DynamoDb, async { self.store.save(&integration).await.map_err(Error::from) }).await {
                Ok(saved) => {
                    let step = Step::between(rotation_before.as_ref(), saved.rotation.as_ref(), &saved.external_id);
                    self.append_history(&deadline, &saved, step).await;
                    return Ok(Checked { before, integration: saved, conclusive, saved: true, new_external_id_fault: report.new_external_id_fault });
                }
                Err(Error::Conflict) => checked = Some((connection, ids, report)),
                Err(e) => return Err(e),
            }
        }
        Err(Error::Conflict)
    }

    /// The history is a log beside the integration: a lost entry costs less than failing a
    /// request whose result is already saved and announced.
    async fn append_history(&self, deadline: &Deadline, saved: &Integration, step: Option<Step>) {
        if let Err(e) = deadline.call(Aws::DynamoDb, async { self.store.append_history(saved, step).await.map_err(Error::from) }).await {
            tracing::error!(integration = %saved.id, error = %e, "history entry not written");
        }
    }

    /// Applies `change` (which may refuse) and saves conditionally on the version read, again on
    /// a concurrent write; no checks run.
    async fn change_and_save(
        &self,
        tenant: &TenantId,
        id: &str,
        deadline: Deadline,
        change: impl Fn(&mut Integration) -> Result<(), Error>,
    ) -> Result<Integration, Error> {
        for _ in 0..SAVE_ATTEMPTS {
            let mut integration = deadline.call(Aws::DynamoDb, self.load(tenant, id)).await?;
            let rotation_before = integration.rotation.clone();
            change(&mut integration)?;
            integration.updated_at = crate::timestamp::now();
            match deadline.call(Aws::DynamoDb, async { self.store.save(&integration).await.map_err(Error::from) }).await {
                Ok(saved) => {
                    let step = Step::between(rotation_before.as_ref(), saved.rotation.as_ref(), &saved.external_id);
                    self.append_history(&deadline, &saved, step).await;
                    return Ok(saved);
                }
                Err(Error::Conflict) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::Conflict)
    }

    /// Starts an external ID rotation: a new ID, accepted with the old one for the window. No
    /// check runs: the customer has a trust policy to paste first (`setup` in the answer).
    pub async fn start_rotation(&self, tenant: &TenantId, id: &str, request: RotationRequest) -> Result<IntegrationView, Error> {
        let grace = rotation::grace(request.grace_seconds).map_err(|m| invalid("grace_seconds", "INVALID_GRACE_PERIOD", m))?;
        let saved = self
            .change_and_save(tenant, id, Deadline::after(budget::ATTACH), |integration| {
                if let Some(r) = &integration.rotation {
                    return Err(Error::NotNow {
                        code: "ROTATION_IN_PROGRESS",
                        title: "A rotation is in progress",
                        detail: format!("This integration's external ID is being rotated until {}; complete or cancel that rotation first.", r.ends_at),
                    });
                }
                integration.start_rotation(grace, SystemTime::now());
                Ok(())
            })
            .await?;
        Ok(self.view(saved))
    }

    /// Ends a rotation early: only once the role accepts the new ID (the checks run first when
    /// they have not seen it yet). The checks then prove the old ID refused.
    pub async fn complete_rotation(&self, tenant: &TenantId, id: &str) -> Result<IntegrationView, Error> {
        // One answer, one budget: a run that looks for the new ID and the run that completes
        // share it (the second gets what the first left).
        let deadline = Deadline::after(budget::ATTACH);
        let integration = deadline.call(Aws::DynamoDb, self.load(tenant, id)).await?;
        let Some(rotation) = integration.rotation else { return Err(no_rotation()) };
        if rotation.accepted_at.is_none() {
            let checked = self.check_and_save(tenant, id, KeepInconclusive::Yes, deadline, |_| {}).await?;
            match &checked.integration.rotation {
                None => return Ok(self.view(checked.integration)),
                Some(r) if r.accepted_at.is_none() => {
                    // The role was not asked (AWS failed us): that says nothing about its trust policy.
                    if let Some(fault) = checked.new_external_id_fault {
                        return Err(Error::Unavailable(fault));
                    }
                    return Err(Error::NotNow {
                        code: "NEW_EXTERNAL_ID_NOT_ACCEPTED",
                        title: "The role does not accept the new external ID yet",
                        detail: format!(
                            "The role still refuses the new external ID {}; paste the rotation's trust policy (it accepts both IDs), then complete the rotation.",
                            r.new_external_id
                        ),
                    });
                }
                Some(_) => {}
            }
        }
        let checked = self.check_and_save(tenant, id, KeepInconclusive::Yes, deadline, |i| i.complete_rotation()).await?;
        Ok(self.view(checked.integration))
    }

    /// Gives a rotation up: the old external ID is used again (and the checks say whether the
    /// role still accepts it).
    pub async fn cancel_rotation(&self, tenant: &TenantId, id: &str) -> Result<IntegrationView, Error> {
        let deadline = Deadline::after(budget::ATTACH);
        let integration = deadline.call(Aws::DynamoDb, self.load(tenant, id)).await?;
        if integration.rotation.is_none() {
            return Err(no_rotation());
        }
        if integration.connection().is_none() {
            let cancelled = self
                .change_and_save(tenant, id, deadline, |i| {
                    i.cancel_rotation();
                    Ok(())
                })
                .await?;
            return Ok(self.view(cancelled));
        }
        let checked = self.check_and_save(tenant, id, KeepInconclusive::Yes, deadline, |i| i.cancel_rotation()).await?;
        Ok(self.view(checked.integration))
    }

    /// Lints a pasted policy, against an integration's external ID and bucket when one is named.
    pub async fn lint(&self, tenant: &TenantId, request: LintRequest) -> Result<lint::LintReport, Error> {
        let text = match &request.policy {
            serde_json::Value::String(text) => text.clone(),
            serde_json::Value::Object(_) => request.policy.to_string(),
            _ => return Err(invalid("policy", "INVALID_FIELD", "policy must be the policy document, as JSON text or an object")),
        };
        let integration = match &request.integration_id {
            Some(id) => Some(self.load(tenant, id).await?),
            None => None,
        };
        let rotation = integration.as_ref().and_then(|i| i.rotation.as_ref());
        let ctx = lint::Context {
            provider_principal: &self.provider_principal,
            next_provider_principal: self.next_provider_principal.as_ref(),
            external_id: integration.as_ref().map(|i| rotation.map_or(&i.external_id, |r| &r.new_external_id).as_str()),
            previous_external_id: rotation.map(|r| r.old_external_id.as_str()),
            retired_external_id: integration.as_ref().and_then(|i| i.retired_external_id.as_ref()).map(|e| e.as_str()),
            bucket: integration.as_ref().and_then(|i| i.bucket.as_ref()),
            prefix: integration.as_ref().map(|i| &i.prefix),
            kms_key: integration.as_ref().and_then(|i| i.kms_key_arn.as_ref()).map(KmsKeyArn::as_str),
        };
        Ok(lint::lint(&text, request.kind, &ctx))
    }
}

/// Writes a run's results into the integration. A verdict becomes the status; a run without
/// one keeps the status it had, unless that status was about another role or bucket (or none):
/// then it is `unverified` until a run reaches a verdict.
fn record(integration: &mut Integration, report: &CheckRun, same_connection: bool) {
    let now = crate::timestamp::now();
    if report.new_external_id_accepted {
        integration.accept_new_external_id(&now);
    }
    integration.checks = report.checks.clone();
    integration.last_checked_at = Some(now.clone());
    integration.updated_at = now.clone();
    match report.verdict {
        Some(status) => {
            integration.status = status;
            integration.verified_at = Some(now);
            integration.inconclusive_at = None;
            if report.region.is_some() {
                integration.region = report.region.clone();
            }
        }
        None => {
            if !same_connection || integration.status == Status::AwaitingRole {
                integration.status = Status::Unverified;
                integration.verified_at = None;
            }
            integration.inconclusive_at = Some(now);
        }
    }
}

fn no_rotation() -> Error {
    Error::NotNow { code: "NO_ROTATION", title: "No rotation in progress", detail: "This integration's external ID is not being rotated.".to_owned() }
}

/// What a person reads when the last checks reached no verdict.
fn notice(integration: &Integration) -> Option<String> {
    let at = integration.inconclusive_at.as_ref()?;
    let unchecked: Vec<&str> = integration.checks.iter().filter(|c| c.status == CheckStatus::Error).map(|c| c.name.as_str()).collect();
    let status = match &integration.verified_at {
        Some(verified) => format!("The status shown ({}) is from the checks at {verified}.", integration.status.as_str()),
        None => "The role is not verified yet, so no data is served through it.".to_owned(),
    };
    Some(format!(
        "The checks at {at} reached no verdict: AWS did not answer properly for {} (each says how). {status} Nothing to do on your side: run the checks again in a few minutes.",
        unchecked.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integration::CheckResult;
    use crate::region::Region;

    fn integration(status: Status) -> Integration {
        let mut i = Integration::new(TenantId::parse("acme").unwrap(), "x".into(), None, KeyPrefix::default(), None);
        i.status = status;
        i.verified_at = Some("2026-11-30T01:00:00Z".into());
        i
    }

    fn report(verdict: Option<Status>) -> CheckRun {
        let status = if verdict.is_some() { CheckStatus::Pass } else { CheckStatus::Error };
        let check = CheckResult { name: "role_assumable".into(), status, code: String::new(), message: String::new(), remediation: None, duration_ms: 1 };
        CheckRun {
            verdict,
            checks: vec![check],
            region: verdict.map(|_| Region::parse("eu-west-1").unwrap()),
            new_external_id_accepted: false,
            new_external_id_fault: None,
        }
    }

    #[test]
    fn a_verdict_becomes_the_status() {
        let mut i = integration(Status::Failing);
        i.inconclusive_at = Some("earlier".into());
        record(&mut i, &report(Some(Status::Healthy)), true);
        assert_eq!(i.status, Status::Healthy);
        assert_eq!(i.verified_at, i.last_checked_at);
        assert_eq!((i.inconclusive_at, i.region.map(|r| r.to_string())), (None, Some("eu-west-1".into())));
    }

    #[test]
    fn no_verdict_keeps_the_status_only_for_the_same_connection() {
        let mut kept = integration(Status::Healthy);
        record(&mut kept, &report(None), true);
        assert_eq!((kept.status, kept.verified_at.as_deref()), (Status::Healthy, Some("2026-11-30T01:00:00Z")));
        assert!(kept.inconclusive_at.is_some() && kept.checks[0].status == CheckStatus::Error);
        assert!(notice(&kept).unwrap().contains("The status shown (healthy) is from the checks at 2026-11-30T01:00:00Z"));

        let mut moved = integration(Status::Healthy);
        record(&mut moved, &report(None), false);
        assert_eq!((moved.status, moved.verified_at.as_deref()), (Status::Unverified, None), "a new role's status is not the old role's");
        assert!(notice(&moved).unwrap().contains("not verified yet"));

        let mut new = integration(Status::AwaitingRole);
        record(&mut new, &report(None), true);
        assert_eq!(new.status, Status::Unverified);
        assert_eq!(notice(&integration(Status::Healthy)), None, "no notice after a verdict");
    }

    /// The use case's decisions against scripted DynamoDB answers (aws-smithy-mocks) and
    /// scripted checks: no emulator.
    mod decisions {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;

        use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
        use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
        use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
        use aws_smithy_mocks::{mock, mock_client, RuleMode};

        use super::*;
        use crate::bucket::BucketName;
        use crate::external_id::ExternalId;
        use crate::store::to_item;

        /// Checks that answer `verdict` and count their runs.
        #[derive(Clone, Default)]
        struct Scripted {
            verdict: Option<Status>,
            runs: Arc<AtomicUsize>,
        }

        impl Checks for Scripted {
            async fn run(&self, _: &IntegrationId, _: &ExternalIds, _: &Connection, _: Deadline) -> CheckRun {
                self.runs.fetch_add(1, Ordering::SeqCst);
                report(self.verdict)
            }
        }

        fn connected(version: u64, name: &str) -> Integration {
            let mut i = integration(Status::Healthy);
            i.id = IntegrationId::parse("01JD7ZK3Q4W8X9Y0ABCDEFGHJK").unwrap();
            i.name = name.to_owned();
            i.bucket = Some(BucketName::parse("acme-data").unwrap());
            i.role_arn = Some(RoleArn::parse("arn:aws:iam::222222222222:role/r").unwrap());
            i.version = version;
            // One external ID for every version: what the checks depend on stays the same.
            static EXTERNAL_ID: std::sync::LazyLock<ExternalId> = std::sync::LazyLock::new(ExternalId::generate);
            i.external_id = EXTERNAL_ID.clone();
            i
        }

        /// As DynamoDB's answer parses: the code is in the error's metadata.
        fn conflict() -> PutItemError {
            let meta =
                aws_sdk_dynamodb::error::ErrorMetadata::builder().code("ConditionalCheckFailedException").message("The conditional request failed").build();
            PutItemError::ConditionalCheckFailedException(
                ConditionalCheckFailedException::builder().message("The conditional request failed").meta(meta).build(),
            )
        }

        fn service(client: aws_sdk_dynamodb::Client, checks: Scripted) -> Integrations<Scripted> {
            Integrations::new(Store::new(client, "t"), checks, RoleArn::parse("arn:aws:iam::111111111111:role/provider").unwrap())
        }

        #[tokio::test]
        async fn a_concurrent_write_is_kept_and_the_checks_are_not_run_again() {
            let ours = connected(3, "Acme");
            let theirs = connected(4, "Renamed by another request");
            let get = mock!(aws_sdk_dynamodb::Client::get_item)
                .sequence()
                .output(move || GetItemOutput::builder().set_item(Some(to_item(&ours))).build())
                .output(move || GetItemOutput::builder().set_item(Some(to_item(&theirs))).build())
                .build();
            let put = mock!(aws_sdk_dynamodb::Client::put_item).sequence().error(conflict).output(|| PutItemOutput::builder().build()).times(2).build();
            let checks = Scripted { verdict: Some(Status::Healthy), ..Default::default() };
            let service = service(mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&get, &put]), checks.clone());

            let view = service.validate(&TenantId::parse("acme").unwrap(), "01JD7ZK3Q4W8X9Y0ABCDEFGHJK").await.unwrap();
            assert_eq!(view.integration.name, "Renamed by another request", "the other writer's change survives");
            assert_eq!(view.integration.version, 5, "written over the version the other writer made");
            assert_eq!(checks.runs.load(Ordering::SeqCst), 1, "what the checks check did not change: they ran once");
            assert_eq!((get.num_calls(), put.num_calls()), (2, 3), "read twice, saved twice (one conflict), one history entry");
        }

        #[tokio::test]
        async fn a_sweep_attempt_without_a_verdict_writes_nothing() {
            let stored = connected(3, "Acme");
            let get = mock!(aws_sdk_dynamodb::Client::get_item).then_output(move || GetItemOutput::builder().set_item(Some(to_item(&stored))).build());
            let put = mock!(aws_sdk_dynamodb::Client::put_item).then_output(|| PutItemOutput::builder().build());
            let service = service(mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&get, &put]), Scripted::default());
            let tenant = TenantId::parse("acme").unwrap();

            let checked = service.revalidate(&tenant, "01JD7ZK3Q4W8X9Y0ABCDEFGHJK", KeepInconclusive::No).await.unwrap().unwrap();
            assert_eq!((checked.conclusive, checked.saved, put.num_calls()), (false, false, 0), "SQS retries it; nothing is written");
            let last = service.revalidate(&tenant, "01JD7ZK3Q4W8X9Y0ABCDEFGHJK", KeepInconclusive::Yes).await.unwrap().unwrap();
            assert!(last.saved && last.integration.inconclusive_at.is_some());
            assert_eq!(last.integration.status, Status::Healthy, "the last attempt records it, status unchanged");
        }

        #[tokio::test]
        async fn writers_that_always_win_end_in_a_conflict() {
            let stored = connected(3, "Acme");
            let get = mock!(aws_sdk_dynamodb::Client::get_item).then_output(move || GetItemOutput::builder().set_item(Some(to_item(&stored))).build());
            let put = mock!(aws_sdk_dynamodb::Client::put_item).then_error(conflict);
            let checks = Scripted { verdict: Some(Status::Healthy), ..Default::default() };
            let service = service(mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&get, &put]), checks.clone());
            let result = service.validate(&TenantId::parse("acme").unwrap(), "01JD7ZK3Q4W8X9Y0ABCDEFGHJK").await;
            assert!(matches!(result, Err(Error::Conflict)), "{result:?}");
            assert_eq!(put.num_calls(), SAVE_ATTEMPTS);
            assert_eq!(checks.runs.load(Ordering::SeqCst), 1);
        }

        #[tokio::test]
        async fn a_role_in_our_own_account_is_refused_before_any_call() {
            let service = service(mock_client!(aws_sdk_dynamodb, []), Scripted::default());
            let request = AttachRequest {
                name: "x".into(),
                bucket: "acme-data".into(),
                role_arn: "arn:aws:iam::111111111111:role/admin".into(),
                prefix: None,
                kms_key_arn: None,
            };
            let result = service.attach(&TenantId::parse("acme").unwrap(), "01JD7ZK3Q4W8X9Y0ABCDEFGHJK", request).await;
            assert!(matches!(result, Err(Error::Invalid { code: "ROLE_IN_PROVIDER_ACCOUNT", .. })), "{result:?}");
        }
    }
}
