//! Decide and reload at scale: the bundled policies plus 1,000 generated ones, the
//! shapes a large organisation writes (per-team provider permits and disclosure
//! permits, per-tenant residency forbids, per-team disclosure forbids).
//!
//! Targets: deciding one request with 5 data classes, p99 under 50 µs;
//! loading (= reloading) the 1,000-policy set under 200 ms. Criterion reports means;
//! the percentiles are measured by a plain timed loop printed before the criterion run
//! (`policy/percentiles …`), since a tail needs every sample, not an estimate.

#![allow(clippy::expect_used, clippy::print_stdout)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use customs::identity::{Principal, PrincipalKind};
use customs::policy::{Bundle, DecideInput, Operation, PolicySource, SourceFile};

/// The bundled source plus `n` generated policies in one extra file.
pub fn generated_source(n: usize) -> PolicySource {
    let mut text = String::new();
    let providers = ["openai", "azure-openai"];
    let families = ["PII", "FIN", "PHI", "CONFIDENTIAL", "GOVID.US"];
    for i in 0..n {
        let team = i % 250;
        let _ = match i % 5 {
            0 => write!(
                text,
                "@id(\"gen.{i}\")\n@reason(\"Team {team} may use {p}.\")\n@severity(\"info\")\npermit (\n  principal in Customs::Group::\"team-{team}\",\n  action in Customs::Action::\"invoke\",\n  resource in Customs::Provider::\"{p}\"\n);\n\n",
                p = providers[i % 2]
            ),
            1 => write!(
                text,
                "@id(\"gen.{i}\")\n@reason(\"Team {team} may disclose {f}.\")\n@severity(\"medium\")\npermit (\n  principal in Customs::Group::\"team-{team}\",\n  action == Customs::Action::\"disclose\",\n  resource in Customs::DataClass::\"{f}\"\n)\nwhen {{ context.model.retention_days <= {r} && !context.model.trains_on_data }};\n\n",
                f = families[i % families.len()],
                r = i % 60
            ),
            2 => write!(
                text,
                "@id(\"gen.{i}\")\n@reason(\"Tenant {i} stays in the EU.\")\n@severity(\"high\")\nforbid (\n  principal,\n  action in Customs::Action::\"invoke\",\n  resource\n)\nwhen {{ principal.tenant == \"tenant-{i}\" }}\nunless {{ resource.jurisdiction == \"EU\" }};\n\n"
            ),
            3 => write!(
                text,
                "@id(\"gen.{i}\")\n@reason(\"Team {team} never discloses {f} to training deployments.\")\n@severity(\"high\")\nforbid (\n  principal in Customs::Group::\"team-{team}\",\n  action == Customs::Action::\"disclose\",\n  resource in Customs::DataClass::\"{f}\"\n)\nwhen {{ context.model.trains_on_data }};\n\n",
                f = families[i % families.len()]
            ),
            _ => write!(
                text,
                "@id(\"gen.{i}\")\n@reason(\"Team {team}: large prompts only to EU.\")\n@severity(\"medium\")\nforbid (\n  principal in Customs::Group::\"team-{team}\",\n  action in Customs::Action::\"invoke\",\n  resource\n)\nwhen {{ context.token_estimate > {t} }}\nunless {{ resource.jurisdiction == \"EU\" }};\n\n",
                t = 10_000 + i
            ),
        };
    }
    let mut source = PolicySource::bundled();
    source.policies.push(SourceFile {
        name: "generated.cedar".into(),
        text,
    });
    source
}

fn principal(id: &str) -> Principal {
    Principal {
        kind: PrincipalKind::User,
        id: id.into(),
        groups: vec!["engineering".into(), "team-7".into(), "team-42".into()],
        attributes: BTreeMap::from([
            ("residency".into(), "US".into()),
            ("department".into(), "platform".into()),
            ("tenant".into(), "tenant-12".into()),
        ]),
    }
}

