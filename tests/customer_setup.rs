//! What we hand a customer works as handed: the CloudFormation template (linted, and deployed in
//! the emulator with the parameters we return) and the CLI commands (replayed through the SDK) both
//! produce a role that our principal can assume with the integration's external ID, and only so.

use std::process::Command;

use aws_sdk_cloudformation::types::Parameter;
use bucketlink::arn::{KmsKeyArn, RoleArn};
use bucketlink::bucket::BucketName;
use bucketlink::external_id::ExternalId;
use bucketlink::ids::{IntegrationId, KeyPrefix};
use bucketlink::partition::Partition;
use bucketlink::policy::Grant;
use bucketlink_testkit::emulator::workspace_root;
use bucketlink_testkit::fixtures::{assume, create_role_from_cli, unique};
use bucketlink_testkit::{Customer, CustomerSpec, Emulator, Provider, Trust};

const CUSTOMER: &str = "333333333333";

#[test]
fn templates_pass_cfn_lint() {
    let root = workspace_root();
    assert!(Command::new("bash").arg(root.join("infra/local/setup.sh")).status().unwrap().success());
    for template in ["infra/customer/bucketlink-access.yaml", "infra/customer/bucketlink-changes.yaml", "template.yaml"] {
        let out = Command::new(root.join(".venv/bin/cfn-lint")).arg(root.join(template)).output().unwrap();
        let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "cfn-lint {template}:\n{report}");
    }
}

/// `sam validate --lint` (SAM's transform, then cfn-lint on the result); SAM needs a region, not
/// credentials.
#[test]
fn template_passes_sam_validate_lint() {
    let root = workspace_root();
    assert!(Command::new("bash").arg(root.join("infra/local/setup.sh")).arg("tools").status().unwrap().success());
    let out = Command::new(root.join(".venv-tools/bin/sam"))
        .args(["validate", "--lint", "--template"])
        .arg(root.join("template.yaml"))
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("SAM_CLI_TELEMETRY", "0")
        .output()
        .unwrap();
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && report.contains("is a valid SAM Template"), "sam validate --lint:\n{report}");
}

struct Integration {
    provider: Provider,
    customer: Customer,
    id: IntegrationId,
    external_id: ExternalId,
    principal: RoleArn,
    bucket: BucketName,
    prefix: KeyPrefix,
    kms: Option<KmsKeyArn>,
}

impl Integration {
    async fn new(emu: &Emulator, prefix: &str) -> Integration {
        Integration::with_key(emu, prefix, None).await
    }

    async fn with_key(emu: &Emulator, prefix: &str, kms: Option<KmsKeyArn>) -> Integration {
        let provider = Provider::create(emu).await;
        // The bucket and its objects exist; the role is what the customer now creates from our setup.
        let customer = Customer::create(emu, &provider.role_arn, CustomerSpec::new(CUSTOMER, Trust::NoCondition)).await;
        Integration {
            principal: RoleArn::parse(&provider.role_arn).unwrap(),
            bucket: BucketName::parse(&customer.bucket).unwrap(),
            prefix: KeyPrefix::parse(prefix).unwrap(),
            id: IntegrationId::generate(),
            external_id: ExternalId::generate(),
            kms,
            provider,
            customer,
        }
    }

    fn grant(&self) -> Grant<'_> {
        Grant {
            integration: &self.id,
            provider_principal: &self.principal,
            next_provider_principal: None,
            external_id: &self.external_id,
            previous_external_id: None,
            existing_role: None,
            partition: Partition::Aws,
            bucket: &self.bucket,
            prefix: &self.prefix,
            kms_key: self.kms.as_ref(),
        }
    }

    /// The role works with the external ID, not without, and reads exactly what the grant says.
    async fn assert_role_works(&self, emu: &Emulator, role_arn: &str, readable: &str, unreadable: Option<&str>) {
        let creds = assume(&self.provider.sdk, role_arn, Some(self.external_id.as_str())).await.expect("assume with the external id");
        assert_eq!(assume(&self.provider.sdk, role_arn, None).await.unwrap_err().0, "AccessDenied");
        assert_eq!(assume(&self.provider.sdk, role_arn, Some("bl-guess")).await.unwrap_err().0, "AccessDenied");
        let s3 = emu.s3(&emu.sdk_config(creds, "us-east-1").await);
        s3.get_object().bucket(&self.customer.bucket).key(readable).send().await.expect("object under the prefix is readable");
        if let Some(key) = unreadable {
            s3.get_object().bucket(&self.customer.bucket).key(key).send().await.expect_err("object outside the prefix is not");
        }
        s3.get_bucket_location().bucket(&self.customer.bucket).send().await.expect("the bucket's region is readable");
    }
}

