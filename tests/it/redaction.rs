//! Redaction strategies per data class (`[redaction]`), end to end: what the upstream
//! receives, what the caller gets back, what the decision event says; and the
//! configuration errors `serve` and `policy validate` report.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use customs::audit::{DecisionEvent, Fingerprinter, Outcome, Recorder};
use customs::config::Config;
use customs::metrics::Metrics;
use customs::pipeline::Gateway;
use customs::policy::PolicySource;
use customs::policy::reload::ReloadOutcome;
use futures_util::StreamExt as _;
use serde_json::{Value, json};

use crate::support::*;

const BIN: &str = env!("CARGO_BIN_EXE_customs");

const EMAIL: &str = "jane.doe@example.com";
const CARD: &str = "4111 1111 1111 1111";
const SECRET: &str = "ghp_1234567890abcdefghijABCDEFGHIJ123456";

/// Cards masked to their last four, secrets removed, emails hashed per tenant.
const RULES: &str = r#"
[redaction]
default = "placeholder"
[[redaction.rules]]
classes = ["PCI.*"]
strategy = "mask"
keep = 4
[[redaction.rules]]
classes = ["SECRET.*"]
strategy = "remove"
[[redaction.rules]]
classes = ["EMAIL"]
strategy = "hash"
"#;

/// Writes the bundled policies without `secrets.never-leave`, so that a request carrying
/// a secret is forwarded with the secret redacted instead of refused.
fn write_policies_letting_secrets_through(dir: &Path) {
    PolicySource::bundled()
        .without_policy("secrets.never-leave")
        .expect("the bundle has secrets.never-leave")
        .write_to(dir)
        .unwrap();
}

fn config(mock: &MockUpstream, policies: &Path) -> Config {
    let mut config = config_with_mock(mock);
    config.policy.dir = Some(policies.to_path_buf());
    config.policy.watch_secs = 0;
    config.redaction = Config::parse(RULES).unwrap().redaction;
    config
}

fn token_for(tenant: &str) -> String {
    dev_token(
        "bob",
        json!({"groups": ["engineering"], "residency": "US", "tenant": tenant}),
    )
}

fn prompt() -> String {
    format!("Customer {EMAIL} paid with {CARD}; deploy token {SECRET}.")
}

/// The email's hash token in a text: `[EMAIL#` and 12 hex digits.
fn hash_token(text: &str) -> String {
    let start = text
        .find("[EMAIL#")
        .unwrap_or_else(|| panic!("no hash token in {text}"));
    let token = &text[start..start + 20];
    assert!(token.ends_with(']'), "{token}");
    assert!(
        token[7..19]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{token}"
    );
    token.to_owned()
}

fn strategy_of(event: &DecisionEvent, class: &str) -> (String, Option<String>) {
    let c = event
        .classes
        .iter()
        .find(|c| c.class == class)
        .unwrap_or_else(|| panic!("{class} not in {:?}", event.classes));
    (c.action.to_owned(), c.strategy.map(str::to_owned))
}

