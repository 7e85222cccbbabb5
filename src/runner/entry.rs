//! The entry point a re-executed program goes through first: a sealed child, a probe of
//! what the kernel allows, or `modchaos up`'s sealed side each start as this program
//! again with a hidden first argument, and must take over before any thread starts.

use std::path::PathBuf;

use super::child::{CHILD_ARG, child_main};
use super::up::{UP_ARG, sealed_main};
use crate::sealed::PROBE_ARG;

/// If this process was started as a sealed child or probe, does that job and exits;
/// otherwise returns at once. Call it first thing in `main`, before any thread starts.
pub fn dispatch() {
    let mut args = std::env::args_os().skip(1);
    match args.next() {
        Some(a) if a == PROBE_ARG => crate::sealed::probe_main(args.next().is_some_and(|a| a == "pid")),
        Some(a) if a == CHILD_ARG => std::process::exit(child_main()),
        Some(a) if a == UP_ARG => {
            let file = args.next().map(PathBuf::from).unwrap_or_default();
            std::process::exit(sealed_main(&file))
        }
        _ => {}
    }
}
