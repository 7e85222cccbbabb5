//! Go's module cache as go lays it out ([`layout`]), the metadata go writes into it
//! ([`goinfo`]), and looking at any module cache the way an expert does after a failure
//! ([`inspect`]): lock files and the processes holding and awaiting them (from
//! `/proc/locks`, [`procfs`]), partial and temporary files, ziphashes, permissions, free
//! space — rendered as evidence lines by [`lines`]. Only ever reads.

pub mod goinfo;
pub mod inspect;
pub mod layout;
pub mod lines;
pub mod procfs;

pub use inspect::CacheState;
pub use layout::VersionPaths;
