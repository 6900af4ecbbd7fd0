//! An open-loop, constant-rate HTTP load generator for end-to-end benchmarks
//! (`benches/e2e.sh`).
//!
//! Request `i` is scheduled at `start + i / rate`, whatever happened to earlier requests,
//! and its latency is measured from that scheduled time to the last byte of the
//! response. A slow server therefore shows up as latency instead of as a lower send rate
//! (no coordinated omission): time spent waiting for the pacer thread, for a free
//! in-flight slot (`--concurrency-limit`) or for a connection is all counted.
//!
//! ```sh
//! cargo run --release --example loadgen -- --url http://127.0.0.1:8080/v1/chat/completions \
//!     --rate 1000 --duration 20 --warmup 3 --body body.json \
//!     --header 'Authorization: Bearer ...' [--concurrency-limit 256] [--workers 1] \
//!     [--timeout 10] [--label gateway] [--json summary.json]
//! ```
//!
//! POSTs the bytes of `--body` over HTTP/1.1 keep-alive connections from one pool
//! (`content-type: application/json` unless a `--header` sets it). Requests scheduled in
//! the first `--warmup` seconds are sent but not counted. Prints a text report; with
//! `--json FILE` also writes the summary as JSON.

// Examples print reports and usage on stdout.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::json;
use tokio::sync::Semaphore;

const USAGE: &str = "usage: loadgen --url URL --rate RPS --duration SECS --body FILE \
[--warmup SECS] [--header 'Name: value']... [--concurrency-limit N] [--workers N] \
[--timeout SECS] [--label NAME] [--json FILE]";

struct Args {
    url: String,
    rate: f64,
    duration: f64,
    warmup: f64,
    body: PathBuf,
    headers: HeaderMap,
    concurrency_limit: usize,
    workers: usize,
    timeout: Duration,
    label: String,
    json: Option<PathBuf>,
}

