//! The integrations API end to end: the `integrations` binary under Lambda runtime emulation,
//! against the emulator, with real misconfigurations in a separate customer account.

use bucketlink::ids::TenantId;
use bucketlink::inspection::Inspector;
use bucketlink::presign::Endpoint;
use bucketlink::store::Store;
use bucketlink::sts::CredentialCache;
use bucketlink_testkit::fixtures::{create_role_from_cli, APP_ORIGIN};
use bucketlink_testkit::gateway::{call, event, Answer};
use bucketlink_testkit::{Customer, CustomerSpec, Emulator, Function, Permissions, Provider, Trust};
use serde_json::{json, Value};

const CUSTOMER: &str = "444444444444";
const TENANT: &str = "tenant-acme";

struct Api {
    function: Function,
    provider: Provider,
    table: String,
}

const TEMPLATE_URL: &str = "https://bucketlink-templates.s3.amazonaws.com/bucketlink-access.yaml";

impl Api {
    async fn start() -> Api {
        let emu = Emulator::shared();
        let provider = Provider::create(emu).await;
        let table = provider.table().await;
        let mut env = provider.function_env(emu, &table);
        env.push(("BUCKETLINK_CUSTOMER_TEMPLATE_URL", TEMPLATE_URL.to_owned()));
        let function = Function::start("integrations", &env).await;
        Api { function, provider, table }
    }

    async fn call_as(&self, tenant: Option<&str>, method: &str, path: &str, body: Option<Value>) -> Answer {
        let text = body.map(|b| b.to_string());
        call(&self.function, event(method, path, text.as_deref(), tenant, &[])).await
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.call_as(Some(TENANT), method, path, body).await
    }

    /// Step 1 and the customer's side: an integration, and a customer account set up from its setup.
    async fn create_with_customer(&self, spec: impl FnOnce(&mut CustomerSpec, &str)) -> (String, Customer) {
        let created = self.call("POST", "/integrations", Some(json!({"name": "Acme images"}))).await;
        assert_eq!(created.status, 201, "{:?}", created.body);
        let id = created.body["id"].as_str().unwrap().to_owned();
        let external_id = created.body["external_id"].as_str().unwrap().to_owned();
        let mut customer_spec = CustomerSpec::new(CUSTOMER, Trust::ExternalId(external_id.clone()));
        customer_spec.cors_origins = Some(vec![APP_ORIGIN.to_owned()]);
        spec(&mut customer_spec, &external_id);
        let customer = Customer::create(Emulator::shared(), &self.provider.role_arn, customer_spec).await;
        (id, customer)
    }

    async fn attach(&self, id: &str, customer: &Customer) -> Answer {
        let body = json!({"name": "Acme images", "bucket": customer.bucket, "role_arn": customer.role_arn});
        self.call("PUT", &format!("/integrations/{id}"), Some(body)).await
    }
}

fn check<'a>(answer: &'a Answer, name: &str) -> &'a Value {
    answer.body["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("check {name}"))
}

fn statuses(answer: &Answer) -> Vec<(String, String)> {
    answer.body["checks"].as_array().unwrap().iter().map(|c| (c["name"].as_str().unwrap().to_owned(), c["status"].as_str().unwrap().to_owned())).collect()
}

