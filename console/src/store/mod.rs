//! The local cache: the last snapshot of each environment in SQLite (bundled), so a restart
//! shows the fleet at once, with its age, while a refresh runs.
//!
//! The file lives in the platform data directory (`directories`), e.g.
//! `~/.local/share/fleetid/fleetid.sqlite3` on Linux. One database holds every environment;
//! every row carries its environment's name. Besides the snapshots it keeps two records
//! that are not cache: the hash-chained audit log ([`audit`]) and the triage of anomalies
//! ([`triage`]).

pub mod audit;
mod campaigns;
mod codec;
pub mod journal;
mod load;
mod outages;
mod records;
mod save;
mod schema;
mod summary;
pub mod triage;

use std::path::{Path, PathBuf};

use rusqlite::Connection;

pub use summary::StoredSummary;

use crate::model::UnixTime;

/// Why the cache could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The platform has no data directory (no home directory).
    #[error("cannot find the platform data directory (is HOME set?)")]
    NoDataDir,
    /// Creating the directory or opening the database failed.
    #[error("opening the cache {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// What SQLite or the file system said.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A statement failed.
    #[error("{doing} in the cache: {source}")]
    Sql {
        /// What was being done (`saving certificates of prod`).
        doing: String,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// A row holds something this version cannot read; the snapshot is ignored.
    #[error("the cached {table} of {environment} is unreadable ({detail}); it will be reloaded")]
    Corrupt {
        /// Which table.
        table: &'static str,
        /// Which environment.
        environment: String,
        /// What was wrong.
        detail: String,
    },
}

/// An open cache database.
#[derive(Debug)]
pub struct Store {
    connection: Connection,
    path: PathBuf,
}

/// The default location of the cache file.
///
/// # Errors
/// [`StoreError::NoDataDir`] without a home directory.
pub fn default_path() -> Result<PathBuf, StoreError> {
    let dirs = directories::ProjectDirs::from("", "", "fleetid").ok_or(StoreError::NoDataDir)?;
    Ok(dirs.data_dir().join("fleetid.sqlite3"))
}

impl Store {
    /// Opens (creating when missing) the cache at `path`.
    ///
    /// # Errors
    /// [`StoreError::Open`] when the directory or the file cannot be created or opened.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let open_error = |source: Box<dyn std::error::Error + Send + Sync>| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| open_error(Box::new(e)))?;
        }
        let connection = Connection::open(path).map_err(|e| open_error(Box::new(e)))?;
        connection
            .execute_batch(schema::SCHEMA)
            .map_err(|e| open_error(Box::new(e)))?;
        Ok(Self {
            connection,
            path: path.to_owned(),
        })
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// When the snapshot of `environment` was saved, if there is one.
    ///
    /// # Errors
    /// [`StoreError::Sql`].
    pub fn saved_at(&self, environment: &str) -> Result<Option<UnixTime>, StoreError> {
        use rusqlite::OptionalExtension;
        self.connection
            .query_row(
                "SELECT saved_at FROM snapshot_heads WHERE env = ?1",
                [environment],
                |row| row.get::<_, i64>(0),
            )
            .optional()
            .map(|t| t.map(UnixTime))
            .map_err(|source| StoreError::Sql {
                doing: format!("reading the snapshot time of {environment}"),
                source,
            })
    }
}

#[cfg(test)]
mod tests;
