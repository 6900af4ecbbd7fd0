//! Scanner throughput on realistic prompts.
//!
//! - `scan/4k_prompt_with_pii`, `scan/4k_prompt_clean`: a ~4 KB English prompt with an
//!   email, a phone, a card and an SSN in it, and the same size of prose with no
//!   findings (the common case, where only the prefilters run); the bundled
//!   classifier loaded.
//! - `scan/1mb_prose_dict10k`: 1 MB of prompt-like prose with few findings, scanned by
//!   the default detectors plus a 10,000-term dictionary classifier (the
//!   ≥ 1 GB/s target).
//! - `scan/1mb_dense_pii`: 1 MB where every line carries several findings (≥ 300 MB/s).
//! - `scan/4k_prompt_unicode_evasions`: the 4 KB prompt with fullwidth digits and
//!   zero-width spaces, so the normalisation path runs.
//! - `build/dict100k`: building a scanner with a 100,000-term dictionary (< 1 s).
//!
//! The scanner is built once, as the gateway does; only `scan` is measured.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use customs::scan::{Classifier, Scanner};

#[path = "../examples/common/mod.rs"]
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

fn bench_scan(c: &mut Criterion) {
    let classifier = Classifier::from_toml(
        "project-codenames.toml",
        include_str!("../policies/classifiers/project-codenames.toml"),
    );
    let Ok(scanner) = classifier.and_then(|c| Scanner::new(vec![c])) else {
        return;
    };
    let Ok(dict10k) =
        Classifier::from_toml("dict.toml", &dictionary(10_000)).and_then(|d| Scanner::new(vec![d]))
    else {
        return;
    };
    let evasive = prompt(true)
        .replace(
            "4111 1111 1111 1111",
            "４１１１\u{200B}１１１１ １１１１ １１１１",
        )
        .replace("123-45-6789", "١٢٣-٤٥-٦٧٨٩");
    let mut group = c.benchmark_group("scan");
    for (name, text) in [
        ("4k_prompt_with_pii", prompt(true)),
        ("4k_prompt_clean", prompt(false)),
        ("4k_prompt_unicode_evasions", evasive),
    ] {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(name, |b| b.iter(|| scanner.scan(black_box(&text))));
    }
    let prose = repeat_to(
        &format!("{PROSE}{}", PROSE.replace("2023", "2024")),
        1 << 20,
    );
    group.throughput(Throughput::Bytes(prose.len() as u64));
    group.bench_function("1mb_prose_dict10k", |b| {
        b.iter(|| dict10k.scan(black_box(&prose)))
    });
    let dense = repeat_to(DENSE, 1 << 20);
    group.throughput(Throughput::Bytes(dense.len() as u64));
    group.bench_function("1mb_dense_pii", |b| {
        b.iter(|| scanner.scan(black_box(&dense)))
    });
    group.finish();

    let source = dictionary(100_000);
    let mut build = c.benchmark_group("build");
    build.sample_size(10);
    build.bench_function("dict100k", |b| {
        b.iter(|| {
            Classifier::from_toml("dict.toml", black_box(&source))
                .and_then(|d| Scanner::new(vec![d]))
        })
    });
    build.finish();
}

criterion_group!(benches, bench_scan);
criterion_main!(benches);
