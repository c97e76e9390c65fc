//! Restoring the snapshot of one environment into a fresh [`FleetState`].

use rusqlite::{Connection, Row};

use super::{Store, StoreError};
use crate::model::{
    AnomalyRecord, CaRecord, CaStatus, CertFields, CertId, CertStatus, CertificateRecord,
    FleetState, FleetUpdate, GroupRecord, KeyKind, PemProblem, PolicyRecord, Severity, Source,
    SourceState, ThingRecord, UnixTime,
};

/// A restored snapshot.
#[derive(Debug)]
pub struct Snapshot {
    /// The fleet as it was saved.
    pub state: FleetState,
    /// When it was saved.
    pub saved_at: UnixTime,
}

fn key_from_label(label: &str) -> KeyKind {
    let bits = |rest: &str| rest.parse().unwrap_or(0);
    if let Some(rest) = label.strip_prefix("EC-") {
        KeyKind::Ec { bits: bits(rest) }
    } else if let Some(rest) = label.strip_prefix("RSA-") {
        KeyKind::Rsa { bits: bits(rest) }
    } else {
        KeyKind::Other
    }
}

fn id_from(bytes: &[u8]) -> Option<CertId> {
    <[u8; 32]>::try_from(bytes).ok().map(CertId)
}

/// Reads the PEM columns starting at `first` (not_before .. pem_problem).
fn pem_from(row: &Row<'_>, first: usize) -> rusqlite::Result<Result<CertFields, PemProblem>> {
    let problem: Option<String> = row.get(first + 6)?;
    if let Some(reason) = problem {
        return Ok(Err(PemProblem {
            reason: reason.into(),
        }));
    }
    Ok(Ok(CertFields {
        not_before: UnixTime(row.get::<_, Option<i64>>(first)?.unwrap_or(0)),
        not_after: UnixTime(row.get::<_, Option<i64>>(first + 1)?.unwrap_or(0)),
        subject: row
            .get::<_, Option<String>>(first + 2)?
            .unwrap_or_default()
            .into(),
        issuer: row
            .get::<_, Option<String>>(first + 3)?
            .unwrap_or_default()
            .into(),
        serial: row
            .get::<_, Option<String>>(first + 4)?
            .unwrap_or_default()
            .into(),
        key: key_from_label(&row.get::<_, Option<String>>(first + 5)?.unwrap_or_default()),
    }))
}

fn lines(text: &str) -> Vec<Box<str>> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(Into::into)
        .collect()
}

impl Store {
    /// The snapshot of `environment`, or `None` when there is none.
    ///
    /// # Errors
    /// [`StoreError::Sql`] when reading fails, [`StoreError::Corrupt`] when a row cannot be
    /// understood (the caller then reloads from AWS).
    pub fn load(&self, environment: &str) -> Result<Option<Snapshot>, StoreError> {
        let Some(saved_at) = self.saved_at(environment)? else {
            return Ok(None);
        };
        let updates =
            read_updates(&self.connection, environment).map_err(|source| StoreError::Sql {
                doing: format!("reading the snapshot of {environment}"),
                source,
            })?;
        let mut state = FleetState::new();
        for update in updates {
            let update = update.map_err(|(table, detail)| StoreError::Corrupt {
                table,
                environment: environment.to_owned(),
                detail,
            })?;
            state.apply(update);
        }
        Ok(Some(Snapshot { state, saved_at }))
    }
}

