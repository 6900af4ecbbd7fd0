//! Policies in operation: hot reload under load, shadow mode, and replaying recorded
//! decisions with `customs policy diff`; plus the authoring CLI (`test`, `fmt`,
//! `validate --warnings-as-errors`) on the bundled policies.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use customs::audit::{Fingerprinter, Outcome, Recorder};
use customs::config::Config;
use customs::metrics::Metrics;
use customs::pipeline::Gateway;
use customs::policy::PolicySource;
use customs::policy::reload::ReloadOutcome;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::support::{client, dev_token, serve_gateway};

const BIN: &str = env!("CARGO_BIN_EXE_customs");

/// Closes the echo model to engineering: the marker of "version B".
const CLOSE_ECHO: &str = "@id(\"test.echo-closed\")\n@reason(\"Closed for the test.\")\n@severity(\"high\")\nforbid (principal in Customs::Group::\"engineering\", action in Customs::Action::\"invoke\", resource == Customs::Model::\"customs-echo\");\n";

fn write_bundled(dir: &Path) {
    PolicySource::bundled().write_to(dir).unwrap();
}

struct Running {
    gateway: Arc<Gateway>,
    addr: std::net::SocketAddr,
    events: Arc<std::sync::Mutex<Vec<customs::audit::DecisionEvent>>>,
    _stop: oneshot::Sender<()>,
}

async fn start(config: Config) -> Running {
    let metrics = Arc::new(Metrics::new());
    let (recorder, events) = Recorder::new(Arc::clone(&metrics), None).with_memory();
    let gateway = Arc::new(
        Gateway::build(
            config,
            recorder,
            metrics,
            Fingerprinter::with_key(b"test-key"),
        )
        .await
        .unwrap(),
    );
    let (addr, stop) = serve_gateway(Arc::clone(&gateway)).await;
    Running {
        gateway,
        addr,
        events,
        _stop: stop,
    }
}

fn echo_request() -> Value {
    json!({"model": "customs-echo", "messages": [{"role": "user", "content": "hello"}]})
}

/// Requests stream in on 8 connections while the directory flips between two valid
/// versions and an invalid one, reloaded each time. Every request must succeed or be
/// refused by policy, and every decision must be exactly what the version it names
/// decides: version A allows, version B refuses with `test.echo-closed`, and the
/// invalid set never decides anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reload_under_load_never_fails_a_request_or_half_loads_a_set() {
    let dir = tempfile::tempdir().unwrap();
    write_bundled(dir.path());
    let mut config = Config::embedded().unwrap();
    config.policy.dir = Some(dir.path().to_path_buf());
    config.policy.watch_secs = 0;
    let running = start(config).await;
    let version_a = running.gateway.bundle().unwrap().version().to_owned();

    let stop = Arc::new(AtomicBool::new(false));
    let token = dev_token(
        "alice",
        json!({"groups": ["engineering"], "residency": "US"}),
    );
    let url = format!("http://{}/v1/chat/completions", running.addr);
    // Requests completed so far: each round waits for some more, so that reloads and
    // requests overlap however fast or loaded the machine is.
    let done = Arc::new(AtomicUsize::new(0));
    let mut load = Vec::new();
    for _ in 0..8 {
        let (stop, token, url) = (Arc::clone(&stop), token.clone(), url.clone());
        let done = Arc::clone(&done);
        load.push(tokio::spawn(async move {
            let client = client();
            let mut statuses = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let response = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&echo_request())
                    .send()
                    .await
                    .unwrap();
                statuses.push(response.status().as_u16());
                done.fetch_add(1, Ordering::Relaxed);
            }
            statuses
        }));
    }

    let closed = dir.path().join("zz-test.cedar");
    let mut version_b = String::new();
    let (mut applied, mut rejected) = (0, 0);
    for round in 0..6 {
        let content = match round % 3 {
            0 => Some(CLOSE_ECHO.to_owned()),
            // Invalid: an attribute the schema does not have.
            1 => Some(format!(
                "{CLOSE_ECHO}\n@id(\"test.broken\")\n@reason(\"r\")\npermit (principal, action, resource) when {{ principal.clearance > 3 }};\n"
            )),
            _ => None,
        };
        match content {
            Some(text) => std::fs::write(&closed, text).unwrap(),
            None => std::fs::remove_file(&closed).unwrap(),
        }
        let gateway = Arc::clone(&running.gateway);
        let outcomes = tokio::task::spawn_blocking(move || gateway.reload_policies("test"))
            .await
            .unwrap();
        match &outcomes[0] {
            ReloadOutcome::Applied { version, .. } => {
                applied += 1;
                if round % 3 == 0 {
                    version_b = version.clone();
                }
            }
            ReloadOutcome::Rejected { errors, kept, .. } => {
                rejected += 1;
                assert!(
                    errors.iter().any(|e| e.contains("zz-test.cedar:")),
                    "{errors:?}"
                );
                assert_eq!(kept, &version_b, "the last good set keeps serving");
            }
            ReloadOutcome::Unchanged { .. } => panic!("every round changes the directory"),
        }
        // At least 150 ms and 10 more requests (or 20 s) before the next round.
        let (seen, since) = (done.load(Ordering::Relaxed), std::time::Instant::now());
        while since.elapsed() < Duration::from_millis(150)
            || (done.load(Ordering::Relaxed) < seen + 10
                && since.elapsed() < Duration::from_secs(20))
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut statuses = Vec::new();
    for task in load {
        statuses.extend(task.await.unwrap());
    }
    assert_eq!((applied, rejected), (4, 2));
    assert!(statuses.len() > 50, "too little load: {}", statuses.len());
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 403),
        "a request failed during reload: {statuses:?}"
    );

    let events = running.events.lock().unwrap().clone();
    let (mut seen_a, mut seen_b) = (0, 0);
    for event in &events {
        let version = event.policy_version.as_deref().unwrap();
        if version == version_a {
            seen_a += 1;
            assert_eq!(event.outcome, Outcome::Allow, "{event:?}");
        } else if version == version_b {
            seen_b += 1;
            assert_eq!(event.outcome, Outcome::Deny, "{event:?}");
            assert_eq!(event.policy_ids, ["test.echo-closed"]);
        } else {
            panic!("decided by an unexpected set {version}");
        }
    }
    assert!(seen_a > 0 && seen_b > 0, "a: {seen_a}, b: {seen_b}");

    // Policy changes are audit events; /readyz names the version in force.
    let changes = running.gateway.recorder().policy_changes();
    assert_eq!(changes.iter().filter(|c| c.outcome == "applied").count(), 4);
    let rejection = changes.iter().find(|c| c.outcome == "rejected").unwrap();
    assert!(rejection.errors[0].contains("zz-test.cedar:"));
    let ready: Value = client()
        .get(format!("http://{}/readyz", running.addr))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["policy_version"], version_a.as_str());
    assert_eq!(ready["last_policy_change"]["outcome"], "applied");
}