fn decide_input<'a>(who: &'a Principal, detected: &'a BTreeSet<Arc<str>>) -> DecideInput<'a> {
    DecideInput {
        principal: who,
        operation: Operation::Chat,
        requested_model: "gpt-4o",
        detected,
        stream: false,
        tools_present: false,
        token_estimate: 1000,
    }
}

fn percentiles(label: &str, mut samples: Vec<u128>) {
    samples.sort_unstable();
    let at = |p: f64| {
        let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
        samples[rank.clamp(1, samples.len()) - 1] as f64 / 1000.0
    };
    println!(
        "policy/percentiles {label}: n={} p50={:.1}µs p90={:.1}µs p99={:.1}µs p99.9={:.1}µs max={:.1}µs",
        samples.len(),
        at(50.0),
        at(90.0),
        at(99.0),
        at(99.9),
        at(100.0)
    );
}

/// Every sample of a plain timed loop, as percentiles.
fn print_percentiles(
    bundle: &Bundle,
    source: &PolicySource,
    who: &Principal,
    detected: &BTreeSet<Arc<str>>,
) {
    let warm: Vec<u128> = (0..20_000)
        .map(|_| {
            let start = Instant::now();
            black_box(
                bundle
                    .decide(black_box(&decide_input(who, detected)))
                    .expect("decides"),
            );
            start.elapsed().as_nanos()
        })
        .collect();
    percentiles("decide/1000-policies/5-classes/caller-seen-before", warm);
    let callers: Vec<Principal> = (0..3_000).map(|i| principal(&format!("u{i}"))).collect();
    let cold: Vec<u128> = callers
        .iter()
        .map(|who| {
            let start = Instant::now();
            black_box(
                bundle
                    .decide(black_box(&decide_input(who, detected)))
                    .expect("decides"),
            );
            start.elapsed().as_nanos()
        })
        .collect();
    percentiles(
        "decide/1000-policies/5-classes/first-request-of-a-caller",
        cold,
    );
    let loads: Vec<u128> = (0..10)
        .map(|_| {
            let start = Instant::now();
            black_box(Bundle::load(black_box(source)).expect("loads"));
            start.elapsed().as_nanos()
        })
        .collect();
    percentiles("reload/1000-policies", loads);
}

fn bench(c: &mut Criterion) {
    let source = generated_source(1000);
    let bundle = Bundle::load(&source).expect("generated policies load");
    assert_eq!(
        bundle.policy_count(),
        1000 + PolicySource::bundled_policy_count()
    );
    let detected: BTreeSet<Arc<str>> = [
        "PII.EMAIL",
        "PII.PHONE",
        "PCI.CARD_NUMBER",
        "GOVID.US.SSN",
        "FIN.IBAN",
    ]
    .into_iter()
    .map(Arc::from)
    .collect();
    let who = principal("alice@example.com");
    let input = |who| decide_input(who, &detected);

    // Percentiles: every sample of a plain loop; only under `cargo bench` (not when a
    // test runner lists or smoke-runs the bench).
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--list") {
        print_percentiles(&bundle, &source, &who, &detected);
    }

    c.bench_function("decide/1000-policies/5-classes/caller-seen-before", |b| {
        b.iter(|| black_box(bundle.decide(black_box(&input(&who))).expect("decides")))
    });
    let mut i = 0usize;
    c.bench_function(
        "decide/1000-policies/5-classes/first-request-of-a-caller",
        |b| {
            b.iter_batched(
                || {
                    i += 1;
                    principal(&format!("bench-{i}"))
                },
                |who| {
                    let decision = bundle
                        .decide(black_box(&decide_input(&who, &detected)))
                        .expect("decides");
                    black_box(decision.is_allow())
                },
                criterion::BatchSize::SmallInput,
            )
        },
    );
    let mut group = c.benchmark_group("reload");
    group.sample_size(10);
    group.bench_function("1000-policies", |b| {
        b.iter(|| black_box(Bundle::load(black_box(&source)).expect("loads")))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
