//! The module cache side of a scenario: putting a sandbox's GOMODCACHE into a chosen
//! state before go runs ([`seed`], then [`fault`] / [`mount`]), and looking at any module
//! cache the way an expert does after a failure ([`inspect`]).

pub mod fault;
pub mod goinfo;
pub mod holder;
pub mod inspect;
pub mod layout;
pub mod lines;
pub mod mount;
pub mod procfs;
pub mod seed;

#[cfg(test)]
mod tests;

pub use fault::{AppliedFault, CacheFault, Corruption, FaultError, PartialStage, ReadOnlyScope};
pub use inspect::CacheState;
pub use layout::VersionPaths;
pub use seed::{SeedError, SeedOptions, seed, seed_module};
