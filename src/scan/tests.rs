//! Scanner-level tests: the detector cases in `testdata/cases.toml` (data, not code),
//! the scanner's own guarantees (sorted, non-overlapping, classes listed, classifier
//! validation across files), and property tests for the invariants the gateway relies
//! on: the scanner never panics, and redacted text no longer contains what was found.

use proptest::prelude::*;
use serde::Deserialize;

use super::detectors::Candidate;
use super::redact::Redactor;
use super::*;

const EXAMPLE_CLASSIFIER: &str = include_str!("../../policies/classifiers/project-codenames.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    text: String,
    expect: Vec<Expected>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Expected {
    #[serde(rename = "type")]
    entity: String,
    value: String,
}

fn scanner() -> Result<Scanner, ScanError> {
    Scanner::new(vec![Classifier::from_toml(
        "project-codenames.toml",
        EXAMPLE_CLASSIFIER,
    )?])
}

/// Checks what every `scan` result must satisfy, whatever the input.
fn assert_well_formed(text: &str, findings: &[Finding]) {
    let mut last_end = 0;
    for f in findings {
        assert!(f.start < f.end, "empty span {f:?}");
        assert!(f.start >= last_end, "overlap or unsorted at {f:?}");
        assert!(text.get(f.start..f.end).is_some(), "bad span {f:?}");
        assert!((0.0..=1.0).contains(&f.confidence), "confidence {f:?}");
        last_end = f.end;
    }
}

#[test]
fn detector_cases() -> Result<(), Box<dyn std::error::Error>> {
    let cases: CaseFile = toml::from_str(include_str!("testdata/cases.toml"))?;
    assert!(cases.case.len() >= 50, "the case file lost cases");
    let scanner = scanner()?;
    let mut failures = Vec::new();
    for case in &cases.case {
        let findings = scanner.scan(&case.text)?;
        assert_well_formed(&case.text, &findings);
        let got: Vec<Expected> = findings
            .iter()
            .map(|f| Expected {
                entity: f.entity.to_string(),
                value: case.text.get(f.start..f.end).unwrap_or_default().to_owned(),
            })
            .collect();
        if got != case.expect {
            failures.push(format!(
                "{}\n    expected {:?}\n    got      {:?}",
                case.name, case.expect, got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    Ok(())
}

#[test]
fn classes_cover_builtins_and_custom_classifiers() -> Result<(), ScanError> {
    let classes = scanner()?.classes();
    let names: Vec<&str> = classes.iter().map(|c| &*c.class).collect();
    for expected in [
        "PII.EMAIL",
        "PII.PHONE",
        "GOVID.US.SSN",
        "PCI.CARD_NUMBER",
        "FIN.IBAN",
        "SECRET.AWS_ACCESS_KEY_ID",
        "SECRET.PRIVATE_KEY",
        "CONFIDENTIAL.PROJECT",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let card = classes.iter().find(|c| &*c.class == "PCI.CARD_NUMBER");
    assert_eq!(card.map(|c| c.severity), Some(Severity::Critical));
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "a class is listed twice");
    Ok(())
}

#[test]
fn findings_serialise_with_type_and_without_values() -> Result<(), Box<dyn std::error::Error>> {
    let text = "mail jane@example.com";
    let findings = scanner()?.scan(text)?;
    let json = serde_json::to_value(&findings)?;
    assert_eq!(
        json,
        serde_json::json!([{
            "type": "EMAIL", "class": "PII.EMAIL", "start": 5, "end": 21,
            "confidence": 0.95, "severity": "medium"
        }])
    );
    Ok(())
}

#[test]
fn overlaps_keep_the_most_severe_then_longest() -> Result<(), ScanError> {
    // A card (critical) beats an overlapping phone candidate ("+44 4111 1111 1111" is
    // phone-shaped); the private key block (more confident, longer) beats the AWS key in it.
    let scanner = scanner()?;
    let entities = |text: &str| -> Result<Vec<String>, ScanError> {
        Ok(scanner
            .scan(text)?
            .iter()
            .map(|f| f.entity.to_string())
            .collect())
    };
    assert_eq!(entities("+44 4111 1111 1111 1111")?, ["CARD_NUMBER"]);
    assert_eq!(
        entities("-----BEGIN PRIVATE KEY-----\nAKIAIOSFODNN7EXAMPLE\n-----END PRIVATE KEY-----")?,
        ["PRIVATE_KEY"]
    );
    Ok(())
}

fn codenames(id: &str, class: &str, entity: &str, severity: &str) -> String {
    format!(
        "id = \"{id}\"\nclass = \"{class}\"\nentity = \"{entity}\"\nseverity = \"{severity}\"\nterms = [\"x\"]\n"
    )
}

#[test]
fn scanner_rejects_conflicting_classifiers() -> Result<(), ScanError> {
    let load = |name: &str, text: String| Classifier::from_toml(name, &text);
    let a = load("a.toml", codenames("a", "CONFIDENTIAL.A", "A_TERM", "high"))?;
    let cases = [
        (
            load("b.toml", codenames("a", "CONFIDENTIAL.B", "B_TERM", "high"))?,
            "duplicate classifier id \"a\" (already defined in a.toml)",
        ),
        (
            load("b.toml", codenames("b", "CONFIDENTIAL.B", "EMAIL", "high"))?,
            "built-in entity label",
        ),
        (
            load("b.toml", codenames("b", "CONFIDENTIAL.A", "A_TERM", "low"))?,
            "conflicts",
        ),
        (
            load("b.toml", codenames("b", "CONFIDENTIAL.A", "B_TERM", "high"))?,
            "conflicts",
        ),
        (
            load("b.toml", codenames("b", "CONFIDENTIAL.B", "A_TERM", "high"))?,
            "conflicts",
        ),
    ];
    for (b, expected) in cases {
        let err = Scanner::new(vec![a.clone(), b])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("classifier b.toml: "), "{err}");
        assert!(err.contains(expected), "expected {expected:?} in {err:?}");
    }
    // Two files may feed the same class with the same label and severity.
    let same = load("b.toml", codenames("b", "CONFIDENTIAL.A", "A_TERM", "high"))?;
    let classes = Scanner::new(vec![a, same])?.classes();
    assert_eq!(
        classes
            .iter()
            .filter(|c| &*c.class == "CONFIDENTIAL.A")
            .count(),
        1
    );
    Ok(())
}

#[test]
fn scanner_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Scanner>();
}

/// Lists and allocations kept between scans of one thread never leak into the next
/// scan: a thread that scanned other texts of every size before (a dense text, a
/// short one, a text needing normalisation, an encoded one) finds exactly what a fresh
/// thread finds.
#[test]
fn kept_allocations_do_not_change_findings() -> Result<(), ScanError> {
    let line = "Jane Doe <jane.doe@example.com>, +1 415 555 2671, SSN 123-45-6789, card 4111 1111 1111 1111 exp 09/28, IBAN DE89 3704 0044 0532 0130 00, ip 203.0.113.42.\n";
    let texts = [
        line.repeat(400),
        "Call me at (415) 555-2671 about card 5500 0000 0000 0004.".to_owned(),
        "SSN ١٢٣-٤٥-٦٧٨٩ and ４１１１ １１１１ １１１１ １１１１".to_owned(),
        "token MTIzLTQ1LTY3ODkgaXMgbXkgU1NO here, and AKIAIOSFODNN7EXAMPLE".to_owned(),
        String::new(),
        "no findings in this one, only words".repeat(30),
    ];
    let fresh: Vec<Vec<Finding>> = texts
        .iter()
        .map(|text| {
            let text = text.clone();
            std::thread::spawn(move || scanner().and_then(|s| s.scan(&text)))
                .join()
                .unwrap_or_else(|_| Ok(Vec::new()))
        })
        .collect::<Result<_, _>>()?;
    assert!(fresh.iter().filter(|f| !f.is_empty()).count() >= 4);
    let scanner = scanner()?;
    for round in 0..2 {
        for (text, expected) in texts.iter().zip(&fresh).rev() {
            assert_eq!(&scanner.scan(text)?, expected, "round {round}");
        }
        for (text, expected) in texts.iter().zip(&fresh) {
            assert_eq!(&scanner.scan(text)?, expected, "round {round}");
        }
    }
    Ok(())
}

proptest! {
    /// The chunked comparison of found values is byte equality.
    #[test]
    fn value_keys_compare_as_bytes(a in "[ab]{0,40}", flip in 0usize..40) {
        let mut b = a.clone().into_bytes();
        if let Some(byte) = b.get_mut(flip) {
            *byte = if *byte == b'a' { b'b' } else { b'a' };
        }
        prop_assert_eq!(Value(a.as_bytes()) == Value(&b), a.as_bytes() == b.as_slice());
        prop_assert!(Value(a.as_bytes()) == Value(a.as_bytes()));
        prop_assert!(Value(a.as_bytes()) != Value(&a.as_bytes()[..a.len().saturating_sub(1)]) || a.is_empty());
    }
}

#[test]
fn recycled_lists_keep_their_allocation() {
    let class = info(Severity::High);
    let mut list: Vec<Candidate<'_>> = Vec::with_capacity(100);
    list.push(Candidate {
        info: &class,
        start: 0,
        end: 1,
        confidence: 0.5,
    });
    let at = list.as_ptr() as usize;
    let kept: Vec<Candidate<'static>> = recycle(list);
    assert!(kept.is_empty());
    assert_eq!(kept.capacity(), 100);
    assert_eq!(kept.as_ptr() as usize, at);
}

fn info(severity: Severity) -> ClassInfo {
    ClassInfo {
        class: Arc::from("X"),
        entity: Arc::from("X"),
        severity,
    }
}

#[test]
fn resolve_overlaps_drops_invalid_spans() {
    let (critical, medium, low) = (
        info(Severity::Critical),
        info(Severity::Medium),
        info(Severity::Low),
    );
    let f = |start, end, info| Candidate {
        info,
        start,
        end,
        confidence: 0.5,
    };
    let kept = resolve_overlaps(
        "héllo world",
        vec![
            f(0, 2, &critical),
            f(0, 99, &critical),
            f(3, 3, &critical),
            f(0, 6, &low),
            f(4, 9, &medium),
            f(7, 12, &low),
        ],
    );
    let spans: Vec<(usize, usize)> = kept.iter().map(|k| (k.start, k.end)).collect();
    assert_eq!(spans, [(4, 9)]);
}

/// The first scanner's overlap resolution, plus the reading of identical spans: of the
/// candidates sharing one span, the most confident (then most severe, then first)
/// stands for all of them with their highest severity; then one stable sort by rank
/// over all candidates, and a greedy pass keeping spans in a B-tree.
fn resolve_overlaps_globally<'s>(candidates: Vec<Candidate<'s>>) -> Vec<Candidate<'s>> {
    let mut readings: Vec<(Severity, Candidate<'s>)> = Vec::new();
    for (i, c) in candidates.iter().enumerate() {
        let same: Vec<(usize, &Candidate<'s>)> = candidates
            .iter()
            .enumerate()
            .filter(|(_, o)| (o.start, o.end) == (c.start, c.end))
            .collect();
        let best = same
            .iter()
            .max_by(|a, b| {
                a.1.confidence
                    .total_cmp(&b.1.confidence)
                    .then(a.1.severity().cmp(&b.1.severity()))
                    .then(b.0.cmp(&a.0))
            })
            .map(|&(j, _)| j);
        if best == Some(i) {
            let severity = same
                .iter()
                .map(|o| o.1.severity())
                .max()
                .unwrap_or(c.severity());
            readings.push((severity, *c));
        }
    }
    readings.sort_by(|(sa, a), (sb, b)| {
        sb.cmp(sa)
            .then(b.confidence.total_cmp(&a.confidence))
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
    });
    let candidates: Vec<Candidate<'s>> = readings.into_iter().map(|(_, c)| c).collect();
    let mut kept: std::collections::BTreeMap<usize, Candidate<'s>> =
        std::collections::BTreeMap::new();
    for c in candidates {
        let clear_before = kept
            .range(..=c.start)
            .next_back()
            .is_none_or(|(_, k)| k.end <= c.start);
        let clear_after = kept
            .range(c.start..)
            .next()
            .is_none_or(|(_, k)| c.end <= k.start);
        if clear_before && clear_after {
            kept.insert(c.start, c);
        }
    }
    kept.into_values().collect()
}

proptest! {
    #[test]
    fn resolving_by_cluster_equals_one_global_greedy(
        spans in prop::collection::vec(
            (0usize..60, 1usize..12, 0usize..4, 0u8..4, 0usize..2),
            0..40,
        )
    ) {
        let severities = [Severity::Low, Severity::Medium, Severity::High, Severity::Critical];
        let infos: Vec<ClassInfo> = severities
            .into_iter()
            .flat_map(|severity| {
                ["A", "B"].map(|e| ClassInfo {
                    class: Arc::from(e),
                    entity: Arc::from(e),
                    severity,
                })
            })
            .collect();
        let text = "x".repeat(80);
        let candidates: Vec<Candidate<'_>> = spans
            .iter()
            .filter_map(|&(start, len, severity, confidence, entity)| {
                Some(Candidate {
                    info: infos.get(severity * 2 + entity)?,
                    start,
                    end: start + len,
                    confidence: f32::from(confidence) / 4.0,
                })
            })
            .collect();
        let key = |c: &Candidate<'_>| {
            (c.start, c.end, c.info.entity.to_string(), c.info.severity, c.confidence.to_bits())
        };
        let got: Vec<_> = resolve_overlaps(&text, candidates.clone()).iter().map(key).collect();
        let want: Vec<_> = resolve_overlaps_globally(candidates).iter().map(key).collect();
        prop_assert_eq!(got, want);
    }
}

proptest! {
    #[test]
    fn occurrences_are_those_of_match_indices(
        hay in "[ab(4 .]{0,80}",
        needle in "[ab(4 .]{1,4}|[ab]{30,40}",
    ) {
        let mut got = Vec::new();
        for_each_occurrence(hay.as_bytes(), needle.as_bytes(), |at| {
            got.push(at);
            true
        });
        let want: Vec<usize> = hay.match_indices(needle.as_str()).map(|(i, _)| i).collect();
        prop_assert_eq!(got, want);
        let mut all = Vec::new();
        for_each_occurrence(hay.as_bytes(), needle.as_bytes(), |at| {
            all.push(at);
            false
        });
        let want: Vec<usize> = (0..hay.len())
            .filter(|&i| hay.as_bytes()[i..].starts_with(needle.as_bytes()))
            .collect();
        prop_assert_eq!(all, want);
    }
}

/// Fragments that make realistic text for the property tests: findings of every kind,
/// near misses, separators and noise.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("jane.doe@example.com".to_owned()),
        Just("+1 415 555 2671".to_owned()),
        Just("(415) 555-2671".to_owned()),
        Just("020 7946 0958".to_owned()),
        Just("123-45-6789".to_owned()),
        Just("SSN 123456789".to_owned()),
        Just("4111 1111 1111 1111".to_owned()),
        Just("2026".to_owned()),
        Just("DE89 3704 0044 0532 0130 00".to_owned()),
        Just("AKIAIOSFODNN7EXAMPLE".to_owned()),
        Just("-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----".to_owned()),
        Just("Nightjar".to_owned()),
        Just("[EMAIL_1]".to_owned()),
        Just(" ".to_owned()),
        Just("-".to_owned()),
        Just("\n".to_owned()),
        Just("\n> ".to_owned()),
        Just("\r\n>> ".to_owned()),
        Just("Please deposit the refund for the quarterly review into account".to_owned()),
        Just("| 9d99e56c-fd6e-4e6a-adfc-2addb157ef13 | 2024-05-13T11:44:07Z |".to_owned()),
        Just("{\"request-id\": \"885403aa-299c-449b-ae2f-5904a5e9f6e9\", \"ssn\":".to_owned()),
        Just("a,b,c\n".to_owned()),
        Just("<abn>".to_owned()),
        Just("</abn>".to_owned()),
        Just("iban=\"".to_owned()),
        Just("-----BEGIN RSA".to_owned()),
        Just("é".to_owned()),
        Just("jane [at] example [dot] com".to_owned()),
        Just("4111-1111 1111.1111".to_owned()),
        Just("SSN 1-2-3-4-5-6-7-8-9".to_owned()),
        Just("DE89-3704-0044-0532-0130-00".to_owned()),
        Just("NUMÉRO DE SÉCU 255081416802538".to_owned()),
        Just("(at)".to_owned()),
        Just("[dot]".to_owned()),
        "[0-9 +()._/\\[\\]-]{0,12}",
        "[a-zA-Z@.]{0,8}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn scan_never_panics_and_is_well_formed(text in any::<String>()) {
        let scanner = scanner().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let findings = scanner.scan(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        assert_well_formed(&text, &findings);
    }

    #[test]
    fn redacted_text_holds_no_finding(parts in prop::collection::vec(fragment(), 0..12)) {
        let text = parts.concat();
        let scanner = scanner().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let findings = scanner.scan(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        assert_well_formed(&text, &findings);
        let values: Vec<&str> = findings.iter().filter_map(|f| text.get(f.start..f.end)).collect();

        let mut redactor = Redactor::new();
        let redacted = redactor.redact(&text, &findings);
        prop_assert_eq!(redactor.replacements(), findings.len());
        let rescan = scanner.scan(&redacted).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for f in &rescan {
            let value = redacted.get(f.start..f.end).unwrap_or_default();
            prop_assert!(!values.contains(&value), "{:?} survived redaction", f.entity);
        }
        // Restoring the placeholders gives back the original text, unless the
        // original already contained placeholder-like text.
        if !text.contains('[') {
            prop_assert_eq!(redactor.restore(&redacted), text);
        }
    }
}

proptest! {
    #[test]
    fn galloping_equals_the_binary_search(
        mut ends in proptest::collection::vec(0usize..200, 0..60),
        from_pick in 0usize..60,
        limit in 0usize..220,
    ) {
        ends.sort_unstable();
        let pred = |e: &usize| *e <= limit;
        let answer = ends.partition_point(pred);
        // Any `from` at or before the answer.
        let from = from_pick.min(answer);
        prop_assert_eq!(gallop(&ends, from, pred), answer);
    }
}

/// A value of punctuation alone (or one letter in it) is marked where it was found and
/// nowhere else, by either way of searching; a value of two letters or more is marked at
/// its every whole-word occurrence.
#[test]
fn only_values_with_letters_or_digits_are_marked_again() {
    let infos = [info(Severity::High)];
    let text = r#"pw \\ then \\ and " then " also x; then x; and ab then ab"#;
    let at = |needle: &str| text.find(needle).unwrap_or(usize::MAX);
    let finding = |start: usize, len: usize| Candidate {
        info: &infos[0],
        start,
        end: start + len,
        confidence: 0.9,
    };
    let findings = vec![
        finding(at("\\\\"), 2),
        finding(at("\""), 1),
        finding(at("x;"), 2),
        finding(at("ab"), 2),
    ];
    let second_ab = text.rfind("ab").unwrap_or(usize::MAX);
    for probe in [true, false] {
        let spans: Vec<(usize, usize)> = propagate_values(text, findings.clone(), Some(probe))
            .iter()
            .map(|c| (c.start, c.end))
            .collect();
        let mut expected: Vec<(usize, usize)> = findings.iter().map(|c| (c.start, c.end)).collect();
        expected.push((second_ab, second_ab + 2));
        expected.sort_unstable();
        assert_eq!(spans, expected, "probe: {probe}");
    }
}

proptest! {
    #[test]
    fn propagation_probe_finds_what_the_per_value_search_finds(
        words in proptest::collection::vec(
            prop_oneof![
                Just("ab"),
                Just("a1b2c3d4e"),
                Just("aaaa"),
                Just("ab ab"),
                Just("1.2.3.4"),
                Just("1.2.3.4.5"),
                Just("b"),
            ],
            0..40,
        ),
        glue in proptest::collection::vec(prop_oneof![Just(" "), Just(""), Just("x"), Just(", ")], 40),
        found in proptest::collection::vec(any::<bool>(), 40),
        shift in proptest::collection::vec(0usize..3, 40),
    ) {
        let infos = [info(Severity::Low), info(Severity::Medium), info(Severity::High)];
        // A text of a few repeated words; some of them (or spans shifted from them)
        // are findings, as `resolve_overlaps` leaves them: sorted, apart.
        let mut text = String::new();
        let mut findings = Vec::new();
        for (k, word) in words.iter().enumerate() {
            text.push_str(glue[k]);
            let start = text.len() + shift[k].min(word.len() - 1);
            text.push_str(word);
            if found[k] && findings.last().is_none_or(|f: &Candidate<'_>| f.end <= start) {
                findings.push(Candidate {
                    info: &infos[k % infos.len()],
                    start,
                    end: text.len(),
                    confidence: 0.5 + k as f32 / 100.0,
                });
            }
        }
        let key = |c: &Candidate<'_>| (c.start, c.end, c.severity(), c.confidence.to_bits());
        let probed: Vec<_> =
            propagate_values(&text, findings.clone(), Some(true)).iter().map(key).collect();
        let searched: Vec<_> =
            propagate_values(&text, findings.clone(), Some(false)).iter().map(key).collect();
        prop_assert_eq!(&probed, &searched);
    }
}

/// A text that is one opening repeated (a run full of anchors, each of which reads the
/// rest of the run) is read as one token or none, whatever its length. Each of these
/// took time quadratic in the length (a 64 KB run of colons: over a minute), so a
/// reintroduced rescan makes this test run for minutes rather than milliseconds.
#[test]
fn runs_of_one_repeated_opening_are_one_token_or_none() -> Result<(), ScanError> {
    let scanner = Scanner::new(Vec::new())?;
    const LEN: usize = 64 * 1024;
    // (opening, text before the run, what the run is read as: entity and start)
    type Case = (&'static str, &'static str, Option<(&'static str, usize)>);
    let cases: [Case; 14] = [
        (":", "", None),
        ("ab:", "", None),
        ("1.", "", None),
        ("sk-", "", None),
        ("shp", "", None),
        ("xoxb-", "", None),
        ("eyJ-", "", None),
        ("sig=", "", None),
        ("key=", "", None),
        ("SG.", "", None),
        ("AccountKey=", "", Some(("AZURE_STORAGE_KEY", 11))),
        ("password=", "", Some(("PASSWORD", 9))),
        ("pwd=", "", Some(("PASSWORD", 4))),
        (
            "\"type\": \"service_account\", ",
            "{",
            Some(("GCP_SERVICE_ACCOUNT", 0)),
        ),
    ];
    for (unit, before, expected) in cases {
        let text = format!("{before}{}", unit.repeat(LEN / unit.len()));
        let findings = scanner.scan(&text)?;
        let got: Vec<(&str, usize)> = findings.iter().map(|f| (&*f.entity, f.start)).collect();
        assert_eq!(got, Vec::from_iter(expected), "{unit:?} repeated");
    }
    Ok(())
}

/// Names after names with no line break chain their candidates into one cluster of
/// overlaps, resolved with its kept spans in a tree (a list took time quadratic in the
/// cluster: each kept span moved all later ones): the names are found, apart.
#[test]
fn one_long_cluster_of_names_is_resolved() -> Result<(), ScanError> {
    let scanner = Scanner::new(Vec::new())?;
    let given = ["John", "Mary", "Ahmed", "Priya"];
    let family = ["Smith", "Garcia", "Khan", "Chen"];
    let mut text = String::from("Attendees:");
    for i in 0..4000 {
        text.push_str(&format!(" {} {}", given[i % 4], family[(i / 4) % 4]));
    }
    let findings = scanner.scan(&text)?;
    let names = findings
        .iter()
        .filter(|f| &*f.entity == "PERSON_NAME")
        .count();
    assert!(names > 0, "no names found");
    for pair in findings.windows(2) {
        assert!(pair[0].end <= pair[1].start, "overlapping findings");
    }
    Ok(())
}

/// Repeated commands, key blocks and names glued into one long line: every repetition
/// is found once (a password is reported once, however many commands before it read
/// it; a block's END is looked up, not searched for again by every BEGIN), and glued
/// names, prefixes and name words are none.
#[test]
fn repeated_commands_and_blocks_are_each_read_once() -> Result<(), ScanError> {
    let scanner = Scanner::new(Vec::new())?;
    const LEN: usize = 64 * 1024;
    // (unit, what each repetition holds: entity and the bytes of the unit it covers)
    let cases = [
        ("mysql -pS3cret ", Some(("PASSWORD", 8..14))),
        ("sshpass -p S3cr3t! ", Some(("PASSWORD", 11..18))),
        (
            "-----BEGIN RSA PRIVATE KEY-----\n",
            Some(("PRIVATE_KEY", 0..31)),
        ),
        ("John-", None),
        ("hooks.slack.com/services/", None),
        ("name:Name:", None),
    ];
    for (unit, each) in cases {
        let reps = LEN / unit.len();
        let findings = scanner.scan(&unit.repeat(reps))?;
        let got: Vec<(&str, usize, usize)> = findings
            .iter()
            .map(|f| (&*f.entity, f.start, f.end))
            .collect();
        let want: Vec<(&str, usize, usize)> = match &each {
            Some((entity, span)) => (0..reps)
                .map(|k| {
                    (
                        *entity,
                        k * unit.len() + span.start,
                        k * unit.len() + span.end,
                    )
                })
                .collect(),
            None => Vec::new(),
        };
        assert!(
            got == want,
            "{unit:?} repeated: {} findings, {} expected",
            got.len(),
            want.len()
        );
    }
    Ok(())
}
