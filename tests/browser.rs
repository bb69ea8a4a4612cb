//! The setup page and the `cors` check in a real browser: Debian's Chromium, driven through
//! ChromeDriver (WebDriver) by fantoccini, against the whole product served locally
//! (`local::Product`, what `scripts/serve` runs). Screenshots of each step are saved under
//! `target/browser-screenshots/`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use bucketlink_testkit::emulator::workspace_root;
use bucketlink_testkit::fixtures::{run_aws_cli, unique};
use bucketlink_testkit::local::{Options, Product};
use bucketlink_testkit::{Customer, CustomerSpec, Permissions, Trust};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tokio::process::{Child, Command};

const JPEG: &[u8] = include_bytes!("samples/gradient.jpg");

/// Chromium under ChromeDriver, both from Debian (installed by `infra/local/setup.sh browser`).
struct Browser {
    client: Client,
    _driver: Child,
    shots: PathBuf,
    taken: std::sync::atomic::AtomicU32,
}

impl Browser {
    async fn start(test: &str) -> Browser {
        // Once per test binary: two package installs at a time would fight over dpkg's lock.
        static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        let installed = INSTALLED.get_or_init(|| {
            std::process::Command::new("bash").arg(workspace_root().join("infra/local/setup.sh")).arg("browser").status().is_ok_and(|s| s.success())
        });
        assert!(installed, "infra/local/setup.sh browser could not install Chromium and ChromeDriver");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let webdriver = format!("http://127.0.0.1:{port}");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({"binary": "/usr/bin/chromium", "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000", "--no-first-run"]}),
        );
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector).capabilities(capabilities.clone()).connect(&webdriver).await {
                Ok(client) => break client,
                Err(e) if started.elapsed() < Duration::from_secs(20) => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("no WebDriver session with Chromium: {e}"),
            }
        };
        let shots = workspace_root().join("target/browser-screenshots").join(test);
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots).unwrap();
        Browser { client, _driver: driver, shots, taken: Default::default() }
    }

    /// Scrolls `css` to the top of the window, then saves a screenshot.
    async fn shot_at(&self, css: &str, name: &str) {
        self.js("document.querySelector(arguments[0]).scrollIntoView({block: 'start'});", vec![json!(css)]).await;
        self.shot(name).await;
    }

    async fn close(self) {
        self.client.close().await.expect("end the WebDriver session");
    }

    async fn shot(&self, name: &str) {
        let n = self.taken.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(self.shots.join(format!("{n:02}-{name}.png")), png).unwrap();
    }

    async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// Waits until the expression is true in the page.
    async fn until(&self, expression: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.js(&format!("return Boolean({expression});"), vec![]).await != json!(true) {
            if Instant::now() > deadline {
                let problem = self.js("return document.getElementById('problem').innerText;", vec![]).await;
                panic!("{what}: not within 30 s ({expression}); the page says: {problem}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn text(&self, css: &str) -> String {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).text().await.unwrap()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.unwrap();
    }
}

/// Runs `command` (a line the page shows) as the sample customer, with the AWS CLI.
fn as_customer(product: &Product, command: &str) -> String {
    run_aws_cli(&product.emulator.endpoint, &product.customer.admin, command)
}

/// Every visible text meets WCAG AA contrast against what is behind it (4.5:1, 3:1 when large).
const CONTRAST: &str = r#"
const lum = (c) => { const v = c.match(/[\d.]+/g).slice(0, 3).map(Number).map((x) => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; }); return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
const background = (e) => { for (; e; e = e.parentElement) { const b = getComputedStyle(e).backgroundColor; if (!/rgba\(.*, 0\)$/.test(b) && b !== 'transparent') return b; } return 'rgb(255, 255, 255)'; };
const bad = [];
for (const e of document.querySelectorAll('body *')) {
  if (!e.offsetParent || ![...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
  const s = getComputedStyle(e);
  const [a, b] = [lum(s.color), lum(background(e))];
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const large = parseFloat(s.fontSize) >= 24 || (parseFloat(s.fontSize) >= 18.66 && Number(s.fontWeight) >= 700);
  if (ratio < (large ? 3 : 4.5) && !e.disabled) bad.push(`${e.tagName}#${e.id}.${e.className} "${e.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
}
return bad;
"#;

/// Every input has a label, every button a name, and the page does not scroll sideways.
const ACCESSIBLE: &str = r#"
const bad = [];
for (const i of document.querySelectorAll('input')) if (!i.labels.length) bad.push(`input #${i.id} has no label`);
for (const b of document.querySelectorAll('button')) if (!(b.getAttribute('aria-label') || b.textContent.trim())) bad.push(`button #${b.id} has no name`);
if (document.documentElement.scrollWidth > window.innerWidth) bad.push(`scrolls sideways: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
return bad;
"#;

async fn assert_accessible(browser: &Browser, at: &str) {
    for (name, script) in [("contrast", CONTRAST), ("labels and width", ACCESSIBLE)] {
        let bad = browser.js(script, vec![]).await;
        assert_eq!(bad, json!([]), "{name} at {at}");
    }
}

#[tokio::test]
async fn a_customer_sets_up_their_bucket_in_the_page_until_every_check_is_green() {
    let product = Product::start(Options::default()).await;
    let browser = Browser::start("walk-through").await;
    let page = &browser.client;
    page.goto(&format!("{}/", product.app_origin)).await.unwrap();
    browser.until("document.readyState === 'complete'", "the page loads").await;
    assert_accessible(&browser, "the start").await;
    browser.shot("start").await;

    // 1. The bucket.
    browser.type_into("#name", "Sample data").await;
    browser.type_into("#bucket", &product.customer.bucket).await;
    browser.shot("bucket-entered").await;
    browser.click("#create").await;
    browser.until("!document.getElementById('role').hidden && document.getElementById('external-id').textContent", "the setup appears").await;
    assert!(browser.text("#principal").await.starts_with("arn:aws:iam::111111111111:role/"));
    assert!(browser.text("#external-id").await.starts_with("bl-"));
    assert!(page.current_url().await.unwrap().query().unwrap_or_default().starts_with("integration="), "a reload keeps the integration");
    browser.shot_at("#role-title", "role-to-create").await;

    // The other ways to make the role, by keyboard: the tabs follow the arrow keys.
    page.find(Locator::Id("tab-cli")).await.unwrap().send_keys("\u{E014}").await.unwrap();
    browser.until("document.activeElement.id === 'tab-cfn' && !document.getElementById('panel-cfn').hidden", "ArrowRight selects CloudFormation").await;
    assert!(browser.text("#cfn-parameters").await.contains("ExternalId"));
    browser.shot("cloudformation").await;
    browser.click("#tab-tf").await;
    let tfvars = browser.text("#tfvars").await;
    assert!(tfvars.contains(&format!("bucket_name = \"{}\"", product.customer.bucket)), "{tfvars}");
    browser.shot("terraform").await;
    browser.click("#tab-json").await;
    browser.shot("policies").await;
    assert_accessible(&browser, "the role step").await;
    browser.click("#tab-cli").await;

    // 2. The customer runs exactly the commands the page shows, in their own account.
    let commands = browser.text("#cli-commands").await;
    let mut role_arn = String::new();
    for command in commands.split("\n\n") {
        role_arn = as_customer(&product, command).trim().to_owned();
    }
    assert!(role_arn.starts_with("arn:aws:iam::222222222222:role/BucketlinkAccess-"), "{role_arn}");

    // 3. The role ARN, pasted: five checks pass, CORS fails with its fix.
    browser.type_into("#role-arn", &role_arn).await;
    browser.click("#attach").await;
    browser.until("document.querySelectorAll('#checks li').length === 6", "the checks appear").await;
    let statuses = browser.js("return [...document.querySelectorAll('#checks li')].map((li) => [li.dataset.check, li.dataset.status]);", vec![]).await;
    assert_eq!(
        statuses,
        json!([
            ["role_assumable", "pass"],
            ["external_id_required", "pass"],
            ["bucket_region", "pass"],
            ["list_objects", "pass"],
            ["object_read", "pass"],
            ["cors", "fail"]
        ])
    );
    assert_eq!(browser.text("#status").await, "Failing");
    browser.shot_at("#checks-title", "checks").await;
    browser.shot_at("#checks li[data-check='cors']", "cors-fix").await;
    assert_accessible(&browser, "the checks").await;

    // 4. The fix, as the page words it, then the refresh button: everything green.
    let fix = browser.text("#checks li[data-check='cors'] .remediation").await;
    let command = fix.lines().find_map(|l| l.find("aws s3api put-bucket-cors").map(|at| &l[at..])).expect("the fix has a CLI command");
    as_customer(&product, command);
    browser.click("#refresh").await;
    browser.until("document.querySelector(\"#checks li[data-check='cors']\").dataset.status === 'pass'", "CORS passes after the fix").await;
    let statuses = browser.js("return [...document.querySelectorAll('#checks li')].map((li) => li.dataset.status);", vec![]).await;
    assert_eq!(statuses, json!(["pass", "pass", "pass", "pass", "pass", "pass"]));
    assert_eq!(browser.text("#status").await, "Healthy");
    browser.until("document.querySelectorAll('#history li').length >= 2", "the history shows both runs").await;
    page.find(Locator::Css("#history-details summary")).await.unwrap().click().await.unwrap();
    browser.shot_at("#checks-section", "healthy").await;

    // 5. A data row, loaded and drawn by the browser through a signed URL.
    browser.type_into("#preview-key", "rows/photo.jpg").await;
    browser.click("#preview").await;
    browser.until("document.getElementById('preview-result').dataset.loaded", "the preview finishes").await;
    let result = browser.text("#preview-result").await;
    assert_eq!(browser.js("return document.getElementById('preview-result').dataset.loaded;", vec![]).await, json!("true"), "{result}");
    let drawn = browser.js("const c = document.getElementById('preview-canvas'); return [c.width, c.height, Array.from(c.getContext('2d').getImageData(c.width / 2, c.height / 2, 1, 1).data)];", vec![]).await;
    assert!(drawn[0].as_u64().unwrap() > 1 && drawn[1].as_u64().unwrap() > 1, "{drawn}");
    assert_ne!(drawn[2], json!([0, 0, 0, 0]), "the image's pixels were drawn");
    browser.shot_at("#preview-title", "preview").await;

    // The objects S3 announced, as prevalidation recorded them, once the connection was healthy.
    // S3's announcements reach prevalidate every two seconds: refresh until they are recorded.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        browser.click("#refresh").await;
        browser.until("!document.getElementById('refresh').disabled", "the refresh finishes").await;
        if browser.js("return document.querySelectorAll('#objects li .badge').length;", vec![]).await.as_u64() >= Some(10) {
            break;
        }
        assert!(Instant::now() < deadline, "the prevalidation records did not appear within 60 s");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    browser.shot_at("#objects", "objects").await;

    // Phone width: still one readable column.
    page.set_window_size(390, 844).await.unwrap();
    browser.until("window.innerWidth <= 400", "the window narrows").await;
    assert_accessible(&browser, "phone width").await;
    page.execute("window.scrollTo(0, 0);", vec![]).await.unwrap();
    browser.shot("phone").await;
    browser.shot_at("#checks-title", "phone-checks").await;
    browser.shot_at("#preview-title", "phone-preview").await;
    browser.close().await;
}

/// One bucket CORS configuration, in the S3 console's JSON (`None`: no CORS at all).
struct Case {
    name: &'static str,
    rules: Option<Value>,
}

fn cases(app: &str) -> Vec<Case> {
    let rule = |origins: Value, methods: Value| json!({"AllowedOrigins": origins, "AllowedMethods": methods});
    let other = "https://other.example.com";
    let port_wildcard = format!("{}:*", app.rsplit_once(':').unwrap().0);
    vec![
        Case { name: "the app's origin allowed", rules: Some(json!([rule(json!([app]), json!(["GET"]))])) },
        Case { name: "another origin only", rules: Some(json!([rule(json!([other]), json!(["GET"]))])) },
        Case { name: "any origin (*)", rules: Some(json!([rule(json!(["*"]), json!(["GET"]))])) },
        Case { name: "no CORS at all", rules: None },
        Case { name: "GET not allowed", rules: Some(json!([rule(json!([app]), json!(["PUT", "POST"]))])) },
        Case { name: "HEAD but not GET", rules: Some(json!([rule(json!([app]), json!(["HEAD"]))])) },
        Case {
            name: "only a header the browser does not send allowed",
            rules: Some(json!([{"AllowedOrigins": [app], "AllowedMethods": ["GET"], "AllowedHeaders": ["x-amz-meta-owner"]}])),
        },
        Case {
            name: "several rules, only a later one matches",
            rules: Some(json!([rule(json!([other]), json!(["GET"])), rule(json!([app]), json!(["GET"]))])),
        },
        Case {
            name: "an earlier rule for the origin without GET",
            rules: Some(json!([rule(json!([app]), json!(["PUT"])), rule(json!([app]), json!(["GET", "HEAD"]))])),
        },
        Case { name: "a wildcard for the port", rules: Some(json!([rule(json!([port_wildcard]), json!(["GET"]))])) },
        Case { name: "the origin with a trailing slash", rules: Some(json!([rule(json!([format!("{app}/")]), json!(["GET"]))])) },
        Case { name: "https instead of http", rules: Some(json!([rule(json!([app.replace("http://", "https://")]), json!(["GET"]))])) },
    ]
}

async fn http(product: &Product, method: reqwest::Method, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .request(method, format!("{}{path}", product.api_url))
        .bearer_auth("dev:tenant-cors")
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert!(status.is_success(), "{path}: {status} {body:#}");
    body
}

/// What the browser at the app's origin makes of `url`: `fetch` (a CORS request), and an image
/// loaded with `crossOrigin` and read back from a canvas.
const LOAD: &str = r#"
const [url, done] = arguments;
const fetched = fetch(url).then((r) => r.ok, () => false);
const drawn = new Promise((resolve) => {
  const image = new Image();
  image.crossOrigin = 'anonymous';
  image.onload = () => {
    const canvas = document.createElement('canvas');
    canvas.width = image.naturalWidth; canvas.height = image.naturalHeight;
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    try { context.getImageData(0, 0, 1, 1); resolve(true); } catch (e) { resolve(false); }
  };
  image.onerror = () => resolve(false);
  image.src = url;
});
Promise.all([fetched, drawn]).then(done);
"#;

#[tokio::test]
async fn the_cors_check_agrees_with_chromium_on_every_bucket_configuration() {
    let product = Product::start(Options::default()).await;
    let browser = Browser::start("cors-differential").await;
    browser.client.goto(&format!("{}/", product.app_origin)).await.unwrap();
    browser.until("document.readyState === 'complete'", "the page loads").await;
    let mut table = Vec::new();
    for case in cases(&product.app_origin) {
        let bucket = unique("cors");
        let created = http(&product, reqwest::Method::POST, "/integrations", json!({"name": case.name, "bucket": bucket})).await;
        let id = created["id"].as_str().unwrap();
        let mut spec = CustomerSpec::new("333333333333", Trust::Document(created["setup"]["trust_policy"].clone()));
        spec.bucket = bucket.clone();
        spec.permissions = Permissions::Document(created["setup"]["permission_policy"].clone());
        spec.objects = vec![("rows/photo.jpg".to_owned(), JPEG.to_vec())];
        // Signed while healthy (a failing integration signs nothing), then the case's CORS.
        let customer = Customer::create(&product.emulator, &product.provider.role_arn, spec).await;
        customer.set_cors(Some(&json!([{"AllowedOrigins": [product.app_origin], "AllowedMethods": ["GET"]}]))).await;
        let attached =
            http(&product, reqwest::Method::PUT, &format!("/integrations/{id}"), json!({"name": case.name, "bucket": bucket, "role_arn": customer.role_arn}))
                .await;
        assert_eq!(attached["status"], "healthy", "{}: {attached:#}", case.name);
        let signed =
            http(&product, reqwest::Method::POST, &format!("/integrations/{id}/sign"), json!({"urls": [format!("s3://{bucket}/rows/photo.jpg")]})).await;
        let url = signed["results"][0]["signed_url"].as_str().unwrap_or_else(|| panic!("{}: {signed:#}", case.name));
        customer.set_cors(case.rules.as_ref()).await;
        let checked = http(&product, reqwest::Method::POST, &format!("/integrations/{id}/validate"), json!({})).await;
        let check = |name: &str| checked["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap().clone();
        let cors = check("cors");
        assert_eq!(check("object_read")["status"], "pass", "{}: the object is readable, so only CORS decides", case.name);
        let loaded = browser.client.execute_async(LOAD, vec![json!(url)]).await.unwrap();
        let (fetched, drawn) = (loaded[0] == true, loaded[1] == true);
        table.push(format!("{:<50} check {:<5} fetch {:<5} image {}", case.name, cors["status"].as_str().unwrap(), fetched, drawn));
        assert!(cors["status"] == "pass" || cors["status"] == "fail", "{}: {cors:#}", case.name);
        assert_eq!(fetched, drawn, "{}: fetch and image disagree", case.name);
        assert_eq!(
            cors["status"] == "pass",
            fetched,
            "{}: the check says {}, Chromium {} load it",
            case.name,
            cors["status"],
            if fetched { "can" } else { "cannot" }
        );
    }
    println!("{}", table.join("\n"));
    let passes = table.iter().filter(|row| row.contains("check pass")).count();
    assert!(passes >= 5 && passes <= table.len() - 5, "both verdicts are exercised:\n{}", table.join("\n"));
    browser
        .client
        .execute("document.body.innerHTML = '<pre id=\"t\"></pre>'; document.getElementById('t').textContent = arguments[0];", vec![json!(table.join("\n"))])
        .await
        .unwrap();
    browser.shot("verdicts").await;
    browser.close().await;
}

/// `scripts/serve`'s program: prints where the page is, serves it, and on Ctrl-C stops with
/// everything it started.
#[tokio::test]
async fn serve_prints_its_page_and_stops_cleanly_on_ctrl_c() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut serve = Command::new(bucketlink_testkit::runtime::binary("serve"))
        .args(["--port", "0", "--api-port", "0"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start serve");
    let mut lines = BufReader::new(serve.stdout.take().unwrap()).lines();
    let (mut page, mut emulator) = (String::new(), String::new());
    while let Ok(Some(line)) = tokio::time::timeout(Duration::from_secs(120), lines.next_line()).await.expect("serve starts within 2 minutes") {
        let field = |label: &str| line.trim().strip_prefix(label).map(|rest| rest.split_whitespace().next().unwrap_or_default().to_owned());
        page = field("setup page").unwrap_or(page);
        emulator = field("AWS emulator").unwrap_or(emulator);
        if line.starts_with("Ctrl-C stops everything") {
            break;
        }
    }
    let html = reqwest::get(&page).await.unwrap().text().await.unwrap();
    assert!(html.contains("Connect your Amazon S3 bucket"), "{page}");
    let config = reqwest::get(format!("{page}config.js")).await.unwrap().text().await.unwrap();
    assert!(config.contains("dev:tenant-local"), "{config}");
    let pid = serve.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let status = tokio::time::timeout(Duration::from_secs(20), serve.wait()).await.expect("stops within 20 s").unwrap();
    assert!(status.success(), "{status}");
    let mut rest = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        rest.push(line);
    }
    assert_eq!(rest.last().map(String::as_str), Some("stopped."), "{rest:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(reqwest::get(&page).await.is_err(), "the page is gone");
    assert!(reqwest::get(format!("{emulator}/_bucketlink/health")).await.is_err(), "the emulator is gone");
}
