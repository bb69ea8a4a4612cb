//! The emulator answers like AWS where bucketlink depends on it: cross-account AssumeRole with an
//! external ID, permission policies, presigned URLs, CORS. Each launcher patch is pinned by a test
//! against stock moto that shows the wrong answer it fixes.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_sdk_s3::config::interceptors::{BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextMut};
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
use bucketlink::arn::RoleArn;
use bucketlink::bucket::BucketName;
use bucketlink::ids::{IntegrationId, KeyPrefix};
use bucketlink::integration::Connection;
use bucketlink_testkit::fixtures::{assume, unique};
use bucketlink_testkit::{Customer, CustomerSpec, Emulator, Mode, Permissions, Provider, Trust};

const CUSTOMER: &str = "222222222222";
const ORIGIN: &str = "https://app.example.com";

async fn setup(emu: &Emulator, trust: Trust, permissions: Permissions) -> (Provider, Customer) {
    let provider = Provider::create(emu).await;
    let mut spec = CustomerSpec::new(CUSTOMER, trust);
    spec.permissions = permissions;
    spec.cors_origins = Some(vec![ORIGIN.to_owned()]);
    let customer = Customer::create(emu, &provider.role_arn, spec).await;
    (provider, customer)
}

#[tokio::test]
async fn customer_role_is_assumable_only_with_the_right_external_id() {
    let emu = Emulator::shared();
    let external_id = unique("ext");
    let (provider, customer) = setup(emu, Trust::ExternalId(external_id.clone()), Permissions::ReadOnly).await;

    let creds = assume(&provider.sdk, &customer.role_arn, Some(&external_id)).await.expect("right external id");
    let sdk = emu.sdk_config(creds, "us-east-1").await;
    let who = aws_sdk_sts::Client::new(&sdk).get_caller_identity().send().await.unwrap();
    assert_eq!(who.account(), Some(CUSTOMER), "the session belongs to the customer's account");

    for (label, id) in [("wrong", Some("not-the-id")), ("none", None)] {
        let (code, message) = assume(&provider.sdk, &customer.role_arn, id).await.expect_err(label);
        assert_eq!(code, "AccessDenied", "{label}: {message}");
        assert!(message.contains("is not authorized to perform: sts:AssumeRole on resource"), "{message}");
        assert!(message.contains(&customer.role_arn), "{message}");
    }
    let missing = format!("arn:aws:iam::{CUSTOMER}:role/does-not-exist");
    let (code, _) = assume(&provider.sdk, &missing, Some(&external_id)).await.expect_err("missing role");
    assert_eq!(code, "AccessDenied");
}

#[tokio::test]
async fn trust_without_external_id_condition_lets_anyone_of_the_principal_in() {
    let emu = Emulator::shared();
    let (provider, customer) = setup(emu, Trust::NoCondition, Permissions::ReadOnly).await;
    for id in [Some("anything"), None] {
        assume(&provider.sdk, &customer.role_arn, id).await.expect("no condition: every external id passes");
    }
}

#[tokio::test]
async fn trust_for_another_principal_denies_us() {
    let emu = Emulator::shared();
    let other = "arn:aws:iam::999999999999:role/someone-else";
    let (provider, customer) = setup(emu, Trust::WrongPrincipal(other.into()), Permissions::ReadOnly).await;
    let (code, _) = assume(&provider.sdk, &customer.role_arn, Some("irrelevant")).await.expect_err("wrong principal");
    assert_eq!(code, "AccessDenied");
}

#[tokio::test]
async fn assumed_credentials_are_bound_by_the_permission_policy() {
    let emu = Emulator::shared();
    let external_id = unique("ext");
    let (provider, customer) = setup(emu, Trust::ExternalId(external_id.clone()), Permissions::NoListBucket).await;
    let creds = assume(&provider.sdk, &customer.role_arn, Some(&external_id)).await.unwrap();
    let s3 = emu.s3(&emu.sdk_config(creds, "us-east-1").await);

    let body = s3.get_object().bucket(&customer.bucket).key("hello.txt").send().await.expect("GetObject allowed");
    assert_eq!(body.body.collect().await.unwrap().into_bytes().as_ref(), b"hello from the customer");
    let err = s3.list_objects_v2().bucket(&customer.bucket).send().await.expect_err("ListBucket not granted");
    assert_eq!(err.code(), Some("AccessDenied"));
    let err = s3.put_object().bucket(&customer.bucket).key("x").body(vec![1].into()).send().await.expect_err("read-only");
    assert_eq!(err.code(), Some("AccessDenied"));

    // The provider's own credentials cannot reach the customer's bucket without the role.
    let err = emu.s3(&provider.sdk).get_object().bucket(&customer.bucket).key("hello.txt").send().await.expect_err("no role");
    assert!(matches!(err.code(), Some("AccessDenied" | "NoSuchBucket")), "{:?}", err.code());
}

