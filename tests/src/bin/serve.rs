//! `scripts/serve`: the whole product on this machine, for a person with a browser. Prints where
//! the setup page is and how to play the sample customer; stops cleanly on Ctrl-C.
//!
//!     scripts/serve [--port 8080] [--api-port 8081] [--tenant tenant-local]

use std::time::Duration;

use bucketlink_testkit::local::{Options, Product, SAMPLE_ACCOUNT};

fn options() -> Result<Options, String> {
    let mut options = Options { app_port: 8080, api_port: 8081, ..Options::default() };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--port" => options.app_port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--api-port" => options.api_port = value()?.parse().map_err(|e| format!("--api-port: {e}"))?,
            "--tenant" => options.tenant = value()?,
            "--sweep-every" => options.sweep_every = Duration::from_secs(value()?.parse().map_err(|e| format!("--sweep-every: {e}"))?),
            _ => return Err(format!("unknown argument {flag}; usage: scripts/serve [--port N] [--api-port N] [--tenant T] [--sweep-every SECONDS]")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() {
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let tenant = options.tenant.clone();
    println!("starting the emulator, the functions and the page ...");
    let product = Product::start(options).await;
    let c = &product.customer;
    let root = bucketlink_testkit::emulator::workspace_root();
    println!(
        "\nbucketlink is running on this machine.\n\n  setup page   {app}/\n  HTTP API     {api}  (development authorizer: Authorization: Bearer dev:{tenant})\n  AWS emulator {aws}\n\n\
         The sample customer's account {SAMPLE_ACCOUNT} has the bucket {bucket} with {n} sample objects (no CORS, no role yet).\n\
         Play that customer in another shell; the page's AWS CLI commands then run as shown:\n\n  \
         export PATH=\"{venv}:$PATH\" AWS_ENDPOINT_URL={aws} AWS_DEFAULT_REGION=us-east-1 \\\n    AWS_ACCESS_KEY_ID={key} AWS_SECRET_ACCESS_KEY={secret}\n\n\
         In the page: create an integration for {bucket}, run its CLI commands, paste the role ARN, and follow each fix.\n\
         Ctrl-C stops everything.",
        app = product.app_origin,
        api = product.api_url,
        aws = product.emulator.endpoint,
        bucket = c.bucket,
        n = c.keys.len(),
        venv = root.join(".venv/bin").display(),
        key = c.admin.access_key_id,
        secret = c.admin.secret_access_key,
    );
    let _ = tokio::signal::ctrl_c().await;
    println!("\nstopping ...");
    drop(product);
    println!("stopped.");
}
