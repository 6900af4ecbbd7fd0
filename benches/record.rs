//! The recording path: encoding and chaining one record, and `AuditLog::append` as a
//! request sees it (interval mode: chain and write on the caller's thread; group mode:
//! channel to the writer thread, chain, write, group-commit fsync). See BENCHMARKS.md, "Recording".
//!
//! - `record/serialize_event`: serialising the 1 KB event to JSON (the caller's share).
//! - `record/encode_chain`: SHA-256 chaining and line encoding of a 1 KB event (CPU only).
//! - `record/append/{interval,group}/sequential`: one append at a time, awaited.
//! - `record/append/{interval,group}/at_1000_per_s`: appends issued open-loop every 1 ms;
//!   the reported time is the mean latency an append adds to its request at that rate.
//! - `record/append/group/64_concurrent`: 64 appenders at once; time per append (the
//!   throughput bound of one fsync per batch).
//! - After each mode, 5,000 open-loop appends at 1,000/s printed as percentiles (mean,
//!   p50, p90, p99, p99.9, max); `RECORD_PERCENTILES=0` skips them.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use customs::audit::log::record::{GENESIS, Kind, encode};
use customs::audit::log::{AuditConfig, AuditLog, SyncMode};

/// A decision event as the gateway writes it (about 1 KB).
fn event_body() -> Vec<u8> {
    serde_json::to_vec(&event_value()).unwrap()
}

fn event_value() -> serde_json::Value {
    serde_json::json!({
        "decision_id": uuid::Uuid::now_v7().to_string(),
        "timestamp": "2026-11-26T10:00:00.123456Z",
        "outcome": "modify", "status": 200, "code": null, "operation": "chat",
        "requested_model": "gpt-4o",
        "deployment": {"id": "gpt-4o-azure-swedencentral", "provider": "azure_openai", "model": "gpt-4o", "region": "swedencentral", "jurisdiction": "EU"},
        "principal": {"id": "eva", "kind": "User", "tenant": "acme", "groups": ["engineering", "eu-staff"]},
        "policy_version": "sha256:8f14e45fceea167a5a36dedd4bea2543e0b2b1f0a1c4d5e6f708192a3b4c5d6e",
        "policy_ids": ["base.engineering-may-chat", "residency.eu-stays-in-eu"],
        "refused": [{"deployment_id": "gpt-4o-openai-us", "policy_ids": ["residency.eu-stays-in-eu"], "evaluation_errors": 0}],
        "classes": [
            {"class": "PII.EMAIL", "count": 2, "severity": "medium", "action": "redacted"},
            {"class": "PCI.CARD_NUMBER", "count": 1, "severity": "high", "action": "redacted"},
            {"class": "GOVID.US.SSN", "count": 1, "severity": "critical", "action": "redacted"}
        ],
        "redactions": 4, "segments": 3, "stream": false,
        "prompt_fingerprint": "hmac-sha256:0123456789abcdef",
        "client_address": "10.1.2.3:54321", "upstream_status": 200,
        "phase_timings_us": {"accept": 12, "authenticate": 3, "decide": 29, "forward": 80000, "inspect": 5, "parse": 9, "record": 1, "redact": 4}
    })
}

fn open(dir: &std::path::Path, sync: SyncMode) -> Arc<AuditLog> {
    let config = AuditConfig {
        dir: Some(dir.to_path_buf()),
        sync,
        ..AuditConfig::default()
    };
    Arc::new(AuditLog::open(&config).unwrap().unwrap())
}

