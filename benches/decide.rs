//! The decide phase alone, and inspect + decide together on a 4 KB prompt carrying PII:
//! the per-request work Customs adds before forwarding (target: under 100 µs).

#![allow(clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use customs::identity::{Principal, PrincipalKind};
use customs::policy::{Bundle, DecideInput, Operation, PolicySource};

fn principal(residency: &str) -> Principal {
    Principal {
        kind: PrincipalKind::User,
        id: "alice@example.com".into(),
        groups: vec!["engineering".into(), "staff".into()],
        attributes: BTreeMap::from([
            ("residency".into(), residency.into()),
            ("department".into(), "platform".into()),
            ("tenant".into(), "contoso".into()),
        ]),
    }
}

/// About 4 KB of English with an email, a phone number, a card number and an SSN.
fn prompt_4kb() -> String {
    let filler = "The quarterly review covers onboarding, churn, the support backlog and the \
                  roadmap for the next release; please summarise the main risks and owners. ";
    let mut text = String::new();
    while text.len() < 3800 {
        text.push_str(filler);
    }
    text.push_str(
        "Customer jane.doe@example.com (phone +1 415 555 0132) paid with 4111 1111 1111 1111; \
         SSN on file 123-45-6789.",
    );
    text
}

fn bench(c: &mut Criterion) {
    let bundle = Bundle::load(&PolicySource::bundled()).expect("bundled policies load");
    let who = principal("EU");
    let detected: BTreeSet<Arc<str>> =
        ["PII.EMAIL", "PII.PHONE", "PCI.CARD_NUMBER", "GOVID.US.SSN"]
            .into_iter()
            .map(Arc::from)
            .collect();
    let input = DecideInput {
        principal: &who,
        operation: Operation::Chat,
        requested_model: "gpt-4o",
        detected: &detected,
        stream: false,
        tools_present: false,
        token_estimate: 1000,
    };
    c.bench_function("decide/4-classes/alias-first-deployment", |b| {
        b.iter(|| black_box(bundle.decide(black_box(&input)).expect("decides")))
    });

    // A caller never seen before: nothing is memoised (entity store, disclose answers).
    let mut n = 0u64;
    c.bench_function("decide/4-classes/first-request-of-a-caller", |b| {
        b.iter_batched(
            || {
                n += 1;
                let mut who = principal("EU");
                who.id = format!("caller-{n}");
                who
            },
            |who| {
                let input = DecideInput {
                    principal: &who,
                    ..input.clone()
                };
                black_box(bundle.decide(&input).expect("decides"))
            },
            BatchSize::SmallInput,
        )
    });

    let us_only = DecideInput {
        requested_model: "gpt-4o-us",
        ..input.clone()
    };
    c.bench_function("decide/4-classes/denied-by-residency", |b| {
        b.iter(|| black_box(bundle.decide(black_box(&us_only)).expect("decides")))
    });

    let prompt = prompt_4kb();
    c.bench_function("inspect+decide/4kb-prompt-with-pii", |b| {
        b.iter(|| {
            let findings = bundle.scanner().scan(black_box(&prompt)).expect("scans");
            let detected: BTreeSet<Arc<str>> =
                findings.iter().map(|f| Arc::clone(&f.class)).collect();
            let input = DecideInput {
                detected: &detected,
                ..input.clone()
            };
            black_box(bundle.decide(&input).expect("decides"))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
