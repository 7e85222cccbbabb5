//! Reading a file a user named (a scenario, a playbook, a module fixture): only a
//! regular file, and only up to a size limit. A FIFO would block the reader forever, and
//! a link to `/dev/zero` would fill memory; both get a clear error instead.

use std::io::Read as _;
use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

/// Why a file the user named could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The OS refused (missing file, no permission, …).
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A FIFO, a device, a socket or a directory where a file was expected.
    #[error("{}: is a {kind}, not a regular file (only regular files are read)", path.display())]
    NotRegular {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// Larger than the limit for its kind of file.
    #[error("{}: larger than {limit} bytes, the limit for {what}", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// What the file was read as (`a scenario file`, `a module fixture`).
        what: &'static str,
        /// The limit, in bytes.
        limit: u64,
    },
}

/// Reads `path` (following symbolic links) if it is a regular file of at most `limit`
/// bytes; `what` names the kind of file for the error. The type is checked before the
/// file is opened (opening a FIFO for reading blocks until a writer comes) and again on
/// the opened file, so a file swapped for a FIFO in between cannot block either.
pub fn read_regular(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, ReadError> {
    let io = |source| ReadError::Io { path: path.to_path_buf(), source };
    let not_regular = |kind| ReadError::NotRegular { path: path.to_path_buf(), kind };
    let meta = std::fs::metadata(path).map_err(io)?;
    if let Some(kind) = irregular(&meta.file_type()) {
        return Err(not_regular(kind));
    }
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(io)?;
    let opened = file.metadata().map_err(io)?;
    if let Some(kind) = irregular(&opened.file_type()) {
        return Err(not_regular(kind));
    }
    let too_large = || ReadError::TooLarge { path: path.to_path_buf(), what, limit };
    if opened.len() > limit {
        return Err(too_large());
    }
    let mut data = Vec::with_capacity(usize::try_from(opened.len()).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut data).map_err(io)?;
    if data.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(data)
}

/// What a non-regular file is, or `None` for a regular file.
fn irregular(kind: &std::fs::FileType) -> Option<&'static str> {
    if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some("directory")
    } else if kind.is_fifo() {
        Some("FIFO (named pipe)")
    } else if kind.is_char_device() {
        Some("character device")
    } else if kind.is_block_device() {
        Some("block device")
    } else if kind.is_socket() {
        Some("socket")
    } else {
        Some("special file")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_regular_files_within_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.txt");
        std::fs::write(&file, "hello").unwrap();
        assert_eq!(read_regular(&file, 5, "a test file").unwrap(), b"hello");
        let error = read_regular(&file, 4, "a test file").unwrap_err();
        assert!(matches!(error, ReadError::TooLarge { limit: 4, .. }), "{error}");
        assert!(error.to_string().contains("the limit for a test file"), "{error}");
    }

    #[test]
    fn regression_a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.txt");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let error = read_regular(&fifo, 1 << 20, "a test file").unwrap_err();
        assert!(error.to_string().contains("is a FIFO (named pipe), not a regular file"), "{error}");
    }

    #[test]
    fn regression_a_link_to_dev_zero_is_refused_without_reading() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("zero.txt");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let error = read_regular(&link, 1 << 20, "a test file").unwrap_err();
        assert!(error.to_string().contains("is a character device, not a regular file"), "{error}");
        let error = read_regular(dir.path(), 1 << 20, "a test file").unwrap_err();
        assert!(matches!(error, ReadError::NotRegular { kind: "directory", .. }), "{error}");
    }
}