/// Shadow mode records the candidate's decision beside the enforced one; only the
/// enforced one acts. The recorded events then replay under a candidate with
/// `customs policy diff`, which fails on deny→allow unless accepted.
#[tokio::test]
async fn shadow_decisions_are_recorded_and_replay_flags_deny_to_allow() {
    let shadow = tempfile::tempdir().unwrap();
    write_bundled(shadow.path());
    std::fs::write(shadow.path().join("zz-test.cedar"), CLOSE_ECHO).unwrap();
    let mut config = Config::embedded().unwrap();
    config.policy.shadow_dir = Some(shadow.path().to_path_buf());
    let running = start(config).await;

    let token = dev_token(
        "alice",
        json!({"groups": ["engineering"], "residency": "US"}),
    );
    let response = client()
        .post(format!("http://{}/v1/chat/completions", running.addr))
        .bearer_auth(&token)
        .json(&echo_request())
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "the enforced set acts, not the shadow"
    );
    let events = running.events.lock().unwrap().clone();
    let shadow_decision = events[0].shadow.as_ref().unwrap();
    assert_eq!(shadow_decision.decision, "deny");
    assert_eq!(shadow_decision.policy_ids, ["test.echo-closed"]);
    assert!(shadow_decision.differs);
    assert_eq!(
        events[0].principal.as_ref().unwrap().attributes["residency"],
        "US"
    );

    // Replay: the recorded allow under the closing candidate is allow→deny (exit 0);
    // a recorded deny under the bundled set is deny→allow (exit 1 unless accepted).
    let log = tempfile::tempdir().unwrap();
    let lines: Vec<String> = events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    std::fs::write(log.path().join("decisions.jsonl"), lines.join("\n")).unwrap();
    let out = Command::new(BIN)
        .args(["policy", "diff", "--format", "json", "--replay"])
        .arg(log.path())
        .arg("--candidate")
        .arg(shadow.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["allow_to_deny"]["count"], 1);
    assert_eq!(
        report["allow_to_deny"]["samples"][0]["decision_id"],
        events[0].decision_id.as_str()
    );

    let mut denied = serde_json::to_value(&events[0]).unwrap();
    denied["outcome"] = json!("deny");
    denied["policy_ids"] = json!(["test.echo-closed"]);
    std::fs::write(log.path().join("decisions.jsonl"), denied.to_string()).unwrap();
    let flagged = Command::new(BIN)
        .args(["policy", "diff", "--replay"])
        .arg(log.path().join("decisions.jsonl"))
        .output()
        .unwrap();
    assert_eq!(flagged.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&flagged.stdout).contains("deny → allow: 1"));
    let accepted = Command::new(BIN)
        .args(["policy", "diff", "--accept-deny-to-allow", "--replay"])
        .arg(log.path().join("decisions.jsonl"))
        .output()
        .unwrap();
    assert_eq!(accepted.status.code(), Some(0));
}

