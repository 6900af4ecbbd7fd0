//! The remote JWKS: fetched over HTTPS, cached, refreshed when old or when a token names
//! a key we have not seen, without letting a flood of such tokens flood the issuer.
//!
//! Part of the authenticate phase. Requests read the current key set from an
//! `RwLock<Arc<_>>` (a pointer copy, never held across an await). Fetches are
//! single-flight: one `tokio::sync::Mutex` serialises them, and whoever takes it first
//! re-checks whether the work is still needed (another request may have just fetched)
//! and whether `min_interval` since the last attempt has passed. So a thousand
//! concurrent tokens with an unknown `kid` cause at most one fetch per interval, and
//! forged `kid`s cannot be used to hammer the identity provider.
//!
//! Freshness: keys older than `max_age` trigger a refresh; while the refresh fails (or
//! another request is doing it) the old keys stay usable until `max_stale`; beyond that
//! every token is refused with `key_source_unavailable` (fail closed).

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use anyhow::{Context, bail};
use jsonwebtoken::Algorithm;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::config::is_loopback_url;
use super::keys::{VerifyingKey, parse_jwks};

/// Whole-request timeout for a JWKS fetch: authentication waits on it.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Connect timeout for a JWKS fetch.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// A JWKS larger than this is refused (real ones are a few KiB).
const MAX_JWKS_BYTES: usize = 512 * 1024;

/// Keys from one successful fetch.
#[derive(Debug)]
pub(crate) struct KeySnapshot {
    /// The usable keys.
    pub(crate) keys: Vec<VerifyingKey>,
    /// When they were fetched.
    fetched_at: Instant,
}

/// Timing of refreshes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RefreshPolicy {
    /// At most one fetch per this interval.
    pub(crate) min_interval: Duration,
    /// Refresh keys older than this.
    pub(crate) max_age: Duration,
    /// Refuse to use keys older than this.
    pub(crate) max_stale: Duration,
}

/// Why a refresh is wanted.
#[derive(Debug, Clone, Copy)]
enum Reason<'a> {
    /// The cached keys are older than `max_age`.
    Expired,
    /// A token named this `kid`, which is not in the cached set.
    UnknownKid(&'a str),
}

/// A JWKS URL with its cached keys.
#[derive(Debug)]
pub(crate) struct RemoteJwks {
    url: String,
    client: reqwest::Client,
    allowed: Vec<Algorithm>,
    policy: RefreshPolicy,
    current: RwLock<Arc<KeySnapshot>>,
    /// Held while fetching; holds the time of the last attempt (success or not).
    fetch_gate: Mutex<Instant>,
    /// Number of fetch attempts (for metrics and tests).
    fetches: std::sync::atomic::AtomicU64,
}

impl RemoteJwks {
    /// Builds the client and performs the first fetch (the gateway does not start
    /// without keys).
    ///
    /// # Errors
    /// When the URL is unusable, or the first fetch fails or yields no usable key.
    pub(crate) async fn connect(
        url: &str,
        allowed: Vec<Algorithm>,
        policy: RefreshPolicy,
    ) -> anyhow::Result<Self> {
        let parsed = reqwest::Url::parse(url).context("auth.jwks_url is not a valid URL")?;
        let loopback = is_loopback_url(&parsed);
        let mut builder = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .https_only(!loopback)
            .user_agent(concat!("customs/", env!("CARGO_PKG_VERSION")));
        if loopback {
            builder = builder.no_proxy();
        }
        let client = builder.build().context("building the JWKS HTTP client")?;
        let started = Instant::now();
        let first = fetch(&client, url, &allowed)
            .await
            .with_context(|| format!("fetching auth.jwks_url {url}"))?;
        Ok(Self {
            url: url.to_owned(),
            client,
            allowed,
            policy,
            current: RwLock::new(Arc::new(KeySnapshot {
                keys: first,
                fetched_at: started,
            })),
            fetch_gate: Mutex::new(started),
            fetches: std::sync::atomic::AtomicU64::new(1),
        })
    }