#[tokio::test]
async fn each_class_leaves_as_its_strategy_says_and_hashes_are_stable_per_tenant() {
    let mock = MockUpstream::start().await;
    let policies = tempfile::tempdir().unwrap();
    write_policies_letting_secrets_through(policies.path());
    let gateway = TestGateway::start(config(&mock, policies.path())).await;

    let mut arrived = Vec::new();
    for tenant in ["acme", "acme", "globex"] {
        let response = gateway
            .post(
                "/v1/chat/completions",
                &token_for(tenant),
                &json!({"model": "gpt-4o-us", "messages": [{"role": "user", "content": prompt()}]}),
            )
            .await;
        assert_eq!(response.status(), 200, "{tenant}");
        // The model echoed the hash token; the caller gets its own address back.
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["choices"][0]["message"]["content"],
            format!("mock saw {EMAIL}"),
            "{tenant}"
        );
        let received = mock.received();
        let last: Value = serde_json::from_str(&received.last().unwrap().body).unwrap();
        arrived.push(last["messages"][0]["content"].as_str().unwrap().to_owned());
    }

    for content in &arrived {
        // The card masked to its last four, the secret gone, the email a hash token:
        // exactly that, nothing else of any value.
        let token = hash_token(content);
        assert_eq!(
            content,
            &format!("Customer {token} paid with **** **** **** 1111; deploy token ."),
        );
        for value in [EMAIL, CARD, "4111", SECRET, "ghp_", "jane"] {
            assert!(!content.contains(value), "{value} reached the upstream");
        }
    }
    let tokens: Vec<String> = arrived.iter().map(|c| hash_token(c)).collect();
    assert_eq!(tokens[0], tokens[1], "the same tenant: the same token");
    assert_ne!(tokens[0], tokens[2], "another tenant: another token");

    // `customs scan` with the same secret and tenant shows an analyst the same token.
    for (tenant, token) in [("acme", &tokens[0]), ("globex", &tokens[2])] {
        let mut scan = std::process::Command::new(env!("CARGO_BIN_EXE_customs"))
            .args(["scan", "--redact", "--strategy", "hash", "--tenant", tenant])
            .env("CUSTOMS_HMAC_KEY", "test-key")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(
            scan.stdin.as_mut().unwrap(),
            format!("write to {EMAIL}").as_bytes(),
        )
        .unwrap();
        let out = scan.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "grep's convention: something was found"
        );
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            format!("write to {token}")
        );
    }

    let events = gateway.events();
    assert_eq!(events.len(), 3);
    for event in &events {
        assert_eq!(event.outcome, Outcome::Modify);
        assert_eq!(event.redactions, 3);
        let redacted = |s: &str| ("redacted".to_owned(), Some(s.to_owned()));
        assert_eq!(strategy_of(event, "PCI.CARD_NUMBER"), redacted("mask"));
        assert_eq!(
            strategy_of(event, "SECRET.GITHUB_TOKEN"),
            redacted("remove")
        );
        assert_eq!(strategy_of(event, "PII.EMAIL"), redacted("hash"));
        let text = serde_json::to_string(event).unwrap();
        assert!(
            text.contains(r#""action":"redacted","strategy":"mask""#),
            "{text}"
        );
        for value in [EMAIL, CARD, SECRET, tokens[0].as_str(), tokens[2].as_str()] {
            assert!(!text.contains(value), "the decision event carries {value}");
        }
    }
}

