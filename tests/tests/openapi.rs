//! The demo's OpenAPI document: each route's lock is the one its attribute enforces, the
//! guard's routes are documented unless hidden, the document validates as OpenAPI 3.1, and
//! the demo answers as it says (schemathesis). The last needs `openapi-spec-validator` and
//! `schemathesis` (PyPI); without them it says it was skipped, and with
//! `GUARD_REQUIRE_OPENAPI_TOOLS=1` (as in CI, which installs them) it fails instead.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::collections::BTreeSet;
use std::process::Command;

use guard_tests::{TestServer, client, create_key, start_demo};
use serde_json::{Value, json};

/// Every scheme a person or a key may use on the demo (not the admin secret).
const PRINCIPAL_SCHEMES: [&str; 5] =
    ["ApiKeyHeader", "ApiKeyQuery", "Bearer", "OAuth2Password", "SessionCookie"];

async fn document(server: &TestServer) -> Value {
    let response = client().get(server.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The security of `GET path`: each alternative as (scheme, scopes).
fn security(doc: &Value, path: &str) -> Option<BTreeSet<(String, Vec<String>)>> {
    let operation = &doc["paths"][path]["get"];
    assert!(operation.is_object(), "GET {path} is documented");
    let alternatives = operation.get("security")?.as_array().unwrap();
    Some(
        alternatives
            .iter()
            .map(|a| {
                let (scheme, scopes) = a.as_object().unwrap().iter().next().unwrap();
                let scopes = scopes.as_array().unwrap();
                (scheme.clone(), scopes.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
            })
            .collect(),
    )
}

fn every_scheme_with(scopes: &[&str]) -> BTreeSet<(String, Vec<String>)> {
    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    PRINCIPAL_SCHEMES.iter().map(|s| ((*s).to_owned(), scopes.clone())).collect()
}

#[tokio::test]
async fn each_route_is_locked_as_its_attribute_says() {
    let (_dir, _clock, _guard, server) = start_demo(|b| b).await;
    let doc = document(&server).await;
    assert_eq!(doc["openapi"], "3.1.0");

    // Public: no lock.
    assert_eq!(security(&doc, "/"), None);
    // #[api_key]: only the API key's schemes, any key.
    assert_eq!(
        security(&doc, "/secure").unwrap(),
        BTreeSet::from([("ApiKeyHeader".into(), vec![]), ("ApiKeyQuery".into(), vec![])])
    );
    // #[protected(roles = "admin")], (permissions = "view_reports"), and any caller.
    assert_eq!(security(&doc, "/admin").unwrap(), every_scheme_with(&["admin"]));
    assert_eq!(security(&doc, "/reports").unwrap(), every_scheme_with(&["view_reports"]));
    assert_eq!(security(&doc, "/me").unwrap(), every_scheme_with(&[]));
    assert_eq!(security(&doc, "/dashboard").unwrap(), every_scheme_with(&[]));
    // any(roles = "admin", check = is_owner): an admin, or anyone the check admits.
    let mut notes = every_scheme_with(&["admin"]);
    notes.extend(every_scheme_with(&[]));
    assert_eq!(security(&doc, "/notes/{owner}").unwrap(), notes);

    // The answers the guard adds, with its error body.
    let responses = |path: &str| doc["paths"][path]["get"]["responses"].clone();
    let error = json!({"$ref": "#/components/schemas/GuardError"});
    assert_eq!(responses("/secure")["401"]["content"]["application/json"]["schema"], error);
    assert!(responses("/secure").get("403").is_none(), "any key: never forbidden");
    assert_eq!(responses("/admin")["403"]["content"]["application/json"]["schema"], error);
    let forbidden = responses("/notes/{owner}")["403"]["description"].as_str().unwrap().to_owned();
    assert!(forbidden.contains("is_owner"), "{forbidden}");
    assert!(responses("/").get("401").is_none());
    assert_eq!(doc["components"]["schemas"]["GuardError"]["required"], json!(["error", "detail"]));

    // The schemes, from the authenticators' own descriptions.
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["ApiKeyHeader"]["in"], "header");
    assert_eq!(schemes["ApiKeyHeader"]["name"], "X-API-Key");
    assert_eq!(schemes["ApiKeyQuery"]["in"], "query");
    assert_eq!(schemes["ApiKeyQuery"]["name"], "api-key");
    assert_eq!(schemes["SessionCookie"]["in"], "cookie");
    assert_eq!(schemes["Bearer"]["scheme"], "bearer");
    assert_eq!(schemes["OAuth2Password"]["flows"]["password"]["tokenUrl"], "/auth/token");
    assert_eq!(schemes["AdminSecret"]["name"], "X-Admin-Secret");

    // The guard's own routes, with the admin API admitted by the secret or `manage_keys`.
    let create_key = &doc["paths"]["/auth/keys"]["post"];
    assert_eq!(create_key["security"][0], json!({"AdminSecret": []}));
    assert!(
        create_key["security"].as_array().unwrap().contains(&json!({"Bearer": ["manage_keys"]}))
    );
    assert!(create_key["requestBody"].is_object());
    assert!(doc["paths"]["/auth/token"]["post"].is_object());
    assert!(doc["paths"]["/auth/login"]["get"].is_object(), "sessions are on");
    assert!(doc["paths"].get("/auth/register").is_none(), "registration is off");

    // What the document says is what the server does: a locked route refuses a caller
    // without credentials, an open one does not.
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(operation) = item.get("get") else { continue };
        let url = server.url(&path.replace("{owner}", "someone").replace("{id}", "unknown"));
        let status = client().get(url).send().await.unwrap().status().as_u16();
        match operation.get("security") {
            Some(_) => assert_eq!(status, 401, "GET {path} is locked"),
            None => assert_ne!(status, 401, "GET {path} is open"),
        }
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn hidden_docs_leave_out_the_guard_routes_and_keep_the_locks() {
    let (_dir, _clock, _guard, server) = start_demo(|b| b.hide_docs(true)).await;
    let doc = document(&server).await;
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    assert!(paths.iter().all(|p| !p.starts_with("/auth/")), "{paths:?}");
    assert_eq!(security(&doc, "/admin").unwrap(), every_scheme_with(&["admin"]));
    assert!(doc["components"]["schemas"].get("GuardKey").is_none());
    server.stop().await.unwrap();
}

/// The tool's path if it is installed, else `None` (or a failure where it is required).
fn tool(name: &str) -> Option<String> {
    let found = Command::new(name).arg("--version").output().is_ok_and(|o| o.status.success());
    if found {
        return Some(name.to_owned());
    }
    let required = std::env::var("GUARD_REQUIRE_OPENAPI_TOOLS").is_ok_and(|v| v == "1");
    assert!(!required, "{name} is required (GUARD_REQUIRE_OPENAPI_TOOLS=1) but not installed");
    eprintln!(
        "SKIPPED: {name} is not installed (pip install openapi-spec-validator schemathesis); CI installs it"
    );
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_validates_and_the_demo_answers_as_it_says() {
    let (Some(validator), Some(schemathesis)) =
        (tool("openapi-spec-validator"), tool("schemathesis"))
    else {
        return;
    };
    let (dir, _clock, _guard, server) = start_demo(|b| b).await;
    let spec = dir.path().join("openapi.json");
    std::fs::write(&spec, document(&server).await.to_string()).unwrap();

    let valid = Command::new(&validator).arg(&spec).output().unwrap();
    assert!(valid.status.success(), "{}", String::from_utf8_lossy(&valid.stdout));

    let (status, body) =
        create_key(&client(), &server, json!({"name": "schemathesis", "roles": ["admin"]}))
            .await
            .unwrap();
    assert_eq!(status, 201);
    let key = body["key"].as_str().unwrap().to_owned();
    // A bounded run in CI; SCHEMATHESIS_EXAMPLES=1000 for a longer one.
    let examples = std::env::var("SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "15".into());
    for credentials in [None, Some(format!("X-API-Key: {key}"))] {
        let mut run = Command::new(&schemathesis);
        // Its cache goes where it runs: the temporary directory, not the checkout.
        run.current_dir(dir.path()).args(["run", &server.url("/openapi.json"), "--max-examples", &examples, "--seed", "1"])
            .args(["--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance"])
            .args(["--phases", "examples,coverage,fuzzing", "--suppress-health-check", "all"])
            .args(["--report-dir", &dir.path().join("schemathesis").display().to_string()]);
        if let Some(header) = &credentials {
            run.args(["--header", header]);
        }
        let outcome = tokio::task::spawn_blocking(move || run.output()).await.unwrap().unwrap();
        let output = String::from_utf8_lossy(&outcome.stdout);
        let with = if credentials.is_some() { "with an admin key" } else { "without credentials" };
        assert!(
            outcome.status.success(),
            "schemathesis {with} found what the document does not describe:\n{output}"
        );
        assert!(output.contains("passed"), "{output}");
    }
    server.stop().await.unwrap();
}
