//! AWS regions: the known list, plus the pattern for regions launched after this list was written.

use serde::{Deserialize, Serialize};

use crate::partition::Partition;

const KNOWN: [&str; 37] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-west-1",
    "us-gov-east-1",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an AWS region (for example us-east-1, eu-west-1)")]
pub struct RegionError(pub String);

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Region(String);

/// `xx-name-N` or `xx-gov-name-N`: the shape every commercial, China and GovCloud region has.
fn has_region_shape(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let letters = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    let number = |p: &str| !p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [geo, name, n] => geo.len() == 2 && letters(geo) && letters(name) && number(n),
        [geo, "gov", name, n] => geo.len() == 2 && letters(geo) && letters(name) && number(n),
        _ => false,
    }
}

impl Region {
    pub fn parse(input: &str) -> Result<Self, RegionError> {
        let s = input.trim();
        if KNOWN.contains(&s) || has_region_shape(s) {
            Ok(Region(s.to_owned()))
        } else {
            Err(RegionError(s.to_owned()))
        }
    }

    pub fn is_known(&self) -> bool {
        KNOWN.contains(&self.0.as_str())
    }

    pub fn partition(&self) -> Partition {
        Partition::of_region(&self.0)
    }

    pub fn us_east_1() -> Self {
        Region("us-east-1".to_owned())
    }
}

string_newtype!(Region, RegionError);

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub fn regions() -> impl Strategy<Value = Region> {
        prop::sample::select(KNOWN.to_vec()).prop_map(|r| Region::parse(r).unwrap())
    }

    #[test]
    fn known_and_future_regions_parse_with_their_partition() {
        assert_eq!(Region::parse("eu-west-1").unwrap().partition(), Partition::Aws);
        assert_eq!(Region::parse("cn-north-1").unwrap().partition(), Partition::AwsCn);
        assert_eq!(Region::parse("us-gov-west-1").unwrap().partition(), Partition::AwsUsGov);
        let future = Region::parse("xy-newplace-3").unwrap();
        assert!(!future.is_known());
        for bad in ["", "us-east", "US-EAST-1", "us_east_1", "useast1", "us-east-1a", "global", "s3"] {
            assert!(Region::parse(bad).is_err(), "{bad}");
        }
    }
}