/// The arguments, or `None` when only help was asked for.
fn parse_args() -> anyhow::Result<Option<Args>> {
    let mut url = None;
    let mut rate = None;
    let mut duration = None;
    let mut warmup = 0.0;
    let mut body = None;
    let mut headers = HeaderMap::new();
    let mut concurrency_limit = 256;
    let mut workers = 1;
    let mut timeout = 10.0;
    let mut label = String::from("run");
    let mut json = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => url = Some(value()?),
            "--rate" => rate = Some(value()?.parse::<f64>().context("--rate")?),
            "--duration" => duration = Some(value()?.parse::<f64>().context("--duration")?),
            "--warmup" => warmup = value()?.parse::<f64>().context("--warmup")?,
            "--body" => body = Some(PathBuf::from(value()?)),
            "--header" => {
                let header = value()?;
                let (name, val) = header
                    .split_once(':')
                    .with_context(|| format!("--header {header:?} is not 'Name: value'"))?;
                headers.append(
                    HeaderName::try_from(name.trim()).context("--header name")?,
                    HeaderValue::try_from(val.trim()).context("--header value")?,
                );
            }
            "--concurrency-limit" => {
                concurrency_limit = value()?.parse().context("--concurrency-limit")?;
            }
            "--workers" => workers = value()?.parse().context("--workers")?,
            "--timeout" => timeout = value()?.parse::<f64>().context("--timeout")?,
            "--label" => label = value()?,
            "--json" => json = Some(PathBuf::from(value()?)),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    let url = url.with_context(|| format!("--url is required\n{USAGE}"))?;
    let rate = rate.with_context(|| format!("--rate is required\n{USAGE}"))?;
    let duration = duration.with_context(|| format!("--duration is required\n{USAGE}"))?;
    let body = body.with_context(|| format!("--body is required\n{USAGE}"))?;
    if !(rate > 0.0 && rate.is_finite()) {
        bail!("--rate must be positive");
    }
    if !(duration > 0.0 && duration.is_finite()) {
        bail!("--duration must be positive");
    }
    if !(warmup >= 0.0 && warmup.is_finite()) {
        bail!("--warmup must not be negative");
    }
    if concurrency_limit == 0 || workers == 0 {
        bail!("--concurrency-limit and --workers must be at least 1");
    }
    if !(timeout > 0.0 && timeout.is_finite()) {
        bail!("--timeout must be positive");
    }
    if !headers.contains_key(CONTENT_TYPE) {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    Ok(Some(Args {
        url,
        rate,
        duration,
        warmup,
        body,
        headers,
        concurrency_limit,
        workers,
        timeout: Duration::from_secs_f64(timeout),
        label,
        json,
    }))
}

/// How one request ended.
#[derive(Debug)]
enum Outcome {
    /// A response was read to its end.
    Status(u16),
    /// No complete response: the error kind and its message.
    Error(&'static str, String),
}

/// One measured request.
struct Sample {
    /// From the scheduled send time to the end of the response (or the error).
    latency: Duration,
    /// When it finished.
    done: Instant,
    /// Whether it had to wait for a free in-flight slot.
    queued: bool,
    outcome: Outcome,
}

fn error_kind(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timeout"
    } else if err.is_connect() {
        "connect"
    } else if err.is_body() || err.is_decode() {
        "body"
    } else if err.is_request() {
        "request"
    } else {
        "other"
    }
}

async fn one_request(
    client: reqwest::Client,
    url: Arc<str>,
    headers: Arc<HeaderMap>,
    body: Bytes,
    slots: Arc<Semaphore>,
    scheduled: Instant,
) -> Sample {
    let (permit, queued) = match Arc::clone(&slots).try_acquire_owned() {
        Ok(permit) => (Ok(permit), false),
        Err(_) => (slots.acquire_owned().await, true),
    };
    let outcome = match permit {
        Err(_) => Outcome::Error("other", "in-flight slots closed".to_owned()),
        Ok(_permit) => {
            let sent = client
                .post(&*url)
                .headers((*headers).clone())
                .body(body)
                .send()
                .await;
            match sent {
                Ok(response) => {
                    let status = response.status().as_u16();
                    match response.bytes().await {
                        Ok(_) => Outcome::Status(status),
                        Err(err) => Outcome::Error(error_kind(&err), err.to_string()),
                    }
                }
                Err(err) => Outcome::Error(error_kind(&err), err.to_string()),
            }
        }
    };
    let done = Instant::now();
    Sample {
        latency: done.saturating_duration_since(scheduled),
        done,
        queued,
        outcome,
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn main() -> anyhow::Result<()> {
    let Some(args) = parse_args()? else {
        return Ok(());
    };
    let body = Bytes::from(
        std::fs::read(&args.body).with_context(|| format!("reading {}", args.body.display()))?,
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.workers)
        .enable_all()
        .build()?;
    let client = reqwest::Client::builder()
        .http1_only()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(args.concurrency_limit)
        .timeout(args.timeout)
        .build()?;

    let warmup_count = (args.warmup * args.rate).round() as u64;
    let measured_count = (args.duration * args.rate).round() as u64;
    let total = warmup_count + measured_count;
    let interval = 1.0 / args.rate;
    let url: Arc<str> = Arc::from(args.url.as_str());
    let headers = Arc::new(args.headers.clone());
    let slots = Arc::new(Semaphore::new(args.concurrency_limit));

    // The pacer: a plain thread sleeping until each scheduled time (tokio's timer has a
    // 1 ms granularity, too coarse at 1,000 requests/s), spawning each request on the
    // runtime. It never waits for a response.
    let handle = runtime.handle().clone();
    let start = Instant::now() + Duration::from_millis(50);
    let mut tasks = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut late_over_1ms = 0u64;
    let mut max_lag = Duration::ZERO;
    for i in 0..total {
        let scheduled = start + Duration::from_secs_f64(i as f64 * interval);
        let now = Instant::now();
        if scheduled > now {
            std::thread::sleep(scheduled - now);
        }
        let lag = Instant::now().saturating_duration_since(scheduled);
        if i >= warmup_count {
            max_lag = max_lag.max(lag);
            if lag > Duration::from_millis(1) {
                late_over_1ms += 1;
            }
        }
        let task = handle.spawn(one_request(
            client.clone(),
            Arc::clone(&url),
            Arc::clone(&headers),
            body.clone(),
            Arc::clone(&slots),
            scheduled,
        ));
        tasks.push((i >= warmup_count, scheduled, task));
    }
    let last_send = Instant::now();

    let mut samples = Vec::with_capacity(usize::try_from(measured_count).unwrap_or(0));
    let mut first_measured = None;
    runtime.block_on(async {
        for (measured, scheduled, task) in tasks {
            let sample = task.await;
            if !measured {
                continue;
            }
            first_measured.get_or_insert(scheduled);
            match sample {
                Ok(sample) => samples.push(sample),
                Err(err) => samples.push(Sample {
                    latency: Duration::ZERO,
                    done: Instant::now(),
                    queued: false,
                    outcome: Outcome::Error("task", err.to_string()),
                }),
            }
        }
    });
    drop(runtime);

    // Summary over the measured requests.
    let mut ok = Vec::with_capacity(samples.len());
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let mut errors: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut first_error = None;
    let mut queued = 0u64;
    let mut last_done = first_measured;
    for sample in &samples {
        queued += u64::from(sample.queued);
        last_done = last_done.max(Some(sample.done));
        match &sample.outcome {
            Outcome::Status(status) => {
                *statuses.entry(*status).or_default() += 1;
                if (200..300).contains(status) {
                    ok.push(sample.latency);
                }
            }
            Outcome::Error(kind, message) => {
                *errors.entry(kind).or_default() += 1;
                first_error.get_or_insert_with(|| format!("{kind}: {message}"));
            }
        }
    }
    ok.sort_unstable();
    let window = match (first_measured, last_done) {
        (Some(first), Some(last)) => last.saturating_duration_since(first),
        _ => Duration::ZERO,
    };
    let send_window = first_measured
        .map(|first| last_send.saturating_duration_since(first))
        .unwrap_or_default();
    let completed = samples
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Status(_)))
        .count();
    let per_sec = |count: usize, over: Duration| {
        if over.is_zero() {
            0.0
        } else {
            count as f64 / over.as_secs_f64()
        }
    };
    let achieved = per_sec(ok.len(), window);
    let sent_rate = per_sec(samples.len(), send_window);
    let mean = if ok.is_empty() {
        Duration::ZERO
    } else {
        ok.iter().sum::<Duration>() / u32::try_from(ok.len()).unwrap_or(u32::MAX)
    };
    let points = [("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99.9", 99.9)];

    println!(
        "[{}] {} — open loop at {} req/s for {} s (+{} s warm-up), body {} B, \
concurrency limit {}, {} worker thread(s)",
        args.label,
        args.url,
        args.rate,
        args.duration,
        args.warmup,
        body.len(),
        args.concurrency_limit,
        args.workers
    );
    println!(
        "  requests {}  2xx {}  statuses {:?}  errors {:?}",
        samples.len(),
        ok.len(),
        statuses,
        errors
    );
    if let Some(error) = &first_error {
        println!("  first error: {error}");
    }
    println!(
        "  achieved {achieved:.1} req/s 2xx (sent {sent_rate:.1} req/s); pacer late >1 ms: {late_over_1ms}, \
max pacer lag {:.3} ms; waited for an in-flight slot: {queued}",
        ms(max_lag)
    );
    let mut line = String::from("  latency ms (2xx, from scheduled send):");
    for (name, p) in points {
        line.push_str(&format!(" {name} {:.3}", ms(percentile(&ok, p))));
    }
    line.push_str(&format!(
        " max {:.3} mean {:.3}",
        ms(ok.last().copied().unwrap_or_default()),
        ms(mean)
    ));
    println!("{line}");

    if let Some(path) = &args.json {
        let mut latency = serde_json::Map::new();
        for (name, p) in points {
            latency.insert(name.to_owned(), json!(ms(percentile(&ok, p))));
        }
        latency.insert(
            "max".to_owned(),
            json!(ms(ok.last().copied().unwrap_or_default())),
        );
        latency.insert("mean".to_owned(), json!(ms(mean)));
        let summary = json!({
            "label": args.label,
            "url": args.url,
            "rate": args.rate,
            "duration_secs": args.duration,
            "warmup_secs": args.warmup,
            "body_bytes": body.len(),
            "concurrency_limit": args.concurrency_limit,
            "workers": args.workers,
            "requests": samples.len(),
            "completed": completed,
            "ok": ok.len(),
            "statuses": statuses.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "errors": errors,
            "first_error": first_error,
            "achieved_rps": achieved,
            "sent_rps": sent_rate,
            "pacer_late_over_1ms": late_over_1ms,
            "pacer_max_lag_ms": ms(max_lag),
            "waited_for_slot": queued,
            "latency_ms": latency,
        });
        std::fs::write(path, format!("{summary}\n"))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
