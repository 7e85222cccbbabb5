//! One install of a test tool at a time. `.ci/run` warms the tools (toxiproxy,
//! actionlint, check-jsonschema) by running their tests in the background while
//! `cargo test` runs its other binaries, so two processes may want the same tool at
//! once: the second waits for the first's install instead of doing it again beside it.

use std::fs::File;
use std::path::Path;

use nix::fcntl::{Flock, FlockArg};

/// Holds `dir`'s install lock until dropped (an exclusive `flock` on
/// `dir/install.lock`). The caller checks again, under the lock, whether the tool is
/// there now.
pub fn lock(dir: &Path) -> Result<Flock<File>, String> {
    let path = dir.join("install.lock");
    let file = File::create(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, e)| format!("cannot lock {}: {e}", path.display()))
}
