//! S3 object URLs as customers write them in import files, parsed into (bucket, region, key), and
//! the canonical URL built back. This parser guards what we sign: a URL it accepts names exactly
//! one object of one bucket, on an AWS S3 endpoint we can name ourselves.
//!
//! Accepted: virtual-hosted (`https://b.s3.eu-west-1.amazonaws.com/k`, legacy `b.s3-eu-west-1`,
//! global `b.s3.amazonaws.com`, dual-stack), path-style (`https://s3.eu-west-1.amazonaws.com/b/k`
//! and the same variants), China (`.amazonaws.com.cn`) and GovCloud endpoints, and `s3://b/k`.
//! In HTTP(S) URLs the key is percent-decoded exactly once (`+` stays a plus sign); in `s3://` URIs
//! it is taken literally, as the AWS CLI does. Whitespace around the whole input is a paste error
//! and is trimmed, so an `s3://` URI cannot name a key that ends in whitespace (its https form can).

use std::fmt::Write as _;

use crate::bucket::{BucketError, BucketName};
use crate::encoding::{self, encode_path_into, Plus};
use crate::ids::KeyPrefix;
use crate::partition::Partition;
use crate::region::Region;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectUrl {
    pub bucket: BucketName,
    /// Known when the URL names it (regional endpoints); `None` for global and `s3://` forms.
    pub region: Option<Region>,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("not a URL; expected https://<bucket>.s3.<region>.amazonaws.com/<key> or s3://<bucket>/<key>")]
    NotAUrl,
    #[error("scheme {0:?} is not supported; use https:// or s3://")]
    Scheme(String),
    #[error("user names or passwords in the URL are not allowed")]
    UserInfo,
    #[error("ports are not allowed in S3 object URLs")]
    Port,
    #[error("this looks like an already signed URL (it carries a signature); use the plain object URL without the ?... part")]
    Presigned,
    #[error("query strings are not allowed in S3 object URLs; remove the ?... part")]
    Query,
    #[error("fragments (#...) are not allowed in S3 object URLs")]
    Fragment,
    #[error("{0:?} is not an Amazon S3 endpoint")]
    NotS3(String),
    #[error("S3 access point URLs are not supported yet; use the bucket's own URL")]
    AccessPoint,
    #[error("S3 Object Lambda URLs are not supported yet; use the bucket's own URL")]
    ObjectLambda,
    #[error("the URL names a bucket but no object key")]
    EmptyKey,
    #[error("the object key is not valid percent-encoding")]
    Encoding,
    #[error(transparent)]
    Bucket(#[from] BucketError),
    #[error("the URL is for bucket {found:?}, but this integration reads bucket {expected:?}")]
    WrongBucket { expected: String, found: String },
    #[error("the key is outside this integration's prefix {prefix:?}")]
    OutsidePrefix { prefix: String },
}

impl UrlError {
    pub fn code(&self) -> &'static str {
        match self {
            UrlError::NotAUrl => "URL_MALFORMED",
            UrlError::Scheme(_) => "URL_SCHEME",
            UrlError::UserInfo => "URL_USERINFO",
            UrlError::Port => "URL_PORT",
            UrlError::Presigned => "URL_ALREADY_SIGNED",
            UrlError::Query => "URL_QUERY",
            UrlError::Fragment => "URL_FRAGMENT",
            UrlError::NotS3(_) => "URL_NOT_S3",
            UrlError::AccessPoint => "URL_ACCESS_POINT_UNSUPPORTED",
            UrlError::ObjectLambda => "URL_OBJECT_LAMBDA_UNSUPPORTED",
            UrlError::EmptyKey => "URL_EMPTY_KEY",
            UrlError::Encoding => "URL_ENCODING",
            UrlError::Bucket(_) => "URL_INVALID_BUCKET",
            UrlError::WrongBucket { .. } => "URL_WRONG_BUCKET",
            UrlError::OutsidePrefix { .. } => "URL_OUTSIDE_PREFIX",
        }
    }
}

/// How a bucket is addressed in the URLs we build and sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    VirtualHosted,
    Path,
}

impl Addressing {
    /// Path-style when configured (the emulator) or when the name has dots (HTTPS would break).
    pub fn for_bucket(bucket: &BucketName, force_path_style: bool) -> Self {
        if force_path_style || bucket.has_dots() {
            Addressing::Path
        } else {
            Addressing::VirtualHosted
        }
    }
}