#[tokio::test]
async fn happy_path_create_setup_attach_checks() {
    let api = Api::start().await;
    let created = api.call("POST", "/integrations", Some(json!({"name": "Acme images", "bucket": "acme-happy-data", "prefix": "images/"}))).await;
    assert_eq!(created.status, 201);
    assert_eq!(created.content_type, "application/json");
    let body = &created.body;
    assert_eq!(body["status"], "awaiting_role");
    assert_eq!(body["provider_principal"], api.provider.role_arn);
    assert_eq!(body["provider_account_id"], "111111111111");
    let external_id = body["external_id"].as_str().unwrap();
    assert!(external_id.starts_with("bl-") && external_id.len() >= 30);
    let setup = &body["setup"];
    assert_eq!(setup["trust_policy"]["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"], external_id);
    assert_eq!(setup["permission_policy"]["Statement"][0]["Resource"], "arn:aws:s3:::acme-happy-data/images/*");
    assert!(setup["cli_commands"].as_array().unwrap().len() == 3);
    assert!(setup["cloudformation"]["parameters"].as_array().unwrap().iter().any(|p| p["ParameterValue"] == external_id));
    let quick_create = setup["cloudformation"]["quick_create_url"].as_str().unwrap();
    assert!(
        quick_create.contains("templateURL=https%3A%2F%2Fbucketlink-templates.") && quick_create.contains(&format!("param_ExternalId={external_id}")),
        "{quick_create}"
    );

    let (id, customer) = api.create_with_customer(|_, _| {}).await;
    let attached = api.attach(&id, &customer).await;
    assert_eq!(attached.status, 200, "{:#}", attached.body);
    assert_eq!(attached.body["status"], "healthy", "{:#}", attached.body);
    for (name, status) in statuses(&attached) {
        assert_eq!(status, "pass", "{name}: {:#}", check(&attached, &name));
    }
    assert_eq!(attached.body["region"], "us-east-1");
    assert_eq!(attached.body["role_arn"], customer.role_arn);

    let read = api.call("GET", &format!("/integrations/{id}"), None).await;
    assert_eq!(read.body["status"], "healthy");
    assert_eq!(read.body["history"].as_array().unwrap().len(), 1);
    let refreshed = api.call("POST", &format!("/integrations/{id}/validate"), None).await;
    assert_eq!(refreshed.body["status"], "healthy");
    assert_eq!(refreshed.body["version"].as_u64(), Some(read.body["version"].as_u64().unwrap() + 1));
    let listed = api.call("GET", "/integrations?limit=1", None).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let cursor = listed.body["next_cursor"].as_str().expect("a second page");
    let next = api.call("GET", &format!("/integrations?limit=1&cursor={cursor}"), None).await;
    assert_eq!(next.body["items"][0]["id"], id);

    let deleted = api.call("DELETE", &format!("/integrations/{id}"), None).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(api.call("GET", &format!("/integrations/{id}"), None).await.status, 404);
}

#[tokio::test]
async fn trust_without_external_id_condition_is_insecure() {
    let api = Api::start().await;
    let (id, customer) = api.create_with_customer(|spec, _| spec.trust = Trust::NoCondition).await;
    let answer = api.attach(&id, &customer).await;
    assert_eq!(answer.body["status"], "insecure");
    let insecure = check(&answer, "external_id_required");
    assert_eq!((insecure["status"].as_str(), insecure["code"].as_str()), (Some("fail"), Some("EXTERNAL_ID_INSECURE")));
    assert!(insecure["message"].as_str().unwrap().starts_with("External ID configured insecurely"));
    assert!(insecure["remediation"].as_str().unwrap().contains(answer.body["external_id"].as_str().unwrap()), "the exact fix");
    for name in ["bucket_region", "list_objects", "object_read", "cors"] {
        assert_eq!(check(&answer, name)["status"], "skip", "no data is read through an insecure role");
    }
}

#[tokio::test]
async fn wrong_principal_cannot_assume() {
    let api = Api::start().await;
    let (id, customer) = api.create_with_customer(|spec, _| spec.trust = Trust::WrongPrincipal("arn:aws:iam::999999999999:role/other".into())).await;
    let answer = api.attach(&id, &customer).await;
    assert_eq!(answer.body["status"], "failing");
    let role = check(&answer, "role_assumable");
    assert_eq!(role["code"], "ROLE_CANNOT_BE_ASSUMED");
    assert!(role["message"].as_str().unwrap().starts_with("Role cannot be assumed"));
    let fix = role["remediation"].as_str().unwrap();
    assert!(fix.contains(&api.provider.role_arn) && fix.contains(answer.body["external_id"].as_str().unwrap()), "{fix}");
}

#[tokio::test]
async fn object_resource_without_wildcard_cannot_read() {
    let api = Api::start().await;
    let (id, customer) = api.create_with_customer(|spec, _| spec.permissions = Permissions::NoObjectWildcard).await;
    let answer = api.attach(&id, &customer).await;
    assert_eq!(answer.body["status"], "failing");
    let read = check(&answer, "object_read");
    assert_eq!(read["code"], "CANNOT_ACCESS_DATA_ROW");
    assert!(read["message"].as_str().unwrap().starts_with("Cannot access data row"));
    assert!(read["remediation"].as_str().unwrap().contains(&format!("arn:aws:s3:::{}/*", customer.bucket)));
    assert_eq!(check(&answer, "cors")["status"], "pass", "a refused read is not blamed on CORS");
}

