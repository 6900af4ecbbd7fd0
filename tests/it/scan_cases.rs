//! The detector cases of `tests/scan_cases/*.toml` (one file per family, data not
//! code), run against the scanner with the bundled classifiers. Every file is read, so
//! a new family file needs no code; a failure names the file and the case.

use std::path::Path;

use customs::scan::{Classifier, Scanner};
use serde::Deserialize;

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    #[serde(rename = "type")]
    entity: String,
    value: String,
    /// When given, the finding's confidence (to within 0.005): for what context words
    /// or checksums change, where the finding is there either way.
    #[serde(default)]
    confidence: Option<f32>,
}

impl Expected {
    /// Whether `got` (a finding, confidence always set) is what this expects.
    fn matches(&self, got: &Expected) -> bool {
        self.entity == got.entity
            && self.value == got.value
            && match (self.confidence, got.confidence) {
                (Some(want), Some(have)) => (want - have).abs() < 0.005,
                (None, _) => true,
                (Some(_), None) => false,
            }
    }
}

#[test]
fn every_case_file_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let classifiers = Classifier::load_dir(&root.join("policies/classifiers")).unwrap();
    let scanner = Scanner::new(classifiers).unwrap();
    let mut files: Vec<_> = std::fs::read_dir(root.join("tests/scan_cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "case files went missing: {files:?}");
    let mut failures = Vec::new();
    let mut count = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let cases: CaseFile =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for case in cases.case {
            count += 1;
            let findings = scanner.scan(&case.text).unwrap();
            let got: Vec<Expected> = findings
                .iter()
                .map(|f| {
                    assert!(
                        case.text.is_char_boundary(f.start) && case.text.is_char_boundary(f.end)
                    );
                    Expected {
                        entity: f.entity.to_string(),
                        value: case.text[f.start..f.end].to_owned(),
                        confidence: Some(f.confidence),
                    }
                })
                .collect();
            let same = got.len() == case.expect.len()
                && case.expect.iter().zip(&got).all(|(e, g)| e.matches(g));
            if !same {
                failures.push(format!(
                    "{} / {}\n    expected {:?}\n    got      {:?}",
                    path.file_name().unwrap().to_string_lossy(),
                    case.name,
                    case.expect,
                    got
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
