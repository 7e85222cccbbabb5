//! The platform team's Go module download playbooks, proven by modchaos scenarios in
//! `scenarios/` (YAML) and `tests/builder.rs` (Rust). There is no library code: the
//! crate exists to run them with `cargo test`.