fn bench(c: &mut Criterion) {
    let body = event_body();
    let mut group = c.benchmark_group("record");
    group.throughput(Throughput::Elements(1));
    // The caller's share: serialising the event (a `serde_json::Value` here, slower than
    // the gateway's derived `Serialize` struct, so an upper bound).
    let value = event_value();
    group.bench_function("serialize_event", |b| {
        b.iter(|| serde_json::to_vec(std::hint::black_box(&value)).unwrap());
    });
    group.bench_function("encode_chain", |b| {
        let mut out = Vec::with_capacity(2048);
        let mut prev = GENESIS;
        let mut seq = 0;
        b.iter(|| {
            out.clear();
            seq += 1;
            prev = encode(seq, Kind::Event, &prev, &body, &mut out);
        });
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    for (name, sync) in [("interval", SyncMode::Interval), ("group", SyncMode::Group)] {
        let dir = tempfile::tempdir_in(std::env::current_dir().unwrap()).unwrap();
        let log = open(dir.path(), sync);
        group.bench_function(format!("append/{name}/sequential"), |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let started = Instant::now();
                    for _ in 0..iters {
                        log.append_body(body.clone()).await.unwrap();
                    }
                    started.elapsed()
                })
            });
        });
        group.bench_function(format!("append/{name}/at_1000_per_s"), |b| {
            b.iter_custom(|iters| {
                let log = Arc::clone(&log);
                let body = body.clone();
                runtime.block_on(async move {
                    let mut tasks = Vec::with_capacity(iters as usize);
                    let mut tick = tokio::time::interval(Duration::from_millis(1));
                    for _ in 0..iters {
                        tick.tick().await;
                        let (log, body) = (Arc::clone(&log), body.clone());
                        tasks.push(tokio::spawn(async move {
                            let started = Instant::now();
                            log.append_body(body).await.unwrap();
                            started.elapsed()
                        }));
                    }
                    let mut total = Duration::ZERO;
                    for task in tasks {
                        total += task.await.unwrap();
                    }
                    total
                })
            });
        });
        if sync == SyncMode::Group {
            group.throughput(Throughput::Elements(64));
            group.bench_function("append/group/64_concurrent", |b| {
                b.iter_custom(|iters| {
                    let log = Arc::clone(&log);
                    let body = body.clone();
                    runtime.block_on(async move {
                        let started = Instant::now();
                        for _ in 0..iters {
                            let tasks: Vec<_> = (0..64)
                                .map(|_| {
                                    let (log, body) = (Arc::clone(&log), body.clone());
                                    tokio::spawn(
                                        async move { log.append_body(body).await.unwrap() },
                                    )
                                })
                                .collect();
                            for task in tasks {
                                task.await.unwrap();
                            }
                        }
                        started.elapsed()
                    })
                });
            });
            group.throughput(Throughput::Elements(1));
        }
        open_loop_percentiles(&runtime, &log, &body, name);
        runtime.block_on(log.shutdown(Duration::ZERO));
    }
    group.finish();
}

/// The distribution behind `at_1000_per_s`, which criterion reports only as a mean: 5,000
/// appends issued every 1 ms, each timed from issue to acknowledgement, printed as
/// percentiles. Set `RECORD_PERCENTILES=0` to skip.
fn open_loop_percentiles(
    runtime: &tokio::runtime::Runtime,
    log: &Arc<AuditLog>,
    body: &[u8],
    name: &str,
) {
    if std::env::var("RECORD_PERCENTILES").is_ok_and(|v| v == "0") {
        return;
    }
    // Only when benchmarking (not `--list`, not `cargo test`'s one pass), and only for
    // the mode a name filter selects.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let id = format!("record/append/{name}/at_1000_per_s");
    let filters: Vec<&String> = args
        .iter()
        .filter(|a| !a.starts_with('-') && a.chars().any(char::is_alphabetic))
        .collect();
    if !args.iter().any(|a| a == "--bench")
        || args.iter().any(|a| a == "--list")
        || !(filters.is_empty() || filters.iter().any(|f| id.contains(f.as_str())))
    {
        return;
    }
    const N: usize = 5_000;
    let mut samples: Vec<Duration> = runtime.block_on(async {
        let mut tasks = Vec::with_capacity(N);
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        for _ in 0..N {
            tick.tick().await;
            let (log, body) = (Arc::clone(log), body.to_vec());
            tasks.push(tokio::spawn(async move {
                let started = Instant::now();
                log.append_body(body).await.unwrap();
                started.elapsed()
            }));
        }
        let mut out = Vec::with_capacity(N);
        for task in tasks {
            out.push(task.await.unwrap());
        }
        out
    });
    samples.sort_unstable();
    let at = |q: f64| samples[((N as f64 * q) as usize).min(N - 1)];
    let mean = samples.iter().sum::<Duration>() / N as u32;
    println!(
        "record/append/{name}/at_1000_per_s over {N} appends: mean {mean:.1?}, p50 {:.1?}, p90 {:.1?}, p99 {:.1?}, p99.9 {:.1?}, max {:.1?}",
        at(0.50),
        at(0.90),
        at(0.99),
        at(0.999),
        samples[N - 1],
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
