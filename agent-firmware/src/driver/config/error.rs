//! Why `agent.toml` could not be used: every error names the file, and the line and dotted key
//! when the file has them.

use std::fmt;
use std::path::PathBuf;

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read (missing, unreadable, not UTF-8).
    #[error("reading {}: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why (part of the message, so not also a `source` printed after it).
        error: std::io::Error,
    },
    /// Not valid TOML, a key that is not ours, a missing key, or a value that cannot be used.
    #[error("{at}: {}{message}", key.as_deref().map(|k| format!("key `{k}`: ")).unwrap_or_default())]
    Invalid {
        /// Where.
        at: Location,
        /// The dotted key, when one is to blame (`server.keepalive_seconds`).
        key: Option<String>,
        /// What is wrong.
        message: String,
    },
}

/// A file, and a 1-based line and column in it when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub path: PathBuf,
    /// Line and column.
    pub line_column: Option<(usize, usize)>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some((line, column)) = self.line_column {
            write!(f, ":{line}:{column}")?;
        }
        Ok(())
    }
}