/// Where the S3 endpoint labels end and what they say.
struct HostParts {
    /// Host labels before the service label: the bucket, for virtual-hosted URLs.
    bucket_labels: usize,
    region: Option<Region>,
}

fn region_label(s: &str) -> Option<Region> {
    if s == "external-1" {
        return Some(Region::us_east_1());
    }
    Region::parse(s).ok()
}

fn host_parts(labels: &[&str], partition: Partition) -> Option<HostParts> {
    let n = labels.len();
    let at = |i: usize, bucket_labels: usize, region: Option<Region>| Some((i, HostParts { bucket_labels, region }));
    let found = if n >= 3 && labels[n - 3] == "s3" && labels[n - 2] == "dualstack" {
        at(n - 3, n - 3, Some(region_label(labels[n - 1])?))
    } else if n >= 2 && matches!(labels[n - 2], "s3" | "s3-fips") && region_label(labels[n - 1]).is_some() {
        at(n - 2, n - 2, region_label(labels[n - 1]))
    } else if labels[n - 1] == "s3" {
        at(n - 1, n - 1, None)
    } else if let Some(rest) = labels[n - 1].strip_prefix("s3-") {
        at(n - 1, n - 1, Some(region_label(rest)?))
    } else {
        None
    };
    let (_, endpoint) = found?;
    // .amazonaws.com.cn serves exactly the China regions; .amazonaws.com every other one.
    let china = partition == Partition::AwsCn;
    match &endpoint.region {
        Some(region) if (region.partition() == Partition::AwsCn) != china => None,
        None if china => None,
        _ => Some(endpoint),
    }
}

/// A key (or bucket) in an HTTPS URL's path, decoded exactly once; `+` stays a plus sign.
fn decode_key(raw: &str) -> Result<String, UrlError> {
    encoding::decode(raw, Plus::Plus).ok_or(UrlError::Encoding)
}

pub fn parse(input: &str) -> Result<ObjectUrl, UrlError> {
    let input = input.trim();
    let (scheme, rest) = input.split_once("://").ok_or(UrlError::NotAUrl)?;
    match scheme.to_ascii_lowercase().as_str() {
        "s3" => parse_s3_uri(rest),
        "https" | "http" => parse_http(rest),
        other => Err(UrlError::Scheme(other.to_owned())),
    }
}

fn parse_s3_uri(rest: &str) -> Result<ObjectUrl, UrlError> {
    let (bucket, key) = rest.split_once('/').ok_or(UrlError::EmptyKey)?;
    if key.is_empty() {
        return Err(UrlError::EmptyKey);
    }
    Ok(ObjectUrl { bucket: BucketName::parse(bucket)?, region: None, key: key.to_owned() })
}

fn parse_http(rest: &str) -> Result<ObjectUrl, UrlError> {
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, after) = rest.split_at(authority_end);
    if authority.contains('@') {
        return Err(UrlError::UserInfo);
    }
    if authority.contains(':') {
        return Err(if authority.starts_with('[') { UrlError::NotS3(authority.to_owned()) } else { UrlError::Port });
    }
    if let Some(fragment_at) = after.find('#') {
        if !after[..fragment_at].contains('?') {
            return Err(UrlError::Fragment);
        }
    }
    if let Some((_, query)) = after.split_once('?') {
        let signed = ["x-amz-signature=", "signature=", "x-amz-credential="].iter().any(|p| query.to_ascii_lowercase().contains(p));
        return Err(if signed { UrlError::Presigned } else { UrlError::Query });
    }
    let path = after;
    let host = authority.trim_end_matches('.').to_ascii_lowercase();
    let not_s3 = || UrlError::NotS3(authority.to_owned());
    let (labels_part, partition) = if let Some(h) = host.strip_suffix(".amazonaws.com.cn") {
        (h, Partition::AwsCn)
    } else if let Some(h) = host.strip_suffix(".amazonaws.com") {
        (h, Partition::Aws)
    } else {
        return Err(not_s3());
    };
    let labels: Vec<&str> = labels_part.split('.').collect();
    if labels.contains(&"s3-accesspoint") {
        return Err(UrlError::AccessPoint);
    }
    if labels.contains(&"s3-object-lambda") {
        return Err(UrlError::ObjectLambda);
    }
    let endpoint = host_parts(&labels, partition).ok_or_else(not_s3)?;
    let path = path.strip_prefix('/').unwrap_or(path);
    let (bucket, raw_key) = if endpoint.bucket_labels > 0 {
        (labels[..endpoint.bucket_labels].join("."), path)
    } else {
        let (bucket, key) = path.split_once('/').ok_or(UrlError::EmptyKey)?;
        (decode_key(bucket)?, key)
    };
    let bucket = BucketName::parse(&bucket)?;
    let key = decode_key(raw_key)?;
    if key.is_empty() {
        return Err(UrlError::EmptyKey);
    }
    Ok(ObjectUrl { bucket, region: endpoint.region, key })
}

