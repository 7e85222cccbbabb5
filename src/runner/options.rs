//! What a scenario run needs besides the scenario: the go command, the network this
//! machine gives scenarios (sealed children, or open mode only), where TCP toxics are
//! applied, and where sandboxes are made.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::fault::toxiproxy::ToxicBackend;
use crate::gobin::GoBinary;
use crate::sealed::SealedSupport;
use crate::vocab::NetworkMode;

/// What a scenario run needs besides the scenario.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The go command.
    pub go: GoBinary,
    /// Where scenarios run.
    pub network: Network,
    /// Where TCP toxics are applied: in process (default), or by a toxiproxy server,
    /// in which case scenarios with toxics run in open mode only.
    pub toxics: ToxicBackend,
    /// Where sandboxes are made (default [`crate::fsutil::base_dir`]); a sealed child is
    /// given a directory its parent owns and removes.
    pub sandbox_base: Option<PathBuf>,
    /// Leave each sandbox on disk (with a rerun script) instead of removing it: the judge
    /// of the run removes those of scenarios that passed (`--keep`).
    pub keep_sandbox: bool,
}

/// The network scenarios get on this machine.
#[derive(Debug, Clone)]
pub enum Network {
    /// Open mode only; scenarios that need sealed networking are skipped. `why` says
    /// why sealed mode is not used (unavailable, or not asked for).
    Open {
        /// The reason given when skipping.
        why: String,
    },
    /// Sealed runs in child processes (open mode still serves scenarios that insist on it).
    Sealed {
        /// How to start them.
        support: Arc<SealedSupport>,
        /// `$(go env GOROOT)`, passed to each child.
        goroot: Option<PathBuf>,
    },
}

impl RunOptions {
    /// Options for open mode only.
    pub fn open(go: GoBinary, why: &str) -> RunOptions {
        RunOptions {
            go,
            network: Network::Open { why: why.to_string() },
            toxics: ToxicBackend::InProcess,
            sandbox_base: None,
            keep_sandbox: false,
        }
    }

    /// Sealed mode, if `helper` (a program whose `main` calls
    /// [`super::dispatch`]) can enter namespaces here; the error says why not.
    pub fn sealed(go: GoBinary, helper: &Path) -> Result<RunOptions, crate::sealed::ProbeError> {
        let support = crate::sealed::probe(helper)?;
        let goroot = go.goroot().ok();
        Ok(RunOptions {
            go,
            network: Network::Sealed { support: Arc::new(support), goroot },
            toxics: ToxicBackend::InProcess,
            sandbox_base: None,
            keep_sandbox: false,
        })
    }

    /// Sealed mode where available, else open mode; the reason for falling back is also
    /// returned, to be said once.
    pub fn auto(go: GoBinary, helper: &Path) -> (RunOptions, Option<String>) {
        match RunOptions::sealed(go.clone(), helper) {
            Ok(options) => (options, None),
            Err(why) => {
                let why = format!("sealed networking is unavailable here ({why})");
                (RunOptions::open(go, &why), Some(why))
            }
        }
    }

    /// The same options with TCP toxics applied by `toxics`.
    pub fn with_toxics(self, toxics: ToxicBackend) -> RunOptions {
        RunOptions { toxics, ..self }
    }

    /// One line saying how scenarios get their network (and their TCP toxics, when not
    /// in process).
    pub fn describe_network(&self) -> String {
        let network = match &self.network {
            Network::Open { why } => format!("open (127.0.0.1 ports; {why})"),
            Network::Sealed { support, .. } => format!(
                "sealed (own user, network, mount, uts{} namespaces per scenario)",
                if support.with_pid { ", pid" } else { "" }
            ),
        };
        match &self.toxics {
            ToxicBackend::InProcess => network,
            ToxicBackend::Toxiproxy(client) => format!(
                "{network}; TCP toxics through toxiproxy at {} (scenarios with toxics run in open mode)",
                client.url()
            ),
        }
    }

    /// The mode this machine would use for scenarios that accept either.
    pub fn default_mode(&self) -> NetworkMode {
        match self.network {
            Network::Open { .. } => NetworkMode::Open,
            Network::Sealed { .. } => NetworkMode::Sealed,
        }
    }
}
