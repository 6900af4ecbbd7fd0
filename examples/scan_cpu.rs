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
//! (the 4 KB prompts, with the bundled classifier), `unicode` (the prompt with PII in
//! fullwidth and Arabic-Indic digits and a zero-width space: the normalisation path),
//! `dense` (1 MB of dense PII: one line repeated), `distinct` (1 MB of dense PII where
//! every line has its own values). The
//! texts are the bench's (`examples/common`).

use std::hint::black_box;
use std::process::ExitCode;

use customs::scan::{Classifier, Scanner};

#[path = "common/mod.rs"]
mod common;
use common::{DENSE, PROSE, dense_distinct, dictionary, prompt, repeat_to};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(what), Some(Ok(n))) = (args.get(1), args.get(2).map(|n| n.parse::<usize>())) else {
        eprintln!("usage: scan_cpu prose|clean|pii|dense|distinct|unicode SCANS");
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
        "distinct" => (&scanner, dense_distinct(1 << 20)),
        "unicode" => (
            &scanner,
            prompt(true)
                .replace(
                    "4111 1111 1111 1111",
                    "\u{FF14}\u{FF11}\u{FF11}\u{FF11}\u{200B}\u{FF11}\u{FF11}\u{FF11}\u{FF11} \u{FF11}\u{FF11}\u{FF11}\u{FF11} \u{FF11}\u{FF11}\u{FF11}\u{FF11}",
                )
                .replace("123-45-6789", "\u{0661}\u{0662}\u{0663}-\u{0664}\u{0665}-\u{0666}\u{0667}\u{0668}\u{0669}"),
        ),
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