/// What every AssumeRole of ours carries (`policy::session_policy`): even a role that grants
/// `s3:*` on everything is used for no more than reading the integration's bucket and prefix.
#[tokio::test]
async fn a_session_policy_bounds_a_role_that_grants_everything() {
    let emu = Emulator::shared();
    let external_id = unique("ext");
    let everything = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
    let (provider, customer) = setup(emu, Trust::ExternalId(external_id.clone()), Permissions::Document(everything)).await;
    let admin_s3 = emu.s3(&customer.sdk);
    let other = unique("other");
    admin_s3.create_bucket().bucket(&other).send().await.unwrap();
    for (bucket, key) in [(&customer.bucket, "rows/a.txt"), (&customer.bucket, "private/b.txt"), (&other, "rows/c.txt")] {
        admin_s3.put_object().bucket(bucket).key(key).body(b"x".to_vec().into()).send().await.unwrap();
    }
    let conn = Connection {
        bucket: BucketName::parse(&customer.bucket).unwrap(),
        role_arn: RoleArn::parse(&customer.role_arn).unwrap(),
        prefix: KeyPrefix::parse("rows/").unwrap(),
        kms_key_arn: None,
    };
    let sts = aws_sdk_sts::Client::new(&provider.sdk);
    let c = bucketlink::sts::assume_role(&sts, &IntegrationId::generate(), &conn.role_arn, Some(&external_id), &conn.session_policy(), 900).await.unwrap();
    let creds = aws_credential_types::Credentials::new(c.access_key_id, c.secret_access_key, Some(c.session_token), None, "session");
    let s3 = emu.s3(&emu.sdk_config(creds, "us-east-1").await);
    s3.get_object().bucket(&customer.bucket).key("rows/a.txt").send().await.expect("the integration's objects");
    s3.list_objects_v2().bucket(&customer.bucket).prefix("rows/").send().await.expect("listing under the prefix");
    for (what, denied) in [
        ("outside the prefix", s3.get_object().bucket(&customer.bucket).key("private/b.txt").send().await.err().and_then(|e| e.code().map(str::to_owned))),
        ("another bucket", s3.get_object().bucket(&other).key("rows/c.txt").send().await.err().and_then(|e| e.code().map(str::to_owned))),
        ("a write", s3.put_object().bucket(&customer.bucket).key("rows/new").body(vec![1].into()).send().await.err().and_then(|e| e.code().map(str::to_owned))),
        ("listing elsewhere", s3.list_objects_v2().bucket(&customer.bucket).prefix("private/").send().await.err().and_then(|e| e.code().map(str::to_owned))),
    ] {
        assert_eq!(denied.as_deref(), Some("AccessDenied"), "{what}: the role allows it, the session does not");
    }
}

/// The provider role's own policy (as `template.yaml` has it) denies AssumeRole on a role of the
/// provider's account, whatever that role's trust policy says.
#[tokio::test]
async fn the_provider_never_assumes_a_role_of_its_own_account() {
    let emu = Emulator::shared();
    let provider = Provider::create(emu).await;
    let iam = aws_sdk_iam::Client::new(&provider.admin_sdk);
    let name = unique("ours");
    let trust =
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": provider.role_arn}, "Action": "sts:AssumeRole"}]});
    iam.create_role().role_name(&name).assume_role_policy_document(trust.to_string()).send().await.unwrap();
    let (code, _) = assume(&provider.sdk, &format!("arn:aws:iam::111111111111:role/{name}"), None).await.expect_err("our own account");
    assert_eq!(code, "AccessDenied");
    let customer = Customer::create(emu, &provider.role_arn, CustomerSpec::new(CUSTOMER, Trust::NoCondition)).await;
    assume(&provider.sdk, &customer.role_arn, None).await.expect("a customer's account");
}

