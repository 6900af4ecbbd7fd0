//! Integration tests: the gateway in-process on a loopback port, driven over real HTTP,
//! in front of a mock upstream that records what arrived.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod auth;
mod cli;
mod audit;
mod flow;
mod limits;
