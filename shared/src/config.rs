//! The configuration contract every function shares, read once at cold start from the environment.
//!
//! AWS endpoints, region and credentials are not ours to configure: the SDK reads its standard
//! variables (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, ...).

use std::collections::HashMap;
use std::time::Duration;

use crate::arn::RoleArn;
use crate::media::SizeLimits;

/// A missing or malformed variable: the cold start fails with this one line.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is required but not set")]
    Missing(&'static str),
    #[error("environment variable {name} is malformed: {reason} (got {value:?})")]
    Malformed { name: &'static str, value: String, reason: &'static str },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `BUCKETLINK_TABLE`: the DynamoDB table holding all state.
    pub table: String,
    /// `BUCKETLINK_PROVIDER_ROLE_ARN`: the principal customers trust; our functions run as it,
    /// or take it first when `assume_provider_role` says so.
    pub provider_role_arn: RoleArn,
    /// `BUCKETLINK_ASSUME_PROVIDER_ROLE`: the functions' own role is not the principal (after a
    /// switch-over to a new one): they assume it first, and customers' roles from it (false).
    pub assume_provider_role: bool,
    /// `BUCKETLINK_NEXT_PROVIDER_ROLE_ARN`: during a migration to a new principal: setups and the
    /// linter take both, the checks try it (assuming it first) on every integration.
    pub next_provider_role_arn: Option<RoleArn>,
    /// `BUCKETLINK_APP_ORIGINS`: web origins that a customer's bucket CORS must allow.
    pub app_origins: Vec<String>,
    /// `BUCKETLINK_URL_TTL_SECONDS`: default lifetime of a signed URL (900).
    pub url_ttl: Duration,
    /// `BUCKETLINK_URL_MAX_TTL_SECONDS`: the longest `expires_in` a caller may ask for (3600).
    pub url_max_ttl: Duration,
    /// `BUCKETLINK_SWEEP_QUEUE_URL`: the SQS queue the health sweep fans out through.
    pub sweep_queue_url: Option<String>,
    /// `BUCKETLINK_SWEEP_MAX_RECEIVES`: the sweep queue's `maxReceiveCount` (5): the attempt
    /// after which a message is not delivered again.
    pub sweep_max_receives: u32,
    /// `BUCKETLINK_CHANGE_WINDOW_SECONDS`: how long after a customer's change its check runs, so
    /// that the calls of one update (a CloudFormation stack's several) lead to one check (10).
    pub change_window: Duration,
    /// `BUCKETLINK_CHANGE_EVENT_BUS_ARN`: the bus customers forward their changes to; setups
    /// then offer the forwarding (`policy::ChangeEvents`).
    pub change_event_bus_arn: Option<String>,
    /// `BUCKETLINK_EVENT_BUS`: where status changes are published.
    pub event_bus: Option<String>,
    /// `BUCKETLINK_S3_PATH_STYLE`: address buckets path-style (true against the emulator).
    pub s3_path_style: bool,
    /// `BUCKETLINK_MAX_OBJECT_BYTES`: size limits per data type for importable objects
    /// (`image=100MiB,video=20GiB`; unnamed types keep their defaults).
    pub object_limits: SizeLimits,
    /// `BUCKETLINK_IMPORT_ROWS_PER_MINUTE`: import rows one tenant may check per minute (50,000).
    pub import_rows_per_minute: u64,
    /// `BUCKETLINK_CUSTOMER_TEMPLATE_URL`: where `infra/customer/bucketlink-access.yaml` is
    /// published (https); the API then returns a CloudFormation quick-create link.
    pub customer_template_url: Option<String>,
}

