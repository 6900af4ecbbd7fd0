//! Differential check for scanner changes: scans a large deterministic set of texts
//! and writes every finding, one line per scan, so two builds of the scanner can be
//! compared with `cmp` / `diff` (see BENCHMARKS.md, "Detection" → "Speed").
//!
//! ```sh
//! cargo run --release --example accuracy -- --corpus /tmp/acc42.jsonl
//! cargo run --release --example accuracy -- --seed 7 --per-type 300 --corpus /tmp/acc7.jsonl
//! cargo run --release --example scan_dump -- /tmp/before.txt /tmp/acc42.jsonl /tmp/acc7.jsonl
//! # ... change the scanner, rebuild, run again into /tmp/after.txt, then:
//! cmp /tmp/before.txt /tmp/after.txt
//! ```
//!
//! With `SCAN_DUMP_TEXTS=FILE`, every text is also written to `FILE`, one JSON string per
//! line in index order, to read a difference in context.
//!
//! Texts: every document of the JSONL corpora given (the accuracy harness's
//! `--corpus` output), every case of `tests/scan_cases/` and `src/scan/testdata/`, the
//! bench texts, concatenations of documents up to 40 KB, and random mutations with a
//! fixed seed (inserted separators, context words, digits, evasion characters,
//! deletions, duplicated pieces, case flips). Each text is scanned by three scanners:
//! the bundled classifiers, no classifier, and a 10,000-term dictionary plus a
//! case-sensitive and a substring classifier. A line is `setup index: findings`, each
//! finding as `type/class@start..end:confidence:severity`.

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

use std::io::Write;

use customs::scan::{Classifier, Scanner};

mod common;
use common::{Rng, dictionary};

/// Pieces the mutations insert: separators, context words (of many families),
/// digits, evasion characters.
#[rustfmt::skip]
const INSERTS: &[&str] = &[
    " ", "-", ".", "/", ",", ":", "@", "\n", "  ", "(", ")", "+", "_", "=", "'", "\"",
    "ssn", "SSN ", "card ", "cvv ", "exp ", "iban ", "phone: ", "tel ", "dob ", "born ",
    "passport ", "license ", "Mr. ", "Dr. ", "Ms ", "diagnosis ", "diagnosed with ",
    "metformin ", "password=", "api_key=", "secret: ", "token ", "aws ", "routing ",
    "account ", "swift ", "bic ", "nhs ", "npi ", "dea ", "mrn ", "mbi ", "tfn ", "abn ",
    "medicare ", "aadhaar ", "pan ", "gstin ", "nric ", "sin ", "cpf ", "curp ", "nif ",
    "nie ", "codice fiscale ", "pesel ", "steuer-id ", "nino ", "utr ", "nir ", "itin ",
    "imei ", "vin ", "ip ", "mac ", "version ", "v", "btc ", "eth ", "0x", "Project ",
    "John ", "Mary ", "Smith", " Street", " Avenue", "Springfield, IL 62704",
    "0", "1", "4", "5", "7", "9", "12", "555", "4111", "2026", "123-45-6789",
    "\u{200B}", "\u{00AD}", "\u{FF14}", "\u{0661}", "\u{FF20}", "\u{3002}", "\u{2014}",
    "é", "\u{202E}", "%40", "\\u0040", "=", "==", "QUtJQ",
];

fn char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut s = text.to_owned();
    for _ in 0..1 + rng.below(4) {
        let at = char_boundary(&s, rng.below(s.len() + 1));
        match rng.below(6) {
            0 | 1 => s.insert_str(at, INSERTS[rng.below(INSERTS.len())]),
            2 => {
                let end = char_boundary(&s, (at + 1 + rng.below(4)).min(s.len()));
                s.replace_range(at..end.max(at), "");
            }
            3 => {
                let end = char_boundary(&s, (at + 1 + rng.below(24)).min(s.len()));
                let piece = s.get(at..end.max(at)).unwrap_or_default().to_owned();
                s.insert_str(end.max(at), &piece);
            }
            4 => {
                let end = char_boundary(&s, (at + 1 + rng.below(12)).min(s.len()));
                let piece = s.get(at..end.max(at)).unwrap_or_default();
                let flipped: String = piece
                    .chars()
                    .map(|c| {
                        if c.is_ascii_lowercase() {
                            c.to_ascii_uppercase()
                        } else {
                            c.to_ascii_lowercase()
                        }
                    })
                    .collect();
                s.replace_range(at..end.max(at), &flipped);
            }
            _ => {
                let digits: String = (0..1 + rng.below(12))
                    .map(|_| char::from(b'0' + rng.below(10) as u8))
                    .collect();
                s.insert_str(at, &digits);
            }
        }
    }
    s
}

