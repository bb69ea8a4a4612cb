//! Builds the two sides of a delegated-access setup in the emulator, through the real Rust SDK:
//! the provider account whose role our functions run as, and customer accounts with a bucket,
//! objects, CORS and a role whose trust and permission policies each test chooses.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CorsConfiguration, CorsRule, CreateBucketConfiguration};
use serde_json::{json, Value};

use bucketlink::bucket::BucketName;
use bucketlink::ids::{KeyPrefix, TenantId};
use bucketlink::integration::{Integration, Status};
use bucketlink::store::{Store, BY_BUCKET_INDEX, BY_KMS_KEY_INDEX, BY_ROLE_INDEX, TTL_ATTRIBUTE};

use crate::emulator::{Account, Emulator};

pub const PROVIDER_ACCOUNT: &str = "111111111111";
pub const PROVIDER_ROLE: &str = "bucketlink-provider";
pub const REGION: &str = "us-east-1";
pub const APP_ORIGIN: &str = "https://app.example.com";

/// Unique per call, so tests sharing an emulator never collide (bucket names, tables, roles).
pub fn unique(prefix: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").subsec_nanos();
    format!("{prefix}-{}-{n}-{nanos:x}", std::process::id())
}

/// The provider side: the role our functions run as, and a live session of it.
pub struct Provider {
    pub role_arn: String,
    pub session: Credentials,
    pub sdk: SdkConfig,
    /// The provider account's administrator: deploys what template.yaml would (queues, buses).
    pub admin_sdk: SdkConfig,
}