pub const DEFAULT_URL_TTL_SECONDS: u64 = 900;
/// A URL never outlives the credentials that signed it, and STS gives a role assumed from a
/// Lambda (role chaining) at most one hour: no longer lifetime could be honoured.
const MAX_URL_TTL_SECONDS: u64 = 3600;

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// An optional variable one function cannot do without: its value, or the cold start fails
    /// with one line naming it.
    pub fn required_or_exit<'a>(value: Option<&'a str>, name: &'static str) -> &'a str {
        value.unwrap_or_else(|| exit(&ConfigError::Missing(name)))
    }

    /// For a function's cold start: on a bad environment, print one line naming the variable and exit.
    pub fn from_env_or_exit() -> Self {
        Self::from_env().unwrap_or_else(|err| exit(&err))
    }

    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let required = |name: &'static str| get(name).map(str::to_owned).ok_or(ConfigError::Missing(name));
        let malformed = |name: &'static str, value: &str, reason: &'static str| ConfigError::Malformed { name, value: value.to_owned(), reason };

        let provider_role_arn = required("BUCKETLINK_PROVIDER_ROLE_ARN")?;
        let provider_role_arn = RoleArn::parse(&provider_role_arn)
            .map_err(|_| malformed("BUCKETLINK_PROVIDER_ROLE_ARN", &provider_role_arn, "expected arn:<partition>:iam::<12-digit account>:role/<name>"))?;

        let next_provider_role_arn = match get("BUCKETLINK_NEXT_PROVIDER_ROLE_ARN") {
            None => None,
            Some(raw) => {
                Some(RoleArn::parse(raw).ok().filter(|next| *next != provider_role_arn && next.partition() == provider_role_arn.partition()).ok_or_else(
                    || malformed("BUCKETLINK_NEXT_PROVIDER_ROLE_ARN", raw, "expected another role ARN of the same partition as BUCKETLINK_PROVIDER_ROLE_ARN"),
                )?)
            }
        };

        let app_origins = match get("BUCKETLINK_APP_ORIGINS") {
            None => return Err(ConfigError::Missing("BUCKETLINK_APP_ORIGINS")),
            Some(raw) => raw.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect::<Vec<_>>(),
        };
        if let Some(bad) = app_origins.iter().find(|o| !is_web_origin(o)) {
            return Err(malformed("BUCKETLINK_APP_ORIGINS", bad, "each origin must be scheme://host[:port] with no path, e.g. https://app.example.com"));
        }

        let seconds = |name: &'static str, default: u64| match get(name) {
            None => Ok(default),
            Some(raw) => match raw.parse::<u64>() {
                Ok(s) if (1..=MAX_URL_TTL_SECONDS).contains(&s) => Ok(s),
                _ => Err(malformed(name, raw, "expected whole seconds between 1 and 3600 (STS caps a chained role session at one hour)")),
            },
        };
        let url_max_ttl = seconds("BUCKETLINK_URL_MAX_TTL_SECONDS", MAX_URL_TTL_SECONDS)?;
        let url_ttl = seconds("BUCKETLINK_URL_TTL_SECONDS", DEFAULT_URL_TTL_SECONDS.min(url_max_ttl))?;
        if url_ttl > url_max_ttl {
            return Err(malformed(
                "BUCKETLINK_URL_TTL_SECONDS",
                get("BUCKETLINK_URL_TTL_SECONDS").unwrap_or_default(),
                "the default lifetime may not exceed BUCKETLINK_URL_MAX_TTL_SECONDS",
            ));
        }

        let s3_path_style = match get("BUCKETLINK_S3_PATH_STYLE").map(str::to_ascii_lowercase).as_deref() {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(_) => return Err(malformed("BUCKETLINK_S3_PATH_STYLE", get("BUCKETLINK_S3_PATH_STYLE").unwrap_or_default(), "expected true or false")),
        };

        let assume_provider_role = match get("BUCKETLINK_ASSUME_PROVIDER_ROLE").map(str::to_ascii_lowercase).as_deref() {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(_) => {
                return Err(malformed("BUCKETLINK_ASSUME_PROVIDER_ROLE", get("BUCKETLINK_ASSUME_PROVIDER_ROLE").unwrap_or_default(), "expected true or false"))
            }
        };

        let object_limits = match get("BUCKETLINK_MAX_OBJECT_BYTES") {
            None => SizeLimits::default(),
            Some(raw) => SizeLimits::parse(raw)
                .map_err(|_| malformed("BUCKETLINK_MAX_OBJECT_BYTES", raw, "expected type=size pairs such as image=100MiB,video=20GiB"))?,
        };

        let sweep_max_receives = match get("BUCKETLINK_SWEEP_MAX_RECEIVES") {
            None => 5,
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| malformed("BUCKETLINK_SWEEP_MAX_RECEIVES", raw, "expected the sweep queue's maxReceiveCount, 1 to 1000"))?,
        };

        let change_window = match get("BUCKETLINK_CHANGE_WINDOW_SECONDS") {
            None => 10,
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=900).contains(n))
                .ok_or_else(|| malformed("BUCKETLINK_CHANGE_WINDOW_SECONDS", raw, "expected whole seconds from 1 to 900 (SQS's longest delay)"))?,
        };

        let import_rows_per_minute = match get("BUCKETLINK_IMPORT_ROWS_PER_MINUTE") {
            None => 50_000,
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| malformed("BUCKETLINK_IMPORT_ROWS_PER_MINUTE", raw, "expected a whole number of rows, 1 or more"))?,
        };

        let customer_template_url = get("BUCKETLINK_CUSTOMER_TEMPLATE_URL").map(str::to_owned);
        if let Some(url) = customer_template_url.as_deref().filter(|u| !u.starts_with("https://") || u.contains(char::is_whitespace)) {
            return Err(malformed("BUCKETLINK_CUSTOMER_TEMPLATE_URL", url, "expected the https URL of the published template"));
        }

        Ok(Config {
            table: required("BUCKETLINK_TABLE")?,
            provider_role_arn,
            assume_provider_role,
            next_provider_role_arn,
            app_origins,
            url_ttl: Duration::from_secs(url_ttl),
            url_max_ttl: Duration::from_secs(url_max_ttl),
            sweep_queue_url: get("BUCKETLINK_SWEEP_QUEUE_URL").map(str::to_owned),
            sweep_max_receives,
            change_window: Duration::from_secs(change_window),
            change_event_bus_arn: get("BUCKETLINK_CHANGE_EVENT_BUS_ARN").map(str::to_owned),
            event_bus: get("BUCKETLINK_EVENT_BUS").map(str::to_owned),
            s3_path_style,
            object_limits,
            import_rows_per_minute,
            customer_template_url,
        })
    }
}

