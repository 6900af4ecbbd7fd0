//! Integration tests: the gateway in-process on a loopback port, driven over real HTTP,
//! in front of a mock upstream that records what arrived.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod audit;
mod audit_log;
mod auth;
mod cli;
mod conformance;
mod flow;
mod limits;
mod otlp_grpc;
mod policy_reload;
mod redaction;
mod scan_cases;
mod sigv4_check;
mod tls;
