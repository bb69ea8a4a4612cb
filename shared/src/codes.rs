//! Every code a caller or a customer can meet, in one catalogue: problem codes of the HTTP API,
//! check codes, prevalidation record codes, import-check row codes, sign-url row codes and
//! policy-lint finding codes. `openapi.json` lists them as enums and the README as a table; the
//! tests hold both, and every code literal in the code, against this list.

/// Where a code can appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// `code` of a problem+json answer.
    Problem,
    /// `code` of a check result.
    Check,
    /// `code` of a prevalidation record.
    Record,
    /// `code` of an import-check row.
    Row,
    /// `error.code` of a sign-url row.
    SignRow,
    /// `code` of a policy-lint finding.
    Finding,
}

impl Place {
    pub const ALL: [Place; 6] = [Place::Problem, Place::Check, Place::Record, Place::Row, Place::SignRow, Place::Finding];

    pub fn as_str(self) -> &'static str {
        match self {
            Place::Problem => "problem",
            Place::Check => "check",
            Place::Record => "record",
            Place::Row => "import row",
            Place::SignRow => "sign-url row",
            Place::Finding => "lint finding",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Code {
    pub code: &'static str,
    pub places: &'static [Place],
    pub meaning: &'static str,
}

use Place::{Check, Finding, Problem, Record, Row, SignRow};

const fn c(code: &'static str, places: &'static [Place], meaning: &'static str) -> Code {
    Code { code, places, meaning }
}

const URL: &[Place] = &[Row, SignRow];
const RECORD: &[Place] = &[Record, Row];

pub const CATALOGUE: &[Code] = &[
    // The request itself.
    c("UNAUTHENTICATED", &[Problem], "No tenant in the authorizer's context: call through the API's authorizer."),
    c("ROUTE_NOT_FOUND", &[Problem], "No such route."),
    c("INTEGRATION_NOT_FOUND", &[Problem], "No such integration for this tenant (another tenant's looks the same)."),
    c("INVALID_JSON", &[Problem], "The body is not JSON."),
    c("INVALID_FIELD", &[Problem], "A field has the wrong type, is missing or unknown; the detail names it."),
    c("INVALID_PARAMETER", &[Problem], "A query parameter is out of range (limit, status, code)."),
    c("INVALID_CURSOR", &[Problem], "The cursor is not a next_cursor of a previous page."),
    c("INVALID_NAME", &[Problem], "The name is empty, longer than 100 characters or has control characters."),
    c("INVALID_BUCKET_NAME", &[Problem], "Not a valid S3 bucket name."),
    c("INVALID_PREFIX", &[Problem], "The key prefix starts with /, is too long, or holds * ? $ (IAM would widen the grant)."),
    c("INVALID_ROLE_ARN", &[Problem], "Not an IAM role ARN."),
    c("ROLE_ARN_WRONG_KIND", &[Problem], "An ARN of something else than a role (a user, an instance profile, ...)."),
    c("ROLE_IN_PROVIDER_ACCOUNT", &[Problem], "The role is in bucketlink's own AWS account; it must be in the customer's."),
    c("INVALID_KMS_KEY_ARN", &[Problem], "Not a KMS key ARN (aliases cannot be granted kms:Decrypt)."),
    c("INVALID_IDEMPOTENCY_KEY", &[Problem], "The Idempotency-Key header is not 1-200 visible ASCII characters."),
    c("IDEMPOTENCY_KEY_REUSED", &[Problem], "The Idempotency-Key was used for a different request."),
    c("BODY_TOO_LARGE", &[Problem], "The body is larger than the route takes."),
    c("ROLE_NOT_ATTACHED", &[Problem], "Checks need a role: attach one first (PUT /integrations/{id})."),
    c("IMPORT_ANSWER_TOO_LARGE", &[Problem], "The import check's results would not fit in one answer; the detail says how many rows to send at once."),
    c("CONFLICT", &[Problem], "Another request changed the integration meanwhile; read it again and retry."),
    c("ROTATION_IN_PROGRESS", &[Problem], "An external ID rotation is already in progress: complete or cancel it first."),
    c("NO_ROTATION", &[Problem], "The integration's external ID is not being rotated."),
    c("INVALID_GRACE_PERIOD", &[Problem], "grace_seconds is not 0 to 90 days."),
    c("INTEGRATION_NOT_READY", &[Problem], "The integration is not healthy, so nothing is signed or imported through it."),
    c("TENANT_RATE_LIMITED", &[Problem], "The tenant's import rows for this minute are spent; Retry-After says when."),
    c("INTERNAL", &[Problem], "Our defect; it is logged."),
    // AWS failing: never the customer's setup.
    c(
        "AWS_UNAVAILABLE",
        &[Problem, Check],
        "An AWS service answered 5xx, reset the connection, or refused our own credentials; nothing to do for the customer.",
    ),
    c("AWS_THROTTLED", &[Problem, Check], "An AWS service throttled us after our retries; nothing to do for the customer."),
    c("AWS_TIMED_OUT", &[Problem, Check], "An AWS service did not answer in time; nothing to do for the customer."),
    c("CHECK_TIMED_OUT", &[Check], "The check ran out of its time; nothing to do for the customer."),
    // The checks.
    c("ROLE_ASSUMED", &[Check], "The role was assumed with the integration's external ID."),
    c("ROLE_CANNOT_BE_ASSUMED", &[Check, Problem], "The role refused us: its trust policy, or the ARN; the fix names both."),
    c("ROLE_WRONG_PARTITION", &[Check], "The role is in another AWS partition than bucketlink."),
    c("STS_REGION_DISABLED", &[Check], "STS is not activated in the region for the customer's account."),
    c("EXTERNAL_ID_REQUIRED", &[Check], "The role refuses to be assumed without the external ID."),
    c("EXTERNAL_ID_INSECURE", &[Check], "The role can be assumed without the external ID or with a wrong one: status insecure."),
    c("NEW_EXTERNAL_ID_ACCEPTED", &[Check], "During a rotation: the role accepts the new external ID, which is used from then on."),
    c(
        "NEW_EXTERNAL_ID_NOT_ACCEPTED",
        &[Check, Problem],
        "During a rotation: the role does not accept the new external ID yet (a warning; completing is refused).",
    ),
    c("OLD_EXTERNAL_ID_REFUSED", &[Check], "After a rotation: the role refuses the external ID it retired."),
    c("OLD_EXTERNAL_ID_ACCEPTED", &[Check], "After a rotation: the role still accepts the retired external ID: status insecure."),
    c("NEXT_PRINCIPAL_TRUSTED", &[Check], "During a migration: the role trusts bucketlink's next principal too."),
    c("NEXT_PRINCIPAL_NOT_TRUSTED", &[Check], "During a migration: a warning, the role does not trust bucketlink's next principal yet."),
    c("NEXT_PRINCIPAL_UNCHECKED", &[Check], "During a migration: skipped, bucketlink could not act as its next principal (nothing for the customer to do)."),
    c("BUCKET_REGION", &[Check], "The bucket's region was read."),
    c("BUCKET_NOT_FOUND", &[Check], "No bucket of that name exists."),
    c("BUCKET_LOCATION_DENIED", &[Check], "The role may not read the bucket's location (s3:GetBucketLocation)."),
    c("BUCKET_REGION_UNKNOWN", &[Check], "S3 named a region we do not know, or refused otherwise."),
    c("LIST_ALLOWED", &[Check], "The role may list the bucket (under the prefix)."),
    c("LIST_OBJECTS_DENIED", &[Check], "A warning: the role may not list; signing works, browsing for import does not."),
    c("LIST_OBJECTS_FAILED", &[Check], "A warning: S3 refused the listing for another reason."),
    c("OBJECT_READABLE", &[Check], "An object was read through a URL we signed."),
    c("CANNOT_ACCESS_DATA_ROW", &[Check], "S3 refused the read of an object through a signed URL; the fix names the likely cause."),
    c("SIGNING_FAILED", &[Check], "No URL could be signed with the role's credentials (our defect)."),
    c("CORS_ALLOWED", &[Check], "The bucket's CORS rules let the app's origins read objects."),
    c("INCORRECT_CORS_HEADER", &[Check], "The bucket's CORS rules do not allow an app origin; the fix carries the exact CORS JSON."),
    c("SKIPPED", &[Check], "The check is meaningless after an earlier one's outcome; the message says which."),
    // Objects: prevalidation records and import rows.
    c("READY", RECORD, "The object can be imported."),
    c("OBJECT_ARCHIVED", RECORD, "The object is in Glacier, Deep Archive or an Intelligent-Tiering archive tier: restore it."),
    c("KMS_DECRYPT_DENIED", RECORD, "The object's KMS key may not be used by the role."),
    c("ACCESS_DENIED", RECORD, "The role may not read the object (or cannot be assumed)."),
    c("UNSUPPORTED_MEDIA_TYPE", RECORD, "The bytes are of no type we import."),
    c("TOO_LARGE", RECORD, "The object is larger than its data type's limit."),
    c("EMPTY_OBJECT", RECORD, "The object has no bytes."),
    c("OBJECT_NOT_FOUND", RECORD, "No object with this key."),
    c("DUPLICATE_GLOBAL_KEY", &[Row], "An earlier row has the same global_key."),
    c("MISSING_GLOBAL_KEY", &[Row], "The row has no global_key."),
    c("INVALID_MEDIA_TYPE", &[Row], "The declared media_type is none we know."),
    c("MEDIA_TYPE_MISMATCH", &[Row], "The declared media_type is not what the bytes are."),
    c("REGION_MISMATCH", &[Row], "The URL names another region than the bucket's."),
    c("OBJECT_NOT_CHECKED", &[Row], "The object could not be checked now (AWS failed, or the check's time ran out); run it again."),
    // Object URLs (import rows and sign-url rows).
    c("URL_MALFORMED", URL, "Not a URL."),
    c("URL_SCHEME", URL, "Neither https:// nor s3://."),
    c("URL_USERINFO", URL, "The URL carries a user name or password."),
    c("URL_PORT", URL, "The URL carries a port."),
    c("URL_ALREADY_SIGNED", URL, "An already signed URL; use the plain object URL."),
    c("URL_QUERY", URL, "The URL has a query string."),
    c("URL_FRAGMENT", URL, "The URL has a fragment."),
    c("URL_NOT_S3", URL, "Not an Amazon S3 endpoint."),
    c("URL_ACCESS_POINT_UNSUPPORTED", URL, "S3 access point URLs are not supported yet."),
    c("URL_OBJECT_LAMBDA_UNSUPPORTED", URL, "S3 Object Lambda URLs are not supported yet."),
    c("URL_EMPTY_KEY", URL, "The URL names a bucket but no object."),
    c("URL_ENCODING", URL, "The key is not valid percent-encoding."),
    c("URL_INVALID_BUCKET", URL, "The URL's bucket name is not valid."),
    c("URL_WRONG_BUCKET", URL, "The URL is for another bucket than the integration's."),
    c("URL_OUTSIDE_PREFIX", URL, "The key is outside the integration's prefix."),
    // Policy lint findings.
    c("POLICY_NOT_JSON", &[Finding], "The pasted policy is not JSON."),
    c("POLICY_NO_STATEMENTS", &[Finding], "The policy has no statements."),
    c("TRUST_NO_ASSUME_ROLE", &[Finding], "No statement lets our principal call sts:AssumeRole."),
    c("TRUST_PRINCIPAL_NOT_OURS", &[Finding], "The trust policy names another principal than ours."),
    c("TRUST_PRINCIPAL_WILDCARD", &[Finding], "The trust policy lets anyone (\"*\") assume the role."),
    c("TRUST_PRINCIPAL_ACCOUNT_WIDE", &[Finding], "The trust policy trusts our whole account, not our role."),
    c("TRUST_EXTRA_PRINCIPAL", &[Finding], "The statement trusts a principal besides bucketlink's (a former one, say)."),
    c("TRUST_NO_EXTERNAL_ID", &[Finding], "No sts:ExternalId condition."),
    c("TRUST_EMPTY_EXTERNAL_ID", &[Finding], "The sts:ExternalId condition is empty."),
    c("TRUST_EXTERNAL_ID_WILDCARD", &[Finding], "The sts:ExternalId condition matches any value."),
    c("TRUST_EXTERNAL_ID_MISMATCH", &[Finding], "The sts:ExternalId is not this integration's."),
    c("TRUST_RETIRED_EXTERNAL_ID", &[Finding], "The sts:ExternalId condition still accepts the ID a rotation retired."),
    c("TRUST_NEW_EXTERNAL_ID_MISSING", &[Finding], "During a rotation, the sts:ExternalId condition accepts only the old ID."),
    c("TRUST_EXTERNAL_ID_OPERATOR", &[Finding], "The sts:ExternalId condition uses an operator that does not require the exact ID."),
    c("TRUST_MFA_CONDITION", &[Finding], "An MFA condition: a service's AssumeRole never carries MFA, so it always fails."),
    c("PERMISSION_PLACEHOLDER", &[Finding], "A placeholder (CustomerBucketARN, ...) is still in the policy."),
    c("PERMISSION_NO_GET_OBJECT", &[Finding], "No s3:GetObject on the bucket's objects."),
    c("PERMISSION_OBJECT_RESOURCE_NO_WILDCARD", &[Finding], "The object resource lacks /*: every read is denied."),
    c("PERMISSION_PREFIX_NOT_COVERED", &[Finding], "The grant does not cover the integration's prefix."),
    c("PERMISSION_OTHER_BUCKET", &[Finding], "The grant names another bucket."),
    c("PERMISSION_NO_LIST_BUCKET", &[Finding], "No s3:ListBucket: browsing for import will not work."),
    c("PERMISSION_NO_GET_BUCKET_LOCATION", &[Finding], "No s3:GetBucketLocation: the bucket's region cannot be read."),
    c("PERMISSION_NO_KMS_DECRYPT", &[Finding], "No kms:Decrypt on the integration's KMS key."),
    c("PERMISSION_TOO_BROAD", &[Finding], "The grant allows more than reading (writes, or every action)."),
];

/// The codes that can appear in `place`.
pub fn at(place: Place) -> impl Iterator<Item = &'static str> {
    CATALOGUE.iter().filter(move |c| c.places.contains(&place)).map(|c| c.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_is_listed_once_and_says_what_it_means() {
        let mut seen = std::collections::HashSet::new();
        for code in CATALOGUE {
            assert!(seen.insert(code.code), "{} twice", code.code);
            assert!(!code.places.is_empty() && code.meaning.ends_with('.'), "{}", code.code);
            assert!(code.code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'), "{}", code.code);
        }
        for place in Place::ALL {
            assert!(at(place).count() > 0, "{}", place.as_str());
        }
    }
}
