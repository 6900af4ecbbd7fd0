//! `customs serve [--config FILE] [--listen ADDR]`: runs the gateway until SIGTERM or
//! SIGINT, then drains in-flight requests for at most `shutdown_grace_secs`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use crate::audit::otel::{OtelExport, configured_by_env};
use crate::audit::{Fingerprinter, Recorder};
use crate::config::{Config, LogFormat};
use crate::metrics::Metrics;
use crate::pipeline::Gateway;

/// Arguments of `customs serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Configuration file (TOML); the embedded default when absent.
    #[arg(long, env = "CUSTOMS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Listen address, overriding the configuration.
    #[arg(long, env = "CUSTOMS_LISTEN")]
    pub listen: Option<std::net::SocketAddr>,
}

/// Runs `customs serve`.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut config = match &args.config {
        Some(path) => Config::from_file(path)?,
        None => Config::embedded()?,
    };
    if let Some(listen) = args.listen {
        config.server.listen = listen;
    }
    init_logging(config.telemetry.log_format);

    // The OTLP HTTP exporter owns a blocking client: build it before the runtime.
    let otel = if configured_by_env() {
        Some(Arc::new(
            OtelExport::from_env(&config.telemetry.service_name).context("OpenTelemetry export")?,
        ))
    } else {
        None
    };
    let (fingerprinter, keyed) = Fingerprinter::from_env();
    if !keyed {
        tracing::warn!("CUSTOMS_HMAC_KEY is not set: fingerprints use a random per-process key");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(serve(
        config,
        args.config.is_none(),
        otel.clone(),
        fingerprinter,
    ));
    drop(runtime);
    if let Some(otel) = otel {
        otel.shutdown();
    }
    result.map(|()| ExitCode::SUCCESS)
}

async fn serve(
    config: Config,
    embedded: bool,
    otel: Option<Arc<OtelExport>>,
    fingerprinter: Fingerprinter,
) -> anyhow::Result<()> {
    let metrics = Arc::new(Metrics::new());
    let recorder = Recorder::new(Arc::clone(&metrics), otel);
    let listen = config.server.listen;
    let grace = Duration::from_secs(config.server.shutdown_grace_secs);
    let gateway = Arc::new(Gateway::build(config, recorder, metrics, fingerprinter).await?);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    if let Some(bundle) = gateway.bundle() {
        tracing::info!(
            listen = %listener.local_addr().unwrap_or(listen),
            config = if embedded { "embedded default" } else { "file" },
            policy_origin = bundle.origin(),
            policy_version = bundle.version(),
            policies = bundle.policy_count(),
            "customs is serving"
        );
    }
    crate::server::serve(listener, gateway, shutdown_signal(), grace).await?;
    tracing::info!("customs stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = interrupt => {}
            () = terminate => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
    tracing::info!("shutdown signal received; draining in-flight requests");
}

/// Structured logs on stderr; `RUST_LOG` filters (default `info`).
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
