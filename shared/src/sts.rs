//! Assumed-role credentials for signing, cached per integration in the warm container.
//!
//! Rules: concurrent requests for one integration make one AssumeRole (single flight: they wait
//! on the integration's slot); credentials are refreshed when they would not outlive the URL about
//! to be signed plus a safety margin, so no URL outlives its credentials; a session is used only
//! for the role and external ID it was made with; a failed AssumeRole is answered from memory for
//! a few seconds, so a burst of requests during an STS outage does not each wait for it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::arn::RoleArn;
use crate::external_id::ExternalId;
use crate::fault::{self, Failure, Fault, Service};
use crate::ids::IntegrationId;
use crate::integration::Connection;
use crate::presign::Signer;

/// Credentials are never used closer to their expiry than this.
pub const SAFETY_MARGIN: Duration = Duration::from_secs(60);
const SIGNING_SESSION_SECONDS: i32 = 3600;
/// The longest lifetime a cached session is kept fresh for. A URL asked to live (nearly) as long
/// as a whole session would otherwise re-assume the role on every request; such a URL gets what
/// the credentials have left instead (`url_lifetime`, reported in `expires_at`), and the role is
/// assumed again at most once per five minutes.
const LONGEST_COVERED: Duration = Duration::from_secs(SIGNING_SESSION_SECONDS as u64 - 300 - SAFETY_MARGIN.as_secs());

/// How long a failed AssumeRole is the answer for the same integration.
const FAILURE_HELD: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct Session {
    pub signer: Signer,
    pub expires_at: SystemTime,
    role: RoleArn,
    external_id: ExternalId,
    session_policy: String,
}

impl Session {
    /// How long a URL signed now may live: what was asked, but never past the credentials.
    pub fn url_lifetime(&self, requested: Duration, now: SystemTime) -> Duration {
        let usable = self.expires_at.duration_since(now).unwrap_or_default().saturating_sub(SAFETY_MARGIN);
        requested.min(usable)
    }
}

#[derive(Debug, Default)]
struct SlotState {
    session: Option<Arc<Session>>,
    failed: Option<(Instant, Failure)>,
}

type Slot = Arc<tokio::sync::Mutex<SlotState>>;

#[derive(Debug)]
pub struct CredentialCache {
    sts: aws_sdk_sts::Client,
    slots: Mutex<HashMap<IntegrationId, Slot>>,
}

impl CredentialCache {
    pub fn new(sts: aws_sdk_sts::Client) -> Self {
        CredentialCache { sts, slots: Mutex::new(HashMap::new()) }
    }

    /// A session for integration `id`, connected as `conn`, whose credentials outlive `needed`
    /// from now (plus the margin), assuming the role only when the cached one would not.
    pub async fn session(&self, id: &IntegrationId, conn: &Connection, external_id: &ExternalId, needed: Duration) -> Result<Arc<Session>, Failure> {
        let slot = self.slots.lock().unwrap_or_else(|e| e.into_inner()).entry(id.clone()).or_default().clone();
        let mut state = slot.lock().await;
        let deadline = SystemTime::now() + needed.min(LONGEST_COVERED) + SAFETY_MARGIN;
        let session_policy = conn.session_policy();
        let made_for_this = |s: &&Arc<Session>| s.role == conn.role_arn && s.external_id == *external_id && s.session_policy == session_policy;
        if let Some(session) = state.session.as_ref().filter(made_for_this).filter(|s| s.expires_at >= deadline) {
            return Ok(session.clone());
        }
        if let Some((_, failure)) = state.failed.as_ref().filter(|(at, _)| at.elapsed() < FAILURE_HELD) {
            return Err(failure.clone());
        }
        match self.assume(id, &conn.role_arn, external_id, session_policy).await {
            Ok(session) => {
                let session = Arc::new(session);
                *state = SlotState { session: Some(session.clone()), failed: None };
                Ok(session)
            }
            Err(failure) => {
                state.failed = Some((Instant::now(), failure.clone()));
                Err(failure)
            }
        }
    }

