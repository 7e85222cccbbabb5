//! The two network modes a scenario runs in.

use serde::{Deserialize, Serialize};

/// How a scenario's network is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkMode {
    /// In this process, on 127.0.0.1 ports; declared names are rewritten to addresses.
    Open,
    /// In a child process in its own namespaces, on real names and ports.
    Sealed,
}

impl NetworkMode {
    /// `open` / `sealed`.
    pub fn name(self) -> &'static str {
        match self {
            NetworkMode::Open => "open",
            NetworkMode::Sealed => "sealed",
        }
    }
}
