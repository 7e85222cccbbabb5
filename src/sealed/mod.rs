//! Sealed networking's mechanics (DESIGN §4): new user, network, mount, UTS and pid
//! namespaces entered by a freshly started process before any thread exists
//! ([`ns::enter`]), with `lo` up and the scenario's own resolver files, and the probe
//! that tells whether this machine allows them. The runner's sealed child
//! (`runner::child`) uses these; nothing here knows about scenarios.

pub mod ns;

use std::path::{Path, PathBuf};
use std::process::Stdio;

/// First argument that turns a program whose `main` calls the runner's child dispatch
/// into a probe of namespace support.
pub const PROBE_ARG: &str = "__modchaos-sealed-probe";

/// Where the fake resolver listens inside a sealed world.
pub const RESOLVER: std::net::Ipv4Addr = std::net::Ipv4Addr::LOCALHOST;

/// How to start sealed runs on this machine (found by [`probe`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSupport {
    /// The program to re-execute: one whose `main` calls [`crate::runner::dispatch`].
    pub helper: PathBuf,
    /// Whether a pid namespace (and its own `/proc`) can be used too.
    pub with_pid: bool,
}

/// Why sealed runs do not work on this machine.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The probe program could not be started.
    #[error("cannot run {}: {source}", helper.display())]
    Spawn {
        /// The program.
        helper: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The kernel refused the namespaces; what the probe said (or its exit status).
    #[error("{0}")]
    Refused(String),
}

/// Finds out whether sealed runs work here, by running `helper` as a probe: first with
/// a pid namespace, then without. The error says what the kernel refused.
pub fn probe(helper: &Path) -> Result<SealedSupport, ProbeError> {
    let attempt = |with_pid: bool| -> Result<(), ProbeError> {
        let output = std::process::Command::new(helper)
            .arg(PROBE_ARG)
            .arg(if with_pid { "pid" } else { "nopid" })
            .stdin(Stdio::null())
            .output()
            .map_err(|source| ProbeError::Spawn { helper: helper.to_path_buf(), source })?;
        if output.status.success() {
            Ok(())
        } else {
            let said = String::from_utf8_lossy(&output.stderr).trim().to_string();
            Err(ProbeError::Refused(if said.is_empty() {
                format!("the namespace probe failed ({})", output.status)
            } else {
                said
            }))
        }
    };
    match attempt(true) {
        Ok(()) => Ok(SealedSupport { helper: helper.to_path_buf(), with_pid: true }),
        Err(with_pid) => match attempt(false) {
            Ok(()) => Ok(SealedSupport { helper: helper.to_path_buf(), with_pid: false }),
            Err(_) => Err(with_pid),
        },
    }
}

/// The probe's side, in the re-executed program: enters the namespaces (with a pid
/// namespace when `with_pid`) and exits 0, or prints what the kernel refused and exits 1.
pub fn probe_main(with_pid: bool) -> ! {
    let files = ns::NetFiles {
        resolv_conf: format!("nameserver {RESOLVER}\n"),
        hosts: "127.0.0.1 localhost\n".into(),
        nsswitch: "hosts: files dns\n".into(),
    };
    match ns::enter(&files, with_pid, &ns::IdMap::own_as(crate::vocab::Account::ROOT)) {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
