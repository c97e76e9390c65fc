//! Saving a fleet state as the snapshot of one environment (one transaction: a reader sees
//! the old snapshot or the new one, never a mix).

use rusqlite::{Transaction, params};

use super::schema::TABLES;
use super::{Store, StoreError};
use crate::model::{CertFields, FleetState, PemProblem, SourceState, UnixTime};

fn sql(doing: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> StoreError {
    let doing = doing.into();
    move |source| StoreError::Sql { doing, source }
}

/// The PEM columns: not_before, not_after, subject, issuer, serial, key, pem_problem.
type PemColumns<'a> = (
    Option<i64>,
    Option<i64>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<String>,
    Option<&'a str>,
);

fn pem_columns(parsed: &Result<CertFields, PemProblem>) -> PemColumns<'_> {
    match parsed {
        Ok(f) => (
            Some(f.not_before.0),
            Some(f.not_after.0),
            Some(&f.subject),
            Some(&f.issuer),
            Some(&f.serial),
            Some(f.key.label()),
            None,
        ),
        Err(p) => (None, None, None, None, None, None, Some(&p.reason)),
    }
}

impl Store {
    /// Replaces the snapshot of `environment` with `state`, stamped `saved_at`.
    ///
    /// # Errors
    /// [`StoreError::Sql`] naming what was being saved.
    pub fn save(
        &mut self,
        environment: &str,
        state: &FleetState,
        saved_at: UnixTime,
    ) -> Result<(), StoreError> {
        let tx = self
            .connection
            .transaction()
            .map_err(sql("starting a transaction"))?;
        for table in TABLES {
            tx.execute(
                &format!("DELETE FROM {table} WHERE env = ?1"),
                [environment],
            )
            .map_err(sql(format!("clearing {table} of {environment}")))?;
        }
        save_certificates(&tx, environment, state)?;
        save_registry(&tx, environment, state)?;
        tx.execute(
            "INSERT INTO snapshots (env, saved_at) VALUES (?1, ?2)",
            params![environment, saved_at.0],
        )
        .map_err(sql("stamping the snapshot"))?;
        tx.commit()
            .map_err(sql(format!("committing the snapshot of {environment}")))
    }
}

fn save_certificates(
    tx: &Transaction<'_>,
    env: &str,
    state: &FleetState,
) -> Result<(), StoreError> {
    let doing = || format!("saving certificates of {env}");
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO certificates (env, id, status, ca, created, last_modified, generation,
             not_before, not_after, subject, issuer, serial, key, pem_problem)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )
        .map_err(sql(doing()))?;
    for cert in state.certificates() {
        let r = cert.record;
        let (nb, na, subject, issuer, serial, key, problem) = pem_columns(&r.parsed);
        insert
            .execute(params![
                env,
                &r.id.0[..],
                r.status.as_aws_str(),
                r.ca.as_ref().map(|c| &c.0[..]),
                r.created.0,
                r.last_modified.0,
                &*r.generation,
                nb,
                na,
                subject,
                issuer,
                serial,
                key,
                problem
            ])
            .map_err(sql(doing()))?;
    }
    let mut ca_insert = tx
        .prepare_cached(
            "INSERT INTO cas (env, id, status, auto_registration, parent, not_before, not_after,
             subject, issuer, serial, key, pem_problem)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )
        .map_err(sql(format!("saving CAs of {env}")))?;
    for ca in state.cas().values() {
        let (nb, na, subject, issuer, serial, key, problem) = pem_columns(&ca.parsed);
        ca_insert
            .execute(params![
                env,
                &ca.id.0[..],
                ca.status.as_aws_str(),
                ca.auto_registration,
                ca.parent.as_ref().map(|c| &c.0[..]),
                nb,
                na,
                subject,
                issuer,
                serial,
                key,
                problem
            ])
            .map_err(sql(format!("saving CAs of {env}")))?;
    }
    Ok(())
}

fn save_registry(tx: &Transaction<'_>, env: &str, state: &FleetState) -> Result<(), StoreError> {
    let things = || format!("saving things of {env}");
    let mut thing_insert = tx
        .prepare_cached(
            "INSERT INTO things (env, name, groups, firmware, connected) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(sql(things()))?;
    let mut link_insert = tx
        .prepare_cached("INSERT INTO attachments (env, certificate, thing) VALUES (?1, ?2, ?3)")
        .map_err(sql(things()))?;
    for thing in state.things() {
        thing_insert
            .execute(params![
                env,
                thing.name,
                thing.groups.join("\n"),
                thing.firmware,
                thing.connected
            ])
            .map_err(sql(things()))?;
        for cert in &thing.certificates {
            link_insert
                .execute(params![env, &cert.0[..], thing.name])
                .map_err(sql(things()))?;
        }
    }
    for policy in state.policies().values() {
        let certs: Vec<String> = policy
            .certificates
            .iter()
            .map(ToString::to_string)
            .collect();
        let groups: Vec<&str> = policy.groups.iter().map(AsRef::as_ref).collect();
        tx.execute(
            "INSERT INTO policies (env, name, default_version, certificates, groups, allows_everything)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                env,
                &*policy.name,
                &*policy.default_version,
                certs.join("\n"),
                groups.join("\n"),
                policy.allows_everything
            ],
        )
        .map_err(sql(format!("saving policies of {env}")))?;
    }
    for group in state.groups().values() {
        tx.execute(
            "INSERT INTO thing_groups (env, name, parent, dynamic) VALUES (?1, ?2, ?3, ?4)",
            params![env, &*group.name, group.parent.as_deref(), group.dynamic],
        )
        .map_err(sql(format!("saving thing groups of {env}")))?;
    }
    for a in state.anomalies().values() {
        tx.execute(
            "INSERT INTO anomalies (env, id, source, kind, severity, thing, certificate, summary, at, cleared)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                env,
                &*a.id,
                a.source.name(),
                &*a.kind,
                a.severity.as_str(),
                a.thing.as_deref(),
                a.certificate.as_ref().map(|c| &c.0[..]),
                &*a.summary,
                a.at.0,
                a.cleared
            ],
        )
        .map_err(sql(format!("saving anomalies of {env}")))?;
    }
    for (source, info) in state.sources() {
        let (label, reason) = match &info.state {
            SourceState::Fresh => ("fresh", None),
            SourceState::Loading { .. } => ("loading", None),
            SourceState::Unavailable { reason } => ("unavailable", Some(&**reason)),
        };
        tx.execute(
            "INSERT INTO sources (env, source, state, reason, fresh_at, reported_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                env,
                source.name(),
                label,
                reason,
                info.fresh_at.map(|t| t.0),
                info.reported_at.0
            ],
        )
        .map_err(sql(format!("saving source states of {env}")))?;
    }
    Ok(())
}
