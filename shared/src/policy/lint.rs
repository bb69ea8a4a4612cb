//! Offline checks of a policy a customer pastes (trust or permission), before they save it.
//! Each finding has a stable code, a severity, what is wrong, and the exact fix.
//!
//! AWS's JSON variations are accepted: `Statement` as object or list; `Action`, `Resource` and
//! `Principal` values as string or list; `NotAction`/`NotResource`; `Principal: "*"`.

use serde::Serialize;
use serde_json::Value;

use super::{strings, wildcard_match, Grant};
use crate::arn::RoleArn;
use crate::bucket::BucketName;
use crate::ids::KeyPrefix;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Trust,
    Permission,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub fix: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LintReport {
    pub kind: Kind,
    pub findings: Vec<Finding>,
}

/// What the policy is checked against; the integration's parts are known when one is named.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub provider_principal: &'a RoleArn,
    /// During a migration to a new principal: that one, which the trust policy may name too.
    pub next_provider_principal: Option<&'a RoleArn>,
    pub external_id: Option<&'a str>,
    /// During an external ID rotation: the old ID, which the trust policy may accept too.
    pub previous_external_id: Option<&'a str>,
    /// After a rotation: the ID it retired, which the trust policy must no longer accept.
    pub retired_external_id: Option<&'a str>,
    pub bucket: Option<&'a BucketName>,
    pub prefix: Option<&'a KeyPrefix>,
    pub kms_key: Option<&'a str>,
}

impl<'a> Context<'a> {
    pub fn for_grant(grant: &'a Grant<'a>) -> Self {
        Context {
            provider_principal: grant.provider_principal,
            next_provider_principal: grant.next_provider_principal,
            external_id: Some(grant.external_id.as_str()),
            previous_external_id: grant.previous_external_id.map(|e| e.as_str()),
            retired_external_id: None,
            bucket: Some(grant.bucket),
            prefix: Some(grant.prefix),
            kms_key: grant.kms_key.map(|k| k.as_str()),
        }
    }
}

const PLACEHOLDERS: [&str; 8] = ["customerbucketarn", "<", "your-bucket", "your_bucket", "bucket-name", "bucket_name", "example-bucket", "${"];

const READ_ACTIONS: [&str; 10] = [
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectAttributes",
    "s3:GetObjectTagging",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:GetBucketLocation",
    "s3:GetBucketCors",
    "kms:Decrypt",
    "kms:DescribeKey",
];

fn finding(code: &'static str, severity: Severity, message: impl Into<String>, fix: impl Into<String>) -> Finding {
    Finding { code, severity, message: message.into(), fix: fix.into() }
}

fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => Vec::new(),
    }
}

fn is_allow(s: &Value) -> bool {
    s.get("Effect").and_then(Value::as_str) == Some("Allow")
}

/// Does the statement's Action (or NotAction) cover `action`?
fn covers_action(s: &Value, action: &str) -> bool {
    if let Some(actions) = s.get("Action") {
        strings(Some(actions)).iter().any(|p| wildcard_match(p, action, true))
    } else if let Some(excluded) = s.get("NotAction") {
        !strings(Some(excluded)).iter().any(|p| wildcard_match(p, action, true))
    } else {
        false
    }
}

fn detect_kind(doc: &Value) -> Kind {
    let trust = statements(doc)
        .iter()
        .any(|s| s.get("Principal").is_some() || s.get("NotPrincipal").is_some() || covers_action(s, "sts:AssumeRole") && s.get("Resource").is_none());
    if trust {
        Kind::Trust
    } else {
        Kind::Permission
    }
}

/// Lints a pasted policy. Unparseable input is itself a finding, never an error.
pub fn lint(text: &str, kind: Option<Kind>, ctx: &Context<'_>) -> LintReport {
    let doc: Value = match serde_json::from_str(text) {
        Ok(doc) => doc,
        Err(err) => {
            return LintReport {
                kind: kind.unwrap_or(Kind::Permission),
                findings: vec![finding(
                    "POLICY_NOT_JSON",
                    Severity::Error,
                    format!("The policy is not valid JSON: {err}."),
                    "Paste the whole policy document, from the opening { to the closing }.",
                )],
            };
        }
    };
    let kind = kind.unwrap_or_else(|| detect_kind(&doc));
    if statements(&doc).is_empty() {
        let f =
            finding("POLICY_NO_STATEMENTS", Severity::Error, "The policy has no Statement.", "Paste the complete policy, including its \"Statement\" list.");
        return LintReport { kind, findings: vec![f] };
    }
    let findings = match kind {
        Kind::Trust => lint_trust(&doc, ctx),
        Kind::Permission => lint_permission(&doc, ctx),
    };
    LintReport { kind, findings }
}

