//! The policy documents a customer pastes, generated for one integration with nothing left to fill
//! in, the CloudFormation parameters and AWS CLI commands that do the same, and (in `lint`) the
//! checks on a policy a customer pastes back.

pub mod lint;

use serde::Serialize;
use serde_json::{json, Value};

use crate::arn::{KmsKeyArn, RoleArn};
use crate::bucket::BucketName;
use crate::external_id::ExternalId;
use crate::ids::{IntegrationId, KeyPrefix};
use crate::partition::Partition;

/// The customer-side CloudFormation template: a role and its policy, from parameters.
pub const CUSTOMER_TEMPLATE: &str = include_str!("../../../infra/customer/bucketlink-access.yaml");
/// The optional customer-side template that forwards their changes' CloudTrail events to us.
/// The same role in Terraform; its variables take the CloudFormation parameters' values.
pub const CUSTOMER_TERRAFORM: &str = include_str!("../../../infra/customer/bucketlink-access.tf");
pub const CHANGES_TEMPLATE: &str = include_str!("../../../infra/customer/bucketlink-changes.yaml");

/// What the policies of one integration are made of.
#[derive(Debug, Clone)]
pub struct Grant<'a> {
    pub integration: &'a IntegrationId,
    pub provider_principal: &'a RoleArn,
    /// During a migration to a new principal: that one, trusted too.
    pub next_provider_principal: Option<&'a RoleArn>,
    pub external_id: &'a ExternalId,
    /// During an external ID rotation's window: the ID being replaced, accepted too.
    pub previous_external_id: Option<&'a ExternalId>,
    /// For a rotation: the name of the attached role, whose trust policy is replaced.
    pub existing_role: Option<&'a str>,
    pub partition: Partition,
    pub bucket: &'a BucketName,
    pub prefix: &'a KeyPrefix,
    pub kms_key: Option<&'a KmsKeyArn>,
}

/// Everything a customer needs to create the role, in the three ways they may prefer.
#[derive(Debug, Clone, Serialize)]
pub struct Setup {
    pub permission_policy: Value,
    pub trust_policy: Value,
    pub cloudformation: CloudFormation,
    pub cli_commands: Vec<String>,
    pub terraform: Terraform,
    /// Optional: forwarding the customer's changes, when bucketlink takes them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_events: Option<ChangeEvents>,
}

/// The optional forwarding of a customer's changes to the role, bucket and key (CloudTrail
/// events), so that what breaks or repairs the integration is checked within seconds.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeEvents {
    pub template_body: &'static str,
    pub parameters: Vec<Parameter>,
    /// Where to deploy it: the bucket's region, and us-east-1 (where IAM's events arrive).
    pub regions: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CloudFormation {
    pub template_body: &'static str,
    /// One stack per integration: two buckets of one account never collide.
    pub stack_name: String,
    pub parameters: Vec<Parameter>,
    /// The console's quick-create page with every parameter filled in, when the template is
    /// published (`BUCKETLINK_CUSTOMER_TEMPLATE_URL`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quick_create_url: Option<String>,
}

impl CloudFormation {
    /// Adds the quick-create link for the template published at `template_url`.
    pub fn with_quick_create(mut self, template_url: &str, partition: Partition) -> Self {
        let console = match partition {
            Partition::Aws => "https://console.aws.amazon.com",
            Partition::AwsCn => "https://console.amazonaws.cn",
            Partition::AwsUsGov => "https://console.amazonaws-us-gov.com",
        };
        let mut url = format!("{console}/cloudformation/home#/stacks/quickcreate?templateURL=");
        crate::encoding::encode_query_into(template_url, &mut url);
        url.push_str("&stackName=");
        url.push_str(&self.stack_name);
        for p in &self.parameters {
            url.push_str("&param_");
            url.push_str(p.parameter_key);
            url.push('=');
            crate::encoding::encode_query_into(&p.parameter_value, &mut url);
        }
        self.quick_create_url = Some(url);
        self
    }
}