#[tokio::test]
async fn a_hash_token_cut_between_stream_events_is_restored() {
    let mock = MockUpstream::start().await;
    let policies = tempfile::tempdir().unwrap();
    write_policies_letting_secrets_through(policies.path());
    let gateway = TestGateway::start(config(&mock, policies.path())).await;
    let response = gateway
        .post(
            "/v1/chat/completions",
            &token_for("acme"),
            &json!({"model": "gpt-4o-us", "stream": true, "messages": [{"role": "user", "content": format!("mail {EMAIL}")}]}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("the first chunk arrives before the upstream finishes")
        .unwrap()
        .unwrap();
    // The mock sent "first [EMA": the open token is held back, the rest goes on.
    let first = String::from_utf8_lossy(&first).into_owned();
    assert!(
        first.contains("first") && !first.contains("[EMA"),
        "{first}"
    );
    mock.release_stream();
    let mut all = first.into_bytes();
    while let Some(chunk) = stream.next().await {
        all.extend_from_slice(&chunk.unwrap());
    }
    let text: String = String::from_utf8_lossy(&all)
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|v| {
            v.pointer("/choices/0/delta/content")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(text, format!("first {EMAIL} second"));
    let upstream = &mock.received()[0].body;
    assert!(upstream.contains("[EMAIL#") && !upstream.contains(EMAIL));
}

#[tokio::test]
async fn keep_placeholders_returns_hash_tokens_as_the_model_wrote_them() {
    let mock = MockUpstream::start().await;
    let policies = tempfile::tempdir().unwrap();
    write_policies_letting_secrets_through(policies.path());
    let mut config = config(&mock, policies.path());
    config.upstream.keep_placeholders = true;
    let gateway = TestGateway::start(config).await;
    let response = gateway
        .post(
            "/v1/chat/completions",
            &token_for("acme"),
            &json!({"model": "gpt-4o-us", "messages": [{"role": "user", "content": format!("mail {EMAIL}")}]}),
        )
        .await;
    let body: Value = response.json().await.unwrap();
    let content = body["choices"][0]["message"]["content"].as_str().unwrap();
    assert_eq!(content, format!("mock saw {}", hash_token(content)));
}

#[tokio::test]
async fn hash_or_fake_without_a_secret_refuses_to_start() {
    let mut config = Config::embedded().unwrap();
    config.redaction = Config::parse(RULES).unwrap().redaction;
    let err = build(&config, Fingerprinter::random())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("[[redaction.rules]] #3 (EMAIL)")
            && err.contains("\"hash\"")
            && err.contains("CUSTOMS_HMAC_KEY"),
        "{err}"
    );
    assert!(
        build(&config, Fingerprinter::with_key(b"a-secret"))
            .await
            .is_ok()
    );
    // Placeholders, masks and removal need no key.
    config.redaction = Config::parse(
        "[[redaction.rules]]\nclasses = [\"PCI.*\"]\nstrategy = \"mask\"\n[[redaction.rules]]\nclasses = [\"SECRET.*\"]\nstrategy = \"remove\"\n",
    )
    .unwrap()
    .redaction;
    assert!(build(&config, Fingerprinter::random()).await.is_ok());
}

/// A reload that brings a classifier whose class one `[redaction]` rule names and whose
/// entity another names is rejected like an invalid policy: the set in force keeps
/// serving. The same classifier with only one of them named is applied.
#[tokio::test]
async fn a_reload_that_would_make_redaction_rules_tie_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    PolicySource::bundled().write_to(dir.path()).unwrap();
    let mut config = Config::embedded().unwrap();
    config.policy.dir = Some(dir.path().to_path_buf());
    config.policy.watch_secs = 0;
    config.redaction = Config::parse(
        "[[redaction.rules]]\nclasses = [\"CONFIDENTIAL.ATLAS\"]\nstrategy = \"remove\"\n[[redaction.rules]]\nclasses = [\"ATLAS_TERM\"]\nstrategy = \"mask\"\n",
    )
    .unwrap()
    .redaction;
    // Neither name is emitted yet: warnings only, the gateway starts.
    let gateway = build(&config, Fingerprinter::random()).await.unwrap();
    let before = gateway.bundle().unwrap().version().to_owned();

    let classifier = |entity: &str| {
        format!(
            "id = \"atlas\"\nclass = \"CONFIDENTIAL.ATLAS\"\nentity = \"{entity}\"\nseverity = \"high\"\nterms = [\"Atlas Prime\"]\n"
        )
    };
    let file = dir.path().join("classifiers").join("atlas.toml");
    std::fs::write(&file, classifier("ATLAS_TERM")).unwrap();
    let outcomes = gateway.reload_policies("test");
    let Some(ReloadOutcome::Rejected { kept, errors, .. }) = outcomes.first() else {
        panic!("a tie is rejected: {outcomes:?}");
    };
    assert_eq!(kept, &before);
    assert!(
        errors.iter().any(|e| e.starts_with("[redaction]:")
            && e.contains("CONFIDENTIAL.ATLAS")
            && e.contains("ATLAS_TERM")),
        "{errors:?}"
    );
    assert_eq!(gateway.bundle().unwrap().version(), before);

    std::fs::write(&file, classifier("ATLAS_CODENAME")).unwrap();
    let outcomes = gateway.reload_policies("test");
    assert!(
        matches!(outcomes.first(), Some(ReloadOutcome::Applied { .. })),
        "{outcomes:?}"
    );
    assert_ne!(gateway.bundle().unwrap().version(), before);
}

async fn build(config: &Config, fingerprinter: Fingerprinter) -> anyhow::Result<Gateway> {
    let metrics = Arc::new(Metrics::new());
    Gateway::build(
        config.clone(),
        Recorder::new(Arc::clone(&metrics), None),
        metrics,
        fingerprinter,
    )
    .await
}

#[test]
fn serve_without_the_secret_names_the_rule_and_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("customs.toml");
    std::fs::write(
        &path,
        format!("[server]\nlisten = \"127.0.0.1:0\"\n{RULES}"),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&path)
        .env_remove("CUSTOMS_HMAC_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("#3 (EMAIL) uses strategy \"hash\"") && stderr.contains("CUSTOMS_HMAC_KEY"),
        "{stderr}"
    );
}

