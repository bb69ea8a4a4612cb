//! AWS clients, built once per cold start and shared by every invocation of the container.

use aws_config::{BehaviorVersion, SdkConfig};

use crate::budget::{self, Profile};
use crate::config::Config;

#[derive(Clone, Debug)]
pub struct Clients {
    pub sdk: SdkConfig,
    pub sts: aws_sdk_sts::Client,
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
        Self::new(profile.apply(&sdk), config)
    }

    pub fn new(sdk: SdkConfig, config: &Config) -> Self {
        let s3_conf = aws_sdk_s3::config::Builder::from(&sdk).force_path_style(config.s3_path_style).build();
        Clients {
            sts: aws_sdk_sts::Client::new(&sdk),
            s3: aws_sdk_s3::Client::from_conf(s3_conf),
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            events: aws_sdk_eventbridge::Client::new(&sdk),
            http: budget::http_client(),
            sdk,
        }
    }
}
