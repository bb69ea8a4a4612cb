//! The integration: one customer bucket connected through one role, and what we last proved of it.

use serde::Serialize;

use crate::arn::{KmsKeyArn, RoleArn};
use crate::bucket::BucketName;
use crate::external_id::ExternalId;
use crate::ids::{IntegrationId, KeyPrefix, TenantId};
use crate::region::Region;
use crate::rotation::{ExternalIds, Rotation};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Created; the customer has not attached a role yet.
    AwaitingRole,
    /// A role is attached, but no check has reached a verdict on it yet (AWS did not answer
    /// properly when they ran): nothing is served until one does.
    Unverified,
    Healthy,
    Failing,
    /// The role can be assumed without our external ID: nothing is read or signed through it.
    Insecure,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::AwaitingRole => "awaiting_role",
            Status::Unverified => "unverified",
            Status::Healthy => "healthy",
            Status::Failing => "failing",
            Status::Insecure => "insecure",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Status::AwaitingRole, Status::Unverified, Status::Healthy, Status::Failing, Status::Insecure].into_iter().find(|v| v.as_str() == s)
    }

    /// Whether data may be read or signed through the integration.
    pub fn serves_data(self) -> bool {
        self == Status::Healthy
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    Fail,
    Warn,
    Skip,
    /// No verdict: AWS or the network failed, or the check ran out of time.
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CheckResult {
    pub name: String,
    pub status: CheckStatus,
    pub code: String,
    pub message: String,
    pub remediation: Option<String>,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Integration {
    pub id: IntegrationId,
    #[serde(skip)]
    pub tenant: TenantId,
    pub name: String,
    pub status: Status,
    /// The external ID in use (for the checks and for signing).
    pub external_id: ExternalId,
    /// An external ID rotation in progress.
    pub rotation: Option<Rotation>,
    /// The external ID a completed rotation replaced: the checks prove the role refuses it.
    pub retired_external_id: Option<ExternalId>,
    pub bucket: Option<BucketName>,
    pub prefix: KeyPrefix,
    pub kms_key_arn: Option<KmsKeyArn>,
    pub role_arn: Option<RoleArn>,
    /// The bucket's real region, as S3 reported it.
    pub region: Option<Region>,
    /// The last run's results, whatever its outcome.
    pub checks: Vec<CheckResult>,
    pub last_checked_at: Option<String>,
    /// When checks last reached a verdict: the time `status` was established.
    pub verified_at: Option<String>,
    /// Set when the last run reached no verdict (AWS did not answer properly): `status` is
    /// then older than `checks`. Cleared by the next run that reaches one.
    pub inconclusive_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Every write is conditional on this: concurrent writers never lose each other's updates.
    pub version: u64,
}

/// What a customer configures; everything the checks depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub bucket: BucketName,
    pub role_arn: RoleArn,
    pub prefix: KeyPrefix,
    pub kms_key_arn: Option<KmsKeyArn>,
}

impl Integration {
    /// A new integration awaiting its role, with a fresh id and external ID.
    pub fn new(tenant: TenantId, name: String, bucket: Option<BucketName>, prefix: KeyPrefix, kms_key_arn: Option<KmsKeyArn>) -> Self {
        let now = crate::timestamp::now();
        Integration {
            id: IntegrationId::generate(),
            tenant,
            name,
            status: Status::AwaitingRole,
            external_id: ExternalId::generate(),
            rotation: None,
            retired_external_id: None,
            bucket,
            prefix,
            kms_key_arn,
            role_arn: None,
            region: None,
            checks: Vec::new(),
            last_checked_at: None,
            verified_at: None,
            inconclusive_at: None,
            created_at: now.clone(),
            updated_at: now,
            version: 1,
        }
    }

    pub fn external_ids(&self) -> ExternalIds {
        let pending = self.rotation.as_ref().filter(|r| r.accepted_at.is_none()).map(|r| r.new_external_id.clone());
        ExternalIds { active: self.external_id.clone(), pending, retired: self.retired_external_id.clone() }
    }

    /// Starts a rotation with a window of `grace`; a window of zero completes it at once. An
    /// integration without a role has nothing to keep working: its new ID replaces the old at once.
    pub fn start_rotation(&mut self, grace: std::time::Duration, now: std::time::SystemTime) {
        let rotation = Rotation::start(self.external_id.clone(), grace, now);
        if self.role_arn.is_none() {
            self.external_id = rotation.new_external_id;
            return;
        }
        self.rotation = Some(rotation);
        if grace.is_zero() {
            self.complete_rotation();
        }
    }

    /// The checks saw the role accept the new ID: from now on it is the one used.
    pub fn accept_new_external_id(&mut self, at: &str) {
        if let Some(rotation) = self.rotation.as_mut().filter(|r| r.accepted_at.is_none()) {
            rotation.accepted_at = Some(at.to_owned());
            self.external_id = rotation.new_external_id.clone();
        }
    }

    /// Ends the rotation: the new ID alone is used, the old one must be refused from now on.
    pub fn complete_rotation(&mut self) {
        if let Some(rotation) = self.rotation.take() {
            self.external_id = rotation.new_external_id;
            self.retired_external_id = Some(rotation.old_external_id);
        }
    }

    /// Gives up the rotation: the old ID is used again, as before it started.
    pub fn cancel_rotation(&mut self) {
        if let Some(rotation) = self.rotation.take() {
            self.external_id = rotation.old_external_id;
        }
    }

    pub fn connection(&self) -> Option<Connection> {
        Some(Connection { bucket: self.bucket.clone()?, role_arn: self.role_arn.clone()?, prefix: self.prefix.clone(), kms_key_arn: self.kms_key_arn.clone() })
    }
}

impl Connection {
    /// The session policy every AssumeRole of this connection carries (`policy::session_policy`).
    pub fn session_policy(&self) -> String {
        crate::policy::session_policy(self.role_arn.partition(), &self.bucket, &self.prefix, self.kms_key_arn.as_ref())
    }
}
