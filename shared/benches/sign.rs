//! Per-URL presigning cost, ours against the peers, measured in one run on the same inputs:
//! `shared::sign`, the `aws-sigv4` crate's `sign()`, `aws-sdk-s3`'s `.presigned()`, and botocore's
//! `generate_presigned_url` (a Python script run with the emulator's virtualenv). 1 KB session token.
//!
//!     cargo bench -p bucketlink --bench sign        (scripts/bench runs every benchmark)

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings, UriPathNormalizationMode};
use aws_sigv4::sign::v4;
use bucketlink::presign::{Endpoint, Signer, Target};

const AKID: &str = "ASIAEXAMPLEKEYID0001";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn token() -> String {
    "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+/=".repeat(18)
}

/// A token shaped like the ones STS issues: base64, so about one character in 32 (`+`, `/`) is
/// percent-encoded, where `token()` above, the table's worst case, has more than one in five.
fn sts_shaped_token(len: usize) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            ALPHABET[(state >> 58) as usize] as char
        })
        .collect()
}

fn keys() -> Vec<String> {
    (0..1000).map(|i| format!("datasets/2026/batch {i}/image_{i:05}+v2.jpg")).collect()
}

/// Median nanoseconds per URL over `rounds` rounds of signing every key.
fn measure(rounds: usize, keys: &[String], mut one: impl FnMut(&str)) -> f64 {
    let mut per_url: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for key in keys {
                one(key);
            }
            start.elapsed().as_nanos() as f64 / keys.len() as f64
        })
        .collect();
    per_url.sort_by(f64::total_cmp);
    per_url[per_url.len() / 2]
}

fn main() {
    let keys = keys();
    let token = token();
    let now = SystemTime::now();
    let expires = Duration::from_secs(900);

    let ours_with = |token: &str| {
        let signer = Signer::new(AKID, SECRET, Some(token));
        measure(41, &keys, |key| {
            let target = Target { region: "eu-west-1", bucket: "acme-data", key, path_style: false };
            black_box(signer.presign_get(&Endpoint::Aws, &target, now, expires));
        })
    };
    let ours = ours_with(&token);
    let ours_sts_token = ours_with(&sts_shaped_token(token.len()));
    // Every AssumeRole carries the integration's session policy, which STS packs into the token.
    // Its whole text added to the token bounds that growth from above (STS compresses it).
    let session_policy = session_policy();
    let ours_with_policy = ours_with(&sts_shaped_token(token.len() + session_policy.len()));

    let identity = Credentials::new(AKID, SECRET, Some(token.clone()), None, "bench").into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(expires);
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let params = v4::SigningParams::builder().identity(&identity).region("eu-west-1").name("s3").time(now).settings(settings).build().unwrap().into();
    let sigv4 = measure(11, &keys, |key| {
        let mut url = String::from("https://acme-data.s3.eu-west-1.amazonaws.com/");
        bucketlink::encoding::encode_path_into(key, &mut url);
        let request = SignableRequest::new("GET", &url, std::iter::empty(), SignableBody::UnsignedPayload).unwrap();
        let (instructions, _) = sign(request, &params).unwrap().into_parts();
        let mut http = http::Request::builder().uri(&url).body(()).unwrap();
        instructions.apply_to_request_http1x(&mut http);
        black_box(http.uri().to_string());
    });

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let sdk = runtime.block_on(async {
        let conf = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("eu-west-1"))
            .credentials_provider(Credentials::new(AKID, SECRET, Some(token.clone()), None, "bench"))
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    });
    let sdk_presign = measure(5, &keys[..200], |key| {
        let config = aws_sdk_s3::presigning::PresigningConfig::builder().start_time(now).expires_in(expires).build().unwrap();
        black_box(runtime.block_on(sdk.get_object().bucket("acme-data").key(key).presigned(config)).unwrap().uri().to_owned());
    });

    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/botocore_presign.py");
    let boto = Command::new(&python)
        .arg(&script)
        .arg(&token)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse::<f64>().ok());

    println!("\npresigning one S3 GET URL (1 KB session token), median per URL:");
    println!("| signer | ns per URL | ours is faster by |");
    println!("|---|---:|---:|");
    println!("| bucketlink::sign | {ours:.0} | 1× |");
    println!("| aws-sigv4 sign() | {sigv4:.0} | {:.1}× |", sigv4 / ours);
    println!("| aws-sdk-s3 .presigned() | {sdk_presign:.0} | {:.1}× |", sdk_presign / ours);
    match boto {
        Some(ns) => println!("| botocore generate_presigned_url | {ns:.0} | {:.0}× |", ns / ours),
        None => println!("| botocore generate_presigned_url | (not measured: run infra/local/setup.sh) | |"),
    }
    println!("ours with an STS-shaped token of the same length (base64, ~3% of it percent-encoded): {ours_sts_token:.0} ns per URL");
    println!(
        "ours with that token grown by a whole session policy ({} + {} characters, an upper bound): {ours_with_policy:.0} ns per URL ({:+.0}%)",
        token.len(),
        session_policy.len(),
        (ours_with_policy / ours_sts_token - 1.0) * 100.0
    );
    println!("targets: ours ≤ 1500 ns; ≥ 15× aws-sdk-s3; ≥ 250× botocore");
    println!("AssumeRole calls for 10,000 sign requests over one integration: {}", assume_role_calls(&runtime));
}

fn connection() -> bucketlink::integration::Connection {
    use bucketlink::{arn::RoleArn, bucket::BucketName, ids::KeyPrefix};
    bucketlink::integration::Connection {
        bucket: BucketName::parse("acme-data").unwrap(),
        role_arn: RoleArn::parse("arn:aws:iam::222222222222:role/BucketlinkAccess-01JD7ZK3Q4W8X9Y0ABCDEFGHJK").unwrap(),
        prefix: KeyPrefix::parse("datasets/2026/").unwrap(),
        kms_key_arn: None,
    }
}

fn session_policy() -> String {
    connection().session_policy()
}

/// The credential cache in front of a scripted STS (aws-smithy-mocks: we count its calls).
fn assume_role_calls(runtime: &tokio::runtime::Runtime) -> usize {
    use aws_smithy_mocks::{mock, mock_client};
    use bucketlink::{external_id::ExternalId, ids::IntegrationId, sts::CredentialCache};
    let rule = mock!(aws_sdk_sts::Client::assume_role).then_output(|| {
        let expiration = aws_sdk_sts::primitives::DateTime::from(SystemTime::now() + Duration::from_secs(3600));
        let credentials =
            aws_sdk_sts::types::Credentials::builder().access_key_id("ASIA1").secret_access_key("s").session_token("t").expiration(expiration).build().unwrap();
        aws_sdk_sts::operation::assume_role::AssumeRoleOutput::builder().credentials(credentials).build()
    });
    let cache = CredentialCache::new(mock_client!(aws_sdk_sts, [&rule]));
    let (id, conn, external_id) = (IntegrationId::generate(), connection(), ExternalId::generate());
    runtime.block_on(async {
        for _ in 0..10_000 {
            cache.session(&id, &conn, &external_id, Duration::from_secs(900)).await.unwrap();
        }
    });
    rule.num_calls()
}