    async fn assume(&self, id: &IntegrationId, role: &RoleArn, external_id: &ExternalId, session_policy: String) -> Result<Session, Failure> {
        let credentials = assume_role(&self.sts, id, role, Some(external_id.as_str()), &session_policy, SIGNING_SESSION_SECONDS).await?;
        let expires_at = SystemTime::try_from(credentials.expiration).unwrap_or_else(|_| SystemTime::now());
        Ok(Session {
            signer: Signer::new(&credentials.access_key_id, &credentials.secret_access_key, Some(&credentials.session_token)),
            expires_at,
            role: role.clone(),
            external_id: external_id.clone(),
            session_policy,
        })
    }
}

/// One AssumeRole for an integration's role, as everything in bucketlink makes it (the checks
/// also call it with no or a wrong external ID), always with the connection's session policy.
/// Throttling and 5xx are retried with backoff by the SDK's standard strategy; what remains is
/// STS's refusal (its code and message) or a fault.
pub async fn assume_role(
    sts: &aws_sdk_sts::Client,
    id: &IntegrationId,
    role: &RoleArn,
    external_id: Option<&str>,
    session_policy: &str,
    seconds: i32,
) -> Result<aws_sdk_sts::types::Credentials, Failure> {
    let out = sts
        .assume_role()
        .role_arn(role.as_str())
        .role_session_name(format!("bucketlink-{id}"))
        .set_external_id(external_id.map(str::to_owned))
        .policy(session_policy)
        .duration_seconds(seconds)
        .send()
        .await
        .map_err(|e| match fault::of_sdk(Service::Sts, &e) {
            Failure::Refused { message, .. } if e.as_service_error().is_some_and(|se| se.is_region_disabled_exception()) => {
                Failure::Refused { code: "RegionDisabledException".to_owned(), message }
            }
            failure => failure,
        });
    let outcome = match &out {
        Ok(_) => "ok",
        Err(Failure::Refused { .. }) => "refused",
        Err(Failure::Fault(_)) => "fault",
    };
    metrics::counter!(crate::telemetry::ASSUME_ROLE, "Outcome" => outcome).increment(1);
    out?.credentials.ok_or_else(|| Fault::unavailable(Service::Sts, "the answer held no credentials").into())
}

#[cfg(test)]
mod tests {
    //! STS answers scripted with aws-smithy-mocks: the emulator cannot make credentials that
    //! expire in two minutes, nor count AssumeRole calls.
    use super::*;
    use aws_sdk_sts::operation::assume_role::AssumeRoleOutput;
    use aws_sdk_sts::types::Credentials as StsCredentials;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    fn output(lifetime: Duration) -> AssumeRoleOutput {
        let expiration = aws_sdk_sts::primitives::DateTime::from(SystemTime::now() + lifetime);
        AssumeRoleOutput::builder()
            .credentials(StsCredentials::builder().access_key_id("ASIA1").secret_access_key("s").session_token("t").expiration(expiration).build().unwrap())
            .build()
    }

    fn ids() -> (IntegrationId, Connection, ExternalId) {
        let conn = Connection {
            bucket: crate::bucket::BucketName::parse("acme-data").unwrap(),
            role_arn: RoleArn::parse("arn:aws:iam::222222222222:role/r").unwrap(),
            prefix: crate::ids::KeyPrefix::default(),
            kms_key_arn: None,
        };
        (IntegrationId::generate(), conn, ExternalId::generate())
    }

    #[tokio::test]
    async fn concurrent_requests_make_one_assume_role() {
        let rule = mock!(aws_sdk_sts::Client::assume_role).then_output(|| output(Duration::from_secs(3600)));
        let cache = Arc::new(CredentialCache::new(mock_client!(aws_sdk_sts, RuleMode::MatchAny, [&rule])));
        let (id, conn, ext) = ids();
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (cache, id, conn, ext) = (cache.clone(), id.clone(), conn.clone(), ext.clone());
                tokio::spawn(async move { cache.session(&id, &conn, &ext, Duration::from_secs(900)).await.unwrap().expires_at })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(rule.num_calls(), 1);
        for _ in 0..10_000 {
            cache.session(&id, &conn, &ext, Duration::from_secs(900)).await.unwrap();
        }
        assert_eq!(rule.num_calls(), 1, "10,000 more sign requests reuse the same credentials");
    }