fn principal_values(s: &Value) -> Vec<&str> {
    match s.get("Principal") {
        Some(Value::String(p)) => vec![p.as_str()],
        Some(Value::Object(map)) => map.values().flat_map(|v| strings(Some(v))).collect(),
        _ => Vec::new(),
    }
}

fn lint_trust(doc: &Value, ctx: &Context<'_>) -> Vec<Finding> {
    let ours = ctx.provider_principal.as_str();
    let account = ctx.provider_principal.account_id();
    let account_root = format!("arn:{}:iam::{account}:root", ctx.provider_principal.partition().as_str());
    let expected_id = ctx.external_id.unwrap_or("<the external ID shown in bucketlink>");
    let fix_condition = format!("Add \"Condition\": {{\"StringEquals\": {{\"sts:ExternalId\": \"{expected_id}\"}}}} to the statement.");
    let mut out = Vec::new();
    let assume: Vec<&Value> = statements(doc).into_iter().filter(|s| is_allow(s) && covers_action(s, "sts:AssumeRole")).collect();
    if assume.is_empty() {
        out.push(finding(
            "TRUST_NO_ASSUME_ROLE",
            Severity::Error,
            "No statement allows sts:AssumeRole, so the role cannot be assumed.",
            format!("Add a statement with \"Effect\": \"Allow\", \"Principal\": {{\"AWS\": \"{ours}\"}}, \"Action\": \"sts:AssumeRole\"."),
        ));
    }
    for s in assume {
        let principals = principal_values(s);
        if principals.contains(&"*") {
            out.push(finding(
                "TRUST_PRINCIPAL_WILDCARD",
                Severity::Error,
                "The trust policy lets any AWS principal (\"*\") assume the role.",
                format!("Set \"Principal\": {{\"AWS\": \"{ours}\"}}."),
            ));
        } else if principals.iter().any(|p| *p == account || *p == account_root) {
            out.push(finding(
                "TRUST_PRINCIPAL_ACCOUNT_WIDE",
                Severity::Warning,
                format!("The trust policy trusts every principal of account {account}, not only bucketlink's role."),
                format!("Set \"Principal\": {{\"AWS\": \"{ours}\"}}."),
            ));
        } else if !principals.iter().any(|p| *p == ours || ctx.next_provider_principal.is_some_and(|n| n.as_str() == *p)) {
            out.push(finding(
                "TRUST_PRINCIPAL_NOT_OURS",
                Severity::Error,
                format!(
                    "The trust policy names {} as principal, not bucketlink's role.",
                    if principals.is_empty() { "no AWS principal".to_owned() } else { principals.join(", ") }
                ),
                format!("Set \"Principal\": {{\"AWS\": \"{ours}\"}}."),
            ));
        }
        let ours_or_next = |p: &&str| *p == ours || ctx.next_provider_principal.is_some_and(|n| n.as_str() == *p);
        let others: Vec<&str> = principals.iter().copied().filter(|p| !ours_or_next(p) && *p != "*" && *p != account && *p != account_root).collect();
        if !others.is_empty() && principals.iter().any(ours_or_next) {
            out.push(finding(
                "TRUST_EXTRA_PRINCIPAL",
                Severity::Warning,
                format!("The statement also trusts {}, which is not a bucketlink principal (or no longer is).", others.join(", ")),
                format!("Remove {} from the statement's principals.", others.join(", ")),
            ));
        }
        lint_conditions(s, expected_id, ctx, &fix_condition, &mut out);
    }
    out
}

