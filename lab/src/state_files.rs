//! The lab's state directory: the operator's key, the AWS credentials and the CA certificates,
//! readable by their owner only (files 0600 in a directory 0700), since `fleetid demo` may
//! write them under a shared temporary directory.

use std::fs::{self, DirBuilder, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Mode of the state directory: only its owner may list or enter it.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file in it: only its owner may read or write it.
pub const FILE_MODE: u32 = 0o600;

/// Why the state directory could not be prepared or written.
#[derive(Debug, thiserror::Error)]
#[error("{what} {}: {source}", path.display())]
pub struct StateFileError {
    what: &'static str,
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

fn fail(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StateFileError {
    let path = path.to_owned();
    move |source| StateFileError { what, path, source }
}

/// Creates `dir` (and its parents) with mode 0700, or narrows an existing directory to 0700.
/// A symbolic link is refused, and so is a directory of another user (its mode cannot be
/// changed).
///
/// # Errors
/// When it cannot be created, is not a directory, or its mode cannot be set.
pub fn private_dir(dir: &Path) -> Result<(), StateFileError> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(fail("creating state directory", dir))?;
    let meta = fs::symlink_metadata(dir).map_err(fail("reading state directory", dir))?;
    if !meta.is_dir() {
        return Err(fail("using state directory", dir)(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a directory (a symbolic link is not followed)",
        )));
    }
    fs::set_permissions(dir, Permissions::from_mode(DIR_MODE))
        .map_err(fail("restricting state directory", dir))
}

/// Writes `text` to `dir/name` with mode 0600 (an existing file is truncated and narrowed
/// to 0600 before anything is written).
///
/// # Errors
/// When the file cannot be opened, narrowed or written.
pub fn write_private(dir: &Path, name: &str, text: &str) -> Result<PathBuf, StateFileError> {
    let path = dir.join(name);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(FILE_MODE)
        .open(&path)
        .map_err(fail("opening", &path))?;
    file.set_permissions(Permissions::from_mode(FILE_MODE))
        .map_err(fail("restricting", &path))?;
    file.write_all(text.as_bytes())
        .map_err(fail("writing", &path))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn an_existing_open_directory_and_file_are_narrowed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("state");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, Permissions::from_mode(0o755)).unwrap();
        fs::write(dir.join("operator.key"), "old").unwrap();
        fs::set_permissions(dir.join("operator.key"), Permissions::from_mode(0o644)).unwrap();

        private_dir(&dir).unwrap();
        let path = write_private(&dir, "operator.key", "new").unwrap();

        assert_eq!(mode(&dir), DIR_MODE);
        assert_eq!(mode(&path), FILE_MODE);
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
    }

    #[test]
    fn a_symbolic_link_is_not_taken_for_the_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("elsewhere");
        fs::create_dir(&target).unwrap();
        fs::set_permissions(&target, Permissions::from_mode(0o755)).unwrap();
        let link = tmp.path().join("state");
        std::os::unix::fs::symlink(&target, &link).unwrap();

        let err = private_dir(&link).unwrap_err();
        assert!(err.to_string().contains("not a directory"), "{err}");
        assert_eq!(mode(&target), 0o755, "the link's target is left alone");
    }
}
