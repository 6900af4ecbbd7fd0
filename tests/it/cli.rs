//! The `customs` binary: policy validation, offline explanation, and `serve` draining
//! in-flight requests on SIGTERM.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

const BIN: &str = env!("CARGO_BIN_EXE_customs");

#[test]
fn policy_validate_accepts_the_bundle_and_names_the_line_of_an_error() {
    let ok = Command::new(BIN)
        .args(["policy", "validate"])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let policies = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    std::fs::copy(
        policies.join("catalog.toml"),
        dir.path().join("catalog.toml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("broken.cedar"),
        "@id(\"broken\")\n@reason(\"r\")\npermit (principal, action, resource)\nwhen { principal.clearance > 3 };\n",
    )
    .unwrap();
    let bad = Command::new(BIN)
        .args(["policy", "validate"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("broken.cedar:4:"), "{stderr}");
}

#[test]
fn serve_refuses_to_start_on_an_invalid_policy_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("catalog.toml"), "").unwrap();
    std::fs::write(
        dir.path().join("bad.cedar"),
        "permit (principal, action, resource) when {",
    )
    .unwrap();
    let config = dir.path().join("customs.toml");
    std::fs::write(
        &config,
        format!("[policy]\ndir = {:?}\n", dir.path().display().to_string()),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.cedar:1:"), "{stderr}");
}

#[test]
fn check_explains_a_residency_denial_without_printing_the_prompt() {
    let mut child = Command::new(BIN)
        .args([
            "check",
            "--model",
            "gpt-4o-us",
            "--claims",
            r#"{"groups":["engineering"],"residency":"EU"}"#,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"write to jane@example.com").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["decision"], "deny");
    assert_eq!(
        report["detail"]["policy_ids"],
        json!(["residency.eu-stays-in-eu"])
    );
    assert_eq!(report["classes"]["PII.EMAIL"], 1);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("jane@example.com"));
}

/// `check --config` sees the caller the gateway would: the configured `[auth.claims]`
/// mapping reads groups from `roles` and residency from `country`, and those claims
/// decide. Without the configuration the same claims name nobody in any group.
#[test]
fn check_maps_claims_with_the_configured_claim_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("customs.toml");
    std::fs::write(
        &config,
        "[auth.claims]\nsubject = \"oid\"\ngroups = \"roles\"\n\n[auth.claims.attributes]\nresidency = \"country\"\n",
    )
    .unwrap();
    let claims = r#"{"oid":"eva","roles":["engineering"],"country":"EU"}"#;
    let check = |extra: &[&str]| {
        let out = Command::new(BIN)
            .args(["check", "--model", "gpt-4o-us", "--classes", "PII.EMAIL"])
            .args(["--claims", claims])
            .args(extra)
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        (
            out.status.code(),
            report,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    let (code, report, _) = check(&["--config", config.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert_eq!(report["caller"]["id"], "eva");
    assert_eq!(report["caller"]["groups"], json!(["engineering"]));
    assert_eq!(report["caller"]["attributes"]["residency"], "EU");
    assert_eq!(
        report["detail"]["policy_ids"],
        json!(["residency.eu-stays-in-eu"])
    );

    let (code, report, stderr) = check(&[]);
    assert_eq!(code, Some(1));
    assert_eq!(report["caller"]["id"], "check");
    assert_eq!(report["caller"]["groups"], json!([]));
    assert_eq!(report["detail"]["policy_ids"], json!([]));
    assert!(
        stderr.contains("does not read oid, roles, country"),
        "{stderr}"
    );
    assert!(!stderr.contains("eva"), "{stderr}");
}

/// `customs serve` on a free loopback port with `extra` appended to a configuration
/// that trusts the RSA test issuer and sends `gpt-4o-openai-us` to `base`, once it
/// answers `/readyz`; and its base URL.
async fn serve_process(
    dir: &std::path::Path,
    base: &str,
    extra: &str,
) -> (tokio::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.join("customs.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[auth]
issuer = "{RSA_ISSUER}"
audience = "{RSA_AUDIENCE}"
jwks_file = {jwks:?}
algorithms = ["RS256"]

[upstream.base_urls]
gpt-4o-openai-us = "{base}"

[upstream.credential_envs]
gpt-4o-openai-us = "{CREDENTIAL_ENV}"
{extra}"#,
            jwks = keys_dir().join("jwks.json").display().to_string(),
        ),
    )
    .unwrap();
    let server = tokio::process::Command::new(BIN)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--config",
        ])
        .arg(&config)
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while client().get(format!("{url}/readyz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "customs serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (server, url)
}

/// Sends a chat request for `gpt-4o-us` to `url` on a task, waits until `mock` has it,
/// then sends SIGTERM to `server`; the request's task.
async fn chat_then_sigterm(
    server: &tokio::process::Child,
    url: &str,
    mock: &MockUpstream,
) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
    let request = tokio::spawn({
        let url = url.to_owned();
        async move {
            client()
                .post(format!("{url}/v1/chat/completions"))
                .bearer_auth(rsa_token(rsa_claims()))
                .json(
                    &json!({"model": "gpt-4o-us", "messages": [{"role": "user", "content": "hi"}]}),
                )
                .send()
                .await
        }
    });
    let waited = Instant::now();
    while mock.received().is_empty() {
        assert!(
            waited.elapsed() < Duration::from_secs(10),
            "request never reached the upstream"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    send_signal(server, "TERM");
    request
}

/// SIGHUP reloads a policy directory; with the bundled set there is nothing to reload,
/// and the signal must not end the process as its default action would (no drain, no
/// sealed log): `systemctl reload` sends it.
#[tokio::test]
async fn sighup_with_the_bundled_policies_leaves_the_gateway_serving() {
    let mock = MockUpstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (mut server, url) = serve_process(dir.path(), &mock.url("/v1"), "").await;
    send_signal(&server, "HUP");
    // The signal is handled at once or not at all; give an unhandled one time to act.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        server.try_wait().unwrap().is_none(),
        "SIGHUP ended customs serve"
    );
    let ready = client().get(format!("{url}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    terminate(&mut server).await;
    let mut stderr = String::new();
    tokio::io::AsyncReadExt::read_to_string(server.stderr.as_mut().unwrap(), &mut stderr)
        .await
        .unwrap();
    assert!(stderr.contains("nothing to reload"), "{stderr}");
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_request_finish() {
    let mock = MockUpstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (mut server, url) = serve_process(dir.path(), &mock.url("/hold/v1"), "").await;
    let request = chat_then_sigterm(&server, &url, &mock).await;
    let response = request.await.unwrap().unwrap();
    assert_eq!(response.status(), 200, "the in-flight request was cut off");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "mock says hi");
    let status = tokio::time::timeout(Duration::from_secs(15), server.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "customs serve exited with {status}");
    // New connections are refused once it has stopped.
    assert!(client().get(format!("{url}/healthz")).send().await.is_err());
}

/// With no grace left (`shutdown_grace_secs = 0`), SIGTERM cuts a request that waits on
/// the provider short: the caller gets 503 `server_shutdown`, and the sealed durable log
/// holds its event and verifies.
#[tokio::test]
async fn sigterm_past_the_grace_cuts_a_request_short_and_the_sealed_log_holds_it() {
    let mock = MockUpstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit");
    let extra = format!(
        "\n[server]\nshutdown_grace_secs = 0\n\n[audit]\ndir = {audit:?}\n\n[audit.forward]\nenabled = false\n"
    );
    let (mut server, url) = serve_process(dir.path(), &mock.url("/slow/v1"), &extra).await;
    let request = chat_then_sigterm(&server, &url, &mock).await;
    let response = request.await.unwrap().unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "server_shutdown", "{body}");
    let status = tokio::time::timeout(Duration::from_secs(15), server.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "customs serve exited with {status}");

    let tail = Command::new(BIN)
        .args(["audit", "tail"])
        .arg(&audit)
        .output()
        .unwrap();
    assert!(tail.status.success());
    let events: Vec<Value> = String::from_utf8_lossy(&tail.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["code"], "server_shutdown", "{events:?}");
    assert_eq!(events[0]["deployment"]["id"], "gpt-4o-openai-us");
    let verify = Command::new(BIN)
        .args(["audit", "verify"])
        .arg(&audit)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}
