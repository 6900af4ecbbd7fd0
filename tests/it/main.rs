//! Integration tests: the gateway in-process on a loopback port, driven over real HTTP,
//! in front of a mock upstream that records what arrived.

mod support;

mod auth;
mod audit;
mod flow;
mod limits;
