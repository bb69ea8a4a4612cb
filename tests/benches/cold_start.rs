//! Cold start of each function: process start to its first event answered, under the runtime
//! emulation (the first event includes the first AWS call: client setup, connection, one request
//! to the emulator). Median of 20 starts each, optimized x86_64 build of the same code Lambda runs
//! on arm64; beside it the same event answered warm, the part of it that is not the start.
//!
//!     cargo bench -p bucketlink-testkit --bench cold_start        (scripts/package runs it)

use std::time::{Duration, Instant};

use bucketlink_testkit::{Emulator, Function, Mode, Provider, Sweep};

const STARTS: usize = 20;

use bucketlink_testkit::events::event as fixture;

#[tokio::main]
async fn main() {
    let emu = Emulator::start(Mode::Patched);
    let provider = Provider::create(&emu).await;
    let table = provider.table().await;
    let sweep = Sweep::create(&provider).await;
    let mut env = provider.function_env(&emu, &table);
    env.extend(sweep.env());
    println!("cold start: process start to first event answered, median of {STARTS} (min, max); warm: the same event again");
    for (name, event) in [
        ("integrations", "integrations-list.json"),
        ("sign-url", "sign-url.json"),
        ("revalidate", "revalidate-sqs-batch.json"),
        ("prevalidate", "prevalidate-sqs.json"),
        ("status-events", "status-events-stream.json"),
    ] {
        bucketlink_testkit::runtime::binary(name); // built before the clock starts
        let (mut times, mut warm): (Vec<Duration>, Vec<Duration>) = (Vec::with_capacity(STARTS), Vec::with_capacity(STARTS));
        for _ in 0..STARTS {
            let started = Instant::now();
            let function = Function::start(name, &env).await;
            function.invoke(fixture(event)).await.unwrap_or_else(|e| panic!("{name}: {e}"));
            times.push(started.elapsed());
            // The same event again, warm: what the emulator's side of the answer takes.
            let again = Instant::now();
            function.invoke(fixture(event)).await.unwrap_or_else(|e| panic!("{name}: {e}"));
            warm.push(again.elapsed());
        }
        times.sort();
        warm.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "  {name:<13} {:>6.1} ms  ({:.1}, {:.1}); warm {:.1} ms   <- events/{event}",
            ms(times[STARTS / 2]),
            ms(times[0]),
            ms(times[STARTS - 1]),
            ms(warm[STARTS / 2])
        );
    }
}
