//! Load figures for the README: `sign-url` in 8 containers at once signing 1000-URL batches for
//! 60 s over 4 integrations, then the integrations API in 20 containers, attaches racing refreshes
//! on the same integrations. `BUCKETLINK_LOAD=hosts,seconds,batch,api_hosts,rounds` changes the size.
//!
//!     scripts/load        (= cargo bench -p bucketlink-testkit --bench load)

use std::time::Duration;

use bucketlink_testkit::load::{integrations_api, sign_url};
use bucketlink_testkit::{Emulator, Mode};

#[tokio::main]
async fn main() {
    let size: Vec<usize> = std::env::var("BUCKETLINK_LOAD")
        .unwrap_or_else(|_| "8,60,1000,20,10".into())
        .split(',')
        .map(|n| n.trim().parse().expect("BUCKETLINK_LOAD=hosts,seconds,batch,api_hosts,rounds"))
        .collect();
    let [hosts, seconds, batch, api_hosts, rounds] = size[..] else { panic!("BUCKETLINK_LOAD takes five numbers") };
    let emu = Emulator::start(Mode::Patched);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);

    let sign = sign_url(&emu, hosts, 4, batch, Duration::from_secs(seconds as u64)).await;
    println!("\nsign-url: {hosts} containers, {batch}-URL batches for {seconds} s over 4 integrations, {cores} cores shared with the emulator and this load generator");
    println!("| batches | URLs signed | URLs/s | p50 batch | p99 batch | AssumeRole (metered / served) | errors | emulator requests |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {} | {:.0} | {:.1} ms | {:.1} ms | {} / {} | {} | {} |",
        sign.batches.count(),
        sign.urls_signed,
        sign.urls_per_second(),
        sign.batches.percentile(50.0),
        sign.batches.percentile(99.0),
        sign.assume_role_metered,
        sign.assume_role_served,
        sign.errors,
        sign.emulator_requests
    );

    let api = integrations_api(&emu, api_hosts, rounds).await;
    println!(
        "\nintegrations API: {api_hosts} containers, {rounds} rounds of {} attaches racing {} refreshes on {} integrations",
        api_hosts / 2,
        api_hosts / 2,
        api_hosts / 2
    );
    println!("| requests | wall | attach p50 | attach p99 | refresh p50 | refresh p99 | errors | lost updates | emulator requests/s |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {:.1} s | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms | {} | {} | {:.0} |",
        api.attaches.count() + api.refreshes.count(),
        api.elapsed.as_secs_f64(),
        api.attaches.percentile(50.0),
        api.attaches.percentile(99.0),
        api.refreshes.percentile(50.0),
        api.refreshes.percentile(99.0),
        api.errors.len(),
        api.lost_updates.len(),
        api.emulator_requests as f64 / api.elapsed.as_secs_f64()
    );
    for line in api.errors.iter().chain(&api.lost_updates) {
        println!("  {line}");
    }
    let expected = (hosts * 4) as u64;
    println!("\nAssumeRole: one per container and integration would be {expected}.");
    assert_eq!(sign.errors, 0, "sign-url had errors");
    assert!(api.errors.is_empty() && api.lost_updates.is_empty(), "the integrations API lost or refused writes");
}
