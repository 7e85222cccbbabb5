//! How long scenarios took, and how much of that was CPU, remembered between suite runs
//! in a small JSON file, so that the next run can start the long ones first and let the
//! ones that mostly wait run beside the rest (nextest-style: the slow ones are known).
//!
//! The file lives in `$MODCHAOS_CACHE_DIR`, else `$XDG_CACHE_HOME/modchaos`, else
//! `$HOME/.cache/modchaos`: modchaos's own cache, nothing a go command reads. It is only
//! a hint: a missing, unreadable or stale file changes the order, never the results.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Name of the file in the cache directory.
pub const FILE_NAME: &str = "durations.json";
/// Version of the file's format; other versions are ignored.
const FORMAT: u32 = 1;

/// What was learnt about one scenario.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    /// Wall time, in milliseconds (smoothed over runs).
    pub wall_ms: f64,
    /// CPU time of the scenario's process and its children, in milliseconds (smoothed),
    /// when it ran in a process of its own (sealed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_ms: Option<f64>,
}

/// Durations of earlier runs, by scenario.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    format: u32,
    /// By [`key`].
    scenarios: BTreeMap<String, Observed>,
}

/// Why the history could not be saved (loading never fails: it starts empty).
#[derive(Debug, thiserror::Error)]
#[error("cannot save the scenario durations to {}: {source}", path.display())]
pub struct SaveError {
    /// The file.
    pub path: PathBuf,
    /// What the OS said.
    pub source: std::io::Error,
}

/// The key of a scenario: its file and its name.
pub fn key(file: &Path, name: &str) -> String {
    format!("{}#{name}", file.display())
}

/// The cache directory: `$MODCHAOS_CACHE_DIR`, else `$XDG_CACHE_HOME/modchaos`, else
/// `$HOME/.cache/modchaos`; `None` when none is set.
pub fn default_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("MODCHAOS_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("modchaos")))
        .or_else(|| var("HOME").map(|d| d.join(".cache").join("modchaos")))
}

impl History {
    /// The history in `file`, or an empty one when it is missing, unreadable or of
    /// another format.
    pub fn load(file: &Path) -> History {
        std::fs::read(file)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<History>(&bytes).ok())
            .filter(|h| h.format == FORMAT)
            .unwrap_or_default()
    }

    /// What is known of the scenario with `key`.
    pub fn get(&self, key: &str) -> Option<Observed> {
        self.scenarios.get(key).copied()
    }

    /// Learns one run: the new figures weigh as much as everything before (a scenario
    /// that changed is known again after a run or two; one slow run does not stick).
    pub fn learn(&mut self, key: String, run: Observed) {
        let blend = |old: f64, new: f64| (old + new) / 2.0;
        let merged = match self.scenarios.get(&key) {
            None => run,
            Some(old) => Observed {
                wall_ms: blend(old.wall_ms, run.wall_ms),
                cpu_ms: match (old.cpu_ms, run.cpu_ms) {
                    (Some(a), Some(b)) => Some(blend(a, b)),
                    (a, b) => b.or(a),
                },
            },
        };
        self.scenarios.insert(key, merged);
    }

    /// Writes the history to `file` (through a temporary file renamed over it, so that
    /// a concurrent reader never sees half of it), creating its directory.
    pub fn save(&self, file: &Path) -> Result<(), SaveError> {
        let fail = |source| SaveError { path: file.to_path_buf(), source };
        let dir = file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(fail)?;
        let text = serde_json::to_vec_pretty(&History { format: FORMAT, scenarios: self.scenarios.clone() })
            .map_err(|e| fail(std::io::Error::other(e)))?;
        let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
        std::io::Write::write_all(&mut temp, &text).map_err(fail)?;
        temp.persist(file).map_err(|e| fail(e.error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_saves_and_loads_again() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sub").join(FILE_NAME);
        assert_eq!(History::load(&file), History::default(), "a missing file is an empty history");
        let mut history = History::load(&file);
        let k = key(Path::new("scenarios/x.yaml"), "x");
        history.learn(k.clone(), Observed { wall_ms: 1000.0, cpu_ms: Some(100.0) });
        history.learn(k.clone(), Observed { wall_ms: 3000.0, cpu_ms: None });
        assert_eq!(history.get(&k), Some(Observed { wall_ms: 2000.0, cpu_ms: Some(100.0) }));
        history.save(&file).unwrap();
        assert_eq!(History::load(&file).get(&k), history.get(&k));
    }

    #[test]
    fn a_damaged_or_foreign_file_is_an_empty_history() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(FILE_NAME);
        std::fs::write(&file, "{not json").unwrap();
        assert_eq!(History::load(&file), History::default());
        std::fs::write(&file, r#"{"format": 99, "scenarios": {"a#a": {"wall_ms": 5}}}"#).unwrap();
        assert_eq!(History::load(&file).get("a#a"), None);
    }
}