#[tokio::test]
async fn no_list_bucket_is_a_warning_with_the_statement_to_add() {
    let api = Api::start().await;
    let (id, customer) = api.create_with_customer(|spec, _| spec.permissions = Permissions::NoListBucket).await;
    let answer = api.attach(&id, &customer).await;
    let list = check(&answer, "list_objects");
    assert_eq!((list["status"].as_str(), list["code"].as_str()), (Some("warn"), Some("LIST_OBJECTS_DENIED")));
    assert!(list["remediation"].as_str().unwrap().contains("s3:ListBucket"));
    assert_eq!(answer.body["status"], "healthy", "listing is optional for signing");
}

#[tokio::test]
async fn missing_or_foreign_cors_is_incorrect_cors_header() {
    let api = Api::start().await;
    for origins in [None, Some(vec!["https://other.example.com".to_owned()])] {
        let (id, customer) = api.create_with_customer(|spec, _| spec.cors_origins = origins.clone()).await;
        let answer = api.attach(&id, &customer).await;
        assert_eq!(answer.body["status"], "failing", "{origins:?}");
        let cors = check(&answer, "cors");
        assert_eq!(cors["code"], "INCORRECT_CORS_HEADER");
        assert!(cors["message"].as_str().unwrap().starts_with("Incorrect CORS header"));
        let fix = cors["remediation"].as_str().unwrap();
        let json_start = fix.find('[').unwrap();
        let config: Value = serde_json::from_str(fix[json_start..].lines().next().unwrap()).expect("the fix carries the exact CORS JSON");
        assert_eq!(config[0]["AllowedOrigins"], json!([APP_ORIGIN]));
        let command = &fix[fix.find("aws s3api put-bucket-cors").expect("and the CLI command")..];
        assert!(command.starts_with(&format!("aws s3api put-bucket-cors --bucket '{}' --cors-configuration '{{\"CORSRules\":", customer.bucket)), "{command}");
    }
}

#[tokio::test]
async fn bucket_in_another_region_is_found_and_stored() {
    let api = Api::start().await;
    let (id, customer) = api.create_with_customer(|spec, _| spec.region = "eu-west-1".to_owned()).await;
    let answer = api.attach(&id, &customer).await;
    assert_eq!(answer.body["region"], "eu-west-1");
    assert_eq!(check(&answer, "bucket_region")["message"], format!("Bucket {} is in eu-west-1.", customer.bucket));
    assert_eq!(answer.body["status"], "healthy", "{:#}", answer.body);
}

#[tokio::test]
async fn another_tenant_cannot_use_the_same_role_and_cannot_see_the_integration() {
    let api = Api::start().await;
    let (id, customer) = api.create_with_customer(|_, _| {}).await;
    assert_eq!(api.attach(&id, &customer).await.body["status"], "healthy");

    // The confused deputy: tenant B points its own integration at A's customer role.
    let theirs = api.call_as(Some("tenant-mallory"), "POST", "/integrations", Some(json!({"name": "stolen"}))).await;
    let their_id = theirs.body["id"].as_str().unwrap();
    let body = json!({"name": "stolen", "bucket": customer.bucket, "role_arn": customer.role_arn});
    let answer = api.call_as(Some("tenant-mallory"), "PUT", &format!("/integrations/{their_id}"), Some(body)).await;
    assert_eq!(answer.body["status"], "failing");
    assert_eq!(check(&answer, "role_assumable")["code"], "ROLE_CANNOT_BE_ASSUMED");

    for (method, path) in [("GET", format!("/integrations/{id}")), ("DELETE", format!("/integrations/{id}")), ("POST", format!("/integrations/{id}/validate"))]
    {
        let answer = api.call_as(Some("tenant-mallory"), method, &path, None).await;
        assert_eq!(answer.status, 404, "{method} {path}");
        assert_eq!(answer.body["code"], "INTEGRATION_NOT_FOUND");
    }
    let missing = api.call_as(Some("tenant-mallory"), "GET", "/integrations/01JD7ZK3Q4W8X9Y0ABCDEFGHJK", None).await;
    assert_eq!(missing.body["title"], api.call_as(Some("tenant-mallory"), "GET", &format!("/integrations/{id}"), None).await.body["title"]);
    assert_eq!(api.call("GET", &format!("/integrations/{id}"), None).await.status, 200, "the owner still sees it");
}