#[tokio::test]
async fn cloudformation_template_creates_a_role_that_works() {
    let emu = Emulator::shared();
    let integration = Integration::new(emu, "images/").await;
    let s3 = emu.s3(&integration.customer.sdk);
    for key in ["images/cat.jpg", "private/secret.txt"] {
        s3.put_object().bucket(&integration.customer.bucket).key(key).body(b"x".to_vec().into()).send().await.unwrap();
    }
    // Exactly what we hand out: the parameters and the stack name.
    let cfn = integration.grant().cloudformation();
    let parameters: Vec<Parameter> =
        cfn.parameters.iter().map(|p| Parameter::builder().parameter_key(p.parameter_key).parameter_value(&p.parameter_value).build()).collect();
    let role_name = integration.grant().role_name();
    let client = aws_sdk_cloudformation::Client::new(&integration.customer.sdk);
    let stack = cfn.stack_name.clone();
    client
        .create_stack()
        .stack_name(&stack)
        .template_body(cfn.template_body)
        .set_parameters(Some(parameters))
        .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityNamedIam)
        .send()
        .await
        .expect("create the customer stack");
    let described = client.describe_stacks().stack_name(&stack).send().await.unwrap();
    let outputs = described.stacks()[0].outputs();
    let role_arn = outputs.iter().find(|o| o.output_key() == Some("RoleArn")).and_then(|o| o.output_value()).expect("RoleArn output");
    assert_eq!(role_arn, format!("arn:aws:iam::{CUSTOMER}:role/{role_name}"));
    integration.assert_role_works(emu, role_arn, "images/cat.jpg", Some("private/secret.txt")).await;
}

#[tokio::test]
async fn cli_commands_create_a_role_that_works() {
    let emu = Emulator::shared();
    let integration = Integration::new(emu, "").await;
    let role_arn = create_role_from_cli(&integration.customer.sdk, &integration.grant().cli_commands()).await;
    assert_eq!(role_arn, format!("arn:aws:iam::{CUSTOMER}:role/{}", integration.grant().role_name()));
    integration.assert_role_works(emu, &role_arn, "hello.txt", None).await;
}

