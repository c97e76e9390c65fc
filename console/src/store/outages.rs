//! Sources the endpoint gave a definite no (not answered, not enabled, not permitted), per
//! environment, until they are asked again. A refresh reads them before it loads — so a
//! command does not spend its retry budget on a source known to fail — and writes back what
//! its load left in effect; `doctor` shows them. An outage whose time has passed is ignored
//! on reading (and removed by the next [`Store::set_source_outages`]).

use rusqlite::params;

use super::{Store, StoreError};
use crate::backend::{Source, SourceOutage};
use crate::model::UnixTime;

fn sql(doing: String) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sql { doing, source }
}

impl Store {
    /// The outages of `environment` still in effect at `now`.
    ///
    /// # Errors
    /// [`StoreError::Sql`].
    pub fn source_outages(
        &self,
        environment: &str,
        now: UnixTime,
    ) -> Result<Vec<SourceOutage>, StoreError> {
        let doing = || format!("reading the unavailable sources of {environment}");
        let mut statement = self
            .connection
            .prepare(
                "SELECT source, reason, since, until FROM source_outages \
                 WHERE env = ?1 AND until > ?2 ORDER BY source",
            )
            .map_err(sql(doing()))?;
        let rows = statement
            .query_map(params![environment, now.0], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, i64>(3)?,
                ))
            })
            .map_err(sql(doing()))?;
        let mut outages = Vec::new();
        for row in rows {
            let (name, reason, since, until) = row.map_err(sql(doing()))?;
            // A source this version does not know is not asked for anyway.
            if let Some(source) = Source::from_name(&name) {
                outages.push(SourceOutage {
                    source,
                    reason,
                    since,
                    until,
                });
            }
        }
        Ok(outages)
    }

    /// Replaces the outages of `environment` with `outages`.
    ///
    /// # Errors
    /// [`StoreError::Sql`].
    pub fn set_source_outages(
        &mut self,
        environment: &str,
        outages: &[SourceOutage],
    ) -> Result<(), StoreError> {
        let doing = || format!("saving the unavailable sources of {environment}");
        let tx = self.connection.transaction().map_err(sql(doing()))?;
        tx.execute("DELETE FROM source_outages WHERE env = ?1", [environment])
            .map_err(sql(doing()))?;
        for outage in outages {
            tx.execute(
                "INSERT OR REPLACE INTO source_outages (env, source, reason, since, until) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    environment,
                    outage.source.as_str(),
                    outage.reason,
                    outage.since,
                    outage.until
                ],
            )
            .map_err(sql(doing()))?;
        }
        tx.commit().map_err(sql(doing()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_are_kept_per_environment_until_they_expire() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("cache.sqlite3")).unwrap();
        let ca = SourceOutage {
            source: Source::CaCertificates,
            reason: "iot:ListCACertificates: not answered by this endpoint".into(),
            since: 100,
            until: 1_000,
        };
        let metrics = SourceOutage {
            source: Source::Metrics,
            reason: "cloudwatch:GetMetricData: not answered by this endpoint".into(),
            since: 100,
            until: 500,
        };
        store
            .set_source_outages("moto", &[ca.clone(), metrics.clone()])
            .unwrap();
        store.set_source_outages("prod", &[]).unwrap();
        assert_eq!(
            store.source_outages("moto", UnixTime(400)).unwrap(),
            vec![ca.clone(), metrics]
        );
        assert_eq!(
            store.source_outages("moto", UnixTime(500)).unwrap(),
            vec![ca]
        );
        assert!(
            store
                .source_outages("prod", UnixTime(400))
                .unwrap()
                .is_empty()
        );
        store.set_source_outages("moto", &[]).unwrap();
        assert!(
            store
                .source_outages("moto", UnixTime(0))
                .unwrap()
                .is_empty()
        );
    }
}
