//! The module cache a scenario starts from: seeded versions, then the cache faults, in
//! the order the file gives them, kept in place (lock holders alive, mounts mounted)
//! for as long as the scenario runs.

use std::path::{Path, PathBuf};

use crate::fake::modcache::{SeedError, SeedOptions, seed_module};
use crate::fault::cache::mount::{self, MountError};
use crate::fault::cache::{AppliedFault, FaultError, ReadOnlyScope};
use crate::fixture::ModuleSet;
use crate::scenario::{CacheFaultSpec, CacheSetup};

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
    /// Seeds `setup`'s versions from `modules` into `modcache` and applies its faults,
    /// in the order the file gives them (a tiny filesystem is mounted before seeding).
    pub fn apply(setup: &CacheSetup, modules: &ModuleSet, modcache: &Path) -> Result<CachePrepared, CacheSetupError> {
        let mut prepared = CachePrepared::default();
        for fault in &setup.faults {
            if let CacheFaultSpec::DiskFull(bytes) = fault {
                mount::tmpfs(modcache, *bytes)?;
                prepared.mounts.push(modcache.to_path_buf());
                prepared.descriptions.push(format!("disk_full: a {bytes}-byte filesystem mounted on the module cache"));
            }
        }
        for (path, version) in &setup.seed {
            let module =
                modules.get(path, version).ok_or_else(|| CacheSetupError::NotAFixture(format!("{path}@{version}")))?;
            seed_module(modcache, module, SeedOptions::default())?;
            prepared.descriptions.push(format!("seeded {path}@{version}"));
        }
        for fault in &setup.faults {
            match fault {
                CacheFaultSpec::Files(f) => {
                    let applied =
                        f.apply(modcache).map_err(|source| CacheSetupError::Fault { fault: f.name(), source })?;
                    prepared.descriptions.push(format!("{}: {}", f.name(), applied.description));
                    prepared.faults.push(applied);
                }
                CacheFaultSpec::ReadOnly(scope) => {
                    let target = match scope {
                        ReadOnlyScope::Cache => modcache.to_path_buf(),
                        ReadOnlyScope::Download => crate::modcache::layout::download_root(modcache),
                    };
                    mount::read_only(&target)?;
                    prepared.descriptions.push(format!("read_only: {} mounted read-only", target.display()));
                    prepared.mounts.push(target);
                }
                CacheFaultSpec::DiskFull(_) => {}
            }
        }
        Ok(prepared)
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
