//! modchaos: a chaos / fault-injection harness for Go module downloads.
//!
//! A scenario file describes a small fake internet (module proxies with faults), a go
//! command to run against it, the diagnosis the failure must get, and a recovery that
//! must make the download succeed with verified content. `ARCHITECTURE.md` is the map of
//! the modules and of which may use which.

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
pub mod urlref;
pub mod userfile;
pub mod vocab;
pub mod world;
