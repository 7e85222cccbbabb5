//! The fakes of a world: in-process servers that speak the real protocols, apply the
//! scenario's faults and record every request.

pub mod dns;
pub mod forward;
pub mod git;
pub mod goproxy;
pub mod http;
pub mod modcache;
pub mod record;
pub mod sumdb;

pub use record::{DnsOutcome, DnsRecord, Phase, RequestLog, RequestRecord};
