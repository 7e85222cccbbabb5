//! The fakes of a world: in-process servers that speak the real protocols, apply the
//! scenario's faults and record every request.

pub mod forward;
pub mod goproxy;
pub mod http;
pub mod record;
pub mod sumdb;

pub use record::{Phase, RequestLog, RequestRecord};
