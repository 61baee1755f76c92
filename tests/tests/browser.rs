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
use guard_tests::{ADMIN_SECRET, TestServer, client, create_user};
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

#[tokio::test]
async fn a_person_logs_in_through_the_page_and_reaches_a_protected_page() {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        eprintln!(
            "SKIPPED: the browser test needs {CHROMIUM} and {CHROMEDRIVER} \
             (Debian: apt-get install chromium chromium-driver); CI installs them"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let builder = Guard::builder(&demo::POLICY)
        .database(dir.path().join("g.redb"))
        .admin_secret(ADMIN_SECRET);
    let guard = demo::configure(builder).build().unwrap();
    let server = TestServer::start(demo::app(&guard)).await.unwrap();
    create_user(&client(), &server, "ann", "correct horse battery", &["viewer"]).await.unwrap();

    let (_driver, webdriver) = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let options = json!({
        "binary": CHROMIUM,
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync",
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
