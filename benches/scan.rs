//! Scanner throughput on realistic prompts: a ~4 KB English prompt with an email, a
//! phone, a card and an SSN in it, and the same size of prose with no findings (the
//! common case, where only the prefilters run). The scanner is built once, as the
//! gateway does; only `scan` is measured.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use customs::scan::{Classifier, Scanner};

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

fn bench_scan(c: &mut Criterion) {
    let classifier = Classifier::from_toml(
        "project-codenames.toml",
        include_str!("../policies/classifiers/project-codenames.toml"),
    );
    let Ok(scanner) = classifier.and_then(|c| Scanner::new(vec![c])) else {
        return;
    };
    let mut group = c.benchmark_group("scan");
    for (name, text) in [
        ("4k_prompt_with_pii", prompt(true)),
        ("4k_prompt_clean", prompt(false)),
    ] {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(name, |b| b.iter(|| scanner.scan(black_box(&text))));
    }
    group.finish();
}

criterion_group!(benches, bench_scan);
criterion_main!(benches);
