//! One catalogue of codes (`bucketlink::codes`), and everything that lists codes agrees with it:
//! the code (every code literal outside tests is catalogued, every catalogued code is produced
//! somewhere), `openapi.json` (an enum per place), and the README's table.

use std::collections::BTreeSet;

use bucketlink::codes::{self, Place, CATALOGUE};
use bucketlink_testkit::emulator::workspace_root;
use serde_json::Value;

/// Upper-case literals in the code that are not codes, and why.
const NOT_CODES: &[&str] = &[
    // HTTP methods.
    "GET",
    "HEAD",
    "PUT",
    "POST",
    "DELETE",
    "OPTIONS",
    // S3 storage classes and a prefix of S3's KMS error codes.
    "GLACIER",
    "DEEP_ARCHIVE",
    "INTELLIGENT_TIERING",
    "KMS",
    // Magic bytes and declared media types as import files write them.
    "RIFF",
    "WAVE",
    "WEBP",
    "ID3",
    "IMAGE",
    // The principal kind in a policy, a Bool condition value, an `expect` message.
    "AWS",
    "TRUE",
    "ASCII",
    // Environment variables the log subscriber reads (besides AWS_LAMBDA_*).
    "RUST_LOG",
];

fn sources() -> Vec<(String, String)> {
    let root = workspace_root();
    let mut files = Vec::new();
    let mut dirs = vec![root.join("shared/src"), root.join("functions")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                // Only what ships: a file's tests start at its `#[cfg(test)]`.
                let shipped = text.split("#[cfg(test)]").next().unwrap_or_default().to_owned();
                files.push((path.display().to_string(), shipped));
            }
        }
    }
    files
}

/// Every `"CODE_LIKE"` literal: each stretch between two neighbouring quotes is tried, so a `'"'`
/// elsewhere in the file cannot shift the pairing.
fn literals(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for piece in text.split('"').skip(1) {
        let code = piece.len() >= 3 && piece.starts_with(|c: char| c.is_ascii_uppercase());
        if code && piece.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') {
            found.insert(piece.to_owned());
        }
    }
    found
}

#[test]
fn every_code_in_the_code_is_catalogued_and_every_catalogued_code_is_produced() {
    let catalogued: BTreeSet<&str> = CATALOGUE.iter().map(|c| c.code).collect();
    let mut produced = BTreeSet::new();
    for (path, text) in sources() {
        if path.ends_with("codes.rs") {
            continue;
        }
        for literal in literals(&text) {
            if NOT_CODES.contains(&literal.as_str()) || literal.starts_with("BUCKETLINK_") || literal.starts_with("AWS_LAMBDA_") {
                continue;
            }
            assert!(catalogued.contains(literal.as_str()), "{literal} ({path}) is not in bucketlink::codes::CATALOGUE");
            produced.insert(literal);
        }
    }
    let unused: Vec<&&str> = catalogued.iter().filter(|c| !produced.contains(**c)).collect();
    assert!(unused.is_empty(), "catalogued but produced nowhere: {unused:?}");
}

#[test]
fn openapi_lists_exactly_the_codes_of_each_place() {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(workspace_root().join("openapi.json")).unwrap()).unwrap();
    let schemas = &doc["components"]["schemas"];
    let places = [
        (Place::Problem, &schemas["Problem"]["properties"]["code"]),
        (Place::Check, &schemas["CheckResult"]["properties"]["code"]),
        (Place::Record, &schemas["ObjectRecord"]["properties"]["code"]),
        (Place::Row, &schemas["ImportReport"]["properties"]["results"]["items"]["properties"]["code"]),
        (Place::SignRow, &schemas["RowError"]["properties"]["code"]),
        (Place::Finding, &schemas["LintReport"]["properties"]["findings"]["items"]["properties"]["code"]),
    ];
    for (place, schema) in places {
        let listed: BTreeSet<&str> =
            schema["enum"].as_array().unwrap_or_else(|| panic!("{} codes are an enum", place.as_str())).iter().filter_map(Value::as_str).collect();
        let expected: BTreeSet<&str> = codes::at(place).collect();
        assert_eq!(listed, expected, "{}", place.as_str());
    }
}

#[test]
fn the_readme_table_is_the_catalogue() {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let rows: Vec<&str> = readme.lines().filter(|l| l.starts_with("| `") && l.matches('|').count() == 4).collect();
    for code in CATALOGUE {
        let places: Vec<&str> = code.places.iter().map(|p| p.as_str()).collect();
        let row = format!("| `{}` | {} | {} |", code.code, places.join(", "), code.meaning);
        assert!(rows.contains(&row.as_str()), "README lacks or differs for {}: {row}", code.code);
    }
}