#[tokio::test]
async fn concurrent_attaches_and_refreshes_lose_nothing() {
    // Containers in pairs (real concurrency, as Lambda runs it), each pair writing one integration
    // at the same moment: an attach under a new name racing a refresh, three rounds.
    let load = bucketlink_testkit::load::integrations_api(Emulator::shared(), 4, 3).await;
    assert_eq!(load.attaches.count() + load.refreshes.count(), 12);
    assert!(load.errors.is_empty(), "{:?}", load.errors);
    assert!(load.lost_updates.is_empty(), "every version, the last name and every history entry landed: {:?}", load.lost_updates);
}

#[tokio::test]
async fn bad_input_gets_a_clear_problem_never_a_500() {
    let api = Api::start().await;
    let created = api.call("POST", "/integrations", Some(json!({"name": "x"}))).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/integrations/{id}");
    let raw = |method: &'static str, path: String, body: &'static str| {
        let function = &api.function;
        async move { call(function, event(method, &path, Some(body), Some(TENANT), &[])).await }
    };
    let cases: Vec<(Answer, u16, &str, &str)> = vec![
        (raw("POST", "/integrations".into(), "{\"name\": ").await, 400, "INVALID_JSON", ""),
        (raw("POST", "/integrations".into(), "{\"tenant\": \"x\"}").await, 422, "INVALID_FIELD", "unknown field `tenant`"),
        (raw("POST", "/integrations".into(), "{\"name\": 7}").await, 422, "INVALID_FIELD", "name: invalid type"),
        (raw("POST", "/integrations".into(), "{\"bucket\": \"Bad_Bucket\"}").await, 422, "INVALID_BUCKET_NAME", "bucket:"),
        (
            raw("PUT", path.clone(), "{\"name\": \"x\", \"bucket\": \"ok-bucket\", \"role_arn\": \"arn:aws:iam::123456789012:user/bob\"}").await,
            422,
            "ROLE_ARN_WRONG_KIND",
            "IAM user",
        ),
        (raw("PUT", path.clone(), "{\"name\": \"x\", \"bucket\": \"ok-bucket\", \"role_arn\": \"not an arn\"}").await, 422, "INVALID_ROLE_ARN", "role_arn:"),
        (
            raw("PUT", path.clone(), "{\"name\": \"x\", \"bucket\": \"ok-bucket\", \"role_arn\": \"arn:aws:iam::111111111111:role/bucketlink-provider\"}")
                .await,
            422,
            "ROLE_IN_PROVIDER_ACCOUNT",
            "bucketlink's own AWS account",
        ),
        (raw("POST", "/integrations".into(), "{\"bucket\": \"ok-bucket\", \"prefix\": \"*\"}").await, 422, "INVALID_PREFIX", "wildcards"),
        (raw("POST", "/integrations".into(), "{\"bucket\": \"ok-bucket\", \"prefix\": \"${aws:username}/\"}").await, 422, "INVALID_PREFIX", "prefix:"),
        (raw("PUT", path.clone(), "{\"name\": \"x\", \"bucket\": \"ok-bucket\"}").await, 422, "INVALID_FIELD", "missing field `role_arn`"),
        (
            raw(
                "PUT",
                path.clone(),
                "{\"name\": \"x\", \"bucket\": \"ok-bucket\", \"role_arn\": \"arn:aws:iam::123456789012:role/r\", \"kms_key_arn\": \"alias/x\"}",
            )
            .await,
            422,
            "INVALID_KMS_KEY_ARN",
            "kms_key_arn:",
        ),
        (raw("POST", format!("{path}/validate"), "").await, 422, "ROLE_NOT_ATTACHED", ""),
        (raw("GET", "/integrations?limit=0".into(), "").await, 400, "INVALID_PARAMETER", "limit"),
        (raw("GET", "/integrations?cursor=..%2F".into(), "").await, 422, "INVALID_CURSOR", ""),
        (raw("GET", "/integrations/../../etc".into(), "").await, 404, "ROUTE_NOT_FOUND", ""),
        (raw("PATCH", path.clone(), "{}").await, 404, "ROUTE_NOT_FOUND", ""),
    ];
    for (answer, status, code, detail) in cases {
        assert_eq!((answer.status, answer.body["code"].as_str().unwrap_or_default()), (status, code), "{:#}", answer.body);
        assert_eq!(answer.content_type, "application/problem+json");
        assert!(answer.body["detail"].as_str().unwrap().contains(detail), "{:#}", answer.body);
        for field in ["type", "title", "status", "detail", "code"] {
            assert!(!answer.body[field].is_null(), "{field} in {:#}", answer.body);
        }
    }
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(300_000));
    let answer = call(&api.function, event("POST", "/integrations", Some(&huge), Some(TENANT), &[])).await;
    assert_eq!((answer.status, answer.body["code"].as_str()), (413, Some("BODY_TOO_LARGE")));
    let anonymous = api.call_as(None, "GET", "/integrations", None).await;
    assert_eq!((anonymous.status, anonymous.body["code"].as_str()), (401, Some("UNAUTHENTICATED")));
    let after = api.call("GET", &path, None).await;
    assert_eq!((after.status, after.body["version"].as_u64()), (200, Some(1)), "bad input changed nothing");
}