    /// How many fetches were attempted since start (including the first).
    pub(crate) fn fetch_count(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn snapshot(&self) -> Arc<KeySnapshot> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The keys to verify with now, refreshing them first if they are past `max_age`.
    /// `None` means the keys are past `max_stale` and could not be refreshed.
    pub(crate) async fn keys(&self) -> Option<Arc<KeySnapshot>> {
        let snapshot = self.snapshot();
        let age = snapshot.fetched_at.elapsed();
        if age <= self.policy.max_age {
            return Some(snapshot);
        }
        if age <= self.policy.max_stale {
            // Refresh if nobody else is; never make this request wait for it.
            if let Ok(gate) = self.fetch_gate.try_lock() {
                return Some(self.refresh_locked(gate, Reason::Expired).await);
            }
            return Some(snapshot);
        }
        let gate = self.fetch_gate.lock().await;
        let refreshed = self.refresh_locked(gate, Reason::Expired).await;
        (refreshed.fetched_at.elapsed() <= self.policy.max_stale).then_some(refreshed)
    }

    /// Called when a token's `kid` is not in the cached keys: refetches (at most once
    /// per `min_interval`, single-flight) and returns the possibly new keys.
    pub(crate) async fn refresh_for_unknown_kid(&self, kid: &str) -> Arc<KeySnapshot> {
        let gate = self.fetch_gate.lock().await;
        self.refresh_locked(gate, Reason::UnknownKid(kid)).await
    }

    /// Fetches while holding the gate, unless another request already did the work or
    /// the last attempt is too recent.
    async fn refresh_locked(
        &self,
        mut last_attempt: tokio::sync::MutexGuard<'_, Instant>,
        reason: Reason<'_>,
    ) -> Arc<KeySnapshot> {
        let snapshot = self.snapshot();
        let still_needed = match reason {
            Reason::Expired => snapshot.fetched_at.elapsed() > self.policy.max_age,
            Reason::UnknownKid(kid) => !snapshot
                .keys
                .iter()
                .any(|key| key.kid.as_deref() == Some(kid)),
        };
        if !still_needed || last_attempt.elapsed() < self.policy.min_interval {
            return snapshot;
        }
        *last_attempt = Instant::now();
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let started = Instant::now();
        match fetch(&self.client, &self.url, &self.allowed).await {
            Ok(keys) => {
                tracing::info!(url = %self.url, keys = keys.len(), reason = ?reason_label(reason), "JWKS refreshed");
                let fresh = Arc::new(KeySnapshot {
                    keys,
                    fetched_at: started,
                });
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::clone(&fresh);
                fresh
            }
            Err(err) => {
                tracing::warn!(url = %self.url, error = %format!("{err:#}"), reason = ?reason_label(reason), "JWKS refresh failed; keeping cached keys");
                snapshot
            }
        }
    }
}

/// The reason without the (attacker-chosen) kid, for logs.
fn reason_label(reason: Reason<'_>) -> &'static str {
    match reason {
        Reason::Expired => "max_age",
        Reason::UnknownKid(_) => "unknown_kid",
    }
}

/// One GET of the JWKS, bounded in time and size.
async fn fetch(
    client: &reqwest::Client,
    url: &str,
    allowed: &[Algorithm],
) -> anyhow::Result<Vec<VerifyingKey>> {
    let mut response = client
        .get(url)
        .header(http::header::ACCEPT, "application/json")
        .send()
        .await
        .context("JWKS request failed")?;
    let status = response.status();
    if !status.is_success() {
        bail!("JWKS endpoint answered HTTP {status}");
    }
    if response
        .content_length()
        .is_some_and(|len| len > MAX_JWKS_BYTES as u64)
    {
        bail!("JWKS is larger than {MAX_JWKS_BYTES} bytes");
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.context("reading the JWKS body")? {
        if body.len() + chunk.len() > MAX_JWKS_BYTES {
            bail!("JWKS is larger than {MAX_JWKS_BYTES} bytes");
        }
        body.extend_from_slice(&chunk);
    }
    parse_jwks(&body, allowed)
}
