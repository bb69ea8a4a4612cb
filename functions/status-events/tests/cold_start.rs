//! Cargo builds this binary for its own tests, so `cargo test --workspace` builds every function.

#[test]
fn a_bad_environment_fails_the_cold_start_with_one_line_naming_the_variable() {
    bucketlink_testkit::runtime::assert_cold_start_names_missing_variable(env!("CARGO_BIN_EXE_status-events"));
}