fn lint_conditions(s: &Value, expected_id: &str, ctx: &Context<'_>, fix_condition: &str, out: &mut Vec<Finding>) {
    let conditions = s.get("Condition").and_then(Value::as_object);
    let mut external_id = None;
    for (operator, block) in conditions.into_iter().flatten() {
        for (key, value) in block.as_object().into_iter().flatten() {
            let key = key.to_ascii_lowercase();
            if key == "sts:externalid" {
                external_id = Some((operator.as_str(), strings(Some(value))));
            } else if key.starts_with("aws:multifactorauth") {
                out.push(finding(
                    "TRUST_MFA_CONDITION",
                    Severity::Error,
                    "The trust policy requires MFA, which a service assuming the role can never present.",
                    format!("Remove the {key} condition (in the console: leave \"Require MFA\" unchecked)."),
                ));
            }
        }
    }
    let Some((operator, values)) = external_id else {
        out.push(finding(
            "TRUST_NO_EXTERNAL_ID",
            Severity::Error,
            "The trust policy has no sts:ExternalId condition: any customer of bucketlink could use this role (the confused deputy).",
            fix_condition,
        ));
        return;
    };
    if values.is_empty() || values.iter().all(|v| v.trim().is_empty()) {
        out.push(finding("TRUST_EMPTY_EXTERNAL_ID", Severity::Error, "The sts:ExternalId condition is empty.", fix_condition));
    } else if operator.starts_with("StringLike") || values.iter().any(|v| v.contains(['*', '?'])) {
        out.push(finding(
            "TRUST_EXTERNAL_ID_WILDCARD",
            Severity::Error,
            "The sts:ExternalId condition uses a pattern, so other external IDs match too.",
            format!("Use \"StringEquals\" with the exact value \"{expected_id}\"."),
        ));
    } else if operator != "StringEquals" {
        out.push(finding(
            "TRUST_EXTERNAL_ID_OPERATOR",
            Severity::Error,
            format!("The sts:ExternalId condition uses {operator}, which does not require our external ID."),
            format!("Use \"StringEquals\" with the exact value \"{expected_id}\"."),
        ));
    } else if let Some(known) = ctx.external_id {
        if let Some(retired) = ctx.retired_external_id.filter(|r| values.contains(r)) {
            out.push(finding(
                "TRUST_RETIRED_EXTERNAL_ID",
                Severity::Error,
                format!("The sts:ExternalId condition still accepts {retired:?}, the external ID a rotation retired."),
                format!("Remove \"{retired}\" from the condition, leaving \"{known}\"."),
            ));
        }
        if !values.contains(&known) && ctx.previous_external_id.is_some_and(|p| values.contains(&p)) {
            out.push(finding(
                "TRUST_NEW_EXTERNAL_ID_MISSING",
                Severity::Warning,
                "The sts:ExternalId condition accepts only the external ID being rotated out, not the new one.",
                format!("Set the value to [\"{known}\", \"{}\"] for the rotation's window.", ctx.previous_external_id.unwrap_or_default()),
            ));
        } else if !values.contains(&known) {
            out.push(finding(
                "TRUST_EXTERNAL_ID_MISMATCH",
                Severity::Error,
                format!("The sts:ExternalId condition is {:?}, not this integration's external ID.", values.join(", ")),
                format!("Set the value to \"{known}\" (copy it from bucketlink)."),
            ));
        }
    }
}

fn bucket_of(resource: &str) -> Option<(&str, Option<&str>)> {
    let rest = resource.split_once(":s3:::")?.1;
    Some(match rest.split_once('/') {
        Some((bucket, key)) => (bucket, Some(key)),
        None => (rest, None),
    })
}