#[test]
fn policy_validate_and_check_report_bad_redaction_rules() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    // Malformed on its own: refused as the file is read, the rule named.
    let keep = write(
        "keep.toml",
        "[[redaction.rules]]\nclasses = [\"SECRET.*\"]\nstrategy = \"remove\"\nkeep = 4\n",
    );
    let unknown = write(
        "unknown.toml",
        "[[redaction.rules]]\nclasses = [\"PCI.*\"]\nstrategy = \"scramble\"\n",
    );
    let tie = write(
        "tie.toml",
        "[[redaction.rules]]\nclasses = [\"PCI.*\"]\nstrategy = \"mask\"\n[[redaction.rules]]\nclasses = [\"PCI.*\"]\nstrategy = \"remove\"\n",
    );
    for (path, expect) in [
        (
            &keep,
            "[[redaction.rules]] #1 (SECRET.*): `keep = 4` applies to strategy \"mask\" only",
        ),
        (&unknown, "scramble"),
        (
            &tie,
            "[[redaction.rules]] #2 (PCI.*): `PCI.*` is already named by [[redaction.rules]] #1",
        ),
    ] {
        for args in [
            vec!["policy", "validate", "--config"],
            vec![
                "check",
                "--model",
                "gpt-4o-us",
                "--classes",
                "PII.EMAIL",
                "--config",
            ],
        ] {
            let out = Command::new(BIN).args(&args).arg(path).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(stderr.contains(expect), "{args:?}: {stderr}");
        }
    }
    // A class and its entity in two rules: known once the scanner's classes are.
    let class_and_entity = write(
        "class-entity.toml",
        "[[redaction.rules]]\nclasses = [\"PII.EMAIL\"]\nstrategy = \"hash\"\n[[redaction.rules]]\nclasses = [\"EMAIL\"]\nstrategy = \"fake\"\n",
    );
    let out = Command::new(BIN)
        .args(["policy", "validate", "--config"])
        .arg(&class_and_entity)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("#1 (PII.EMAIL) names the class `PII.EMAIL` and [[redaction.rules]] #2 (EMAIL) its entity `EMAIL`"),
        "{stderr}"
    );
    // A name no class matches: a warning, an error with --warnings-as-errors.
    let typo = write(
        "typo.toml",
        "[[redaction.rules]]\nclasses = [\"PCI.CARDNUMBER\"]\nstrategy = \"mask\"\n",
    );
    let out = Command::new(BIN)
        .args(["policy", "validate", "--config"])
        .arg(&typo)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: [redaction]: [[redaction.rules]] #1 (PCI.CARDNUMBER) names the class `PCI.CARDNUMBER`, which the scanner never emits"),
        "{stderr}"
    );
    let out = Command::new(BIN)
        .args(["policy", "validate", "--warnings-as-errors", "--config"])
        .arg(&typo)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));

    // A good configuration: `check` says how each redacted class leaves.
    let good = write("good.toml", RULES);
    let out = Command::new(BIN)
        .args([
            "check",
            "--model",
            "gpt-4o-us",
            "--claims",
            r#"{"groups":["engineering"],"residency":"US"}"#,
            "--classes",
            "PII.EMAIL,PCI.CARD_NUMBER",
            "--config",
        ])
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["detail"]["strategies"],
        json!({"PCI.CARD_NUMBER": "mask", "PII.EMAIL": "hash"})
    );
}