fn case_texts(path: &std::path::Path) -> Vec<String> {
    let source = std::fs::read_to_string(path).unwrap();
    let value: toml::Value = toml::from_str(&source).unwrap();
    value
        .get("case")
        .and_then(toml::Value::as_array)
        .map(|cases| {
            cases
                .iter()
                .filter_map(|c| c.get("text").and_then(toml::Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The texts of `benches/scan.rs`, shortened where they are 1 MB.
fn bench_texts() -> Vec<String> {
    const PROSE: &str = "We are preparing the quarterly review for the operations team and would like your help turning the notes below into a short summary for the leadership meeting. The meeting is scheduled for the second week of the month, and the summary should cover the main themes: customer satisfaction, delivery times, the rollout of the new ticketing process, and the hiring plan for the support organisation. Please keep the tone neutral and avoid speculation. Where the notes disagree, say so and list both views. In 2023 the team handled roughly 41,000 tickets; this year the number grew by about 12 percent, while the median time to first response dropped from 5.5 hours to 3.2 hours. ";
    const PII: &str = "One escalation came from a customer who wrote to jane.doe@example.com and asked to be called back at (415) 555-2671. They pasted their card number 4111 1111 1111 1111 into the ticket, together with their SSN 123-45-6789, which the agent should not have copied into the notes. ";
    const DENSE: &str = "Jane Doe <jane.doe@example.com>, +1 415 555 2671, SSN 123-45-6789, card 4111 1111 1111 1111 exp 09/28, IBAN DE89 3704 0044 0532 0130 00, NHS number 943 476 5919, ip 203.0.113.42, key AKIAIOSFODNN7EXAMPLE.\n";
    let prompt = |with_pii: bool| {
        let mut text = String::new();
        while text.len() < 4096 - PROSE.len() {
            text.push_str(PROSE);
            if with_pii && text.len() > 1500 && !text.contains('@') {
                text.push_str(PII);
            }
        }
        text
    };
    let evasive = prompt(true)
        .replace(
            "4111 1111 1111 1111",
            "４１１１\u{200B}１１１１ １１１１ １１１１",
        )
        .replace("123-45-6789", "١٢٣-٤٥-٦٧٨٩");
    vec![
        prompt(true),
        prompt(false),
        evasive,
        format!("{PROSE}{}", PROSE.replace("2023", "2024")).repeat(40),
        DENSE.repeat(300),
    ]
}

fn scanners() -> Vec<(&'static str, Scanner)> {
    let bundled =
        Classifier::load_dir(std::path::Path::new("policies/classifiers")).unwrap_or_default();
    let dict = Classifier::from_toml("dict.toml", &dictionary(10_000)).unwrap();
    let case = Classifier::from_toml(
        "case.toml",
        "id = \"case\"\nclass = \"CONFIDENTIAL.CASE\"\nentity = \"CASE_TERM\"\nseverity = \"medium\"\ncase_sensitive = true\nterms = [\"Smith\", \"ACME Corp\", \"Project kalo\"]\n",
    )
    .unwrap();
    let substring = Classifier::from_toml(
        "sub.toml",
        "id = \"sub\"\nclass = \"CONFIDENTIAL.SUB\"\nentity = \"SUB_TERM\"\nseverity = \"low\"\nwhole_word = false\nconfidence = 0.7\nterms = [\"ticket\", \"4111\", \"card\", \"mi\"]\n",
    )
    .unwrap();
    vec![
        ("bundled", Scanner::new(bundled).unwrap()),
        ("none", Scanner::new(Vec::new()).unwrap()),
        ("dict", Scanner::new(vec![dict, case, substring]).unwrap()),
    ]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((out, corpora)) = args.split_first() else {
        eprintln!("usage: scan_dump OUT [CORPUS.jsonl ...]");
        std::process::exit(2);
    };
    let mut texts: Vec<String> = Vec::new();
    for path in corpora {
        for line in std::fs::read_to_string(path).unwrap().lines() {
            let doc: serde_json::Value = serde_json::from_str(line).unwrap();
            texts.push(doc["text"].as_str().unwrap().to_owned());
        }
    }
    let mut case_files: Vec<_> = std::fs::read_dir("tests/scan_cases")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    case_files.push("src/scan/testdata/cases.toml".into());
    case_files.sort();
    for path in &case_files {
        texts.extend(case_texts(path));
    }
    texts.extend(bench_texts());
    let base = texts.len();
    let mut rng = Rng(0x5eed);
    // Concatenations, up to 40 KB.
    for _ in 0..200 {
        let mut s = String::new();
        let target = 1 + rng.below(40_000);
        while s.len() < target {
            let k = rng.below(base);
            s.push_str(&texts[k]);
            s.push_str([" ", "\n", "", ". "][rng.below(4)]);
        }
        texts.push(s);
    }
    // Random mutations.
    for _ in 0..200_000 {
        let k = rng.below(base);
        let text = mutate(&mut rng, &texts[k]);
        texts.push(text);
    }

    // To read a difference in context: every text, one JSON string per line, in index
    // order.
    if let Ok(path) = std::env::var("SCAN_DUMP_TEXTS") {
        let mut t = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        for text in &texts {
            writeln!(t, "{}", serde_json::Value::from(text.as_str())).unwrap();
        }
        t.flush().unwrap();
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(out).unwrap());
    let (mut scans, mut findings) = (0usize, 0usize);
    let started = std::time::Instant::now();
    for (setup, scanner) in scanners() {
        for (i, text) in texts.iter().enumerate() {
            let found = scanner.scan(text).unwrap();
            scans += 1;
            findings += found.len();
            write!(f, "{setup} {i}:").unwrap();
            for x in &found {
                write!(
                    f,
                    " {}/{}@{}..{}:{}:{:?}",
                    x.entity, x.class, x.start, x.end, x.confidence, x.severity
                )
                .unwrap();
            }
            writeln!(f).unwrap();
        }
    }
    f.flush().unwrap();
    println!(
        "{scans} scans of {} texts, {findings} findings, {:.1} s scanning",
        texts.len(),
        started.elapsed().as_secs_f64()
    );
}