/// The KMS grant we hand out decrypts only through S3 and only this bucket's objects: S3's
/// encryption context names the object, and the grant names the bucket and prefix.
#[tokio::test]
async fn kms_grant_decrypts_this_buckets_objects_only() {
    let emu = Emulator::shared();
    let key = KmsKeyArn::parse(&format!("arn:aws:kms:us-east-1:{CUSTOMER}:key/0a1b2c3d-1234-4abc-8def-0123456789ab")).unwrap();
    let integration = Integration::with_key(emu, "rows/", Some(key.clone())).await;
    let bucket = integration.customer.bucket.clone();
    let elsewhere = unique("elsewhere");
    let admin = emu.s3(&integration.customer.sdk);
    admin.create_bucket().bucket(&elsewhere).send().await.unwrap();
    for (b, k) in [(&bucket, "rows/secret.txt"), (&elsewhere, "rows/secret.txt")] {
        admin
            .put_object()
            .bucket(b)
            .key(k)
            .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::AwsKms)
            .ssekms_key_id(key.as_str())
            .body(b"encrypted".to_vec().into())
            .send()
            .await
            .unwrap();
    }
    let role_arn = create_role_from_cli(&integration.customer.sdk, &integration.grant().cli_commands()).await;
    // The customer also lets the role read the other bucket: S3 allows it, KMS must not.
    let mut policy = integration.grant().permission_policy();
    policy["Statement"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{elsewhere}/*")}));
    aws_sdk_iam::Client::new(&integration.customer.sdk)
        .put_role_policy()
        .role_name(integration.grant().role_name())
        .policy_name(bucketlink::policy::POLICY_NAME)
        .policy_document(policy.to_string())
        .send()
        .await
        .unwrap();
    let creds = assume(&integration.provider.sdk, &role_arn, Some(integration.external_id.as_str())).await.unwrap();
    let s3 = emu.s3(&emu.sdk_config(creds, "us-east-1").await);
    let presigned = |b: &str| {
        let request = s3.get_object().bucket(b).key("rows/secret.txt");
        async move {
            request.presigned(aws_sdk_s3::presigning::PresigningConfig::expires_in(std::time::Duration::from_secs(60)).unwrap()).await.unwrap().uri().to_owned()
        }
    };
    let ours = reqwest::get(presigned(&bucket).await).await.unwrap();
    assert_eq!(ours.status(), 200, "{}", ours.text().await.unwrap());
    let theirs = reqwest::get(presigned(&elsewhere).await).await.unwrap();
    assert_eq!(theirs.status(), 403);
    assert!(theirs.text().await.unwrap().contains("customer master key"), "refused by KMS, in AWS's words");
}

/// `terraform` is not on this machine: the snippet is parsed as HCL and held against the
/// CloudFormation template it mirrors (same inputs, same statements, same output).
#[test]
fn terraform_snippet_mirrors_the_cloudformation_template() {
    let root = workspace_root();
    let text = std::fs::read_to_string(root.join("infra/customer/bucketlink-access.tf")).unwrap();
    let body: hcl::Body = hcl::from_str(&text).expect("the snippet is valid HCL");
    let labels = |kind: &str| -> Vec<String> {
        body.blocks().filter(|b| b.identifier() == kind).map(|b| b.labels().iter().map(|l| l.as_str().to_owned()).collect::<Vec<_>>().join(".")).collect()
    };
    let snake = |camel: &str| {
        camel.chars().enumerate().fold(String::new(), |mut out, (i, c)| {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            out
        })
    };
    let template = bucketlink::policy::CUSTOMER_TEMPLATE;
    let parameters: Vec<String> = template
        .split("\nParameters:\n")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   ") && l.ends_with(':'))
        .map(|l| snake(l.trim().trim_end_matches(':')))
        .collect();
    assert_eq!(parameters.len(), 8, "{parameters:?}");
    let mut variables = labels("variable");
    variables.sort();
    let mut expected = parameters.clone();
    expected.sort();
    assert_eq!(variables, expected, "one variable per CloudFormation parameter");
    assert_eq!(labels("resource"), ["aws_iam_role.bucketlink_access", "aws_iam_role_policy.bucketlink_read"]);
    assert_eq!(labels("output"), ["role_arn"]);
    for sid in ["BucketlinkDelegatedAccess", "ReadObjects", "ListObjects", "LocateBucket", "DecryptObjects"] {
        assert!(text.contains(&format!("Sid      = \"{sid}\"")) || text.contains(&format!("Sid       = \"{sid}\"")), "{sid}");
        assert!(template.contains(&format!("Sid: {sid}")), "{sid} is in the CloudFormation template too");
    }
    assert!(text.contains(
        r#"Condition = { StringEquals = { "sts:ExternalId" = var.previous_external_id == "" ? [var.external_id] : [var.external_id, var.previous_external_id] } }"#
    ));
    assert!(template.contains("sts:ExternalId: !If [Rotating, [!Ref ExternalId, !Ref PreviousExternalId], !Ref ExternalId]"));
    assert!(text.contains(
        r#"Principal = { AWS = var.next_provider_principal == "" ? [var.provider_principal] : [var.provider_principal, var.next_provider_principal] }"#
    ));
    assert!(template.contains("AWS: !If [Migrating, [!Ref ProviderPrincipal, !Ref NextProviderPrincipal], !Ref ProviderPrincipal]"));
    assert!(text.contains(r#"Resource = "${local.bucket_arn}/${var.key_prefix}*""#));
    assert!(text.contains(r#"{ StringLike = { "s3:prefix" = ["${var.key_prefix}*"] } }"#));
    assert!(text.contains(r#""kms:ViaService" = "s3.${local.kms_region}.${data.aws_partition.current.dns_suffix}""#));
    assert!(text.contains(r#""kms:EncryptionContext:aws:s3:arn" = ["${local.bucket_arn}/${var.key_prefix}*", local.bucket_arn]"#));
    assert!(template.contains("kms:ViaService") && template.contains("kms:EncryptionContext:aws:s3:arn"));
    assert!(text.contains(r#"regex("^([^/*?$][^*?$]*)?$", var.key_prefix)"#), "the prefix is validated as in the template");
    assert!(template.contains(r#"AllowedPattern: "^([^/*?$][^*?$]*)?$""#));
}

/// The Terraform forwarding mirrors the CloudFormation one: the same inputs, a rule per family
/// (the role's in us-east-1), each forwarding to our bus with EventBridge's role.
#[test]
fn terraform_forwarding_mirrors_the_cloudformation_forwarding() {
    let text = std::fs::read_to_string(workspace_root().join("infra/customer/bucketlink-changes.tf")).unwrap();
    let body: hcl::Body = hcl::from_str(&text).expect("valid HCL");
    let variables: Vec<String> = body.blocks().filter(|b| b.identifier() == "variable").map(|b| b.labels()[0].as_str().to_owned()).collect();
    assert_eq!(variables, ["provider_event_bus_arn", "role_name", "bucket_name", "kms_key_arn"]);
    let template = bucketlink::policy::CHANGES_TEMPLATE;
    for parameter in ["ProviderEventBusArn", "RoleName", "BucketName", "KmsKeyArn"] {
        assert!(template.contains(&format!("\n  {parameter}:\n")), "{parameter}");
    }
    for call in bucketlink::change_events::IAM_CALLS.iter().chain(&bucketlink::change_events::S3_CALLS).chain(&bucketlink::change_events::KMS_CALLS) {
        assert!(text.contains(&format!("\"{call}\"")), "{call} forwarded by Terraform");
        assert!(template.contains(call), "{call} forwarded by CloudFormation");
    }
    assert!(text.contains("provider    = aws.us_east_1"), "IAM's events are delivered in us-east-1");
}
