//! Evidence lines: a quoted piece of what was observed, with where it was observed.
//! Diagnoses cite them, reports print them, and the evidence gatherers make them.

use serde::{Deserialize, Serialize};

/// Where an evidence line comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// go's stderr.
    Stderr,
    /// A `-json` record on stdout.
    Json,
    /// go's stdout other than `-json` records (what `go mod tidy -diff` prints).
    Stdout,
    /// The `-x` trace.
    Trace,
    /// A fake's request log.
    Requests,
    /// The sealed world's resolver log.
    Dns,
    /// The module cache's inspection.
    Cache,
    /// The environment.
    Env,
    /// The exit status and timing.
    Exit,
}

/// One quoted piece of evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceLine {
    /// Where it comes from.
    pub source: Source,
    /// The text, quoted as is.
    pub text: String,
}
