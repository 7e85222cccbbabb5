//! The module cache a scenario starts from: seeded versions, then the cache faults, in
//! the order the file gives them, kept in place (lock holders alive, mounts mounted)
//! for as long as the scenario runs.

use std::path::{Path, PathBuf};

use crate::fake::modcache::{SeedError, SeedOptions, seed_module};
use crate::fault::cache::mount::{self, MountError};
use crate::fault::cache::{AppliedFault, CacheFault, FaultError, ReadOnlyScope};
use crate::fixture::ModuleSet;
use crate::scenario::{CacheFaultSpec, CacheSetup};
use crate::vocab::Account;

/// Why the module cache could not be put into the scenario's state.
#[derive(Debug, thiserror::Error)]
pub enum CacheSetupError {
    /// A seeded version is not among the scenario's modules.
    #[error("{0} is not a fixture")]
    NotAFixture(String),
    /// Seeding failed.
    #[error(transparent)]
    Seed(#[from] SeedError),
    /// A fault could not be applied.
    #[error("{fault}: {source}")]
    Fault {
        /// The fault's name.
        fault: &'static str,
        /// Why.
        source: FaultError,
    },
    /// A mount fault could not be made.
    #[error(transparent)]
    Mount(#[from] MountError),
}

/// The module cache as a scenario wants it before the run. Lives as long as the
/// scenario: dropping it stops lock holders and removes the mounts (a mount point could
/// not be removed with the sandbox).
#[derive(Debug, Default)]
pub struct CachePrepared {
    /// One line per thing done, for the report.
    pub descriptions: Vec<String>,
    faults: Vec<AppliedFault>,
    mounts: Vec<PathBuf>,
}

impl CachePrepared {
    /// Puts `modcache` into `setup`'s state for go running as `go_user`, in two steps
    /// around the sandbox being handed over to that user: this one mounts a tiny
    /// filesystem if asked (before seeding: a mount hides what was below it), seeds the
    /// versions (read-only extracted trees unless `modcacherw`, as go leaves them), and
    /// applies the file faults in the order the file gives them; [`CachePrepared::finish`]
    /// does what must come after the hand-over.
    pub fn prepare(
        setup: &CacheSetup,
        modules: &ModuleSet,
        modcache: &Path,
        go_user: Account,
        modcacherw: bool,
    ) -> Result<CachePrepared, CacheSetupError> {
        let mut prepared = CachePrepared::default();
        for fault in &setup.faults {
            if let CacheFaultSpec::DiskFull(bytes) = fault {
                mount::tmpfs(modcache, *bytes, go_user)?;
                prepared.mounts.push(modcache.to_path_buf());
                prepared.descriptions.push(format!("disk_full: a {bytes}-byte filesystem mounted on the module cache"));
            }
        }
        for (path, version) in &setup.seed {
            let module =
                modules.get(path, version).ok_or_else(|| CacheSetupError::NotAFixture(format!("{path}@{version}")))?;
            seed_module(modcache, module, SeedOptions { modcacherw })?;
            prepared.descriptions.push(format!("seeded {path}@{version}"));
        }
        for fault in &setup.faults {
            if let CacheFaultSpec::Files(f) = fault
                && !matches!(f, CacheFault::RootOwned { .. })
            {
                prepared.apply_fault(f, modcache, go_user)?;
            }
        }
        Ok(prepared)
    }

    /// The second step, once go's user owns the sandbox: parts given back to root, then
    /// read-only mounts (nothing can change below them afterwards).
    pub fn finish(&mut self, setup: &CacheSetup, modcache: &Path, go_user: Account) -> Result<(), CacheSetupError> {
        for fault in &setup.faults {
            if let CacheFaultSpec::Files(f @ CacheFault::RootOwned { .. }) = fault {
                self.apply_fault(f, modcache, go_user)?;
            }
        }
        for fault in &setup.faults {
            if let CacheFaultSpec::ReadOnly(scope) = fault {
                let target = match scope {
                    ReadOnlyScope::Cache => modcache.to_path_buf(),
                    ReadOnlyScope::Download => crate::modcache::layout::download_root(modcache),
                };
                mount::read_only(&target)?;
                self.descriptions.push(format!("read_only: {} mounted read-only", target.display()));
                self.mounts.push(target);
            }
        }
        Ok(())
    }

    fn apply_fault(&mut self, f: &CacheFault, modcache: &Path, go_user: Account) -> Result<(), CacheSetupError> {
        let applied =
            f.apply(modcache, go_user).map_err(|source| CacheSetupError::Fault { fault: f.name(), source })?;
        self.descriptions.push(format!("{}: {}", f.name(), applied.description));
        self.faults.push(applied);
        Ok(())
    }
}

impl Drop for CachePrepared {
    fn drop(&mut self) {
        for fault in self.faults.drain(..) {
            fault.release();
        }
        for mount in self.mounts.drain(..).rev() {
            let _ = mount::unmount(&mount);
        }
    }
}