/// Parses and checks that the URL names an object this integration may read.
pub fn parse_for(input: &str, bucket: &BucketName, prefix: &KeyPrefix) -> Result<ObjectUrl, UrlError> {
    let object = parse(input)?;
    if &object.bucket != bucket {
        return Err(UrlError::WrongBucket { expected: bucket.to_string(), found: object.bucket.to_string() });
    }
    if !prefix.contains_key(&object.key) {
        return Err(UrlError::OutsidePrefix { prefix: prefix.to_string() });
    }
    Ok(object)
}

impl ObjectUrl {
    /// The canonical HTTPS URL of the object in `region`.
    pub fn url(&self, region: &Region, addressing: Addressing) -> String {
        let suffix = region.partition().dns_suffix();
        let mut url = String::with_capacity(64 + self.key.len() * 3);
        match addressing {
            Addressing::VirtualHosted => {
                let _ = write!(url, "https://{}.s3.{region}.{suffix}/", self.bucket);
            }
            Addressing::Path => {
                let _ = write!(url, "https://s3.{region}.{suffix}/{}/", self.bucket);
            }
        }
        encode_path_into(&self.key, &mut url);
        url
    }

    pub fn s3_uri(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bucket::tests::bucket_names;
    use crate::region::tests::regions;
    use proptest::prelude::*;

    fn ok(url: &str) -> (String, Option<String>, String) {
        let o = parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        (o.bucket.to_string(), o.region.map(|r| r.to_string()), o.key)
    }

    fn t(b: &str, r: Option<&str>, k: &str) -> (String, Option<String>, String) {
        (b.to_owned(), r.map(str::to_owned), k.to_owned())
    }

    #[test]
    fn every_s3_url_form_parses() {
        for (url, expected) in [
            ("https://acme-data.s3.eu-west-1.amazonaws.com/images/cat.jpg", t("acme-data", Some("eu-west-1"), "images/cat.jpg")),
            ("https://acme-data.s3-eu-west-1.amazonaws.com/images/cat.jpg", t("acme-data", Some("eu-west-1"), "images/cat.jpg")),
            ("https://acme-data.s3.amazonaws.com/images/cat.jpg", t("acme-data", None, "images/cat.jpg")),
            ("https://acme-data.s3-external-1.amazonaws.com/a", t("acme-data", Some("us-east-1"), "a")),
            ("https://acme-data.s3.dualstack.us-west-2.amazonaws.com/a", t("acme-data", Some("us-west-2"), "a")),
            ("https://s3.eu-west-1.amazonaws.com/acme-data/images/cat.jpg", t("acme-data", Some("eu-west-1"), "images/cat.jpg")),
            ("https://s3.amazonaws.com/acme-data/images/cat.jpg", t("acme-data", None, "images/cat.jpg")),
            ("https://s3-eu-west-1.amazonaws.com/acme-data/k", t("acme-data", Some("eu-west-1"), "k")),
            ("https://s3.dualstack.ap-south-1.amazonaws.com/acme-data/k", t("acme-data", Some("ap-south-1"), "k")),
            ("https://acme-data.s3.cn-north-1.amazonaws.com.cn/k", t("acme-data", Some("cn-north-1"), "k")),
            ("https://s3.cn-northwest-1.amazonaws.com.cn/acme-data/k", t("acme-data", Some("cn-northwest-1"), "k")),
            ("https://acme-data.s3.us-gov-west-1.amazonaws.com/k", t("acme-data", Some("us-gov-west-1"), "k")),
            ("https://acme-data.s3-fips.us-gov-east-1.amazonaws.com/k", t("acme-data", Some("us-gov-east-1"), "k")),
            ("https://my.dotted.bucket.s3.us-east-1.amazonaws.com/k", t("my.dotted.bucket", Some("us-east-1"), "k")),
            ("https://ACME-DATA.S3.EU-WEST-1.AMAZONAWS.COM/Key", t("acme-data", Some("eu-west-1"), "Key")),
            ("http://acme-data.s3.eu-west-1.amazonaws.com/k", t("acme-data", Some("eu-west-1"), "k")),
            ("s3://acme-data/images/cat 1.jpg", t("acme-data", None, "images/cat 1.jpg")),
            ("s3://acme-data/100%25", t("acme-data", None, "100%25")),
            ("  https://acme-data.s3.eu-west-1.amazonaws.com/k\n", t("acme-data", Some("eu-west-1"), "k")),
        ] {
            assert_eq!(ok(url), expected, "{url}");
        }
    }

    #[test]
    fn keys_are_decoded_exactly_once() {
        let base = "https://acme-data.s3.eu-west-1.amazonaws.com/";
        for (raw, key) in [
            ("cat%201.jpg", "cat 1.jpg"),
            ("a+b.jpg", "a+b.jpg"),
            ("a%2Bb.jpg", "a+b.jpg"),
            ("100%2525.txt", "100%25.txt"),
            ("caf%C3%A9/%E6%97%A5%E6%9C%AC.png", "café/日本.png"),
            ("café.png", "café.png"),
            ("a//b///c", "a//b///c"),
            ("dir/../x", "dir/../x"),
            ("x=1&y=2:3,4~5", "x=1&y=2:3,4~5"),
        ] {
            assert_eq!(parse(&format!("{base}{raw}")).unwrap().key, key, "{raw}");
        }
        assert_eq!(parse(&format!("{base}bad%zz")), Err(UrlError::Encoding));
        assert_eq!(parse(&format!("{base}bad%C3%28")), Err(UrlError::Encoding));
        assert_eq!(parse(&format!("{base}trailing%2")), Err(UrlError::Encoding));
    }

    #[test]
    fn everything_else_is_refused_with_a_specific_code() {
        for (url, code) in [
            ("acme-data/k.jpg", "URL_MALFORMED"),
            ("ftp://acme-data.s3.amazonaws.com/k", "URL_SCHEME"),
            ("https://user:pw@acme-data.s3.amazonaws.com/k", "URL_USERINFO"),
            ("https://acme-data.s3.amazonaws.com:443/k", "URL_PORT"),
            ("https://acme-data.s3.amazonaws.com/k?versionId=1", "URL_QUERY"),
            ("https://acme-data.s3.amazonaws.com/k?", "URL_QUERY"),
            ("https://acme-data.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=ab", "URL_ALREADY_SIGNED"),
            ("https://acme-data.s3.amazonaws.com/k?AWSAccessKeyId=x&Signature=y&Expires=1", "URL_ALREADY_SIGNED"),
            ("https://acme-data.s3.amazonaws.com/k#frag", "URL_FRAGMENT"),
            ("https://example.com/acme-data/k", "URL_NOT_S3"),
            ("https://acme-data.s3.amazonaws.com.evil.com/k", "URL_NOT_S3"),
            ("https://evil.com/.s3.amazonaws.com/k", "URL_NOT_S3"),
            ("https://acme-data.s3-website-us-east-1.amazonaws.com/k", "URL_NOT_S3"),
            ("https://acme-data.s3.cn-north-1.amazonaws.com/k", "URL_NOT_S3"),
            ("https://acme-data.s3.eu-west-1.amazonaws.com.cn/k", "URL_NOT_S3"),
            ("https://[::1]/acme-data/k", "URL_NOT_S3"),
            ("https://127.0.0.1/acme-data/k", "URL_NOT_S3"),
            ("https://ap-111122223333.s3-accesspoint.us-west-2.amazonaws.com/k", "URL_ACCESS_POINT_UNSUPPORTED"),
            ("https://ol-111122223333.s3-object-lambda.us-west-2.amazonaws.com/k", "URL_OBJECT_LAMBDA_UNSUPPORTED"),
            ("https://acme-data.s3.eu-west-1.amazonaws.com/", "URL_EMPTY_KEY"),
            ("https://acme-data.s3.eu-west-1.amazonaws.com", "URL_EMPTY_KEY"),
            ("https://s3.eu-west-1.amazonaws.com/acme-data", "URL_EMPTY_KEY"),
            ("https://s3.eu-west-1.amazonaws.com/acme-data/", "URL_EMPTY_KEY"),
            ("s3://acme-data", "URL_EMPTY_KEY"),
            ("s3://acme-data/", "URL_EMPTY_KEY"),
            ("https://s3.amazonaws.com/CustomerBucketARN/k", "URL_INVALID_BUCKET"),
            ("https://customer_bucket.s3.amazonaws.com/k", "URL_INVALID_BUCKET"),
            ("https://s3.amazonaws.com/Acme_Data/k", "URL_INVALID_BUCKET"),
        ] {
            let err = parse(url).expect_err(url);
            assert_eq!(err.code(), code, "{url}: {err}");
            assert!(!err.to_string().is_empty());
        }
    }

    #[test]
    fn parse_for_checks_bucket_and_prefix() {
        let bucket = BucketName::parse("acme-data").unwrap();
        let prefix = KeyPrefix::parse("images/").unwrap();
        let url = "https://acme-data.s3.eu-west-1.amazonaws.com/images/cat.jpg";
        assert_eq!(parse_for(url, &bucket, &prefix).unwrap().key, "images/cat.jpg");
        let err = parse_for("https://other-data.s3.amazonaws.com/images/c.jpg", &bucket, &prefix).unwrap_err();
        assert_eq!(err.code(), "URL_WRONG_BUCKET");
        assert!(err.to_string().contains("other-data") && err.to_string().contains("acme-data"));
        let err = parse_for("https://acme-data.s3.amazonaws.com/docs/a.pdf", &bucket, &prefix).unwrap_err();
        assert_eq!(err.code(), "URL_OUTSIDE_PREFIX");
    }

    #[test]
    fn canonical_urls_use_path_style_for_dotted_buckets_and_china_domains() {
        let o = parse("s3://acme-data/images/cat 1+2.jpg").unwrap();
        let eu = Region::parse("eu-west-1").unwrap();
        assert_eq!(o.url(&eu, Addressing::VirtualHosted), "https://acme-data.s3.eu-west-1.amazonaws.com/images/cat%201%2B2.jpg");
        assert_eq!(o.url(&eu, Addressing::Path), "https://s3.eu-west-1.amazonaws.com/acme-data/images/cat%201%2B2.jpg");
        let dotted = BucketName::parse("my.bucket").unwrap();
        assert_eq!(Addressing::for_bucket(&dotted, false), Addressing::Path);
        assert_eq!(Addressing::for_bucket(&o.bucket, false), Addressing::VirtualHosted);
        assert_eq!(Addressing::for_bucket(&o.bucket, true), Addressing::Path);
        let cn = Region::parse("cn-north-1").unwrap();
        assert!(o.url(&cn, Addressing::VirtualHosted).starts_with("https://acme-data.s3.cn-north-1.amazonaws.com.cn/"));
        assert_eq!(o.s3_uri(), "s3://acme-data/images/cat 1+2.jpg");
    }

    fn objects() -> impl Strategy<Value = ObjectUrl> {
        (bucket_names(), regions(), "\\PC{1,60}|[ -~]{1,60}|[a-z/]{1,10}//[%+ ]{1,5}").prop_map(|(bucket, region, key)| ObjectUrl {
            bucket,
            region: Some(region),
            key,
        })
    }

    proptest! {
        #[test]
        fn parse_of_build_is_identity(o in objects(), path_style in any::<bool>()) {
            let region = o.region.clone().unwrap();
            let addressing = if path_style { Addressing::Path } else { Addressing::for_bucket(&o.bucket, false) };
            prop_assert_eq!(parse(&o.url(&region, addressing)).unwrap(), o.clone());
            // Surrounding whitespace is trimmed from every input: an s3:// key cannot end in it.
            if o.key.trim_end() == o.key {
                let from_uri = parse(&o.s3_uri()).unwrap();
                prop_assert_eq!((from_uri.bucket, from_uri.key), (o.bucket, o.key));
            }
        }

        #[test]
        fn an_accepted_url_names_the_integrations_bucket(o in objects(), other in bucket_names(), junk in "[a-zA-Z0-9./:?#@%+-]{0,40}") {
            let region = o.region.clone().unwrap();
            let prefix = KeyPrefix::default();
            for candidate in [
                o.url(&region, Addressing::VirtualHosted),
                format!("https://{other}.s3.{region}.amazonaws.com/{junk}"),
                format!("https://{junk}.s3.amazonaws.com/{}", o.key),
                format!("https://s3.amazonaws.com/{junk}"),
                format!("{}{junk}", o.url(&region, Addressing::Path)),
            ] {
                if let Ok(accepted) = parse_for(&candidate, &o.bucket, &prefix) {
                    prop_assert_eq!(&accepted.bucket, &o.bucket, "{}", candidate);
                }
            }
        }

        #[test]
        fn never_panics(s in "(https?://|s3://)?\\PC{0,120}") {
            let _ = parse(&s);
        }
    }
}
