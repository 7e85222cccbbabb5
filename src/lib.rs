//! modchaos: a chaos / fault-injection harness for Go module downloads.
//!
//! A scenario describes a small fake internet (module proxies, a checksum database, git
//! hosts, DNS, a corporate forward proxy) with faults injected into it, a go command to
//! run against it, the diagnosis the failure must get, and a recovery that must make the
//! download succeed with verified content. The `modchaos` command runs scenario files;
//! this library is for running them from your own tests and tools.
//!
//! # Where to start
//!
//! - [`testing`]: your scenario files as `cargo test` tests in your own crate
//!   ([`testing::main`]), and scenarios written in Rust ([`testing::ScenarioBuilder`],
//!   [`testing::run`]).
//! - [`scenario`]: loading and validating scenario files ([`scenario::load`],
//!   [`scenario::discover`]); errors carry `file:line:col` ([`scenario::LoadError`]).
//! - [`judge::run_scenario`]: one scenario run and judged into a
//!   [`judge::ScenarioReport`]; [`runner::RunOptions`] says with which go and network.
//! - [`suite::run_suite`]: many scenarios, a go version matrix, events for reporters
//!   ([`report`]: terminal, JSON journal, JUnit).
//! - [`diagnose::diagnose`]: a diagnosis from evidence ([`evidence::Evidence`]), from a
//!   run or from a pasted log.
//!
//! `ARCHITECTURE.md` is the map of the modules and of which may use which; `README.md`
//! documents the scenario format.

#![warn(missing_docs)]

pub mod cleanup;
pub mod corpus;
pub mod diagnose;
pub mod doctor;
pub mod evidence;
pub mod fake;
pub mod fault;
pub mod fixture;
pub mod fsutil;
pub mod gobin;
pub mod gooutput;
pub mod judge;
pub mod modcache;
pub mod pki;
pub mod redact;
pub mod report;
pub mod repro;
pub mod runner;
pub mod scenario;
pub mod sealed;
pub mod suite;
pub mod sumdb;
// The guide shows a test binary's whole `main`, which is the point.
#[allow(clippy::needless_doctest_main)]
pub mod testing;
pub mod urlref;
pub mod userfile;
pub mod vocab;
pub mod world;