type Decoded = Result<FleetUpdate, (&'static str, String)>;

fn read_updates(db: &Connection, env: &str) -> rusqlite::Result<Vec<Decoded>> {
    let mut out: Vec<Decoded> = Vec::new();
    let corrupt = |table: &'static str, what: &str| Err((table, what.to_owned()));

    let mut stmt = db.prepare(
        "SELECT id, status, auto_registration, parent, not_before, not_after, subject, issuer,
         serial, key, pem_problem FROM cas WHERE env = ?1",
    )?;
    let cas: Vec<Option<CaRecord>> = stmt
        .query_map([env], |row| {
            let id = id_from(&row.get::<_, Vec<u8>>(0)?);
            Ok(id.map(|id| -> rusqlite::Result<CaRecord> {
                Ok(CaRecord {
                    id,
                    status: CaStatus::from_aws_str(&row.get::<_, String>(1)?),
                    auto_registration: row.get(2)?,
                    parent: row.get::<_, Option<Vec<u8>>>(3)?.and_then(|b| id_from(&b)),
                    parsed: pem_from(row, 4)?,
                })
            }))
        })?
        .map(|r| r.and_then(Option::transpose))
        .collect::<rusqlite::Result<_>>()?;
    out.push(match cas.into_iter().collect::<Option<Vec<_>>>() {
        Some(cas) => Ok(FleetUpdate::Cas(cas)),
        None => corrupt("cas", "an id is not 32 bytes"),
    });

    let mut stmt = db.prepare(
        "SELECT id, status, ca, created, last_modified, generation, not_before, not_after,
         subject, issuer, serial, key, pem_problem FROM certificates WHERE env = ?1",
    )?;
    let mut certs = Vec::new();
    let mut rows = stmt.query([env])?;
    while let Some(row) = rows.next()? {
        let Some(id) = id_from(&row.get::<_, Vec<u8>>(0)?) else {
            out.push(corrupt("certificates", "an id is not 32 bytes"));
            continue;
        };
        certs.push(CertificateRecord {
            id,
            status: CertStatus::from_aws_str(&row.get::<_, String>(1)?),
            ca: row.get::<_, Option<Vec<u8>>>(2)?.and_then(|b| id_from(&b)),
            created: UnixTime(row.get(3)?),
            last_modified: UnixTime(row.get(4)?),
            generation: row.get::<_, String>(5)?.into(),
            parsed: pem_from(row, 6)?,
        });
    }
    out.push(Ok(FleetUpdate::Certificates(certs)));

    let mut stmt =
        db.prepare("SELECT name, groups, firmware, connected FROM things WHERE env = ?1")?;
    let things = stmt
        .query_map([env], |row| {
            Ok(ThingRecord {
                name: row.get::<_, String>(0)?.into(),
                groups: lines(&row.get::<_, String>(1)?),
                firmware: row.get::<_, Option<String>>(2)?.map(Into::into),
                connected: row.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    out.push(Ok(FleetUpdate::Things(things)));

    let mut stmt = db.prepare(
        "SELECT certificate, thing FROM attachments WHERE env = ?1 ORDER BY certificate",
    )?;
    let mut links: Vec<(CertId, Vec<Box<str>>)> = Vec::new();
    let mut rows = stmt.query([env])?;
    while let Some(row) = rows.next()? {
        let Some(cert) = id_from(&row.get::<_, Vec<u8>>(0)?) else {
            out.push(corrupt("attachments", "a certificate id is not 32 bytes"));
            continue;
        };
        let thing: Box<str> = row.get::<_, String>(1)?.into();
        match links.last_mut() {
            Some((last, things)) if *last == cert => things.push(thing),
            _ => links.push((cert, vec![thing])),
        }
    }
    out.push(Ok(FleetUpdate::Attachments(links)));

    read_rest(db, env, &mut out)?;
    Ok(out)
}

fn read_rest(db: &Connection, env: &str, out: &mut Vec<Decoded>) -> rusqlite::Result<()> {
    let mut stmt = db.prepare(
        "SELECT name, default_version, certificates, groups, allows_everything FROM policies WHERE env = ?1",
    )?;
    let policies = stmt
        .query_map([env], |row| {
            Ok(PolicyRecord {
                name: row.get::<_, String>(0)?.into(),
                default_version: row.get::<_, String>(1)?.into(),
                certificates: lines(&row.get::<_, String>(2)?)
                    .iter()
                    .filter_map(|t| CertId::parse(t).ok())
                    .collect(),
                groups: lines(&row.get::<_, String>(3)?).into_iter().collect(),
                allows_everything: row.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    out.push(Ok(FleetUpdate::Policies(policies)));

    let mut stmt = db.prepare("SELECT name, parent, dynamic FROM thing_groups WHERE env = ?1")?;
    let groups = stmt
        .query_map([env], |row| {
            Ok(GroupRecord {
                name: row.get::<_, String>(0)?.into(),
                parent: row.get::<_, Option<String>>(1)?.map(Into::into),
                dynamic: row.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    out.push(Ok(FleetUpdate::Groups(groups)));

    let mut stmt = db.prepare(
        "SELECT id, source, kind, severity, thing, certificate, summary, at, cleared
         FROM anomalies WHERE env = ?1",
    )?;
    let mut anomalies = Vec::new();
    let mut rows = stmt.query([env])?;
    while let Some(row) = rows.next()? {
        let source_name: String = row.get(1)?;
        let Some(source) = Source::from_name(&source_name) else {
            out.push(Err((
                "anomalies",
                format!("unknown source {source_name:?}"),
            )));
            continue;
        };
        anomalies.push(AnomalyRecord {
            id: row.get::<_, String>(0)?.into(),
            source,
            kind: row.get::<_, String>(2)?.into(),
            severity: Severity::from_str_lossy(&row.get::<_, String>(3)?),
            thing: row.get::<_, Option<String>>(4)?.map(Into::into),
            certificate: row.get::<_, Option<Vec<u8>>>(5)?.and_then(|b| id_from(&b)),
            summary: row.get::<_, String>(6)?.into(),
            at: UnixTime(row.get(7)?),
            cleared: row.get(8)?,
        });
    }
    out.push(Ok(FleetUpdate::Anomalies(anomalies)));

    let mut stmt = db.prepare(
        "SELECT source, state, reason, fresh_at, reported_at FROM sources WHERE env = ?1",
    )?;
    let mut rows = stmt.query([env])?;
    while let Some(row) = rows.next()? {
        let name: String = row.get(0)?;
        let Some(source) = Source::from_name(&name) else {
            out.push(Err(("sources", format!("unknown source {name:?}"))));
            continue;
        };
        if let Some(fresh_at) = row.get::<_, Option<i64>>(3)? {
            out.push(Ok(FleetUpdate::SourceStatus {
                source,
                state: SourceState::Fresh,
                at: UnixTime(fresh_at),
            }));
        }
        let state = match row.get::<_, String>(1)?.as_str() {
            "fresh" => None,
            "unavailable" => Some(SourceState::Unavailable {
                reason: row.get::<_, Option<String>>(2)?.unwrap_or_default().into(),
            }),
            // Saved while loading: the load never finished, so no state is claimed.
            _ => Some(SourceState::Unavailable {
                reason: "loading was interrupted".into(),
            }),
        };
        if let Some(state) = state {
            out.push(Ok(FleetUpdate::SourceStatus {
                source,
                state,
                at: UnixTime(row.get(4)?),
            }));
        }
    }
    Ok(())
}
