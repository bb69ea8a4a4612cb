//! The integrations use cases: what the API (and the sweep) do, minus HTTP.

use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::api::Error;
use crate::arn::{KmsKeyArn, RoleArn};
use crate::bucket::BucketName;
use crate::checks::{Checker, Report};
use crate::ids::{IntegrationId, KeyPrefix, TenantId};
use crate::integration::{now_rfc3339, Connection, Integration, Status};
use crate::policy::lint::{self, Kind};
use crate::policy::{Grant, Setup};
use crate::store::{Store, StoreError, StoredResponse};

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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryEntry>>,
}

#[derive(Debug, Serialize)]
pub struct ListView {
    pub items: Vec<IntegrationView>,
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Service {
    store: Store,
    checker: Checker,
    provider_principal: RoleArn,
    customer_template_url: Option<String>,
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

impl Service {
    pub fn new(store: Store, checker: Checker, provider_principal: RoleArn) -> Self {
        Service { store, checker, provider_principal, customer_template_url: None }
    }

    /// Setups then carry a CloudFormation quick-create link to the template published at `url`.
    pub fn with_customer_template(mut self, url: Option<String>) -> Self {
        self.customer_template_url = url;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn view(&self, integration: Integration) -> IntegrationView {
        let setup = integration.bucket.as_ref().map(|bucket| {
            Grant {
                provider_principal: &self.provider_principal,
                external_id: &integration.external_id,
                partition: self.provider_principal.partition(),
                bucket,
                prefix: &integration.prefix,
                kms_key: integration.kms_key_arn.as_ref(),
            }
            .setup()
        });
        let setup = match (setup, &self.customer_template_url) {
            (Some(mut setup), Some(url)) => {
                setup.cloudformation = setup.cloudformation.with_quick_create(url, self.provider_principal.partition());
                Some(setup)
            }
            (setup, _) => setup,
        };
        IntegrationView {
            provider_principal: self.provider_principal.to_string(),
            provider_account_id: self.provider_principal.account_id().to_owned(),
            setup,
            history: None,
            integration,
        }
    }

    async fn load(&self, tenant: &TenantId, id: &str) -> Result<Integration, Error> {
        // An id that cannot exist is as missing as one that does not: never a 400 that leaks shape.
        if IntegrationId::parse(id).is_err() {
            return Err(Error::NotFound(id.to_owned()));
        }
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
        view.history = Some(history.into_iter().map(|(checked_at, status)| HistoryEntry { checked_at, status }).collect());
        Ok(view)
    }

    pub async fn list(&self, tenant: &TenantId, limit: i32, cursor: Option<&str>) -> Result<ListView, Error> {
        let cursor = cursor
            .map(|c| IntegrationId::parse(c).map_err(|_| invalid("cursor", "INVALID_CURSOR", "cursor must be a next_cursor value from a previous page")))
            .transpose()?;
        let page = self.store.list(tenant, limit, cursor.as_ref()).await?;
        Ok(ListView { items: page.items.into_iter().map(|i| self.view(i)).collect(), next_cursor: page.next_cursor })
    }

    pub async fn delete(&self, tenant: &TenantId, id: &str) -> Result<(), Error> {
        if IntegrationId::parse(id).is_err() || !self.store.delete(tenant, id).await? {
            return Err(Error::NotFound(id.to_owned()));
        }
        Ok(())
    }

    /// Steps 3-4: the customer attaches the role; every check runs now.
    pub async fn attach(&self, tenant: &TenantId, id: &str, request: AttachRequest) -> Result<IntegrationView, Error> {
        let role_arn = RoleArn::parse(&request.role_arn).map_err(|e| invalid("role_arn", e.code(), e))?;
        let connection = Connection {
            bucket: bucket(&request.bucket)?,
            role_arn,
            prefix: prefix(request.prefix.as_deref())?,
            kms_key_arn: kms(request.kms_key_arn.as_deref())?,
        };
        let name = name(Some(&request.name))?;
        self.check_and_save(tenant, id, |integration| {
            integration.name = name.clone();
            integration.bucket = Some(connection.bucket.clone());
            integration.role_arn = Some(connection.role_arn.clone());
            integration.prefix = connection.prefix.clone();
            integration.kms_key_arn = connection.kms_key_arn.clone();
        })
        .await
        .map(|(_, saved)| self.view(saved))
    }

    /// The "refresh" button: run every check again.
    pub async fn validate(&self, tenant: &TenantId, id: &str) -> Result<IntegrationView, Error> {
        self.check_and_save(tenant, id, |_| {}).await.map(|(_, saved)| self.view(saved))
    }

    /// The sweep's check: every check again, and the status the saved result replaced (of the
    /// version it was written over, so two sweeps racing never both see the same change).
    /// `None` for an integration deleted, or still awaiting its role.
    pub async fn revalidate(&self, tenant: &TenantId, id: &str) -> Result<Option<(Status, Integration)>, Error> {
        match self.check_and_save(tenant, id, |_| {}).await {
            Ok(done) => Ok(Some(done)),
            Err(Error::NotFound(_)) | Err(Error::Invalid { code: "ROLE_NOT_ATTACHED", .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Applies `change`, runs the checks, and saves conditionally on the version read. When
    /// another writer got there first, the change is applied again to what they wrote, and the
    /// checks run again only if what they check changed: nobody's update is lost.
    /// Returns the status it overwrote and the saved integration.
    async fn check_and_save(&self, tenant: &TenantId, id: &str, change: impl Fn(&mut Integration)) -> Result<(Status, Integration), Error> {
        let mut checked: Option<(Connection, Report)> = None;
        for _ in 0..SAVE_ATTEMPTS {
            let mut integration = self.load(tenant, id).await?;
            let before = integration.status;
            change(&mut integration);
            let connection = integration
                .connection()
                .ok_or_else(|| invalid("role_arn", "ROLE_NOT_ATTACHED", "attach a role first: PUT /integrations/{id} with bucket and role_arn"))?;
            let report = match checked.take() {
                Some((c, report)) if c == connection => report,
                _ => self.checker.run(&integration.id, &integration.external_id, &connection).await,
            };
            integration.status = report.status;
            integration.checks = report.checks.clone();
            if report.region.is_some() {
                integration.region = report.region.clone();
            }
            let now = now_rfc3339();
            integration.last_checked_at = Some(now.clone());
            integration.updated_at = now;
            match self.store.save(&integration).await {
                Ok(saved) => {
                    self.store.append_history(&saved).await?;
                    return Ok((before, saved));
                }
                Err(StoreError::Conflict) => checked = Some((connection, report)),
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Conflict)
    }

    /// Lints a pasted policy, against an integration's external ID and bucket when one is named.
    pub async fn lint(&self, tenant: &TenantId, request: LintRequest) -> Result<lint::Report, Error> {
        let text = match &request.policy {
            serde_json::Value::String(text) => text.clone(),
            serde_json::Value::Object(_) => request.policy.to_string(),
            _ => return Err(invalid("policy", "INVALID_FIELD", "policy must be the policy document, as JSON text or an object")),
        };
        let integration = match &request.integration_id {
            Some(id) => Some(self.load(tenant, id).await?),
            None => None,
        };
        let ctx = lint::Context {
            provider_principal: &self.provider_principal,
            external_id: integration.as_ref().map(|i| i.external_id.as_str()),
            bucket: integration.as_ref().and_then(|i| i.bucket.as_ref()),
            prefix: integration.as_ref().map(|i| &i.prefix),
            kms_key: integration.as_ref().and_then(|i| i.kms_key_arn.as_ref()).map(KmsKeyArn::as_str),
        };
        Ok(lint::lint(&text, request.kind, &ctx))
    }

    /// Runs `run` once per `Idempotency-Key`: a retry gets the first answer; the same key with
    /// another request is refused.
    pub async fn idempotent<F, Fut>(&self, tenant: &TenantId, key: Option<&str>, request: &str, run: F) -> Result<(u16, String), Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = (u16, String)>,
    {
        let Some(key) = key else { return Ok(run().await) };
        if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid("Idempotency-Key", "INVALID_IDEMPOTENCY_KEY", "the Idempotency-Key header must be 1-200 visible ASCII characters"));
        }
        if let Some(stored) = self.store.idempotent_response(tenant, key).await? {
            if stored.request != request {
                return Err(Error::IdempotencyMismatch);
            }
            return Ok((stored.status, stored.body));
        }
        let (status, body) = run().await;
        if status < 500 {
            let stored = StoredResponse { request: request.to_owned(), status, body: body.clone() };
            self.store.remember_response(tenant, key, &stored).await?;
        }
        Ok((status, body))
    }
}