#[test]
fn the_bundled_suite_passes_formatted_with_full_coverage_in_junit() {
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let out = Command::new(BIN)
        .args(["policy", "test", "--threshold", "100", "--format", "junit"])
        .arg(&policies)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(xml.contains("<testsuite "), "{xml}");
    assert!(xml.contains("failures=\"0\""), "{xml}");

    let fmt = Command::new(BIN)
        .args(["policy", "fmt", "--check"])
        .arg(&policies)
        .output()
        .unwrap();
    assert!(
        fmt.status.success(),
        "{}",
        String::from_utf8_lossy(&fmt.stderr)
    );

    let validate = Command::new(BIN)
        .args(["policy", "validate", "--warnings-as-errors"])
        .arg(&policies)
        .output()
        .unwrap();
    assert!(
        validate.status.success(),
        "{}",
        String::from_utf8_lossy(&validate.stderr)
    );
}

#[test]
fn a_failing_case_and_a_broken_fixture_are_reported_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    write_bundled(dir.path());
    std::fs::write(
        dir.path().join("tests/wrong.toml"),
        "[[case]]\nname = \"wrong on purpose\"\ncaller = { groups = [\"engineering\"], residency = \"EU\" }\nmodel = \"gpt-4o-us\"\nclasses = []\nexpect = { decision = \"allow\" }\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["policy", "test"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FAIL tests/wrong.toml:1 wrong on purpose"),
        "{text}"
    );

    std::fs::write(
        dir.path().join("tests/wrong.toml"),
        "[[case]]\nname = \"typo\"\nmodel = \"gpt-4o-us\"\nclases = []\nexpect = { decision = \"allow\" }\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["policy", "validate"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("tests/wrong.toml:4:"), "{stderr}");
}

/// The callers of decision test cases are the claims of their tokens. With the gateway's
/// configuration (`--config`), its `[auth.claims]` mapping says who they are — here the
/// tenant read from `tid` pins the caller to the US deployment — and its `[policy] dir`
/// is the directory tested. Without it, a case written for that mapping is refused and
/// the claims it does not read are named.
#[test]
fn policy_test_and_validate_map_callers_with_the_configured_claim_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    write_bundled(&policies);
    // Only cases written for the mapping: the bundled ones use the default claim names.
    for entry in std::fs::read_dir(policies.join("tests")).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    std::fs::write(
        policies.join("tests/mapped.toml"),
        r#"[[case]]
name = "a tenant pinned to the US by its tid claim is routed to the US deployment"
caller = { oid = "fred", roles = ["engineering"], tid = "acme-federal" }
model = "gpt-4o"
classes = []
expect = { decision = "allow", deployment = "gpt-4o-openai-us", policies = ["providers.engineering-openai"] }

[[case]]
name = "without a pinned tenant the EU deployment comes first"
caller = { oid = "gail", roles = ["engineering"] }
model = "gpt-4o"
classes = []
expect = { decision = "allow", deployment = "gpt-4o-azure-swedencentral" }
"#,
    )
    .unwrap();
    let config = dir.path().join("customs.toml");
    std::fs::write(
        &config,
        "[policy]\ndir = \"policies\"\n\n[auth.claims]\nsubject = \"oid\"\ngroups = \"roles\"\n\n[auth.claims.attributes]\ntenant = \"tid\"\n",
    )
    .unwrap();

    for command in ["test", "validate"] {
        let out = Command::new(BIN)
            .args(["policy", command, "--config"])
            .arg(&config)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{command}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // The same cases under the default mapping: refused, naming the unread claims.
    let out = Command::new(BIN)
        .args(["policy", "test"])
        .arg(&policies)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("caller claim(s) `oid`, `roles`, `tid` not read by the claim mapping"),
        "{stderr}"
    );

    // A mapping that reads the tenant elsewhere: `tid` is now unread, and named.
    std::fs::write(
        &config,
        "[policy]\ndir = \"policies\"\n\n[auth.claims]\nsubject = \"oid\"\ngroups = \"roles\"\n\n[auth.claims.attributes]\ntenant = \"org_id\"\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["policy", "validate", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("caller claim(s) `tid` not read"),
        "{stderr}"
    );
}
