//! Customs: the compliance checkpoint for enterprise AI traffic.
//!
//! Every request an application sends to an AI provider walks the same phases, in this
//! order, and the modules below are listed in the order a request meets them:
//!
//! | phase | module |
//! |---|---|
//! | accept | [`server`] (listener, request id, body limit, timeouts) |
//! | authenticate | [`identity`] (bearer JWT against JWKS → principal) |
//! | parse | [`providers`] (API surface → text segments with their JSON location) |
//! | inspect | [`scan`] (typed findings with spans and data classes) |
//! | decide | [`policy`] (Cedar: `disclose` per class, then `invoke`, first permitted deployment) |
//! | redact | [`scan::redact`], [`scan::strategy`] (numbered placeholders, consistent within a request, or the `[redaction]` strategy per class: mask, per-tenant hash, fake, remove) |
//! | forward | [`providers`] (upstream credentials from config, streamed back unbuffered) |
//! | record | [`audit`] (one decision event per request: tracing JSON and OTLP) |
//!
//! [`pipeline`] strings the phases together over one per-request context; [`config`]
//! holds the typed configuration and its embedded default; [`cli`] is the command line.

pub mod audit;
pub mod cli;
pub mod config;
pub mod error;
pub mod identity;
pub mod metrics;
pub mod pipeline;
pub mod policy;
pub mod providers;
pub mod scan;
pub mod server;
