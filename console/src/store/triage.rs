//! Triage of anomalies kept per environment: acknowledged, or suppressed until a time. The
//! TUI reloads it when it starts and `fleetid anomalies` applies it. Rows are keyed by the
//! anomaly's stable id, so they survive a snapshot being replaced; a suppression whose time
//! has passed is ignored on reading (and removed by the next [`Store::set_triage`]).

use std::collections::BTreeMap;

use rusqlite::params;

use super::{Store, StoreError};
use crate::model::UnixTime;

/// What an operator decided about an open anomaly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriageState {
    /// Seen by someone; still shown.
    Acknowledged,
    /// Hidden until this time.
    Suppressed {
        /// When it shows again.
        until: UnixTime,
    },
}

/// Triage by anomaly id.
pub type TriageMap = BTreeMap<String, TriageState>;

fn sql(doing: String) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sql { doing, source }
}

impl Store {
    /// Records the triage of `anomaly` in `environment` (`None`: open again), and drops
    /// suppressions of the environment that ended before `now`.
    ///
    /// # Errors
    /// [`StoreError::Sql`].
    pub fn set_triage(
        &mut self,
        environment: &str,
        anomaly: &str,
        state: Option<TriageState>,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let tx = self
            .connection
            .transaction()
            .map_err(sql(format!("starting to triage {anomaly}")))?;
        tx.execute(
            "DELETE FROM anomaly_triage WHERE env = ?1 AND (anomaly = ?2 OR until <= ?3)",
            params![environment, anomaly, now.0],
        )
        .map_err(sql(format!(
            "clearing the triage of {anomaly} in {environment}"
        )))?;
        if let Some(state) = state {
            let (label, until) = match state {
                TriageState::Acknowledged => ("acknowledged", None),
                TriageState::Suppressed { until } => ("suppressed", Some(until.0)),
            };
            tx.execute(
                "INSERT INTO anomaly_triage (env, anomaly, state, until, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![environment, anomaly, label, until, now.0],
            )
            .map_err(sql(format!(
                "saving the triage of {anomaly} in {environment}"
            )))?;
        }
        tx.commit()
            .map_err(sql(format!("committing the triage of {anomaly}")))
    }

    /// The triage of `environment` in force at `now` (ended suppressions left out).
    ///
    /// # Errors
    /// [`StoreError::Sql`]; [`StoreError::Corrupt`] for a state this version does not know.
    pub fn triage(&self, environment: &str, now: UnixTime) -> Result<TriageMap, StoreError> {
        let doing = || format!("reading the triage of {environment}");
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT anomaly, state, until FROM anomaly_triage \
                 WHERE env = ?1 AND (until IS NULL OR until > ?2)",
            )
            .map_err(sql(doing()))?;
        let rows = statement
            .query_map(params![environment, now.0], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Option<i64>>(2)?,
                ))
            })
            .map_err(sql(doing()))?;
        let mut map = TriageMap::new();
        for row in rows {
            let (anomaly, state, until) = row.map_err(sql(doing()))?;
            let state = match (state.as_str(), until) {
                ("acknowledged", None) => TriageState::Acknowledged,
                ("suppressed", Some(until)) => TriageState::Suppressed {
                    until: UnixTime(until),
                },
                _ => {
                    return Err(StoreError::Corrupt {
                        table: "anomaly_triage",
                        environment: environment.to_owned(),
                        detail: format!("{anomaly}: state {state:?} with until {until:?}"),
                    });
                }
            };
            map.insert(anomaly, state);
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixTime = UnixTime(1_795_593_600);

    #[test]
    fn triage_survives_a_reopen_per_environment_and_suppressions_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fleetid.sqlite3");
        {
            let mut store = Store::open(&path).unwrap();
            store
                .set_triage("prod", "v-1", Some(TriageState::Acknowledged), NOW)
                .unwrap();
            let until = UnixTime(NOW.0 + 3_600);
            store
                .set_triage("prod", "v-2", Some(TriageState::Suppressed { until }), NOW)
                .unwrap();
            store
                .set_triage("lab", "v-3", Some(TriageState::Acknowledged), NOW)
                .unwrap();
            // A snapshot save replaces the fleet tables, not the triage.
            store
                .save("prod", &crate::model::FleetState::new(), NOW)
                .unwrap();
        }
        let mut store = Store::open(&path).unwrap();
        let prod = store.triage("prod", NOW).unwrap();
        assert_eq!(prod.len(), 2);
        assert_eq!(prod["v-1"], TriageState::Acknowledged);
        assert_eq!(
            prod["v-2"],
            TriageState::Suppressed {
                until: UnixTime(NOW.0 + 3_600)
            }
        );
        assert_eq!(store.triage("lab", NOW).unwrap().len(), 1);
        // At its time the suppression is over.
        let later = UnixTime(NOW.0 + 3_600);
        assert!(!store.triage("prod", later).unwrap().contains_key("v-2"));
        // Reopening removes the acknowledgement.
        store.set_triage("prod", "v-1", None, later).unwrap();
        assert!(store.triage("prod", NOW).unwrap().is_empty());
    }
}
