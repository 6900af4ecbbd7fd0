//! Scans one of the texts of `benches/scan.rs` a given number of times, for comparing
//! two builds of the scanner by CPU time or instruction count rather than wall-clock
//! time (which a shared machine makes noisy):
//!
//! ```sh
//! cargo build --release --example scan_cpu
//! # CPU time per scan: the same process with 0 and with N scans, subtracted
//! perf stat -x, -e task-clock target/release/examples/scan_cpu prose 0
//! perf stat -x, -e task-clock target/release/examples/scan_cpu prose 300
//! # instructions inside `Scanner::scan` (run 1 and N + 1 scans and subtract: the
//! # first scan also builds the keyword tables)
//! valgrind --tool=callgrind --toggle-collect='customs::scan::Scanner::scan' \
//!     target/release/examples/scan_cpu prose 4
//! ```
//!
//! Texts: `prose` (1 MB, scanned with the 10,000-term dictionary), `clean` and `pii`
//! (the 4 KB prompts, with the bundled classifier), `dense` (1 MB of dense PII). The
//! texts are built as the bench builds them (kept in step by hand).

use std::hint::black_box;
use std::process::ExitCode;

use customs::scan::{Classifier, Scanner};

#[path = "common/mod.rs"]
mod common;
use common::dictionary;

const PROSE: &str = "We are preparing the quarterly review for the operations team and would like \
your help turning the notes below into a short summary for the leadership meeting. The \
meeting is scheduled for the second week of the month, and the summary should cover the \
main themes: customer satisfaction, delivery times, the rollout of the new ticketing \
process, and the hiring plan for the support organisation. Please keep the tone neutral \
and avoid speculation. Where the notes disagree, say so and list both views. In 2023 the \
team handled roughly 41,000 tickets; this year the number grew by about 12 percent, while \
the median time to first response dropped from 5.5 hours to 3.2 hours. ";

const PII: &str = "One escalation came from a customer who wrote to \
jane.doe@example.com and asked to be called back at (415) 555-2671. They pasted their \
card number 4111 1111 1111 1111 into the ticket, together with their SSN 123-45-6789, \
which the agent should not have copied into the notes. ";

const DENSE: &str = "Jane Doe <jane.doe@example.com>, +1 415 555 2671, SSN 123-45-6789, card 4111 1111 1111 1111 exp 09/28, IBAN DE89 3704 0044 0532 0130 00, NHS number 943 476 5919, ip 203.0.113.42, key AKIAIOSFODNN7EXAMPLE.\n";

fn prompt(with_pii: bool) -> String {
    let mut text = String::with_capacity(4200);
    while text.len() < 4096 - PROSE.len() {
        text.push_str(PROSE);
        if with_pii && text.len() > 1500 && !text.contains('@') {
            text.push_str(PII);
        }
    }
    text
}

fn repeat_to(unit: &str, size: usize) -> String {
    let mut text = String::with_capacity(size + unit.len());
    while text.len() < size {
        text.push_str(unit);
    }
    text
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(what), Some(Ok(n))) = (args.get(1), args.get(2).map(|n| n.parse::<usize>())) else {
        eprintln!("usage: scan_cpu prose|clean|pii|dense SCANS");
        return ExitCode::FAILURE;
    };
    let scanner = Classifier::from_toml(
        "project-codenames.toml",
        include_str!("../policies/classifiers/project-codenames.toml"),
    )
    .and_then(|c| Scanner::new(vec![c]));
    let dict10k =
        Classifier::from_toml("dict.toml", &dictionary(10_000)).and_then(|d| Scanner::new(vec![d]));
    let (Ok(scanner), Ok(dict10k)) = (scanner, dict10k) else {
        eprintln!("scanner setup failed");
        return ExitCode::FAILURE;
    };
    let (scanner, text) = match what.as_str() {
        "prose" => (
            &dict10k,
            repeat_to(
                &format!("{PROSE}{}", PROSE.replace("2023", "2024")),
                1 << 20,
            ),
        ),
        "clean" => (&scanner, prompt(false)),
        "pii" => (&scanner, prompt(true)),
        "dense" => (&scanner, repeat_to(DENSE, 1 << 20)),
        _ => {
            eprintln!("unknown text {what:?}");
            return ExitCode::FAILURE;
        }
    };
    let mut findings = 0;
    for _ in 0..n {
        findings += scanner.scan(black_box(&text)).map_or(0, |f| f.len());
    }
    eprintln!("{n} scans of {} bytes, {findings} findings", text.len());
    ExitCode::SUCCESS
}