#[tokio::test]
async fn idempotency_key_makes_attach_retries_safe() {
    let api = Api::start().await;
    let (id, customer) = api.create_with_customer(|_, _| {}).await;
    let path = format!("/integrations/{id}");
    let body = json!({"name": "Acme", "bucket": customer.bucket, "role_arn": customer.role_arn}).to_string();
    let with_key = |body: String, key: &'static str| event("PUT", &path, Some(&body), Some(TENANT), &[("Idempotency-Key", key)]);
    let first = call(&api.function, with_key(body.clone(), "attach-1")).await;
    let retry = call(&api.function, with_key(body.clone(), "attach-1")).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body, retry.body, "the retry gets the first answer");
    assert_eq!(api.call("GET", &path, None).await.body["version"], first.body["version"], "and runs nothing again");
    let other = json!({"name": "Other", "bucket": customer.bucket, "role_arn": customer.role_arn}).to_string();
    let reused = call(&api.function, with_key(other, "attach-1")).await;
    assert_eq!((reused.status, reused.body["code"].as_str()), (422, Some("IDEMPOTENCY_KEY_REUSED")));
}

#[tokio::test]
async fn lint_endpoint_checks_a_pasted_policy_against_the_integration() {
    let api = Api::start().await;
    let created = api.call("POST", "/integrations", Some(json!({"name": "x", "bucket": "acme-lint-data"}))).await;
    let id = created.body["id"].as_str().unwrap();
    let seed_trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": api.provider.role_arn}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": ""}}}]});
    let answer = api.call("POST", "/policy/lint", Some(json!({"policy": seed_trust.to_string(), "integration_id": id}))).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["kind"], "trust");
    let finding = &answer.body["findings"][0];
    assert_eq!(finding["code"], "TRUST_EMPTY_EXTERNAL_ID");
    assert!(finding["fix"].as_str().unwrap().contains(created.body["external_id"].as_str().unwrap()));
    let generated = &created.body["setup"]["permission_policy"];
    let clean = api.call("POST", "/policy/lint", Some(json!({"policy": generated, "kind": "permission", "integration_id": id}))).await;
    assert_eq!(clean.body["findings"], json!([]), "what we hand out passes our own linter");
    let foreign = api.call_as(Some("tenant-mallory"), "POST", "/policy/lint", Some(json!({"policy": "{}", "integration_id": id}))).await;
    assert_eq!(foreign.status, 404);
}

#[tokio::test]
async fn two_buckets_of_one_customer_account_are_both_set_up_from_what_we_hand_out() {
    let api = Api::start().await;
    let emu = Emulator::shared();
    let account = "444444444445";
    let mut statuses = Vec::new();
    for _ in 0..2 {
        // The customer's bucket (with CORS for the app) exists; the role comes from our setup.
        let mut spec = CustomerSpec::new(account, Trust::NoCondition);
        spec.cors_origins = Some(vec![APP_ORIGIN.to_owned()]);
        let customer = Customer::create(emu, &api.provider.role_arn, spec).await;
        let created = api.call("POST", "/integrations", Some(json!({"name": "Acme", "bucket": customer.bucket}))).await;
        let commands: Vec<String> = serde_json::from_value(created.body["setup"]["cli_commands"].clone()).unwrap();
        let role_arn = create_role_from_cli(&customer.sdk, &commands).await;
        let attached = api
            .call(
                "PUT",
                &format!("/integrations/{}", created.body["id"].as_str().unwrap()),
                Some(json!({"name": "Acme", "bucket": customer.bucket, "role_arn": role_arn})),
            )
            .await;
        statuses.push((attached.body["role_arn"].clone(), attached.body["status"].clone()));
    }
    assert_ne!(statuses[0].0, statuses[1].0, "two roles, one per integration");
    assert_eq!((&statuses[0].1, &statuses[1].1), (&json!("healthy"), &json!("healthy")), "{statuses:?}");
}

