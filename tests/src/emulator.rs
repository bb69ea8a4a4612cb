//! The local AWS: our moto launcher (`infra/local/emulator.py`) on a free port, one per test binary.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use serde::Deserialize;

/// `Patched` is what every test uses; `Stock` is moto as shipped, to prove each patch is needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Patched,
    Stock,
}

pub struct Emulator {
    pub endpoint: String,
    child: Mutex<Child>,
    // Held open: the launcher exits when it closes, so a test binary that dies leaves nothing behind.
    _stdin: ChildStdin,
}

/// An account's administrator, as created by the launcher's `/_bucketlink/accounts`.
#[derive(Clone, Debug, Deserialize)]
pub struct Account {
    pub account_id: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl Account {
    pub fn credentials(&self) -> Credentials {
        Credentials::new(&self.access_key_id, &self.secret_access_key, None, None, "bucketlink-testkit")
    }
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace").to_path_buf()
}

impl Emulator {
    /// The emulator shared by every test of this binary, started on first use.
    pub fn shared() -> &'static Emulator {
        static SHARED: OnceLock<Emulator> = OnceLock::new();
        SHARED.get_or_init(|| Emulator::start(Mode::Patched))
    }

    pub fn start(mode: Mode) -> Emulator {
        let root = workspace_root();
        let setup = Command::new("bash").arg(root.join("infra/local/setup.sh")).status().expect("run infra/local/setup.sh");
        assert!(setup.success(), "infra/local/setup.sh failed: the emulator could not be installed");
        let mut command = Command::new(root.join(".venv/bin/python"));
        command.arg(root.join("infra/local/emulator.py")).args(["--port", "0", "--exit-with-parent"]);
        if mode == Mode::Stock {
            command.arg("--stock");
        }
        if std::env::var_os("BUCKETLINK_EMULATOR_LOG").is_some() {
            command.arg("--log-requests");
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // Stock moto prints a traceback for each request it cannot handle; those are the point.
            .stderr(if mode == Mode::Stock { Stdio::null() } else { Stdio::inherit() })
            .spawn()
            .expect("start the emulator");
        let stdin = child.stdin.take().expect("piped stdin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut line).expect("read READY line");
        let endpoint = line.strip_prefix("READY ").map(|s| s.trim().to_owned()).unwrap_or_else(|| panic!("emulator did not start; it said {line:?}"));
        Emulator { endpoint, child: Mutex::new(child), _stdin: stdin }
    }

    async fn admin(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let response = reqwest::Client::new()
            .post(format!("{}/_bucketlink/{path}", self.endpoint))
            .body(body.to_string())
            .header("content-type", "application/json")
            .send()
            .await
            .expect("reach the emulator");
        assert!(response.status().is_success(), "emulator /_bucketlink/{path}: {}", response.status());
        serde_json::from_str(&response.text().await.expect("body")).expect("JSON from the emulator")
    }

    /// An administrator of `account_id` (created on first use).
    pub async fn account(&self, account_id: &str) -> Account {
        let value = self.admin("accounts", serde_json::json!({ "account_id": account_id })).await;
        serde_json::from_value(value).expect("account keys")
    }

    /// Calls served so far, by action (`sts:AssumeRole`, `dynamodb:GetItem`, ...) and in total (`requests`).
    pub async fn calls(&self) -> serde_json::Value {
        let response = reqwest::get(format!("{}/_bucketlink/stats", self.endpoint)).await.expect("reach the emulator");
        serde_json::from_str(&response.text().await.expect("body")).expect("JSON from the emulator")
    }

    /// Moves the clock the emulator uses for expiry checks (sessions, presigned URLs).
    pub async fn advance_clock(&self, seconds: u64) {
        self.admin("clock", serde_json::json!({ "advance_seconds": seconds })).await;
    }

    pub async fn sdk_config(&self, credentials: Credentials, region: &str) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new(region.to_owned()))
            .credentials_provider(credentials)
            .load()
            .await
    }

    pub fn s3(&self, sdk: &SdkConfig) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build())
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Ok(mut child) = self.child.lock() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