    #[tokio::test]
    async fn credentials_near_expiry_are_refreshed_before_signing() {
        let rule =
            mock!(aws_sdk_sts::Client::assume_role).sequence().output(|| output(Duration::from_secs(600))).output(|| output(Duration::from_secs(3600))).build();
        let cache = CredentialCache::new(mock_client!(aws_sdk_sts, RuleMode::Sequential, [&rule]));
        let (id, conn, ext) = ids();
        let short = cache.session(&id, &conn, &ext, Duration::from_secs(300)).await.unwrap();
        assert_eq!(rule.num_calls(), 1);
        // 600 s left is not enough for a 900 s URL plus the margin: a new AssumeRole.
        let long = cache.session(&id, &conn, &ext, Duration::from_secs(900)).await.unwrap();
        assert_eq!(rule.num_calls(), 2);
        assert!(long.expires_at > short.expires_at);
        let now = SystemTime::now();
        for (session, requested) in [(&short, 3600), (&long, 900), (&long, 3600)] {
            let lifetime = session.url_lifetime(Duration::from_secs(requested), now);
            assert!(now + lifetime + SAFETY_MARGIN <= session.expires_at, "no URL outlives its credentials");
        }
    }

    #[tokio::test]
    async fn asking_for_a_whole_session_does_not_reassume_every_time() {
        let rule = mock!(aws_sdk_sts::Client::assume_role).then_output(|| output(Duration::from_secs(3600)));
        let cache = CredentialCache::new(mock_client!(aws_sdk_sts, RuleMode::MatchAny, [&rule]));
        let (id, conn, ext) = ids();
        let hour = Duration::from_secs(3600);
        for _ in 0..100 {
            let session = cache.session(&id, &conn, &ext, hour).await.unwrap();
            let now = SystemTime::now();
            let lifetime = session.url_lifetime(hour, now);
            assert!(lifetime < hour && now + lifetime + SAFETY_MARGIN <= session.expires_at, "shortened, truthfully");
        }
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn sts_failures_are_reported_with_their_code() {
        let rule = mock!(aws_sdk_sts::Client::assume_role).then_error(|| {
            aws_sdk_sts::operation::assume_role::AssumeRoleError::RegionDisabledException(
                aws_sdk_sts::types::error::RegionDisabledException::builder().message("STS is not activated in this region").build(),
            )
        });
        let cache = CredentialCache::new(mock_client!(aws_sdk_sts, [&rule]));
        let (id, conn, ext) = ids();
        let err = cache.session(&id, &conn, &ext, Duration::from_secs(60)).await.unwrap_err();
        assert!(matches!(&err, Failure::Refused { code, .. } if code == "RegionDisabledException"), "{err:?}");
    }

    #[tokio::test]
    async fn a_failure_is_held_briefly_and_a_new_role_gets_a_new_session() {
        let failed = mock!(aws_sdk_sts::Client::assume_role)
            .sequence()
            .error(|| aws_sdk_sts::operation::assume_role::AssumeRoleError::unhandled("boom"))
            .output(|| output(Duration::from_secs(3600)))
            .output(|| output(Duration::from_secs(3600)))
            .output(|| output(Duration::from_secs(3600)))
            .build();
        let cache = CredentialCache::new(mock_client!(aws_sdk_sts, RuleMode::Sequential, [&failed]));
        let (id, conn, ext) = ids();
        assert!(cache.session(&id, &conn, &ext, Duration::from_secs(60)).await.is_err());
        assert!(cache.session(&id, &conn, &ext, Duration::from_secs(60)).await.is_err(), "held, not asked again");
        assert_eq!(failed.num_calls(), 1);
        let slot = cache.slots.lock().unwrap().get(&id).unwrap().clone();
        slot.lock().await.failed = None;
        cache.session(&id, &conn, &ext, Duration::from_secs(60)).await.unwrap();
        cache.session(&id, &conn, &ext, Duration::from_secs(60)).await.unwrap();
        assert_eq!(failed.num_calls(), 2, "the session is reused");
        let other = Connection { role_arn: RoleArn::parse("arn:aws:iam::222222222222:role/replaced").unwrap(), ..conn.clone() };
        cache.session(&id, &other, &ext, Duration::from_secs(60)).await.unwrap();
        assert_eq!(failed.num_calls(), 3, "a re-attached role never gets the old role's session");
        let moved = Connection { prefix: crate::ids::KeyPrefix::parse("elsewhere/").unwrap(), ..other.clone() };
        cache.session(&id, &moved, &ext, Duration::from_secs(60)).await.unwrap();
        assert_eq!(failed.num_calls(), 4, "nor a session whose policy names another prefix");
    }
}