#[tokio::test]
async fn a_retried_create_makes_one_integration() {
    let api = Api::start().await;
    let tenant = "tenant-retries";
    let body = json!({"name": "Once"}).to_string();
    let create = || call(&api.function, event("POST", "/integrations", Some(&body), Some(tenant), &[("Idempotency-Key", "create-1")]));
    let (first, retry) = (create().await, create().await);
    assert_eq!((first.status, retry.status), (201, 201));
    assert_eq!(first.body["id"], retry.body["id"], "the retry gets the first integration");
    let listed = api.call_as(Some(tenant), "GET", "/integrations", None).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let other = call(&api.function, event("POST", "/integrations", Some("{\"name\": \"Other\"}"), Some(tenant), &[("Idempotency-Key", "create-1")])).await;
    assert_eq!((other.status, other.body["code"].as_str()), (422, Some("IDEMPOTENCY_KEY_REUSED")));
}

#[tokio::test]
async fn delete_leaves_nothing_of_the_integration_behind() {
    let api = Api::start().await;
    let (id, customer) = api.create_with_customer(|_, _| {}).await;
    assert_eq!(api.attach(&id, &customer).await.body["status"], "healthy");
    api.call("POST", &format!("/integrations/{id}/validate"), None).await;
    let store = Store::new(aws_sdk_dynamodb::Client::new(&api.provider.admin_sdk), &api.table);
    let integration = store.get(&TenantId::parse(TENANT).unwrap(), &id).await.unwrap().unwrap();
    let conn = integration.connection().unwrap();
    let inspector = Inspector::new(
        CredentialCache::new(aws_sdk_sts::Client::new(&api.provider.sdk)),
        bucketlink::budget::http_client(),
        Endpoint::from_url(Some(&Emulator::shared().endpoint)),
        true,
        Default::default(),
    );
    let record = inspector.inspect(&integration, &conn, "hello.txt").await.unwrap();
    store.put_object_record(&integration.tenant, &record, None).await.unwrap();
    let items_of = |id: String| {
        let (sdk, table) = (api.provider.admin_sdk.clone(), api.table.clone());
        async move {
            let out = aws_sdk_dynamodb::Client::new(&sdk).scan().table_name(table).send().await.unwrap();
            out.items().iter().filter(|i| i.get("sk").and_then(|v| v.as_s().ok()).is_some_and(|sk| sk.contains(&id))).count()
        }
    };
    assert_eq!(items_of(id.clone()).await, 1 + 2 + 1, "the integration, two history entries (attach, refresh), a record");
    assert_eq!(api.call("DELETE", &format!("/integrations/{id}"), None).await.status, 204);
    assert_eq!(items_of(id.clone()).await, 0, "history and records went with it");
}

/// AWS refuses a read of an SSE-KMS object whose key the role may not use in words that do not
/// say "KMS": the check must still name the key as the cause, and the grant to add.
#[tokio::test]
async fn an_object_under_a_kms_key_the_role_may_not_use_is_named_as_the_cause() {
    let api = Api::start().await;
    let (id, customer) = api.create_with_customer(|_, _| {}).await;
    let key_arn = format!("arn:aws:kms:us-east-1:{CUSTOMER}:key/5c6d7e8f-1234-4abc-8def-0123456789ab");
    Emulator::shared()
        .s3(&customer.sdk)
        .put_object()
        .bucket(&customer.bucket)
        .key("rows/secret.txt")
        .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::AwsKms)
        .ssekms_key_id(&key_arn)
        .body(b"encrypted".to_vec().into())
        .send()
        .await
        .unwrap();
    let body = json!({"name": "Acme images", "bucket": customer.bucket, "role_arn": customer.role_arn, "prefix": "rows/"});
    let answer = api.call("PUT", &format!("/integrations/{id}"), Some(body)).await;
    let read = check(&answer, "object_read");
    assert_eq!(read["code"], "CANNOT_ACCESS_DATA_ROW", "{read:#}");
    let fix = read["remediation"].as_str().unwrap();
    assert!(fix.contains("kms:Decrypt") && fix.contains("KMS key"), "the KMS key is named as the cause: {fix}");
}
