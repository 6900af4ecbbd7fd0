//! `customs serve [--config FILE] [--listen ADDR] [--tls-cert FILE --tls-key FILE]`: runs
//! the gateway until SIGTERM or SIGINT, then drains in-flight requests for at most
//! `shutdown_grace_secs`, cuts what is still in flight short (each records its event;
//! up to [`crate::server::CUT_SHORT_WAIT`] more), then seals the durable audit log and
//! gives its forwarder the same grace to deliver. With a certificate and key it serves HTTPS only; they are read
//! before anything else starts, so a bad file stops it at once, named.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio_rustls::rustls::ServerConfig as TlsServerConfig;

use crate::audit::otel::{OtelExport, configured_by_env};
use crate::audit::{Fingerprinter, Recorder};
use crate::config::{Config, LogFormat};
use crate::metrics::Metrics;
use crate::pipeline::Gateway;
use crate::server::tls::{HANDSHAKE_TIMEOUT, TlsListener, load_server_config};

/// Arguments of `customs serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Configuration file (TOML); the embedded default when absent.
    #[arg(long, env = "CUSTOMS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Listen address, overriding the configuration.
    #[arg(long, env = "CUSTOMS_LISTEN")]
    pub listen: Option<std::net::SocketAddr>,
    /// TLS certificate chain (PEM, leaf first), overriding the configuration; with
    /// `--tls-key`, Customs serves HTTPS.
    #[arg(long, env = "CUSTOMS_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// Private key of the TLS certificate (PEM, unencrypted), overriding the configuration.
    #[arg(long, env = "CUSTOMS_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
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
    if let Some(cert) = args.tls_cert {
        config.server.tls_cert = Some(cert);
    }
    if let Some(key) = args.tls_key {
        config.server.tls_key = Some(key);
    }
    init_logging(config.telemetry.log_format);
    let tls = tls_config(&config)?;

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
        tls,
        otel.clone(),
        fingerprinter,
    ));
    drop(runtime);
    if let Some(otel) = otel {
        otel.shutdown();
    }
    result.map(|()| ExitCode::SUCCESS)
}

/// The TLS server configuration when a certificate and key are configured.
fn tls_config(config: &Config) -> anyhow::Result<Option<Arc<TlsServerConfig>>> {
    match (&config.server.tls_cert, &config.server.tls_key) {
        (Some(cert), Some(key)) => Ok(Some(load_server_config(cert, key)?)),
        (None, None) => Ok(None),
        (Some(_), None) => anyhow::bail!(
            "a TLS certificate is configured but no key: set [server] tls_key or --tls-key"
        ),
        (None, Some(_)) => anyhow::bail!(
            "a TLS key is configured but no certificate: set [server] tls_cert or --tls-cert"
        ),
    }
}

async fn serve(
    config: Config,
    embedded: bool,
    tls: Option<Arc<TlsServerConfig>>,
    otel: Option<Arc<OtelExport>>,
    fingerprinter: Fingerprinter,
) -> anyhow::Result<()> {
    // Before anything slow (the JWKS fetch, opening the audit log): from here on SIGHUP
    // no longer ends the process (see `watch_policies`).
    let hangup = hangup_signal();
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
            tls = tls.is_some(),
            config = if embedded { "embedded default" } else { "file" },
            policy_origin = bundle.origin(),
            policy_version = bundle.version(),
            policies = bundle.policy_count(),
            "{}",
            if tls.is_some() {
                "customs is serving HTTPS (TLS; HTTP/2 and HTTP/1.1 by ALPN)"
            } else {
                "customs is serving"
            }
        );
    }
    tokio::spawn(watch_policies(Arc::clone(&gateway), hangup));
    let audit_log = gateway.recorder().durable_log().cloned();
    if audit_log.is_none() {
        tracing::warn!(
            "the durable audit log is off ([audit] dir is not set): decision events go to the structured log and OTLP only, best effort"
        );
    }
    let served = match tls {
        Some(tls) => match TlsListener::new(listener, tls, HANDSHAKE_TIMEOUT) {
            Ok(listener) => crate::server::serve(listener, gateway, shutdown_signal(), grace).await,
            Err(err) => Err(anyhow::Error::new(err).context(format!("TLS listener on {listen}"))),
        },
        None => crate::server::serve(listener, gateway, shutdown_signal(), grace).await,
    };
    // After the last request: seal the log and let the forwarder deliver what it holds.
    if let Some(log) = audit_log {
        log.shutdown(grace).await;
    }
    served?;
    tracing::info!("customs stopped");
    Ok(())
}

/// The SIGHUP stream of [`watch_policies`] (none where there are no signals, or when it
/// cannot be installed: then said once).
#[cfg(unix)]
type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangup = ();

#[cfg(unix)]
fn hangup_signal() -> Hangup {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(signal) => Some(signal),
        Err(err) => {
            tracing::warn!(error = %err, "SIGHUP cannot be handled: policy reloads by signal are off");
            None
        }
    }
}

#[cfg(not(unix))]
fn hangup_signal() -> Hangup {}

/// Hot reload: SIGHUP, and a poll of the policy directory every `[policy] watch_secs`.
/// Each trigger validates the directory and swaps a changed set in
/// ([`Gateway::reload_policies`]); the work runs on the blocking pool so request
/// workers never wait on it, and one reload runs at a time.
///
/// SIGHUP is handled with the bundled set too, where there is nothing to reload: its
/// default action would end the process on the spot, without draining requests or
/// sealing the audit log (`systemctl reload`, a habitual `kill -HUP`). The handler is
/// installed as `serve` starts ([`hangup_signal`]), so a reload that comes while the
/// gateway is still starting does not end it either.
async fn watch_policies(gateway: Arc<Gateway>, hangup: Hangup) {
    let from_dir = gateway.config().policy.dir.is_some();
    let watch = if from_dir {
        gateway.config().policy.watch_secs
    } else {
        0
    };
    let mut ticker = tokio::time::interval(Duration::from_secs(watch.max(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    #[cfg(unix)]
    let mut hangup = hangup;
    #[cfg(not(unix))]
    let () = hangup;
    loop {
        #[cfg(unix)]
        let hup = async {
            match hangup.as_mut() {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let hup = std::future::pending::<()>();
        let trigger = tokio::select! {
            () = hup => "sighup",
            _ = ticker.tick(), if watch > 0 => "watch",
        };
        if !from_dir {
            tracing::info!(
                "SIGHUP: the bundled policy set is in use ([policy] dir is not set); nothing to reload"
            );
            continue;
        }
        let gateway = Arc::clone(&gateway);
        let outcomes = tokio::task::spawn_blocking(move || gateway.reload_policies(trigger)).await;
        if trigger == "sighup"
            && let Ok(outcomes) = outcomes
        {
            for outcome in outcomes {
                if let crate::policy::reload::ReloadOutcome::Unchanged { version } = outcome {
                    tracing::info!(policy_version = %version, "SIGHUP: policy set unchanged");
                }
            }
        }
    }
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
