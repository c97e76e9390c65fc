//! Rotation campaigns: one row per campaign and environment holding its whole state (JSON,
//! written by `ops::rotation`) — rewritten after every step, so a console killed at any
//! moment restarts from the last step it recorded. Records, not cache: a snapshot save never
//! touches them.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::model::UnixTime;

fn sql(doing: &str) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
    move |source| StoreError::Sql {
        doing: doing.to_owned(),
        source,
    }
}

impl Store {
    /// Records a new campaign; `false` when one with this id exists in the environment
    /// (nothing is written then).
    ///
    /// # Errors
    /// [`StoreError::Sql`].
    pub fn insert_campaign(
        &mut self,
        environment: &str,
        id: &str,
        state: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        self.connection
            .execute(
                "INSERT OR IGNORE INTO campaigns (env, id, state, created, updated) \
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                params![environment, id, state, at.0],
            )
            .map(|rows| rows == 1)
            .map_err(sql("recording a campaign"))
    }

    /// Replaces a campaign's state.
    ///
    /// # Errors
    /// [`StoreError::Sql`], also when the campaign does not exist.
    pub fn update_campaign(
        &mut self,
        environment: &str,
        id: &str,
        state: &str,
        at: UnixTime,
    ) -> Result<(), StoreError> {
        let rows = self
            .connection
            .execute(
                "UPDATE campaigns SET state = ?3, updated = ?4 WHERE env = ?1 AND id = ?2",
                params![environment, id, state, at.0],
            )
            .map_err(sql("updating a campaign"))?;
        if rows == 1 {
            Ok(())
        } else {
            Err(StoreError::Sql {
                doing: format!("updating campaign {id}"),
                source: rusqlite::Error::QueryReturnedNoRows,
            })
        }
    }

    /// A campaign's state, if it exists.
    ///
    /// # Errors
    /// [`StoreError::Sql`].
    pub fn campaign(&self, environment: &str, id: &str) -> Result<Option<String>, StoreError> {
        self.connection
            .query_row(
                "SELECT state FROM campaigns WHERE env = ?1 AND id = ?2",
                params![environment, id],
                |row| row.get(0),
            )
            .optional()
            .map_err(sql("reading a campaign"))
    }

    /// Every campaign of the environment, oldest first: (id, state).
    ///
    /// # Errors
    /// [`StoreError::Sql`].
    pub fn campaigns(&self, environment: &str) -> Result<Vec<(String, String)>, StoreError> {
        let mut statement = self
            .connection
            .prepare("SELECT id, state FROM campaigns WHERE env = ?1 ORDER BY created, id")
            .map_err(sql("listing campaigns"))?;
        statement
            .query_map(params![environment], |row| Ok((row.get(0)?, row.get(1)?)))
            .and_then(Iterator::collect)
            .map_err(sql("listing campaigns"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_campaign_is_recorded_once_and_updated_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("cache.db")).unwrap();
        assert!(
            store
                .insert_campaign("prod", "c1", "{}", UnixTime(1))
                .unwrap()
        );
        assert!(
            !store
                .insert_campaign("prod", "c1", "{\"x\":1}", UnixTime(2))
                .unwrap()
        );
        assert!(
            store
                .insert_campaign("lab", "c1", "{}", UnixTime(2))
                .unwrap()
        );
        store
            .update_campaign("prod", "c1", "{\"y\":2}", UnixTime(3))
            .unwrap();
        assert_eq!(
            store.campaign("prod", "c1").unwrap().as_deref(),
            Some("{\"y\":2}")
        );
        assert_eq!(store.campaign("prod", "c2").unwrap(), None);
        assert!(
            store
                .update_campaign("prod", "c2", "{}", UnixTime(3))
                .is_err()
        );
        assert_eq!(
            store.campaigns("prod").unwrap(),
            vec![("c1".to_owned(), "{\"y\":2}".to_owned())]
        );
    }
}