fn lint_permission(doc: &Value, ctx: &Context<'_>) -> Vec<Finding> {
    let bucket = ctx.bucket.map(BucketName::as_str);
    let prefix = ctx.prefix.map(KeyPrefix::as_str).unwrap_or_default();
    let shown_bucket = bucket.unwrap_or("<your bucket>");
    let object_arn = format!("arn:aws:s3:::{shown_bucket}/{prefix}*");
    let mut out = Vec::new();
    let all = statements(doc);
    let allows: Vec<&Value> = all.iter().copied().filter(|s| is_allow(s)).collect();

    for s in &all {
        for r in strings(s.get("Resource")).into_iter().chain(strings(s.get("NotResource"))) {
            if PLACEHOLDERS.iter().any(|p| r.to_ascii_lowercase().contains(p)) {
                out.push(finding(
                    "PERMISSION_PLACEHOLDER",
                    Severity::Error,
                    format!("The resource {r:?} still holds a placeholder."),
                    format!("Replace it with {object_arn} for objects and arn:aws:s3:::{shown_bucket} for the bucket."),
                ));
            }
        }
    }
    for s in &allows {
        let write = s.get("NotAction").is_some()
            || strings(s.get("Action"))
                .iter()
                .any(|a| !READ_ACTIONS.iter().any(|r| r.eq_ignore_ascii_case(a)) && !a.eq_ignore_ascii_case("s3:Get*") && !a.eq_ignore_ascii_case("s3:List*"));
        if write {
            let granted = if s.get("NotAction").is_some() { "everything but NotAction".to_owned() } else { strings(s.get("Action")).join(", ") };
            out.push(finding(
                "PERMISSION_TOO_BROAD",
                Severity::Warning,
                format!("The policy allows {granted}, beyond read-only access; bucketlink only reads."),
                "Allow only s3:GetObject, s3:ListBucket and s3:GetBucketLocation (and kms:Decrypt for SSE-KMS).",
            ));
        }
    }

    let get_statements: Vec<&Value> = allows.iter().copied().filter(|s| covers_action(s, "s3:GetObject")).collect();
    let object_resources: Vec<&str> = get_statements.iter().flat_map(|s| strings(s.get("Resource"))).collect();
    if get_statements.is_empty() {
        out.push(finding(
            "PERMISSION_NO_GET_OBJECT",
            Severity::Error,
            "No statement allows s3:GetObject, so no object can be read.",
            format!("Add {{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"{object_arn}\"}}."),
        ));
    } else if !object_resources.iter().any(|r| *r == "*" || bucket_of(r).is_some_and(|(_, key)| key.is_some())) {
        out.push(finding(
            "PERMISSION_OBJECT_RESOURCE_NO_WILDCARD",
            Severity::Error,
            "s3:GetObject is granted on the bucket ARN only; objects need the /* form, so every read is denied (\"Cannot access data row\").",
            format!("Use \"Resource\": \"{object_arn}\" for s3:GetObject."),
        ));
    }
    if let Some(expected) = bucket {
        for r in allows.iter().flat_map(|s| strings(s.get("Resource"))) {
            if let Some((named, key)) = bucket_of(r) {
                let placeholder = PLACEHOLDERS.iter().any(|p| named.to_ascii_lowercase().contains(p));
                if !placeholder && named != "*" && !wildcard_match(named, expected, false) {
                    out.push(finding(
                        "PERMISSION_OTHER_BUCKET",
                        Severity::Error,
                        format!("The resource {r:?} names bucket {named:?}, but this integration reads {expected:?}."),
                        format!("Use arn:aws:s3:::{expected} and {object_arn}."),
                    ));
                } else if let (Some(key), false) = (key, prefix.is_empty()) {
                    if !wildcard_match(key, &format!("{prefix}x"), false) && !placeholder {
                        out.push(finding(
                            "PERMISSION_PREFIX_NOT_COVERED",
                            Severity::Error,
                            format!("The resource {r:?} does not cover this integration's prefix {prefix:?}."),
                            format!("Use \"Resource\": \"{object_arn}\"."),
                        ));
                    }
                }
            }
        }
    }
    if !allows.iter().any(|s| covers_action(s, "s3:ListBucket")) {
        out.push(finding(
            "PERMISSION_NO_LIST_BUCKET",
            Severity::Warning,
            "s3:ListBucket is not allowed: signing works, but browsing the bucket to import files does not.",
            format!("Add {{\"Effect\": \"Allow\", \"Action\": \"s3:ListBucket\", \"Resource\": \"arn:aws:s3:::{shown_bucket}\"}}."),
        ));
    }
    if !allows.iter().any(|s| covers_action(s, "s3:GetBucketLocation")) {
        out.push(finding(
            "PERMISSION_NO_GET_BUCKET_LOCATION",
            Severity::Warning,
            "s3:GetBucketLocation is not allowed, so bucketlink cannot confirm the bucket's region.",
            format!("Add \"s3:GetBucketLocation\" on arn:aws:s3:::{shown_bucket}."),
        ));
    }
    if let Some(key) = ctx.kms_key {
        if !allows.iter().any(|s| covers_action(s, "kms:Decrypt")) {
            out.push(finding(
                "PERMISSION_NO_KMS_DECRYPT",
                Severity::Error,
                "The bucket's objects are encrypted with a KMS key, but kms:Decrypt is not allowed: reads will fail.",
                format!("Add {{\"Effect\": \"Allow\", \"Action\": \"kms:Decrypt\", \"Resource\": \"{key}\"}}."),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn principal() -> RoleArn {
        RoleArn::parse("arn:aws:iam::111111111111:role/bucketlink-provider").unwrap()
    }

    fn codes(text: &str, kind: Option<Kind>, ctx: &Context<'_>) -> Vec<&'static str> {
        lint(text, kind, ctx).findings.iter().map(|f| f.code).collect()
    }

    fn trust(statement: Value) -> String {
        json!({"Version": "2012-10-17", "Statement": [statement]}).to_string()
    }

    const EXT: &str = "bl-abcdefghijklmnopqrstuvwxyz234567";

    fn ctx<'a>(p: &'a RoleArn, bucket: &'a BucketName, prefix: &'a KeyPrefix) -> Context<'a> {
        Context {
            provider_principal: p,
            next_provider_principal: None,
            external_id: Some(EXT),
            previous_external_id: None,
            retired_external_id: None,
            bucket: Some(bucket),
            prefix: Some(prefix),
            kms_key: None,
        }
    }

    /// The trust policy printed in the seed documents: the external ID left empty.
    const SEED_TRUST: &str = r#"{
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::340636424752:role/lb-aws-delegated-access-role"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": ""}}
        }]
    }"#;

    /// The seed's permission policies, with their CustomerBucketARN placeholder.
    const SEED_PERMISSION: &str = r#"{
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": ["arn:aws:s3:::CustomerBucketARN/*", "arn:aws:s3:::CustomerBucketARN"]
        }]
    }"#;
    const SEED_PERMISSION_SHORT: &str =
        r#"{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": [ "s3:GetObject" ], "Resource": "arn:aws:s3:::CustomerBucketARN/*" } ] }"#;

    #[test]
    fn flags_the_seed_documents() {
        let (p, b, x) = (principal(), BucketName::parse("acme-data").unwrap(), KeyPrefix::default());
        let c = ctx(&p, &b, &x);
        let trust_codes = codes(SEED_TRUST, None, &c);
        assert!(trust_codes.contains(&"TRUST_EMPTY_EXTERNAL_ID"), "{trust_codes:?}");
        assert!(trust_codes.contains(&"TRUST_PRINCIPAL_NOT_OURS"), "{trust_codes:?}");
        let report = lint(SEED_PERMISSION, None, &c);
        assert_eq!(report.kind, Kind::Permission);
        let placeholder = report.findings.iter().find(|f| f.code == "PERMISSION_PLACEHOLDER").expect("placeholder flagged");
        assert!(placeholder.fix.contains("arn:aws:s3:::acme-data/*"), "{}", placeholder.fix);
        let short = codes(SEED_PERMISSION_SHORT, None, &c);
        assert!(short.contains(&"PERMISSION_PLACEHOLDER") && short.contains(&"PERMISSION_NO_LIST_BUCKET"), "{short:?}");
    }

    #[test]
    fn trust_policy_rules() {
        let (p, b, x) = (principal(), BucketName::parse("acme-data").unwrap(), KeyPrefix::default());
        let c = ctx(&p, &b, &x);
        let ours = p.as_str();
        let good = json!({"Effect": "Allow", "Principal": {"AWS": ours}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": EXT}}});
        assert_eq!(codes(&trust(good.clone()), Some(Kind::Trust), &c), Vec::<&str>::new());
        let with = |patch: Value| {
            let mut s = good.clone();
            for (k, v) in patch.as_object().unwrap() {
                if v.is_null() {
                    s.as_object_mut().unwrap().remove(k);
                } else {
                    s[k] = v.clone();
                }
            }
            codes(&trust(s), Some(Kind::Trust), &c)
        };
        assert_eq!(with(json!({"Condition": null})), ["TRUST_NO_EXTERNAL_ID"]);
        assert_eq!(with(json!({"Condition": {"StringEquals": {"sts:ExternalId": ""}}})), ["TRUST_EMPTY_EXTERNAL_ID"]);
        assert_eq!(with(json!({"Condition": {"StringLike": {"sts:ExternalId": "bl-*"}}})), ["TRUST_EXTERNAL_ID_WILDCARD"]);
        assert_eq!(with(json!({"Condition": {"StringEquals": {"sts:ExternalId": "bl-*"}}})), ["TRUST_EXTERNAL_ID_WILDCARD"]);
        assert_eq!(with(json!({"Condition": {"StringNotEquals": {"sts:ExternalId": EXT}}})), ["TRUST_EXTERNAL_ID_OPERATOR"]);
        assert_eq!(with(json!({"Condition": {"StringEquals": {"sts:ExternalId": "someone-elses"}}})), ["TRUST_EXTERNAL_ID_MISMATCH"]);
        assert_eq!(with(json!({"Principal": "*"})), ["TRUST_PRINCIPAL_WILDCARD"]);
        assert_eq!(with(json!({"Principal": {"AWS": ["*"]}})), ["TRUST_PRINCIPAL_WILDCARD"]);
        assert_eq!(with(json!({"Principal": {"AWS": "arn:aws:iam::999999999999:role/x"}})), ["TRUST_PRINCIPAL_NOT_OURS"]);
        assert_eq!(with(json!({"Principal": {"AWS": "111111111111"}})), ["TRUST_PRINCIPAL_ACCOUNT_WIDE"]);
        assert_eq!(with(json!({"Principal": {"AWS": "arn:aws:iam::111111111111:root"}})), ["TRUST_PRINCIPAL_ACCOUNT_WIDE"]);
        // Whoever else the statement trusts may use our external ID too.
        assert_eq!(with(json!({"Principal": {"AWS": [ours, "arn:aws:iam::999999999999:root"]}})), ["TRUST_EXTRA_PRINCIPAL"]);
        let mfa = with(json!({"Condition": {"StringEquals": {"sts:ExternalId": EXT}, "Bool": {"aws:MultiFactorAuthPresent": "true"}}}));
        assert_eq!(mfa, ["TRUST_MFA_CONDITION"]);
        assert_eq!(with(json!({"Action": "s3:GetObject"})), ["TRUST_NO_ASSUME_ROLE"]);
        assert_eq!(with(json!({"Action": ["sts:*"]})), Vec::<&str>::new(), "sts:* covers AssumeRole");
        // Statement as an object, not a list.
        let single = json!({"Version": "2012-10-17", "Statement": good}).to_string();
        assert_eq!(codes(&single, None, &c), Vec::<&str>::new());
        assert_eq!(lint(&single, None, &c).kind, Kind::Trust);
    }

    #[test]
    fn every_finding_says_how_to_fix_it() {
        let (p, b, x) = (principal(), BucketName::parse("acme-data").unwrap(), KeyPrefix::default());
        let c = ctx(&p, &b, &x);
        for f in lint(SEED_TRUST, None, &c).findings.into_iter().chain(lint(SEED_PERMISSION, None, &c).findings) {
            assert!(!f.message.is_empty() && !f.fix.is_empty(), "{f:?}");
        }
        let report = lint(&trust(json!({"Effect": "Allow", "Principal": {"AWS": p.as_str()}, "Action": "sts:AssumeRole"})), None, &c);
        assert!(report.findings[0].fix.contains(EXT), "the fix carries the exact external id");
    }

    #[test]
    fn permission_policy_rules() {
        let (p, b, x) = (principal(), BucketName::parse("acme-data").unwrap(), KeyPrefix::parse("images/").unwrap());
        let c = ctx(&p, &b, &x);
        let policy = |statements: Value| json!({"Version": "2012-10-17", "Statement": statements}).to_string();
        let list = json!({"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"], "Resource": "arn:aws:s3:::acme-data"});
        let get = |resource: &str| json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource});

        assert_eq!(codes(&policy(json!([get("arn:aws:s3:::acme-data/images/*"), list])), None, &c), Vec::<&str>::new());
        assert_eq!(codes(&policy(json!([get("arn:aws:s3:::acme-data/*"), list])), None, &c), Vec::<&str>::new());
        assert_eq!(codes(&policy(json!([get("arn:aws:s3:::acme-data"), list])), None, &c), ["PERMISSION_OBJECT_RESOURCE_NO_WILDCARD"]);
        assert_eq!(codes(&policy(json!([get("arn:aws:s3:::other-data/*"), list])), None, &c), ["PERMISSION_OTHER_BUCKET"]);
        assert_eq!(codes(&policy(json!([get("arn:aws:s3:::acme-data/docs/*"), list])), None, &c), ["PERMISSION_PREFIX_NOT_COVERED"]);
        assert_eq!(codes(&policy(json!([list])), None, &c), ["PERMISSION_NO_GET_OBJECT"]);
        assert_eq!(codes(&policy(json!([get("arn:aws:s3:::acme-data/*")])), None, &c), ["PERMISSION_NO_LIST_BUCKET", "PERMISSION_NO_GET_BUCKET_LOCATION"]);
        let everything = json!({"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::acme-data", "arn:aws:s3:::acme-data/*"]});
        assert_eq!(codes(&policy(json!([everything])), None, &c), ["PERMISSION_TOO_BROAD"]);
        let writes = json!({"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], "Resource": "arn:aws:s3:::acme-data/*"});
        assert_eq!(codes(&policy(json!([writes, list])), None, &c), ["PERMISSION_TOO_BROAD"]);
        let not_action = json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"});
        assert_eq!(codes(&policy(json!([not_action])), None, &c), ["PERMISSION_TOO_BROAD"]);
        let read_all = json!({"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"});
        assert_eq!(codes(&policy(json!([read_all])), None, &c), Vec::<&str>::new(), "AmazonS3ReadOnlyAccess-like");

        let kms = "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let with_kms = Context { kms_key: Some(kms), ..c.clone() };
        let report = lint(&policy(json!([get("arn:aws:s3:::acme-data/*"), list])), None, &with_kms);
        assert_eq!(report.findings.iter().map(|f| f.code).collect::<Vec<_>>(), ["PERMISSION_NO_KMS_DECRYPT"]);
        assert!(report.findings[0].fix.contains(kms));
    }

    #[test]
    fn unparseable_or_empty_policies_are_findings() {
        let (p, b, x) = (principal(), BucketName::parse("acme-data").unwrap(), KeyPrefix::default());
        let c = ctx(&p, &b, &x);
        assert_eq!(codes("{\"Version\": ", None, &c), ["POLICY_NOT_JSON"]);
        assert_eq!(codes("", Some(Kind::Trust), &c), ["POLICY_NOT_JSON"]);
        assert_eq!(codes("{\"Version\": \"2012-10-17\"}", None, &c), ["POLICY_NO_STATEMENTS"]);
        assert_eq!(codes("[1, 2]", None, &c), ["POLICY_NO_STATEMENTS"]);
    }

    #[test]
    fn a_rotation_and_a_migration_are_known_to_the_linter() {
        let (p, b, k) = (principal(), BucketName::parse("acme-data").unwrap(), KeyPrefix::default());
        let next = RoleArn::parse("arn:aws:iam::111111111111:role/bucketlink-provider-v2").unwrap();
        let trust = |principals: Value, ids: Value| {
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": ids}}}]})
            .to_string()
        };
        let codes = |doc: String, ctx: &Context| lint(&doc, Some(Kind::Trust), ctx).findings.iter().map(|f| f.code).collect::<Vec<_>>();
        let old = "bl-oldoldoldoldoldoldoldoldoldoldold";
        let rotating = Context { previous_external_id: Some(old), ..ctx(&p, &b, &k) };
        assert!(codes(trust(json!(p.as_str()), json!([EXT, old])), &rotating).is_empty(), "both IDs during the rotation");
        assert_eq!(codes(trust(json!(p.as_str()), json!(old)), &rotating), ["TRUST_NEW_EXTERNAL_ID_MISSING"]);
        let rotated = Context { retired_external_id: Some(old), ..ctx(&p, &b, &k) };
        assert_eq!(codes(trust(json!(p.as_str()), json!([EXT, old])), &rotated), ["TRUST_RETIRED_EXTERNAL_ID"]);

        let migrating = Context { next_provider_principal: Some(&next), ..ctx(&p, &b, &k) };
        assert!(codes(trust(json!([p.as_str(), next.as_str()]), json!(EXT)), &migrating).is_empty(), "both principals during the migration");
        assert!(codes(trust(json!(next.as_str()), json!(EXT)), &migrating).is_empty(), "the next one alone");
        let switched = ctx(&next, &b, &k);
        assert_eq!(codes(trust(json!([p.as_str(), next.as_str()]), json!(EXT)), &switched), ["TRUST_EXTRA_PRINCIPAL"], "after it, the old one");
    }
}