#[tokio::test]
async fn list_scoped_by_prefix_condition_is_evaluated_with_the_request_prefix() {
    let emu = Emulator::shared();
    let external_id = unique("ext");
    let (provider, customer) = setup(emu, Trust::ExternalId(external_id.clone()), Permissions::ReadOnly).await;
    let scoped = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket",
        "Resource": format!("arn:aws:s3:::{}", customer.bucket), "Condition": {"StringLike": {"s3:prefix": ["data/*"]}}}]});
    customer.set_permissions(&Permissions::Document(scoped)).await;
    let creds = assume(&provider.sdk, &customer.role_arn, Some(&external_id)).await.unwrap();
    let s3 = emu.s3(&emu.sdk_config(creds, "us-east-1").await);
    s3.list_objects_v2().bucket(&customer.bucket).prefix("data/").send().await.expect("prefix inside the grant");
    let err = s3.list_objects_v2().bucket(&customer.bucket).prefix("other/").send().await.expect_err("outside");
    assert_eq!(err.code(), Some("AccessDenied"));
    let err = s3.list_objects_v2().bucket(&customer.bucket).send().await.expect_err("no prefix: key missing");
    assert_eq!(err.code(), Some("AccessDenied"));
}

async fn presigned_get(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, start: SystemTime, ttl: u64) -> String {
    let config = PresigningConfig::builder().start_time(start).expires_in(Duration::from_secs(ttl)).build().unwrap();
    s3.get_object().bucket(bucket).key(key).presigned(config).await.unwrap().uri().to_owned()
}

#[tokio::test]
async fn presigned_urls_are_verified_like_s3() {
    let emu = Emulator::shared();
    let external_id = unique("ext");
    let (provider, customer) = setup(emu, Trust::ExternalId(external_id.clone()), Permissions::ReadOnly).await;
    let awkward = "data/a b+c=d&e:f,g~h/日本語 %.txt";
    emu.s3(&customer.sdk).put_object().bucket(&customer.bucket).key(awkward).body(b"awkward".to_vec().into()).send().await.unwrap();
    let creds = assume(&provider.sdk, &customer.role_arn, Some(&external_id)).await.unwrap();
    let s3 = emu.s3(&emu.sdk_config(creds, "us-east-1").await);
    let http = reqwest::Client::new();

    for (key, bytes) in [("hello.txt", &b"hello from the customer"[..]), (awkward, b"awkward")] {
        let url = presigned_get(&s3, &customer.bucket, key, SystemTime::now(), 300).await;
        let response = http.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{key}");
        assert_eq!(response.bytes().await.unwrap().as_ref(), bytes);
    }

    let url = presigned_get(&s3, &customer.bucket, "hello.txt", SystemTime::now(), 300).await;
    let (head, signature) = url.rsplit_once("X-Amz-Signature=").unwrap();
    let flipped = if signature.starts_with('0') { "1" } else { "0" };
    let tampered = format!("{head}X-Amz-Signature={flipped}{}", &signature[1..]);
    let response = http.get(&tampered).send().await.unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("<Code>SignatureDoesNotMatch</Code>"));

    let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
    let expired = presigned_get(&s3, &customer.bucket, "hello.txt", an_hour_ago, 60).await;
    let response = http.get(&expired).send().await.unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("Request has expired"));

    let unsigned = format!("{}/{}/hello.txt", emu.endpoint, customer.bucket);
    assert_eq!(http.get(&unsigned).send().await.unwrap().status(), 403, "anonymous reads are denied");
}

#[tokio::test]
async fn presigned_url_cannot_read_outside_the_permission_policy() {
    let emu = Emulator::shared();
    let external_id = unique("ext");
    let (provider, customer) = setup(emu, Trust::ExternalId(external_id.clone()), Permissions::NoObjectWildcard).await;
    let creds = assume(&provider.sdk, &customer.role_arn, Some(&external_id)).await.unwrap();
    let s3 = emu.s3(&emu.sdk_config(creds, "us-east-1").await);
    let url = presigned_get(&s3, &customer.bucket, "hello.txt", SystemTime::now(), 300).await;
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("<Code>AccessDenied</Code>"));
}

