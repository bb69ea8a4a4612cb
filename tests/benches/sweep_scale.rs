//! A full health sweep at scale against the emulator: 10,000 integrations across 100 customer
//! accounts by default (`BUCKETLINK_SCALE=integrations,accounts,workers` to change).
//!
//!     scripts/bench-sweep        (cargo bench -p bucketlink-testkit --bench sweep_scale)

use bucketlink_testkit::scale;

const BROKEN_EVERY: usize = 100;
use bucketlink_testkit::{Emulator, Mode};

#[tokio::main]
async fn main() {
    let spec = std::env::var("BUCKETLINK_SCALE").unwrap_or_else(|_| "10000,100,16".into());
    let parts: Vec<usize> = spec.split(',').map(|p| p.trim().parse().expect("BUCKETLINK_SCALE=integrations,accounts,workers")).collect();
    let [integrations, accounts, workers] = parts[..] else { panic!("BUCKETLINK_SCALE=integrations,accounts,workers") };
    let emu = Emulator::start(Mode::Patched);
    let r = scale::run(&emu, integrations, accounts, workers, BROKEN_EVERY).await;
    let per = |d: std::time::Duration| d.as_secs_f64() * 1000.0 / r.integrations as f64;
    println!("sweep of {} integrations in {} customer accounts, {workers} queue workers (1 in {BROKEN_EVERY} broken)", r.integrations, r.accounts);
    println!("  setup (roles, policies, items; not the sweep): {:.1} s", r.setup.as_secs_f64());
    println!("  dispatch (parallel scan + SendMessageBatch):   {:.2} s", r.dispatch.as_secs_f64());
    println!("  sweep wall time, dispatch to last message:     {:.1} s ({:.2} ms per integration)", r.sweep.as_secs_f64(), per(r.sweep));
    println!("  our CPU time (this process, not the emulator): {:.2} s ({:.3} ms per integration)", r.cpu.as_secs_f64(), per(r.cpu));
    println!("  messages processed / failed:                   {} / {}", r.processed, r.failed_messages);
    println!("  integrations failing / status events:          {} / {}", r.failing, r.status_events);
    println!("  DynamoDB read units (on AWS, estimated):       {:.0}", r.read_units);
    let assume = r.calls.get("sts:AssumeRole").and_then(|v| v.as_u64()).unwrap_or(0);
    println!("  AssumeRole calls:                              {assume} ({:.2} per integration)", assume as f64 / r.integrations as f64);
    println!("  emulator calls by action: {}", r.calls);
}