fn exit(err: &ConfigError) -> ! {
    eprintln!("bucketlink cold start failed: {err}");
    std::process::exit(1)
}

fn is_web_origin(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else { return false };
    matches!(scheme, "http" | "https") && !rest.is_empty() && !rest.contains(['/', '?', '#', '@', ' '])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn minimal() -> Vec<(&'static str, &'static str)> {
        vec![
            ("BUCKETLINK_TABLE", "bucketlink"),
            ("BUCKETLINK_PROVIDER_ROLE_ARN", "arn:aws:iam::111111111111:role/bucketlink-provider"),
            ("BUCKETLINK_APP_ORIGINS", "https://app.example.com, http://localhost:3000"),
        ]
    }

    #[test]
    fn minimal_configuration_takes_defaults() {
        let config = Config::from_vars(&vars(&minimal())).unwrap();
        assert_eq!(config.table, "bucketlink");
        assert_eq!(config.app_origins, ["https://app.example.com", "http://localhost:3000"]);
        assert_eq!(config.url_ttl, Duration::from_secs(900));
        assert_eq!(config.provider_role_arn.account_id(), "111111111111");
        assert!(!config.s3_path_style);
        assert_eq!(config.sweep_queue_url, None);
        assert_eq!(config.sweep_max_receives, 5);
    }

    #[test]
    fn a_lower_maximum_lowers_the_default_and_bounds_it() {
        let mut pairs = minimal();
        pairs.push(("BUCKETLINK_URL_MAX_TTL_SECONDS", "300"));
        let config = Config::from_vars(&vars(&pairs)).unwrap();
        assert_eq!((config.url_ttl, config.url_max_ttl), (Duration::from_secs(300), Duration::from_secs(300)));

        pairs.push(("BUCKETLINK_URL_TTL_SECONDS", "600"));
        let err = Config::from_vars(&vars(&pairs)).unwrap_err();
        assert!(matches!(err, ConfigError::Malformed { name: "BUCKETLINK_URL_TTL_SECONDS", .. }), "{err}");
    }

    #[test]
    fn each_required_variable_is_named_when_missing() {
        for missing in ["BUCKETLINK_TABLE", "BUCKETLINK_PROVIDER_ROLE_ARN", "BUCKETLINK_APP_ORIGINS"] {
            let pairs: Vec<_> = minimal().into_iter().filter(|(k, _)| *k != missing).collect();
            let err = Config::from_vars(&vars(&pairs)).unwrap_err();
            assert_eq!(err, ConfigError::Missing(missing));
            assert!(err.to_string().contains(missing));
        }
    }

    #[test]
    fn malformed_values_are_refused_with_the_variable_named() {
        let cases = [
            ("BUCKETLINK_PROVIDER_ROLE_ARN", "arn:aws:iam::111111111111:user/someone"),
            ("BUCKETLINK_PROVIDER_ROLE_ARN", "arn:aws:iam::1111:role/x"),
            ("BUCKETLINK_APP_ORIGINS", "https://app.example.com/path"),
            ("BUCKETLINK_APP_ORIGINS", "app.example.com"),
            ("BUCKETLINK_URL_TTL_SECONDS", "0"),
            ("BUCKETLINK_URL_TTL_SECONDS", "15m"),
            ("BUCKETLINK_URL_TTL_SECONDS", "3601"),
            ("BUCKETLINK_URL_MAX_TTL_SECONDS", "7200"),
            ("BUCKETLINK_S3_PATH_STYLE", "yes please"),
            ("BUCKETLINK_MAX_OBJECT_BYTES", "image=big"),
            ("BUCKETLINK_CUSTOMER_TEMPLATE_URL", "http://templates.example.com/t.yaml"),
            ("BUCKETLINK_SWEEP_MAX_RECEIVES", "0"),
            ("BUCKETLINK_IMPORT_ROWS_PER_MINUTE", "lots"),
            ("BUCKETLINK_CHANGE_WINDOW_SECONDS", "0"),
        ];
        for (name, value) in cases {
            let mut pairs = minimal();
            pairs.retain(|(k, _)| *k != name);
            pairs.push((name, value));
            let err = Config::from_vars(&vars(&pairs)).unwrap_err();
            assert!(matches!(err, ConfigError::Malformed { name: n, .. } if n == name), "{name}={value}: {err}");
            assert!(err.to_string().contains(name));
        }
    }

    #[test]
    fn optional_values_are_read() {
        let mut pairs = minimal();
        pairs.extend([
            ("BUCKETLINK_URL_TTL_SECONDS", "300"),
            ("BUCKETLINK_S3_PATH_STYLE", "TRUE"),
            ("BUCKETLINK_SWEEP_QUEUE_URL", "http://127.0.0.1:5000/111111111111/sweep"),
            ("BUCKETLINK_EVENT_BUS", "bucketlink"),
            ("BUCKETLINK_MAX_OBJECT_BYTES", "text=1KiB"),
        ]);
        let config = Config::from_vars(&vars(&pairs)).unwrap();
        assert_eq!(config.url_ttl, Duration::from_secs(300));
        assert_eq!(config.url_max_ttl, Duration::from_secs(3600));
        assert!(config.s3_path_style);
        assert_eq!(config.event_bus.as_deref(), Some("bucketlink"));
        assert!(config.sweep_queue_url.is_some());
        assert_eq!(config.object_limits.of(crate::media::DataType::Text), 1024);
    }
}
