//! The shared vocabulary: plain values that every layer speaks and that import nothing
//! else of modchaos — diagnosis category ids, evidence lines, request and DNS records
//! with their phases, how a go command ended, network modes, Basic credentials, what a
//! forward proxy does with CONNECT, the globs that pick requests, and who a process runs
//! as. Keeping them here
//! is what lets the layers above import only downward (see ARCHITECTURE.md).

pub mod account;
pub mod auth;
pub mod category;
pub mod connect;
pub mod evidence;
pub mod exit;
pub mod glob;
pub mod network;
pub mod proxyenv;
pub mod request;

pub use account::Account;
pub use auth::BasicAuth;
pub use category::Category;
pub use connect::ConnectMode;
pub use evidence::{EvidenceLine, Source};
pub use exit::{Exit, ExitExpectation};
pub use glob::PathGlob;
pub use network::NetworkMode;
pub use request::{DnsOutcome, DnsRecord, Phase, RequestRecord};
