//! AWS clients, built once per cold start and shared by every invocation of the container.

use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, SdkConfig};

use crate::arn::RoleArn;
use crate::budget::{self, Profile};
use crate::config::Config;

#[derive(Clone, Debug)]
pub struct Clients {
    pub sdk: SdkConfig,
    /// STS as the principal customers trust: what customers' roles are assumed with.
    pub sts: aws_sdk_sts::Client,
    /// During a migration: STS as the next principal (`BUCKETLINK_NEXT_PROVIDER_ROLE_ARN`).
    pub next_sts: Option<aws_sdk_sts::Client>,
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub events: aws_sdk_eventbridge::Client,
    /// Plain HTTP to S3 (presigned URLs, CORS preflights), bounded as `budget` says.
    pub http: reqwest::Client,
}

impl Clients {
    /// Loads the SDK's standard configuration (region, endpoint, credentials) from the environment,
    /// with the timeouts and retries of `profile`.
    pub async fn from_env(config: &Config, profile: Profile) -> Self {
        let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;
        Self::new(profile.apply(&sdk), config).await
    }

    pub async fn new(sdk: SdkConfig, config: &Config) -> Self {
        let s3_conf = aws_sdk_s3::config::Builder::from(&sdk).force_path_style(config.s3_path_style).build();
        let sts = match config.assume_provider_role {
            true => sts_as(&sdk, &config.provider_role_arn).await,
            false => aws_sdk_sts::Client::new(&sdk),
        };
        let next_sts = match &config.next_provider_role_arn {
            Some(next) => Some(sts_as(&sdk, next).await),
            None => None,
        };
        Clients {
            sts,
            next_sts,
            s3: aws_sdk_s3::Client::from_conf(s3_conf),
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            events: aws_sdk_eventbridge::Client::new(&sdk),
            http: budget::http_client(),
            sdk,
        }
    }
}

/// STS with the credentials of `role`, taken from our own (and renewed by the SDK's cache before
/// they expire): a principal our role may assume, during a migration or after a switch-over.
async fn sts_as(sdk: &SdkConfig, role: &RoleArn) -> aws_sdk_sts::Client {
    let provider = AssumeRoleProvider::builder(role.as_str()).session_name("bucketlink-principal").configure(sdk).build().await;
    aws_sdk_sts::Client::from_conf(aws_sdk_sts::config::Builder::from(sdk).credentials_provider(provider).build())
}
