//! The integration: one customer bucket connected through one role, and what we last proved of it.

use serde::Serialize;

use crate::arn::{KmsKeyArn, RoleArn};
use crate::bucket::BucketName;
use crate::external_id::ExternalId;
use crate::ids::{IntegrationId, KeyPrefix, TenantId};
use crate::region::Region;

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
    pub external_id: ExternalId,
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
