//! How a go command ended, and what that means in expectation terms.

use serde::{Deserialize, Serialize};

/// How a go command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Exit {
    /// It exited with this status.
    Code {
        /// The status.
        code: i32,
    },
    /// A signal we did not send ended it.
    Signal {
        /// The signal number.
        signal: i32,
    },
    /// It was still running at the deadline and was killed.
    Timeout,
}

impl Exit {
    /// True for status 0.
    pub fn success(self) -> bool {
        self == Exit::Code { code: 0 }
    }

    /// "exit status 1", "killed at the deadline".
    pub fn describe(self) -> String {
        match self {
            Exit::Code { code } => format!("exit status {code}"),
            Exit::Signal { signal } => format!("killed by signal {signal}"),
            Exit::Timeout => "still running at the deadline (killed)".into(),
        }
    }
}

/// How go must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitExpectation {
    /// Status 0.
    Success,
    /// Non-zero status.
    Failure,
    /// Killed at the deadline.
    Timeout,
}

impl Exit {
    /// How this exit reads in expectation terms.
    pub fn kind(self) -> ExitExpectation {
        match self {
            Exit::Code { code: 0 } => ExitExpectation::Success,
            Exit::Timeout => ExitExpectation::Timeout,
            _ => ExitExpectation::Failure,
        }
    }
}
