//! The CloudWatch Embedded Metric Format documents a function wrote to its log, read back as
//! CloudWatch reads them, and held to `bucketlink::telemetry`'s catalogue.

use std::collections::BTreeSet;

use bucketlink::telemetry::{CATALOGUE, NAMESPACE};
use serde_json::Value;

/// One metric datapoint of a document: its name, its dimensions' names and values, its value.
#[derive(Debug, Clone)]
pub struct Datapoint {
    pub name: String,
    pub dimensions: Vec<(String, String)>,
    pub value: Value,
}

/// Every datapoint in `logs` (one JSON document per line; other lines are not metrics).
pub fn datapoints(logs: &str) -> Vec<Datapoint> {
    let mut out = Vec::new();
    for doc in logs.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).filter(|d| d.get("_aws").is_some()) {
        for directive in doc["_aws"]["CloudWatchMetrics"].as_array().into_iter().flatten() {
            assert_eq!(directive["Namespace"], NAMESPACE, "{doc}");
            let dimension_sets: Vec<Vec<String>> = directive["Dimensions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|set| set.as_array().into_iter().flatten().filter_map(|d| d.as_str().map(str::to_owned)).collect())
                .collect();
            for metric in directive["Metrics"].as_array().into_iter().flatten() {
                let name = metric["Name"].as_str().expect("a metric name").to_owned();
                for set in &dimension_sets {
                    let dimensions = set.iter().map(|d| (d.clone(), doc[d].as_str().unwrap_or_default().to_owned())).collect();
                    out.push(Datapoint { name: name.clone(), dimensions, value: doc[&name].clone() });
                }
            }
        }
    }
    out
}

/// The names of the metrics in `logs`, after checking each against the catalogue: a known name,
/// exactly its dimensions (and `Function`), none of them empty.
pub fn metric_names(logs: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for point in datapoints(logs) {
        let (_, expected) = CATALOGUE.iter().find(|(n, _)| *n == point.name).unwrap_or_else(|| panic!("{} is not in the catalogue", point.name));
        let mut keys: Vec<&str> = point.dimensions.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort();
        let mut wanted: Vec<&str> = expected.iter().copied().chain(["Function"]).collect();
        wanted.sort();
        assert_eq!(keys, wanted, "{}'s dimensions", point.name);
        assert!(point.dimensions.iter().all(|(_, v)| !v.is_empty()), "{point:?}");
        names.insert(point.name);
    }
    names
}

/// Asserts that `logs` hold every one of `expected` metrics.
pub fn assert_metrics(logs: &str, expected: &[&str]) {
    let names = metric_names(logs);
    for name in expected {
        assert!(names.contains(*name), "no {name} among {names:?}");
    }
}
