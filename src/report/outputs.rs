//! Opening a run's report files (`--json`, `--junit`, `--html`) together, before any
//! scenario runs: none is emptied until every one can be written (a bad `--junit` path
//! must not destroy last night's journal), no two name the same file (one would
//! overwrite the other), and the journal is locked so that a second run writing the
//! same journal at the same time is refused rather than interleaved into invalid JSON.

use std::fs::File;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

/// A report file to open: the option that named it and its path.
#[derive(Debug, Clone)]
pub struct Output {
    /// The option, as the user wrote it (`--json`).
    pub option: &'static str,
    /// The file.
    pub path: PathBuf,
    /// Whether a second run must not write it at the same time (the journal, which is
    /// written line by line while the run goes on).
    pub exclusive: bool,
}

/// Report files opened by [`open_all`], emptied, in the order asked, and the journal
/// locks, which hold while this value lives (keep it until the run ends).
#[derive(Debug)]
pub struct Opened {
    /// The files, in the order asked.
    pub files: Vec<File>,
    /// Held, not read: each lock goes when it is dropped.
    _locks: Vec<Flock<File>>,
}

/// Opens every output for writing, emptied, in the order given; or says which cannot be
/// and changes nothing (files it created are removed again).
pub fn open_all(outputs: &[Output]) -> Result<Opened, String> {
    let mut opened: Vec<(File, bool)> = Vec::new();
    let mut locks = Vec::new();
    let undo = |opened: &[(File, bool)], upto: &[Output]| {
        for ((_, created), output) in opened.iter().zip(upto) {
            if *created {
                let _ = std::fs::remove_file(&output.path);
            }
        }
    };
    let mut seen: Vec<((u64, u64), &Output)> = Vec::new();
    for output in outputs {
        let existed = output.path.exists();
        let file = match std::fs::OpenOptions::new().write(true).create(true).truncate(false).open(&output.path) {
            Ok(file) => file,
            Err(e) => {
                undo(&opened, outputs);
                return Err(format!("{} {}: {e}", output.option, output.path.display()));
            }
        };
        let same = file.metadata().ok().map(|m| (m.dev(), m.ino()));
        if let Some(id) = same
            && let Some((_, first)) = seen.iter().find(|(seen_id, _)| *seen_id == id)
        {
            let message = format!(
                "{} {} and {} {} are the same file: each report needs its own",
                first.option,
                first.path.display(),
                output.option,
                output.path.display()
            );
            opened.push((file, !existed));
            undo(&opened, outputs);
            return Err(message);
        }
        let locked = if output.exclusive { lock(&file) } else { Ok(None) };
        if let Ok(Some(lock)) = locked {
            locks.push(lock);
        } else if locked.is_err() {
            let message = format!(
                "{} {}: another modchaos run is writing this journal; give each run its own",
                output.option,
                output.path.display()
            );
            opened.push((file, !existed));
            undo(&opened, outputs);
            return Err(message);
        }
        if let Some(id) = same {
            seen.push((id, output));
        }
        opened.push((file, !existed));
    }
    let mut files = Vec::with_capacity(opened.len());
    for ((file, _), output) in opened.into_iter().zip(outputs) {
        // (A device or a pipe — `/dev/null`, `/dev/stderr` — has nothing to empty.)
        if file.metadata().is_ok_and(|m| m.is_file()) {
            file.set_len(0).map_err(|e| format!("{} {}: {e}", output.option, output.path.display()))?;
        }
        files.push(file);
    }
    Ok(Opened { files, _locks: locks })
}

/// An exclusive lock on `file`'s open file (taken on a duplicate of its descriptor, so
/// `file` stays free to write), without waiting: `Err` when another run holds one, `None`
/// where the file system keeps no locks.
fn lock(file: &File) -> Result<Option<Flock<File>>, ()> {
    let Ok(duplicate) = file.try_clone() else { return Ok(None) };
    match Flock::lock(duplicate, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => Ok(Some(lock)),
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => Err(()),
        Err(_) => Ok(None),
    }
}

/// Whether `path` names standard output (`-`) rather than a file.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(option: &'static str, path: PathBuf, exclusive: bool) -> Output {
        Output { option, path, exclusive }
    }

    #[test]
    fn a_bad_path_leaves_every_other_file_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("last-night.jsonl");
        std::fs::write(&journal, "{\"kept\":true}\n").unwrap();
        let fresh = dir.path().join("new.xml");
        let error = open_all(&[
            output("--json", journal.clone(), true),
            output("--junit", fresh.clone(), false),
            output("--html", dir.path().join("no/such/dir/r.html"), false),
        ])
        .unwrap_err();
        assert!(error.starts_with("--html ") && error.contains("no/such/dir/r.html"), "{error}");
        assert_eq!(std::fs::read_to_string(&journal).unwrap(), "{\"kept\":true}\n");
        assert!(!fresh.exists(), "a file created for the run is removed again");
    }

    #[test]
    fn two_options_naming_one_file_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let error = open_all(&[
            output("--json", path.clone(), true),
            output("--junit", dir.path().join(".").join("out"), false),
        ])
        .unwrap_err();
        assert!(error.contains("are the same file"), "{error}");
    }

    #[test]
    fn a_journal_another_run_writes_is_refused_and_the_outputs_are_emptied_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        std::fs::write(&path, "old\n").unwrap();
        let first = open_all(&[output("--json", path.clone(), true)]).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "", "emptied once every output opened");
        assert_eq!(first.files.len(), 1);
        let error = open_all(&[output("--json", path.clone(), true)]).unwrap_err();
        assert!(error.contains("another modchaos run is writing this journal"), "{error}");
        drop(first);
        assert!(open_all(&[output("--json", path, true)]).is_ok(), "the lock goes with the first run");
    }
}