/// The role as a Terraform configuration, and the `terraform.tfvars` that fills it in.
#[derive(Debug, Clone, Serialize)]
pub struct Terraform {
    pub configuration: &'static str,
    pub tfvars: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parameter {
    pub parameter_key: &'static str,
    pub parameter_value: String,
}

pub const POLICY_NAME: &str = "BucketlinkReadAccess";

impl Grant<'_> {
    /// The role (and stack) name we hand out: one per integration, so that a second bucket in
    /// the same customer account gets its own role (64 characters at most: this is 43).
    pub fn role_name(&self) -> String {
        format!("BucketlinkAccess-{}", self.integration)
    }

    pub fn bucket_arn(&self) -> String {
        format!("arn:{}:s3:::{}", self.partition.as_str(), self.bucket)
    }

    pub fn objects_arn(&self) -> String {
        format!("{}/{}*", self.bucket_arn(), self.prefix)
    }

    /// Read-only: objects under the prefix, listing (scoped to the prefix when there is one), the
    /// bucket's region, and decryption with the named KMS key.
    pub fn permission_policy(&self) -> Value {
        let mut statements = vec![json!({
            "Sid": "ReadObjects",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": self.objects_arn(),
        })];
        let mut list = json!({"Sid": "ListObjects", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": self.bucket_arn()});
        if !self.prefix.is_empty() {
            list["Condition"] = json!({"StringLike": {"s3:prefix": [format!("{}*", self.prefix)]}});
        }
        statements.push(list);
        statements.push(json!({"Sid": "LocateBucket", "Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": self.bucket_arn()}));
        if let Some(key) = self.kms_key {
            // Only through S3, and only for this bucket's objects: S3 asks KMS with the object's
            // ARN as encryption context (the bucket's ARN when the bucket uses S3 Bucket Keys).
            statements.push(json!({
                "Sid": "DecryptObjects",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": key.as_str(),
                "Condition": {
                    "StringEquals": {"kms:ViaService": format!("s3.{}.{}", key.region(), self.partition.dns_suffix())},
                    "StringLike": {"kms:EncryptionContext:aws:s3:arn": [self.objects_arn(), self.bucket_arn()]},
                },
            }));
        }
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    /// Our principal may assume the role only with this integration's external ID.
    pub fn trust_policy(&self) -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "BucketlinkDelegatedAccess",
                "Effect": "Allow",
                "Principal": {"AWS": self.trusted_principals()},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": self.accepted_external_ids()}},
            }],
        })
    }

    /// The principal to trust, or during a migration the current one and the next.
    fn trusted_principals(&self) -> Value {
        match self.next_provider_principal {
            Some(next) => json!([self.provider_principal.as_str(), next.as_str()]),
            None => json!(self.provider_principal.as_str()),
        }
    }

    /// The `sts:ExternalId` condition's value: the ID, or during a rotation the new and the old.
    fn accepted_external_ids(&self) -> Value {
        match self.previous_external_id {
            Some(previous) => json!([self.external_id.as_str(), previous.as_str()]),
            None => json!(self.external_id.as_str()),
        }
    }

    pub fn cloudformation(&self) -> CloudFormation {
        let p = |parameter_key, parameter_value: &str| Parameter { parameter_key, parameter_value: parameter_value.to_owned() };
        CloudFormation {
            template_body: CUSTOMER_TEMPLATE,
            stack_name: self.role_name(),
            parameters: vec![
                p("ProviderPrincipal", self.provider_principal.as_str()),
                p("NextProviderPrincipal", self.next_provider_principal.map(RoleArn::as_str).unwrap_or_default()),
                p("ExternalId", self.external_id.as_str()),
                p("PreviousExternalId", self.previous_external_id.map(ExternalId::as_str).unwrap_or_default()),
                p("BucketName", self.bucket.as_str()),
                p("KeyPrefix", self.prefix.as_str()),
                p("KmsKeyArn", self.kms_key.map(KmsKeyArn::as_str).unwrap_or_default()),
                p("RoleName", &self.role_name()),
            ],
            quick_create_url: None,
        }
    }

    pub fn terraform(&self) -> Terraform {
        let role = self.role_name();
        let variables = [
            ("provider_principal", self.provider_principal.as_str()),
            ("next_provider_principal", self.next_provider_principal.map(RoleArn::as_str).unwrap_or_default()),
            ("external_id", self.external_id.as_str()),
            ("previous_external_id", self.previous_external_id.map(ExternalId::as_str).unwrap_or_default()),
            ("bucket_name", self.bucket.as_str()),
            ("key_prefix", self.prefix.as_str()),
            ("kms_key_arn", self.kms_key.map(KmsKeyArn::as_str).unwrap_or_default()),
            ("role_name", &role),
        ];
        let tfvars = variables.iter().map(|(name, value)| format!("{name} = {}\n", Value::from(*value))).collect();
        Terraform { configuration: CUSTOMER_TERRAFORM, tfvars }
    }

    /// The commands that make the role; for a role that exists (a rotation), the one that
    /// replaces its trust policy.
    pub fn cli_commands(&self) -> Vec<String> {
        if let Some(existing) = self.existing_role {
            return vec![format!(
                "aws iam update-assume-role-policy --role-name {} --policy-document {}",
                shell_quote(existing),
                shell_quote(&self.trust_policy().to_string())
            )];
        }
        let role = self.role_name();
        vec![
            format!("aws iam create-role --role-name {role} --assume-role-policy-document {}", shell_quote(&self.trust_policy().to_string())),
            format!(
                "aws iam put-role-policy --role-name {role} --policy-name {POLICY_NAME} --policy-document {}",
                shell_quote(&self.permission_policy().to_string())
            ),
            format!("aws iam get-role --role-name {role} --query Role.Arn --output text"),
        ]
    }

    pub fn setup(&self) -> Setup {
        Setup {
            permission_policy: self.permission_policy(),
            trust_policy: self.trust_policy(),
            cloudformation: self.cloudformation(),
            cli_commands: self.cli_commands(),
            terraform: self.terraform(),
            change_events: None,
        }
    }

    /// The forwarding of changes to bucketlink's bus `bus_arn`, for a bucket in `bucket_region`
    /// (when known), about `role` (the attached role's name; when none is attached yet, the
    /// one we hand out).
    pub fn change_events(&self, bus_arn: &str, bucket_region: Option<&str>, role: Option<&str>) -> ChangeEvents {
        let p = |parameter_key, parameter_value: &str| Parameter { parameter_key, parameter_value: parameter_value.to_owned() };
        let mut regions: Vec<String> = bucket_region.map(str::to_owned).into_iter().collect();
        if !regions.iter().any(|r| r == "us-east-1") {
            regions.push("us-east-1".to_owned());
        }
        ChangeEvents {
            template_body: CHANGES_TEMPLATE,
            parameters: vec![
                p("ProviderEventBusArn", bus_arn),
                p("RoleName", role.unwrap_or(&self.role_name())),
                p("BucketName", self.bucket.as_str()),
                p("KmsKeyArn", self.kms_key.map(KmsKeyArn::as_str).unwrap_or_default()),
            ],
            regions,
        }
    }
}