impl Provider {
    pub async fn create(emu: &Emulator) -> Provider {
        let admin = emu.account(PROVIDER_ACCOUNT).await;
        let admin_sdk = emu.sdk_config(admin.credentials(), REGION).await;
        let iam = aws_sdk_iam::Client::new(&admin_sdk);
        let role_arn = format!("arn:aws:iam::{PROVIDER_ACCOUNT}:role/{PROVIDER_ROLE}");
        let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{PROVIDER_ACCOUNT}:root")}, "Action": "sts:AssumeRole"}]});
        // The execution role of every function that assumes customer roles: what template.yaml grants.
        let permissions = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/*"},
            {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceAccount": PROVIDER_ACCOUNT}}},
            {"Effect": "Allow", "Action": "dynamodb:*", "Resource": format!("arn:aws:dynamodb:*:{PROVIDER_ACCOUNT}:table/*")},
            {"Effect": "Allow", "Action": ["sqs:*", "events:PutEvents"], "Resource": "*"}]});
        let created = iam.create_role().role_name(PROVIDER_ROLE).assume_role_policy_document(trust.to_string()).send().await;
        if let Err(err) = created {
            let text = format!("{:?}", aws_sdk_iam::error::DisplayErrorContext(&err));
            assert!(text.contains("EntityAlreadyExists"), "create provider role: {text}");
        }
        iam.put_role_policy()
            .role_name(PROVIDER_ROLE)
            .policy_name("bucketlink-provider")
            .policy_document(permissions.to_string())
            .send()
            .await
            .expect("provider role policy");
        let session = assume(&admin_sdk, &role_arn, None).await.expect("assume the provider role");
        let sdk = emu.sdk_config(session.clone(), REGION).await;
        Provider { role_arn, session, sdk, admin_sdk }
    }
}

/// What template.yaml deploys in the provider account for the functions: the table, the sweep's
/// queue and bus, and the environment each function gets.
pub struct Deployment {
    pub table: String,
    pub sweep: Sweep,
    pub env: Vec<(&'static str, String)>,
}

impl Provider {
    pub async fn deploy(&self, emu: &Emulator) -> Deployment {
        let table = self.table().await;
        let sweep = Sweep::create(self).await;
        let mut env = self.function_env(emu, &table);
        env.extend(sweep.env());
        Deployment { table, sweep, env }
    }

    /// The environment a function gets in Lambda: its role's session, our variables, the emulator.
    pub fn function_env(&self, emu: &Emulator, table: &str) -> Vec<(&'static str, String)> {
        self.function_env_at(&emu.endpoint, table)
    }

    /// `function_env` with AWS at `endpoint` (the fault proxy, say).
    pub fn function_env_at(&self, endpoint: &str, table: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", endpoint.to_owned()),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_ACCESS_KEY_ID", self.session.access_key_id().to_owned()),
            ("AWS_SECRET_ACCESS_KEY", self.session.secret_access_key().to_owned()),
            ("AWS_SESSION_TOKEN", self.session.session_token().unwrap_or_default().to_owned()),
            ("BUCKETLINK_TABLE", table.to_owned()),
            ("BUCKETLINK_PROVIDER_ROLE_ARN", self.role_arn.clone()),
            ("BUCKETLINK_APP_ORIGINS", APP_ORIGIN.to_owned()),
            ("BUCKETLINK_S3_PATH_STYLE", "true".to_owned()),
        ]
    }

    /// A fresh table with our schema (what `template.yaml` declares: keys, the `by_bucket`,
    /// `by_role` and `by_kms_key` indexes, the stream, the TTL attribute), created as the provider.
    pub async fn table(&self) -> String {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType, ScalarAttributeType,
            StreamSpecification, StreamViewType, TimeToLiveSpecification,
        };
        let name = unique("bucketlink");
        let client = aws_sdk_dynamodb::Client::new(&self.sdk);
        let key = |name: &str, kind| KeySchemaElement::builder().attribute_name(name).key_type(kind).build().expect("key");
        let attr = |name: &str| AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build().expect("attribute");
        let index = |name: &str, attribute: &str| {
            GlobalSecondaryIndex::builder()
                .index_name(name)
                .key_schema(key(attribute, KeyType::Hash))
                .key_schema(key("pk", KeyType::Range))
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .expect("index")
        };
        let stream = StreamSpecification::builder().stream_enabled(true).stream_view_type(StreamViewType::NewAndOldImages).build().expect("stream");
        client
            .create_table()
            .table_name(&name)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .attribute_definitions(attr("pk"))
            .attribute_definitions(attr("sk"))
            .attribute_definitions(attr("bucket"))
            .attribute_definitions(attr("role_key"))
            .attribute_definitions(attr("kms_key_id"))
            .global_secondary_indexes(index(BY_BUCKET_INDEX, "bucket"))
            .global_secondary_indexes(index(BY_ROLE_INDEX, "role_key"))
            .global_secondary_indexes(index(BY_KMS_KEY_INDEX, "kms_key_id"))
            .stream_specification(stream)
            .send()
            .await
            .expect("create table");
        let ttl = TimeToLiveSpecification::builder().enabled(true).attribute_name(TTL_ATTRIBUTE).build().expect("ttl");
        client.update_time_to_live().table_name(&name).time_to_live_specification(ttl).send().await.expect("table TTL");
        name
    }
}

/// Stores an integration directly (for tests of functions that read what the API would have written).
pub async fn insert_integration(provider: &Provider, table: &str, tenant: &str, bucket: &str, status: Status) -> Integration {
    let mut integration = Integration::new(
        TenantId::parse(tenant).expect("tenant"),
        "Acme images".to_owned(),
        Some(BucketName::parse(bucket).expect("bucket")),
        KeyPrefix::default(),
        None,
    );
    integration.status = status;
    if status != Status::AwaitingRole {
        integration.role_arn = Some(bucketlink::arn::RoleArn::parse("arn:aws:iam::222222222222:role/bucketlink-acme").expect("role"));
    }
    Store::new(aws_sdk_dynamodb::Client::new(&provider.sdk), table).insert(&integration).await.expect("insert integration");
    integration
}

/// AssumeRole with the Rust SDK, as our functions do; the error is the service's code and message.
pub async fn assume(sdk: &SdkConfig, role_arn: &str, external_id: Option<&str>) -> Result<Credentials, (String, String)> {
    let out = aws_sdk_sts::Client::new(sdk)
        .assume_role()
        .role_arn(role_arn)
        .role_session_name("bucketlink-test")
        .set_external_id(external_id.map(str::to_owned))
        .send()
        .await
        .map_err(|e| {
            use aws_sdk_sts::error::ProvideErrorMetadata;
            (e.code().unwrap_or("none").to_owned(), e.message().unwrap_or_default().to_owned())
        })?;
    let c = out.credentials.expect("credentials in AssumeRole output");
    Ok(Credentials::new(c.access_key_id, c.secret_access_key, Some(c.session_token), None, "assumed"))
}

/// The customer role's trust policy.
#[derive(Clone, Debug)]
pub enum Trust {
    /// Our principal, `sts:AssumeRole`, `StringEquals sts:ExternalId` = this value: the correct setup.
    ExternalId(String),
    /// Our principal with no ExternalId condition: the confused-deputy hole.
    NoCondition,
    /// Another principal than ours (with the right external id).
    WrongPrincipal(String),
    Document(Value),
}

/// The customer role's permission policy.
#[derive(Clone, Debug)]
pub enum Permissions {
    /// GetObject on `bucket/*`, ListBucket and GetBucketLocation on the bucket.
    ReadOnly,
    /// GetObject and GetBucketLocation, but listing is denied.
    NoListBucket,
    /// The object resource without `/*`: every GetObject is denied.
    NoObjectWildcard,
    Document(Value),
}

#[derive(Clone, Debug)]
pub struct CustomerSpec {
    pub account_id: String,
    pub bucket: String,
    pub region: String,
    pub objects: Vec<(String, Vec<u8>)>,
    pub cors_origins: Option<Vec<String>>,
    pub trust: Trust,
    pub permissions: Permissions,
}

impl CustomerSpec {
    pub fn new(account_id: &str, trust: Trust) -> Self {
        CustomerSpec {
            account_id: account_id.to_owned(),
            bucket: unique("cust"),
            region: REGION.to_owned(),
            objects: vec![("hello.txt".to_owned(), b"hello from the customer".to_vec())],
            cors_origins: None,
            trust,
            permissions: Permissions::ReadOnly,
        }
    }
}

pub struct Customer {
    pub admin: Account,
    pub role_name: String,
    pub role_arn: String,
    pub bucket: String,
    pub region: String,
    pub sdk: SdkConfig,
}

impl Customer {
    pub async fn create(emu: &Emulator, provider_role_arn: &str, spec: CustomerSpec) -> Customer {
        let admin = emu.account(&spec.account_id).await;
        let sdk = emu.sdk_config(admin.credentials(), &spec.region).await;
        let s3 = emu.s3(&sdk);
        let mut bucket = s3.create_bucket().bucket(&spec.bucket);
        if spec.region != "us-east-1" {
            bucket = bucket.create_bucket_configuration(
                CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(spec.region.as_str())).build(),
            );
        }
        bucket.send().await.expect("create bucket");
        for (key, body) in &spec.objects {
            s3.put_object().bucket(&spec.bucket).key(key).body(ByteStream::from(body.clone())).send().await.expect("put object");
        }
        if let Some(origins) = &spec.cors_origins {
            let rule = CorsRule::builder()
                .set_allowed_origins(Some(origins.clone()))
                .allowed_methods("GET")
                .allowed_methods("HEAD")
                .allowed_headers("*")
                .max_age_seconds(3000)
                .build()
                .expect("cors rule");
            s3.put_bucket_cors()
                .bucket(&spec.bucket)
                .cors_configuration(CorsConfiguration::builder().cors_rules(rule).build().expect("cors"))
                .send()
                .await
                .expect("put bucket cors");
        }
        let role_name = format!("bucketlink-{}", spec.bucket);
        let customer = Customer {
            role_arn: format!("arn:aws:iam::{}:role/{role_name}", spec.account_id),
            role_name,
            bucket: spec.bucket.clone(),
            region: spec.region.clone(),
            admin,
            sdk,
        };
        aws_sdk_iam::Client::new(&customer.sdk)
            .create_role()
            .role_name(&customer.role_name)
            .assume_role_policy_document(trust_document(&spec.trust, provider_role_arn).to_string())
            .send()
            .await
            .expect("create customer role");
        customer.set_permissions(&spec.permissions).await;
        customer
    }

    /// Sets the bucket's CORS rules from the JSON the S3 console takes (`[{"AllowedOrigins": [...],
    /// "AllowedMethods": [...], ...}]`), or removes them (`None`).
    pub async fn set_cors(&self, rules: Option<&Value>) {
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&self.sdk).force_path_style(true).build());
        let Some(rules) = rules else {
            s3.delete_bucket_cors().bucket(&self.bucket).send().await.expect("delete bucket cors");
            return;
        };
        let list = |rule: &Value, field: &str| rule[field].as_array().map(|v| v.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect::<Vec<_>>());
        let rules = rules.as_array().expect("a list of CORS rules").iter().map(|rule| {
            CorsRule::builder()
                .set_allowed_origins(list(rule, "AllowedOrigins"))
                .set_allowed_methods(list(rule, "AllowedMethods"))
                .set_allowed_headers(list(rule, "AllowedHeaders"))
                .set_expose_headers(list(rule, "ExposeHeaders"))
                .set_max_age_seconds(rule["MaxAgeSeconds"].as_i64().map(|n| n as i32))
                .build()
                .expect("cors rule")
        });
        s3.put_bucket_cors()
            .bucket(&self.bucket)
            .cors_configuration(CorsConfiguration::builder().set_cors_rules(Some(rules.collect())).build().expect("cors"))
            .send()
            .await
            .expect("put bucket cors");
    }

    pub async fn set_trust(&self, trust: &Trust, provider_role_arn: &str) {
        aws_sdk_iam::Client::new(&self.sdk)
            .update_assume_role_policy()
            .role_name(&self.role_name)
            .policy_document(trust_document(trust, provider_role_arn).to_string())
            .send()
            .await
            .expect("update trust policy");
    }

    pub async fn set_permissions(&self, permissions: &Permissions) {
        aws_sdk_iam::Client::new(&self.sdk)
            .put_role_policy()
            .role_name(&self.role_name)
            .policy_name("bucketlink-read")
            .policy_document(permission_document(permissions, &self.bucket).to_string())
            .send()
            .await
            .expect("put permission policy");
    }
}

pub fn trust_document(trust: &Trust, provider_role_arn: &str) -> Value {
    let statement = |principal: &str, condition: Option<Value>| {
        let mut s = json!({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"});
        if let Some(c) = condition {
            s["Condition"] = c;
        }
        json!({"Version": "2012-10-17", "Statement": [s]})
    };
    match trust {
        Trust::ExternalId(id) => statement(provider_role_arn, Some(json!({"StringEquals": {"sts:ExternalId": id}}))),
        Trust::NoCondition => statement(provider_role_arn, None),
        Trust::WrongPrincipal(other) => statement(other, Some(json!({"StringEquals": {"sts:ExternalId": "irrelevant"}}))),
        Trust::Document(doc) => doc.clone(),
    }
}

pub fn permission_document(permissions: &Permissions, bucket: &str) -> Value {
    let get = json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")});
    let list = json!({"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"], "Resource": format!("arn:aws:s3:::{bucket}")});
    let statements = match permissions {
        Permissions::ReadOnly => vec![get, list],
        Permissions::NoListBucket => vec![get, json!({"Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": format!("arn:aws:s3:::{bucket}")})],
        Permissions::NoObjectWildcard => vec![json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}")}), list],
        Permissions::Document(doc) => return doc.clone(),
    };
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The sweep's queue and event bus in the provider account, and an audit queue that receives
/// every event put on the bus (how tests see the status-change events).
pub struct Sweep {
    pub queue_url: String,
    pub bus: String,
    audit_url: String,
    sqs: aws_sdk_sqs::Client,
}

impl Sweep {
    pub async fn create(provider: &Provider) -> Sweep {
        let sqs = aws_sdk_sqs::Client::new(&provider.admin_sdk);
        let events = aws_sdk_eventbridge::Client::new(&provider.admin_sdk);
        let queue_url = sqs.create_queue().queue_name(unique("sweep")).send().await.expect("sweep queue").queue_url.expect("url");
        let audit_url = sqs.create_queue().queue_name(unique("audit")).send().await.expect("audit queue").queue_url.expect("url");
        let audit_arn = sqs
            .get_queue_attributes()
            .queue_url(&audit_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("audit queue arn")
            .attributes
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn).cloned())
            .expect("arn");
        let bus = unique("bucketlink-events");
        events.create_event_bus().name(&bus).send().await.expect("event bus");
        let rule = unique("audit");
        events.put_rule().name(&rule).event_bus_name(&bus).event_pattern(r#"{"source": ["bucketlink"]}"#).send().await.expect("rule");
        let target = aws_sdk_eventbridge::types::Target::builder().id("audit").arn(audit_arn).build().expect("target");
        events.put_targets().rule(&rule).event_bus_name(&bus).targets(target).send().await.expect("target");
        Sweep { queue_url, bus, audit_url, sqs }
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![("BUCKETLINK_SWEEP_QUEUE_URL", self.queue_url.clone()), ("BUCKETLINK_EVENT_BUS", self.bus.clone())]
    }

    async fn drain(&self, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
        let mut all = Vec::new();
        loop {
            let out = self.sqs.receive_message().queue_url(url).max_number_of_messages(10).send().await.expect("receive");
            let messages = out.messages.unwrap_or_default();
            if messages.is_empty() {
                return all;
            }
            for m in &messages {
                self.sqs.delete_message().queue_url(url).receipt_handle(m.receipt_handle().unwrap_or_default()).send().await.expect("delete");
            }
            all.extend(messages);
        }
    }

    /// The queued sweep messages, as the SQS event Lambda would receive them.
    pub async fn queued_batch(&self) -> Value {
        let records: Vec<Value> = self
            .drain(&self.queue_url)
            .await
            .iter()
            .map(|m| {
                json!({"messageId": m.message_id(), "receiptHandle": m.receipt_handle(), "body": m.body(),
                "attributes": {}, "messageAttributes": {}, "md5OfBody": m.md5_of_body(), "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:111111111111:sweep", "awsRegion": "us-east-1"})
            })
            .collect();
        json!({"Records": records})
    }

    /// The status-change events put on the bus since the last call (their `detail`).
    pub async fn events(&self) -> Vec<Value> {
        self.whole_events().await.into_iter().map(|event| event["detail"].clone()).collect()
    }

    /// The events put on the bus since the last call, whole, as EventBridge delivers them.
    pub async fn whole_events(&self) -> Vec<Value> {
        self.drain(&self.audit_url).await.iter().filter_map(|m| serde_json::from_str::<Value>(m.body()?).ok()).collect()
    }

    /// Delivers the queued sweep messages to `revalidate` as Lambda's SQS event source does: up
    /// to ten received (with their receive counts), one invocation, and only the messages not
    /// named in `batchItemFailures` deleted; the others stay in the queue. The function's answer.
    pub async fn deliver(&self, revalidate: &crate::Function) -> Value {
        let out = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .send()
            .await
            .expect("receive");
        let messages = out.messages.unwrap_or_default();
        let records: Vec<Value> = messages
            .iter()
            .map(|m| {
                let attributes: serde_json::Map<String, Value> = m.attributes().into_iter().flatten().map(|(k, v)| (k.as_str().to_owned(), json!(v))).collect();
                json!({"messageId": m.message_id(), "receiptHandle": m.receipt_handle(), "body": m.body(),
                "attributes": attributes, "messageAttributes": {}, "md5OfBody": m.md5_of_body(), "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:111111111111:sweep", "awsRegion": "us-east-1"})
            })
            .collect();
        let answer = revalidate.invoke(json!({"Records": records})).await.unwrap_or_else(|e| panic!("revalidate failed the batch: {e}"));
        let failed: Vec<&str> = answer["batchItemFailures"].as_array().into_iter().flatten().filter_map(|f| f["itemIdentifier"].as_str()).collect();
        for m in messages.iter().filter(|m| !failed.contains(&m.message_id().unwrap_or_default())) {
            self.sqs.delete_message().queue_url(&self.queue_url).receipt_handle(m.receipt_handle().unwrap_or_default()).send().await.expect("delete");
        }
        answer
    }

    /// The sweep queue's visibility timeout: 0 makes a message that is not deleted visible again
    /// at once, unless its consumer delays it.
    pub async fn set_visibility_timeout(&self, seconds: u32) {
        self.sqs
            .set_queue_attributes()
            .queue_url(&self.queue_url)
            .attributes(aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout, seconds.to_string())
            .send()
            .await
            .expect("set visibility timeout");
    }

    /// Empties the sweep queue (messages waiting out a retry delay too).
    pub async fn purge(&self) {
        self.sqs.purge_queue().queue_url(&self.queue_url).send().await.expect("purge");
    }

    /// Messages in the sweep queue waiting out their delay (a change's window, a dispatch's pacing).
    pub async fn delayed_messages(&self) -> u64 {
        use aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesDelayed;
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .expect("queue attributes");
        out.attributes.and_then(|a| a.get(&ApproximateNumberOfMessagesDelayed).and_then(|v| v.parse().ok())).unwrap_or(0)
    }

    /// Messages in the sweep queue that may be received now, and those received and not yet back.
    pub async fn queue_depth(&self) -> (u64, u64) {
        use aws_sdk_sqs::types::QueueAttributeName::{ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible};
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(ApproximateNumberOfMessages)
            .attribute_names(ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("queue attributes");
        let attributes = out.attributes.unwrap_or_default();
        let n = |name| attributes.get(&name).and_then(|v| v.parse().ok()).unwrap_or(0);
        (n(ApproximateNumberOfMessages), n(ApproximateNumberOfMessagesNotVisible))
    }
}

/// `status-events` fed from a table's stream: how status changes reach the bus.
pub struct Announcer {
    pub function: crate::Function,
    relay: crate::streams::StreamRelay,
}

impl Announcer {
    /// The relay of `table`'s stream into `status-events`, which publishes on `sweep`'s bus
    /// through AWS at `endpoint`.
    pub async fn start(provider: &Provider, endpoint: &str, table: &str, sweep: &Sweep) -> Announcer {
        let mut env = provider.function_env_at(endpoint, table);
        env.extend(sweep.env());
        let function = crate::Function::start("status-events", &env).await;
        let relay = crate::streams::StreamRelay::new(&provider.admin_sdk, table).await;
        Announcer { function, relay }
    }

    /// Delivers every stream record written since the last pump (until one fails).
    pub async fn pump(&self) -> crate::streams::Pumped {
        self.relay.pump(&self.function).await
    }
}

/// An integration connected through the API, as a customer does it: created for `tenant`, the
/// customer's bucket (CORS for the app origin) and role trusting us with its external ID,
/// `prepare` adjusting that account first, and the role attached; `status` is what the checks said.
pub struct Connected {
    pub id: String,
    pub customer: Customer,
    pub status: String,
}

pub async fn connect(
    emu: &Emulator,
    provider: &Provider,
    integrations: &crate::Function,
    tenant: &str,
    account: &str,
    prepare: impl FnOnce(&mut CustomerSpec),
) -> Connected {
    use crate::gateway::{call, event};
    let created = call(integrations, event("POST", "/integrations", Some("{\"name\": \"Acme\"}"), Some(tenant), &[])).await;
    let id = created.body["id"].as_str().expect("an integration id").to_owned();
    let mut spec = CustomerSpec::new(account, Trust::ExternalId(created.body["external_id"].as_str().expect("an external id").to_owned()));
    spec.cors_origins = Some(vec![APP_ORIGIN.to_owned()]);
    prepare(&mut spec);
    let customer = Customer::create(emu, &provider.role_arn, spec).await;
    let body = json!({"name": "Acme", "bucket": customer.bucket, "role_arn": customer.role_arn}).to_string();
    let attached = call(integrations, event("PUT", &format!("/integrations/{id}"), Some(&body), Some(tenant), &[])).await;
    Connected { id, customer, status: attached.body["status"].as_str().unwrap_or_default().to_owned() }
}

/// Splits a command line of plain words and single-quoted strings, as a POSIX shell would.
pub fn shell_words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quoted, mut in_word) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match (c, quoted) {
            ('\'', _) => {
                quoted = !quoted;
                in_word = true;
            }
            (' ', false) => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                }
                in_word = false;
            }
            (c, _) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

pub fn flag<'a>(words: &'a [String], name: &str) -> &'a str {
    let at = words.iter().position(|w| w == name).unwrap_or_else(|| panic!("{name} in {words:?}"));
    &words[at + 1]
}

/// Plays the customer running the AWS CLI commands a setup hands out (`create-role`,
/// `put-role-policy`, `get-role`), word for word, through the SDK; the role's ARN.
pub async fn create_role_from_cli(customer: &SdkConfig, commands: &[String]) -> String {
    let iam = aws_sdk_iam::Client::new(customer);
    let create = shell_words(&commands[0]);
    assert_eq!(&create[..3], ["aws", "iam", "create-role"]);
    let role_name = flag(&create, "--role-name");
    iam.create_role()
        .role_name(role_name)
        .assume_role_policy_document(flag(&create, "--assume-role-policy-document"))
        .send()
        .await
        .expect("create-role as printed");
    let put = shell_words(&commands[1]);
    assert_eq!(&put[..3], ["aws", "iam", "put-role-policy"]);
    assert_eq!(flag(&put, "--role-name"), role_name);
    iam.put_role_policy()
        .role_name(role_name)
        .policy_name(flag(&put, "--policy-name"))
        .policy_document(flag(&put, "--policy-document"))
        .send()
        .await
        .expect("put-role-policy as printed");
    let get = shell_words(&commands[2]);
    assert_eq!(flag(&get, "--role-name"), role_name);
    let role = iam.get_role().role_name(role_name).send().await.expect("get-role as printed");
    role.role.map(|r| r.arn).expect("a role")
}

/// Runs `command` (a line a setup or a fix shows) in bash as `admin` of a customer account, with
/// the AWS CLI of the emulator's virtualenv against `endpoint`; its standard output.
pub fn run_aws_cli(endpoint: &str, admin: &Account, command: &str) -> String {
    let venv = crate::emulator::workspace_root().join(".venv/bin");
    let out = std::process::Command::new("bash")
        .args(["-c", command])
        .env("PATH", format!("{}:{}", venv.display(), std::env::var("PATH").unwrap_or_default()))
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", &admin.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &admin.secret_access_key)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .expect("bash");
    assert!(out.status.success(), "{command}\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("the AWS CLI writes UTF-8")
}