async fn preflight(emu: &Emulator, bucket: &str, origin: &str) -> (u16, Option<String>) {
    let response = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{}/{bucket}/hello.txt", emu.endpoint))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    let allow = response.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), allow)
}

#[tokio::test]
async fn cors_preflight_allows_only_configured_origins() {
    let emu = Emulator::shared();
    let (_, customer) = setup(emu, Trust::NoCondition, Permissions::ReadOnly).await;
    assert_eq!(preflight(emu, &customer.bucket, ORIGIN).await, (200, Some(ORIGIN.to_owned())));
    let (status, allow) = preflight(emu, &customer.bucket, "https://evil.example.com").await;
    assert_eq!((status, allow), (403, None));
}

async fn cross_origin_get(url: &str, origin: &str) -> Option<String> {
    let response = reqwest::Client::new().get(url).header("Origin", origin).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_owned())
}

/// AWS's rule: the first rule matching origin, method and requested headers decides.
#[tokio::test]
async fn cors_is_evaluated_rule_by_rule_like_s3() {
    let emu = Emulator::shared();
    let external_id = unique("ext");
    let (provider, customer) = setup(emu, Trust::ExternalId(external_id.clone()), Permissions::ReadOnly).await;
    let s3 = emu.s3(&emu.sdk_config(assume(&provider.sdk, &customer.role_arn, Some(&external_id)).await.unwrap(), "us-east-1").await);
    let url = presigned_get(&s3, &customer.bucket, "hello.txt", SystemTime::now(), 300).await;

    let later_rule = serde_json::json!([{"AllowedOrigins": ["https://other.example.com"], "AllowedMethods": ["GET"]},
        {"AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["GET"], "AllowedHeaders": ["x-amz-*"]}]);
    customer.set_cors(Some(&later_rule)).await;
    assert_eq!(preflight(emu, &customer.bucket, ORIGIN).await, (200, Some(ORIGIN.to_owned())), "the second rule matches");
    assert_eq!(cross_origin_get(&url, ORIGIN).await.as_deref(), Some(ORIGIN));
    assert_eq!(preflight(emu, &customer.bucket, "https://app.example.com.evil.test").await.0, 403, "an origin matches whole");

    customer.set_cors(Some(&serde_json::json!([{"AllowedOrigins": [ORIGIN], "AllowedMethods": ["PUT"]}]))).await;
    assert_eq!(preflight(emu, &customer.bucket, ORIGIN).await.0, 403, "GET is not allowed");
    assert_eq!(cross_origin_get(&url, ORIGIN).await, None, "a GET no rule allows gets no CORS headers");

    customer.set_cors(Some(&serde_json::json!([{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]))).await;
    assert_eq!(cross_origin_get(&url, ORIGIN).await.as_deref(), Some("*"));

    customer.set_cors(None).await;
    assert_eq!(preflight(emu, &customer.bucket, ORIGIN).await, (403, None), "no CORS at all");
}

#[tokio::test]
async fn sessions_expire() {
    let emu = Emulator::start(Mode::Patched);
    let external_id = unique("ext");
    let (provider, customer) = setup(&emu, Trust::ExternalId(external_id.clone()), Permissions::ReadOnly).await;
    let creds = assume(&provider.sdk, &customer.role_arn, Some(&external_id)).await.unwrap();
    let s3 = emu.s3(&emu.sdk_config(creds, "us-east-1").await);
    s3.head_object().bucket(&customer.bucket).key("hello.txt").send().await.expect("fresh session");
    let url = presigned_get(&s3, &customer.bucket, "hello.txt", SystemTime::now(), 604_800).await;
    emu.advance_clock(3 * 3600).await;
    let err = s3.get_object().bucket(&customer.bucket).key("hello.txt").send().await.expect_err("expired session");
    assert_eq!(err.code(), Some("ExpiredToken"));
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("<Code>ExpiredToken</Code>"), "a URL dies with its session");
}

/// Sends `Origin` with an SDK request and keeps the answer's Access-Control-Allow-Origin: stock
/// moto serves no anonymous request, so its CORS answers are seen through signed ones.
#[derive(Debug, Clone, Default)]
struct AllowOrigin(Arc<Mutex<Option<String>>>);

impl Intercept for AllowOrigin {
    fn name(&self) -> &'static str {
        "AllowOrigin"
    }

    fn modify_before_signing(&self, ctx: &mut BeforeTransmitInterceptorContextMut<'_>, _: &RuntimeComponents, _: &mut ConfigBag) -> Result<(), BoxError> {
        ctx.request_mut().headers_mut().insert("Origin", ORIGIN);
        Ok(())
    }

    fn read_before_deserialization(
        &self,
        ctx: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        *self.0.lock().unwrap() = ctx.response().headers().get("access-control-allow-origin").map(str::to_owned);
        Ok(())
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Stock moto gets each of these wrong; if one starts passing, the patch for it can go.
/// (The patched emulator's side of each is pinned by the other tests in this file and by
/// `customer_setup.rs`, which deploys a CloudFormation template.)
#[tokio::test]
async fn stock_moto_needs_every_patch() {
    let emu = Emulator::start(Mode::Stock);
    let admin = emu.account(CUSTOMER).await;
    let customer_sdk = emu.sdk_config(admin.credentials(), "us-east-1").await;
    let iam = aws_sdk_iam::Client::new(&customer_sdk);
    let external_id = unique("ext");
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": external_id}}}]});
    iam.create_role().role_name("reader").assume_role_policy_document(trust.to_string()).send().await.unwrap();
    let role = format!("arn:aws:iam::{CUSTOMER}:role/reader");
    let provider_admin = emu.account("111111111111").await;
    let provider_sdk = emu.sdk_config(provider_admin.credentials(), "us-east-1").await;

    // trust: cross-account AssumeRole is not checked at all.
    assume(&provider_sdk, &role, Some("wrong")).await.expect("stock moto: wrong external id passes");
    assume(&provider_sdk, &role, None).await.expect("stock moto: missing external id passes");
    let nowhere = format!("arn:aws:iam::{CUSTOMER}:role/does-not-exist");
    assume(&provider_sdk, &nowhere, None).await.expect("stock moto: a role that does not exist is assumed");

    // presign: with enforcement on, a presigned URL is never served.
    let s3 = emu.s3(&customer_sdk);
    s3.create_bucket().bucket("stock-bucket").send().await.unwrap();
    s3.put_object().bucket("stock-bucket").key("k").body(b"x".to_vec().into()).send().await.unwrap();
    let url = presigned_get(&s3, "stock-bucket", "k", SystemTime::now(), 300).await;
    assert_ne!(reqwest::get(&url).await.unwrap().status(), 200, "stock moto cannot serve a valid presigned URL");

    // policy: moto never sees the request's s3:prefix, and takes a condition on a missing key as met.
    let scoped = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::stock-bucket", "Condition": {"StringLike": {"s3:prefix": ["data/*"]}}}]});
    iam.put_role_policy().role_name("reader").policy_name("list").policy_document(scoped.to_string()).send().await.unwrap();
    let reader = assume(&provider_sdk, &role, Some(&external_id)).await.unwrap();
    let listed = emu.s3(&emu.sdk_config(reader, "us-east-1").await).list_objects_v2().bucket("stock-bucket").prefix("other/").send().await;
    assert!(listed.is_ok(), "stock moto allows a list outside the policy's s3:prefix");

    // session: a session policy that allows only GetObject is kept and ignored.
    let only_get = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}).to_string();
    let c = aws_sdk_sts::Client::new(&provider_sdk)
        .assume_role()
        .role_arn(&role)
        .role_session_name("bounded")
        .external_id(&external_id)
        .policy(only_get)
        .send()
        .await
        .unwrap()
        .credentials
        .unwrap();
    let bounded = aws_credential_types::Credentials::new(c.access_key_id, c.secret_access_key, Some(c.session_token), None, "bounded");
    let listed = emu.s3(&emu.sdk_config(bounded, "us-east-1").await).list_objects_v2().bucket("stock-bucket").prefix("data/").send().await;
    assert!(listed.is_ok(), "stock moto lets a session list although its session policy does not");

    // body: a large form-encoded request (a CloudFormation template) fails moto's signature check.
    let stack = aws_sdk_cloudformation::Client::new(&customer_sdk)
        .create_stack()
        .stack_name("stock-stack")
        .template_body(bucketlink::policy::CUSTOMER_TEMPLATE)
        .send()
        .await;
    let error = stack.expect_err("stock moto rejects the SDK's form encoding");
    assert!(format!("{error:?}").contains("SignatureDoesNotMatch"), "{error:?}");

    // cors: a GET's CORS headers come from any rule naming the origin, whatever its methods.
    let put_only = CorsRule::builder().allowed_origins(ORIGIN).allowed_methods("PUT").build().unwrap();
    s3.put_bucket_cors().bucket("stock-bucket").cors_configuration(CorsConfiguration::builder().cors_rules(put_only).build().unwrap()).send().await.unwrap();
    let seen = AllowOrigin::default();
    s3.get_object().bucket("stock-bucket").key("k").customize().interceptor(seen.clone()).send().await.unwrap();
    assert_eq!(seen.0.lock().unwrap().as_deref(), Some(ORIGIN), "stock moto: a rule for PUT lets the origin GET");

    // events: an event delivered to a rule's target has no `account`.
    let sqs = aws_sdk_sqs::Client::new(&provider_sdk);
    let queue = sqs.create_queue().queue_name("stock-events").send().await.unwrap().queue_url.unwrap();
    let events = aws_sdk_eventbridge::Client::new(&provider_sdk);
    events.put_rule().name("all").event_pattern(r#"{"source": ["bucketlink"]}"#).send().await.unwrap();
    let target = aws_sdk_eventbridge::types::Target::builder().id("q").arn("arn:aws:sqs:us-east-1:111111111111:stock-events").build().unwrap();
    events.put_targets().rule("all").targets(target).send().await.unwrap();
    let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder().source("bucketlink").detail_type("Probe").detail("{}").build();
    events.put_events().entries(entry).send().await.unwrap();
    let received = sqs.receive_message().queue_url(&queue).send().await.unwrap();
    let delivered: serde_json::Value = serde_json::from_str(received.messages()[0].body().unwrap()).unwrap();
    assert!(delivered.get("account").is_none(), "stock moto drops the event's account: {delivered:#}");

    // expiry: sessions never expire.
    let session = assume(&provider_sdk, &role, Some(&external_id)).await.unwrap();
    emu.advance_clock(24 * 3600).await;
    let sts = aws_sdk_sts::Client::new(&emu.sdk_config(session, "us-east-1").await);
    let caller = sts.get_caller_identity().send().await.expect("stock moto: a day-old session still works");
    assert_eq!(caller.account(), Some(CUSTOMER));
}

#[tokio::test]
async fn delivered_events_carry_their_account() {
    let emu = Emulator::shared();
    let provider = Provider::create(emu).await;
    let sweep = bucketlink_testkit::Sweep::create(&provider).await;
    let entry =
        aws_sdk_eventbridge::types::PutEventsRequestEntry::builder().event_bus_name(&sweep.bus).source("bucketlink").detail_type("Probe").detail("{}").build();
    aws_sdk_eventbridge::Client::new(&provider.admin_sdk).put_events().entries(entry).send().await.unwrap();
    let delivered = sweep.whole_events().await;
    assert_eq!(delivered[0]["account"], "111111111111", "{:#}", delivered[0]);
}

#[tokio::test]
async fn customer_buckets_can_live_in_another_region() {
    let emu = Emulator::shared();
    let provider = Provider::create(emu).await;
    let external_id = unique("ext");
    let mut spec = CustomerSpec::new(CUSTOMER, Trust::ExternalId(external_id.clone()));
    spec.region = "eu-west-1".to_owned();
    let customer = Customer::create(emu, &provider.role_arn, spec).await;
    let creds = assume(&provider.sdk, &customer.role_arn, Some(&external_id)).await.unwrap();
    let s3 = emu.s3(&emu.sdk_config(creds, "us-east-1").await);
    let location = s3.get_bucket_location().bucket(&customer.bucket).send().await.expect("GetBucketLocation allowed");
    assert_eq!(location.location_constraint().map(|c| c.as_str()), Some("eu-west-1"));
}