/// The session policy of every AssumeRole we make: what a session may do whatever the customer's
/// role allows. Read the objects under the prefix, list under it, locate the bucket, decrypt
/// only through S3. A role that grants too much is used for no more than this.
pub fn session_policy(partition: Partition, bucket: &BucketName, prefix: &KeyPrefix, kms_key: Option<&KmsKeyArn>) -> String {
    let bucket_arn = format!("arn:{}:s3:::{bucket}", partition.as_str());
    let mut list = json!({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn});
    if !prefix.is_empty() {
        list["Condition"] = json!({"StringLike": {"s3:prefix": format!("{prefix}*")}});
    }
    let statements = [
        json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("{bucket_arn}/{prefix}*")}),
        list,
        json!({"Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": bucket_arn}),
        json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": kms_key.map(KmsKeyArn::as_str).unwrap_or("*"),
            "Condition": {"StringLike": {"kms:ViaService": format!("s3.*.{}", partition.dns_suffix())}}}),
    ];
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// The CORS rule that lets `origins` load a bucket's objects through signed GET URLs, as the S3
/// console takes it (a list of rules).
pub fn cors_rules(origins: &[String]) -> Value {
    json!([{
        "AllowedHeaders": ["*"],
        "AllowedMethods": ["GET", "HEAD"],
        "AllowedOrigins": origins,
        "ExposeHeaders": ["Content-Length", "Content-Range", "Content-Type", "ETag"],
        "MaxAgeSeconds": 3000
    }])
}

