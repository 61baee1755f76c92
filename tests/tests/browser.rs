//! A person in a real browser (headless Chromium, driven through chromedriver): the login
//! page, a protected page, logging out. Skipped, saying so, where Chromium is not installed;
//! CI installs it (`apt-get install chromium chromium-driver`).

#![cfg(unix)] // Debian's Chromium; the driver's process group
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use guard_axum::Guard;
use guard_tests::{ADMIN_SECRET, TestServer, client, create_key, create_user};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Kills chromedriver, and the Chromium it started, when the test ends, however it ends:
/// chromedriver runs in a process group of its own, which the browser joins.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.wait();
    }
}

/// The element, once the page that holds it has loaded (at most ten seconds).
async fn arrive(browser: &fantoccini::Client, css: &str) -> fantoccini::elements::Element {
    browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await.unwrap()
}

async fn start_driver() -> (Driver, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let driver = Driver(child);
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return (driver, url);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

/// Headless Chromium through chromedriver, with a profile of its own; the driver and the
/// profile must outlive the client.
async fn start_browser() -> (Driver, tempfile::TempDir, fantoccini::Client) {
    let (driver, webdriver) = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let options = json!({
        "binary": CHROMIUM,
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--window-size=1280,2000",
            format!("--user-data-dir={}", profile.path().display()),
        ],
    });
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".into(), options);
    let browser = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&webdriver)
        .await
        .unwrap();
    (driver, profile, browser)
}

/// Whether Chromium and its driver are here; if not, says that the test was skipped.
fn browser_installed() -> bool {
    let installed = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !installed {
        eprintln!(
            "SKIPPED: the browser test needs {CHROMIUM} and {CHROMEDRIVER} \
             (Debian: apt-get install chromium chromium-driver); CI installs them"
        );
    }
    installed
}

/// The demo on a fresh file, on the real clock (the browser judges cookies' expiry by it);
/// keep the directory as long as the server runs.
async fn start_demo() -> (tempfile::TempDir, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let builder = Guard::builder(&demo::POLICY)
        .database(dir.path().join("g.redb"))
        .admin_secret(ADMIN_SECRET);
    let guard = demo::configure(builder).build().unwrap();
    let server = TestServer::start(demo::app(&guard)).await.unwrap();
    (dir, server)
}

#[tokio::test]
async fn a_person_logs_in_through_the_page_and_reaches_a_protected_page() {
    if !browser_installed() {
        return;
    }
    let (_dir, server) = start_demo().await;
    create_user(&client(), &server, "ann", "correct horse battery", &["viewer"]).await.unwrap();

    let (_driver, _profile, browser) = start_browser().await;

    // Not logged in: the protected page refuses.
    browser.goto(&server.url("/dashboard")).await.unwrap();
    assert!(browser.source().await.unwrap().contains("unauthenticated"));

    // The login page, filled in as a person would, leads to the page asked for.
    browser.goto(&server.url("/auth/login?next=/dashboard")).await.unwrap();
    browser.find(Locator::Css("#username")).await.unwrap().send_keys("ann").await.unwrap();
    browser
        .find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys("wrong password")
        .await
        .unwrap();
    browser.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    // A click returns once the form is submitted, not once the next page is there: wait.
    let error = arrive(&browser, ".error").await.text().await.unwrap();
    assert_eq!(error, "invalid user name or password");
    browser.find(Locator::Css("#username")).await.unwrap().send_keys("ann").await.unwrap();
    browser
        .find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys("correct horse battery")
        .await
        .unwrap();
    browser.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    let welcome = arrive(&browser, "#welcome").await.text().await.unwrap();
    assert_eq!(welcome, "Welcome, ann");
    assert_eq!(browser.current_url().await.unwrap().path(), "/dashboard");

    // The session cookie is not readable by scripts.
    let cookies = browser.execute("return document.cookie", vec![]).await.unwrap();
    assert_eq!(cookies, json!(""), "HttpOnly");

    // Logging out ends it: back to the login page, and the protected page refuses again.
    browser.find(Locator::Css("form button")).await.unwrap().click().await.unwrap();
    arrive(&browser, "#username").await;
    assert_eq!(browser.current_url().await.unwrap().path(), "/auth/login");
    browser.goto(&server.url("/dashboard")).await.unwrap();
    assert!(browser.source().await.unwrap().contains("unauthenticated"));

    browser.close().await.unwrap();
    server.stop().await.unwrap();
}

/// The status Swagger UI shows after "Execute" on the expanded operation `id`.
async fn try_it(browser: &fantoccini::Client, id: &str) -> String {
    // Clear an earlier answer first, so that this one is the one waited for.
    let clear = format!("#{id} button.btn-clear");
    if let Ok(button) = browser.find(Locator::Css(&clear)).await {
        button.click().await.unwrap();
    }
    let execute = format!("#{id} button.execute");
    browser.find(Locator::Css(&execute)).await.unwrap().click().await.unwrap();
    let status = format!("#{id} .live-responses-table .response .response-col_status");
    let text = arrive(browser, &status).await.text().await.unwrap();
    text.split_whitespace().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn swagger_ui_shows_the_locks_and_a_key_opens_the_secure_route() {
    if !browser_installed() {
        return;
    }
    let (_dir, server) = start_demo().await;
    let (status, created) =
        create_key(&client(), &server, json!({"name": "docs", "roles": []})).await.unwrap();
    assert_eq!(status, 201);
    let key = created["key"].as_str().unwrap().to_owned();

    let (_driver, _profile, browser) = start_browser().await;
    browser.goto(&server.url("/docs/")).await.unwrap();
    let secure = "operations-default-secure";
    arrive(&browser, &format!("#{secure}")).await;
    // A lock on the route #[api_key] protects, none on the public one.
    let lock = |id: &str| format!("#{id} .authorization__btn");
    assert_eq!(browser.find_all(Locator::Css(&lock(secure))).await.unwrap().len(), 1);
    assert!(
        browser.find_all(Locator::Css(&lock("operations-default-index"))).await.unwrap().is_empty()
    );

    // "Try it out" without a key: 401.
    browser
        .find(Locator::Css(&format!("#{secure} .opblock-summary")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrive(&browser, &format!("#{secure} .try-out__btn")).await.click().await.unwrap();
    assert_eq!(try_it(&browser, secure).await, "401");

    // Authorize with the key (the header scheme), then the same request: 200.
    browser.find(Locator::Css(".auth-wrapper .authorize")).await.unwrap().click().await.unwrap();
    let container = "//div[contains(@class,'auth-container')][.//h4[contains(., 'ApiKeyHeader')]]";
    let input = format!("{container}//input");
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(&input))
        .await
        .unwrap()
        .send_keys(&key)
        .await
        .unwrap();
    let authorize = format!("{container}//button[contains(@class,'authorize')]");
    browser.find(Locator::XPath(&authorize)).await.unwrap().click().await.unwrap();
    browser.find(Locator::Css(".modal-ux .close-modal")).await.unwrap().click().await.unwrap();
    assert_eq!(try_it(&browser, secure).await, "200");

    // The page as it was, kept for people to look at.
    let screenshot = browser.screenshot().await.unwrap();
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::write(artifacts.join("swagger-ui.png"), screenshot).unwrap();

    browser.close().await.unwrap();
    server.stop().await.unwrap();
}
