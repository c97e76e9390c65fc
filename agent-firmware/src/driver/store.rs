//! Where the agent's persistent state lives: a file replaced atomically, or memory (the lab).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Loads and saves the agent's state bytes.
pub trait StateStore: Send {
    /// The saved bytes, `None` on a device that has never saved.
    ///
    /// # Errors
    /// When the storage cannot be read.
    fn load(&mut self) -> std::io::Result<Option<Vec<u8>>>;

    /// Replaces the saved bytes; on return they survive power loss.
    ///
    /// # Errors
    /// When the storage cannot be written.
    fn save(&mut self, bytes: &[u8]) -> std::io::Result<()>;
}

/// A state file written as temp file + fsync + rename + fsync of the directory.
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    /// The store at `path`.
    #[must_use]
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    fn dir(&self) -> &Path {
        self.path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }
}

impl StateStore for FileStore {
    fn load(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn save(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let mut temp = self.path.clone().into_os_string();
        temp.push(".tmp");
        let temp = PathBuf::from(temp);
        {
            let mut file = std::fs::File::create(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
        }
        std::fs::rename(&temp, &self.path)?;
        std::fs::File::open(self.dir())?.sync_all()
    }
}

/// State in memory, shared with whoever holds a clone: the lab keeps it across agent restarts.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore(Arc<Mutex<Option<Vec<u8>>>>);

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The saved bytes.
    #[must_use]
    pub fn bytes(&self) -> Option<Vec<u8>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl StateStore for MemoryStore {
    fn load(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        Ok(self.bytes())
    }

    fn save(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(bytes.to_vec());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_store_replaces_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = FileStore::new(dir.path().join("state.json"));
        assert_eq!(store.load().unwrap(), None);
        store.save(b"one").unwrap();
        store.save(b"two").unwrap();
        assert_eq!(store.load().unwrap().as_deref(), Some(&b"two"[..]));
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temp file left behind");
    }
}