/// The AWS CLI command that sets `cors_rules(origins)` on `bucket`.
pub fn cors_cli_command(bucket: &str, origins: &[String]) -> String {
    let configuration = json!({"CORSRules": cors_rules(origins)}).to_string();
    format!("aws s3api put-bucket-cors --bucket {} --cors-configuration {}", shell_quote(bucket), shell_quote(&configuration))
}

/// Single-quotes for POSIX shells; a quote inside becomes `'\''`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Policy elements may be a string or a list of strings.
pub(crate) fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// IAM wildcard matching: `*` any run, `?` one character.
pub(crate) fn wildcard_match(pattern: &str, value: &str, ignore_case: bool) -> bool {
    let norm = |s: &str| if ignore_case { s.to_ascii_lowercase() } else { s.to_owned() };
    let (p, v): (Vec<char>, Vec<char>) = (norm(pattern).chars().collect(), norm(value).chars().collect());
    let (mut pi, mut vi, mut star, mut mark) = (0, 0, None, 0);
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) struct Fixture {
        pub integration: IntegrationId,
        pub principal: RoleArn,
        pub external_id: ExternalId,
        pub bucket: BucketName,
        pub prefix: KeyPrefix,
        pub kms: KmsKeyArn,
    }

    impl Fixture {
        pub fn new(prefix: &str) -> Self {
            Fixture {
                integration: IntegrationId::parse("01JD7ZK3Q4W8X9Y0ABCDEFGHJK").unwrap(),
                principal: RoleArn::parse("arn:aws:iam::111111111111:role/bucketlink-provider").unwrap(),
                external_id: ExternalId::generate(),
                bucket: BucketName::parse("acme-data").unwrap(),
                prefix: KeyPrefix::parse(prefix).unwrap(),
                kms: KmsKeyArn::parse("arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab").unwrap(),
            }
        }

        pub fn grant(&self, with_kms: bool) -> Grant<'_> {
            Grant {
                integration: &self.integration,
                provider_principal: &self.principal,
                next_provider_principal: None,
                external_id: &self.external_id,
                previous_external_id: None,
                existing_role: None,
                partition: Partition::Aws,
                bucket: &self.bucket,
                prefix: &self.prefix,
                kms_key: with_kms.then_some(&self.kms),
            }
        }
    }

    #[test]
    fn permission_policy_is_read_only_and_exact() {
        let f = Fixture::new("");
        assert_eq!(
            f.grant(false).permission_policy(),
            json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "ReadObjects", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-data/*"},
                {"Sid": "ListObjects", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::acme-data"},
                {"Sid": "LocateBucket", "Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": "arn:aws:s3:::acme-data"},
            ]})
        );
    }

    #[test]
    fn prefix_scopes_objects_and_listing_and_kms_key_is_granted_decrypt() {
        let f = Fixture::new("images/");
        let policy = f.grant(true).permission_policy();
        let statements = policy["Statement"].as_array().unwrap();
        assert_eq!(statements[0]["Resource"], "arn:aws:s3:::acme-data/images/*");
        assert_eq!(statements[1]["Condition"], json!({"StringLike": {"s3:prefix": ["images/*"]}}));
        assert_eq!(
            statements[3],
            json!({"Sid": "DecryptObjects", "Effect": "Allow", "Action": "kms:Decrypt",
            "Resource": "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "Condition": {
                "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::acme-data/images/*", "arn:aws:s3:::acme-data"]}}})
        );
    }

    #[test]
    fn trust_policy_names_our_principal_and_the_integrations_external_id() {
        let f = Fixture::new("");
        let trust = f.grant(false).trust_policy();
        let statement = &trust["Statement"][0];
        assert_eq!(statement["Principal"]["AWS"], "arn:aws:iam::111111111111:role/bucketlink-provider");
        assert_eq!(statement["Action"], "sts:AssumeRole");
        assert_eq!(statement["Condition"]["StringEquals"]["sts:ExternalId"], f.external_id.as_str());
    }

    #[test]
    fn generated_documents_pass_the_linter_and_leave_no_placeholder() {
        for prefix in ["", "images/"] {
            let f = Fixture::new(prefix);
            let grant = f.grant(true);
            let setup = grant.setup();
            let ctx = lint::Context::for_grant(&grant);
            for (kind, doc) in [(lint::Kind::Trust, &setup.trust_policy), (lint::Kind::Permission, &setup.permission_policy)] {
                let report = lint::lint(&doc.to_string(), Some(kind), &ctx);
                assert!(report.findings.is_empty(), "{kind:?}: {:?}", report.findings);
            }
            let handed_out =
                serde_json::to_string(&(&setup.permission_policy, &setup.trust_policy, &setup.cli_commands, &setup.cloudformation.parameters)).unwrap();
            for placeholder in ["CustomerBucketARN", "<", ">", "TODO", "REPLACE", "123456789012"] {
                assert!(!handed_out.contains(placeholder), "{placeholder} in {handed_out}");
            }
        }
    }

    #[test]
    fn each_integration_gets_its_own_role_name() {
        let (a, mut b) = (Fixture::new(""), Fixture::new(""));
        b.integration = IntegrationId::generate();
        assert_ne!(a.grant(false).role_name(), b.grant(false).role_name(), "two buckets of one account never collide");
        assert!(a.grant(false).role_name().len() <= 64, "IAM's limit");
        let cfn = a.grant(false).cloudformation();
        assert_eq!(cfn.stack_name, a.grant(false).role_name());
        assert_eq!(cfn.parameters.iter().find(|p| p.parameter_key == "RoleName").unwrap().parameter_value, cfn.stack_name);
    }

    #[test]
    fn a_session_may_do_no_more_than_read_the_integration() {
        let f = Fixture::new("images/");
        let policy: Value = serde_json::from_str(&session_policy(Partition::Aws, &f.bucket, &f.prefix, None)).unwrap();
        assert_eq!(
            policy["Statement"],
            json!([
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-data/images/*"},
                {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::acme-data", "Condition": {"StringLike": {"s3:prefix": "images/*"}}},
                {"Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": "arn:aws:s3:::acme-data"},
                {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}}
            ])
        );
        let keyed: Value = serde_json::from_str(&session_policy(Partition::AwsCn, &f.bucket, &f.prefix, Some(&f.kms))).unwrap();
        assert_eq!(keyed["Statement"][3]["Resource"], f.kms.as_str());
        assert_eq!(keyed["Statement"][3]["Condition"]["StringLike"]["kms:ViaService"], "s3.*.amazonaws.com.cn");
        assert!(session_policy(Partition::Aws, &f.bucket, &f.prefix, Some(&f.kms)).len() < 2048, "AWS caps a session policy at 2,048 characters");
    }

    #[test]
    fn cli_commands_are_quoted_for_the_shell() {
        let f = Fixture::new("it's/");
        let commands = f.grant(false).cli_commands();
        assert!(commands[0].starts_with("aws iam create-role --role-name BucketlinkAccess-01JD7ZK3Q4W8X9Y0ABCDEFGHJK --assume-role-policy-document '{"));
        assert!(commands[1].contains("it'\\''s/*"), "{}", commands[1]);
        assert_eq!(commands[2], "aws iam get-role --role-name BucketlinkAccess-01JD7ZK3Q4W8X9Y0ABCDEFGHJK --query Role.Arn --output text");
    }

    #[test]
    fn cloudformation_parameters_match_the_templates_parameters() {
        let f = Fixture::new("images/");
        let cfn = f.grant(true).cloudformation();
        for p in &cfn.parameters {
            assert!(CUSTOMER_TEMPLATE.contains(&format!("\n  {}:\n", p.parameter_key)), "{} is declared", p.parameter_key);
        }
        assert_eq!(cfn.parameters.iter().find(|p| p.parameter_key == "ExternalId").unwrap().parameter_value, f.external_id.as_str());
    }

    #[test]
    fn a_rotations_setup_accepts_both_ids_and_replaces_the_trust_policy_of_the_role() {
        let f = Fixture::new("");
        let old = ExternalId::generate();
        let mut grant = f.grant(false);
        grant.previous_external_id = Some(&old);
        grant.existing_role = Some("reader's role");
        let setup = grant.setup();
        assert_eq!(setup.trust_policy["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"], json!([f.external_id.as_str(), old.as_str()]));
        assert_eq!(setup.cli_commands.len(), 1);
        assert!(
            setup.cli_commands[0].starts_with("aws iam update-assume-role-policy --role-name 'reader'\\''s role' --policy-document '{"),
            "{}",
            setup.cli_commands[0]
        );
        let previous = setup.cloudformation.parameters.iter().find(|p| p.parameter_key == "PreviousExternalId").unwrap();
        assert_eq!(previous.parameter_value, old.as_str());
        assert!(setup.terraform.tfvars.contains(&format!("previous_external_id = \"{}\"", old.as_str())));
        let ctx = lint::Context::for_grant(&grant);
        assert!(lint::lint(&setup.trust_policy.to_string(), Some(lint::Kind::Trust), &ctx).findings.is_empty());
    }

    #[test]
    fn terraform_variables_are_the_configurations_variables() {
        let f = Fixture::new("images/");
        let tf = f.grant(true).terraform();
        let names: Vec<&str> = tf.tfvars.lines().map(|l| l.split(" = ").next().unwrap()).collect();
        assert_eq!(names.len(), 8);
        for name in names {
            assert!(CUSTOMER_TERRAFORM.contains(&format!("variable \"{name}\" {{")), "{name} is declared");
        }
        assert!(tf.tfvars.contains(&format!("external_id = \"{}\"\n", f.external_id.as_str())), "{}", tf.tfvars);
        assert!(tf.tfvars.contains("key_prefix = \"images/\"\n"));
    }

    #[test]
    fn quick_create_link_carries_every_parameter() {
        let f = Fixture::new("images/");
        let template = "https://bucketlink-templates.s3.amazonaws.com/bucketlink-access.yaml";
        let cfn = f.grant(true).cloudformation().with_quick_create(template, Partition::Aws);
        let url = cfn.quick_create_url.unwrap();
        assert!(url.starts_with("https://console.aws.amazon.com/cloudformation/home#/stacks/quickcreate?templateURL=https%3A%2F%2Fbucketlink-templates.s3.amazonaws.com%2Fbucketlink-access.yaml&stackName=BucketlinkAccess-01JD7ZK3Q4W8X9Y0ABCDEFGHJK&"), "{url}");
        assert!(url.contains(&format!("&param_ExternalId={}", f.external_id.as_str())), "{url}");
        assert!(url.contains("&param_KeyPrefix=images%2F"), "{url}");
        for p in &cfn.parameters {
            assert!(url.contains(&format!("&param_{}=", p.parameter_key)), "{}", p.parameter_key);
        }
        let cn = f.grant(true).cloudformation().with_quick_create(template, Partition::AwsCn);
        assert!(cn.quick_create_url.unwrap().starts_with("https://console.amazonaws.cn/"));
    }

    #[test]
    fn wildcards_match_like_iam() {
        assert!(wildcard_match("s3:Get*", "s3:GetObject", true));
        assert!(wildcard_match("S3:GETOBJECT", "s3:GetObject", true));
        assert!(wildcard_match("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y", false));
        assert!(wildcard_match("s3:*Object", "s3:PutObject", true));
        assert!(wildcard_match("s3:Get?bject", "s3:GetObject", true));
        assert!(!wildcard_match("arn:aws:s3:::b/*", "arn:aws:s3:::b", false));
        assert!(!wildcard_match("s3:List*", "s3:GetObject", true));
    }
}
