//! A minimal OpenAI-compatible upstream for end-to-end load tests (`benches/e2e.sh`).
//!
//! Answers `POST /v1/chat/completions` at once with a small fixed JSON completion after
//! reading the whole request body. Nothing is recorded and nothing sleeps, so the time
//! it adds is only HTTP handling.
//!
//! ```sh
//! cargo run --release --example mock_upstream -- --listen 127.0.0.1:9101 [--workers 1] [--exit-after 600]
//! ```
//!
//! `--workers` is the number of tokio worker threads (default 1: the load generator and
//! the gateway share the same cores). `--exit-after SECS` stops the process by itself
//! after that long, so a forgotten mock never outlives its benchmark.

// Examples print reports and usage on stdout.
#![allow(clippy::print_stdout)]

use std::future::IntoFuture as _;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context as _, bail};
use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;

const COMPLETION: &str = r#"{"id":"chatcmpl-mock","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"mock says hi","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":3,"total_tokens":6}}"#;

const USAGE: &str =
    "usage: mock_upstream --listen 127.0.0.1:PORT [--workers N] [--exit-after SECS]";

struct Args {
    listen: SocketAddr,
    workers: usize,
    exit_after: Option<Duration>,
}

/// The arguments, or `None` when only help was asked for.
fn parse_args() -> anyhow::Result<Option<Args>> {
    let mut listen = None;
    let mut workers = 1usize;
    let mut exit_after = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => listen = Some(value()?.parse().context("--listen")?),
            "--workers" => workers = value()?.parse().context("--workers")?,
            "--exit-after" => {
                exit_after = Some(Duration::from_secs(
                    value()?.parse().context("--exit-after")?,
                ));
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    let listen: SocketAddr = listen.with_context(|| format!("--listen is required\n{USAGE}"))?;
    if !listen.ip().is_loopback() {
        bail!("--listen must be a loopback address, got {listen}");
    }
    if workers == 0 {
        bail!("--workers must be at least 1");
    }
    Ok(Some(Args {
        listen,
        workers,
        exit_after,
    }))
}

async fn chat_completions(body: Bytes) -> impl IntoResponse {
    // The extractor reads the whole body, as a real provider would; it is not used.
    drop(body);
    ([(header::CONTENT_TYPE, "application/json")], COMPLETION)
}

fn main() -> anyhow::Result<()> {
    let Some(args) = parse_args()? else {
        return Ok(());
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.workers)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let app = Router::new().route("/v1/chat/completions", post(chat_completions));
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("binding {}", args.listen))?;
        println!("mock_upstream listening on {}", listener.local_addr()?);
        let deadline = async move {
            match args.exit_after {
                Some(after) => tokio::time::sleep(after).await,
                None => std::future::pending::<()>().await,
            }
        };
        // No graceful drain: a mock has nothing to finish, and idle keep-alive
        // connections from a pool must not keep it alive.
        tokio::select! {
            served = axum::serve(listener, app).into_future() => served.context("serving"),
            _ = tokio::signal::ctrl_c() => Ok(()),
            () = deadline => Ok(()),
        }
    })
}
