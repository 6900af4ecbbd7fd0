//! Scanner throughput on realistic prompts.
//!
//! - `scan/4k_prompt_with_pii`, `scan/4k_prompt_clean`: a ~4 KB English prompt with an
//!   email, a phone, a card and an SSN in it, and the same size of prose with no
//!   findings (the common case, where only the prefilters run); the bundled
//!   classifier loaded.
//! - `scan/1mb_prose_dict10k`: 1 MB of prompt-like prose with few findings, scanned by
//!   the default detectors plus a 10,000-term dictionary classifier (the
//!   ≥ 1 GB/s target).
//! - `scan/1mb_dense_pii`: 1 MB where every line carries several findings (≥ 300 MB/s):
//!   one line repeated.
//! - `scan/1mb_dense_pii_distinct`: the same shape of line, with values that differ
//!   from line to line (an export of customer records).
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
use common::{DENSE, PROSE, dense_distinct, dictionary, prompt, repeat_to};

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
    let distinct = dense_distinct(1 << 20);
    group.throughput(Throughput::Bytes(distinct.len() as u64));
    group.bench_function("1mb_dense_pii_distinct", |b| {
        b.iter(|| scanner.scan(black_box(&distinct)))
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
