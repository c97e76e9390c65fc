//! Saving a fleet state as the snapshot of one environment, in one transaction (a reader
//! sees the old snapshot or the new one, never a mix). A state loaded from (or saved to) the
//! current version writes only the certificates and things that changed since; any other
//! state, or one whose changes have piled up, rewrites the base in blocks.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, Transaction, params};

use super::codec::Writer;
use super::records;
use super::schema::{BLOCK_RECORDS, FORMAT, TABLES, change, part};
use super::summary;
use super::{Store, StoreError};
use crate::model::{CertId, CertView, FleetState, UnixTime};

fn sql(doing: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> StoreError {
    let doing = doing.into();
    move |source| StoreError::Sql { doing, source }
}

/// Changes kept beside a base of `base` records before the next save rewrites the base.
fn change_budget(base: i64) -> i64 {
    (base / 8).max(1000)
}

impl Store {
    /// Saves `state` as the snapshot of `environment`, stamped `saved_at`; returns the new
    /// snapshot version (give it to [`FleetState::mark_saved`] when the state lives on).
    ///
    /// # Errors
    /// [`StoreError::Sql`] naming what was being saved.
    pub fn save(
        &mut self,
        environment: &str,
        state: &FleetState,
        saved_at: UnixTime,
    ) -> Result<u64, StoreError> {
        let tx = self
            .connection
            .transaction()
            .map_err(sql("starting a transaction"))?;
        let head: Option<(i64, i64, i64)> = tx
            .query_row(
                "SELECT version, format, base_records FROM snapshot_heads WHERE env = ?1",
                [environment],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(sql(format!(
                "reading the snapshot version of {environment}"
            )))?;
        let pending: i64 = tx
            .query_row(
                "SELECT count(*) FROM snapshot_changes WHERE env = ?1",
                [environment],
                |r| r.get(0),
            )
            .map_err(sql(format!("counting the changes of {environment}")))?;
        let changes = state.changes();
        let incremental = head.and_then(|(version, format, base)| {
            let fits =
                i64::try_from(changes.len()).unwrap_or(i64::MAX) + pending <= change_budget(base);
            (format == FORMAT && state.baseline() == u64::try_from(version).ok() && fits)
                .then_some((version, base))
        });
        let (version, base) = match incremental {
            Some((version, base)) => {
                save_changes(&tx, environment, state)?;
                (version + 1, base)
            }
            None => {
                let base = save_base(&tx, environment, state)?;
                (head.map_or(1, |(v, _, _)| v + 1), base)
            }
        };
        let mut w = Writer::default();
        records::sources(&mut w, state.sources().iter());
        put_block(&tx, environment, part::SOURCES, 0, &w.finish())?;
        let mut w = Writer::default();
        summary::write_counts(&mut w, &state.summary().counts);
        put_block(&tx, environment, part::SUMMARY, 0, &w.finish())?;
        tx.execute(
            "INSERT OR REPLACE INTO snapshot_heads (env, saved_at, version, format, base_records)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![environment, saved_at.0, version, FORMAT, base],
        )
        .map_err(sql("stamping the snapshot"))?;
        tx.commit()
            .map_err(sql(format!("committing the snapshot of {environment}")))?;
        Ok(u64::try_from(version).unwrap_or(0))
    }
}

fn put_block(
    tx: &Transaction<'_>,
    env: &str,
    part: &str,
    seq: usize,
    data: &[u8],
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO snapshot_blocks (env, part, seq, data) VALUES (?1, ?2, ?3, ?4)",
    )
    .and_then(|mut s| {
        s.execute(params![
            env,
            part,
            i64::try_from(seq).unwrap_or(i64::MAX),
            data
        ])
    })
    .map(drop)
    .map_err(sql(format!("saving the {part} of {env}")))
}

fn small_block(state: &FleetState) -> Vec<u8> {
    let mut w = Writer::default();
    records::small_parts(
        &mut w,
        state.cas().values(),
        state.policies().values(),
        state.groups().values(),
        state.anomalies().values(),
    );
    w.finish()
}

/// The names of the policies attached to each certificate.
fn policies_by_certificate(state: &FleetState) -> HashMap<CertId, Vec<&str>> {
    let mut out: HashMap<CertId, Vec<&str>> = HashMap::new();
    for policy in state.policies().values() {
        for id in &policy.certificates {
            out.entry(*id).or_default().push(&policy.name);
        }
    }
    out
}

fn encode_certificate(w: &mut Writer, cert: &CertView<'_>, policies: &[&str]) {
    records::certificate(w, cert.record, policies);
}

fn encode_thing(w: &mut Writer, state: &FleetState, name: &str) -> bool {
    let Some(thing) = state.thing(name) else {
        return false;
    };
    records::thing(
        w,
        thing.name,
        thing.groups.iter().copied(),
        thing.firmware,
        thing.connected,
        &thing.certificates,
    );
    true
}

/// Rewrites the base: every certificate and thing in blocks (encoded on every core), the small
/// parts; no changes left. Returns the number of records in the base.
fn save_base(tx: &Transaction<'_>, env: &str, state: &FleetState) -> Result<i64, StoreError> {
    for table in TABLES {
        tx.execute(&format!("DELETE FROM {table} WHERE env = ?1"), [env])
            .map_err(sql(format!("clearing {table} of {env}")))?;
    }
    let policies = policies_by_certificate(state);
    let certs: Vec<CertView<'_>> = state.certificates().collect();
    let cert_blocks = encode_parallel(&certs.chunks(BLOCK_RECORDS).collect::<Vec<_>>(), |chunk| {
        let mut w = Writer::default();
        for cert in chunk {
            let attached = policies.get(&cert.record.id).map_or(&[][..], Vec::as_slice);
            encode_certificate(&mut w, cert, attached);
        }
        w.finish()
    });
    for (seq, block) in cert_blocks.iter().enumerate() {
        put_block(tx, env, part::CERTIFICATES, seq, block)?;
    }
    drop(cert_blocks);
    let names: Vec<&str> = state.things().map(|t| t.name).collect();
    let thing_blocks = encode_parallel(&names.chunks(BLOCK_RECORDS).collect::<Vec<_>>(), |chunk| {
        let mut w = Writer::default();
        for name in chunk {
            encode_thing(&mut w, state, name);
        }
        w.finish()
    });
    for (seq, block) in thing_blocks.iter().enumerate() {
        put_block(tx, env, part::THINGS, seq, block)?;
    }
    put_block(tx, env, part::SMALL, 0, &small_block(state))?;
    Ok(i64::try_from(certs.len() + names.len()).unwrap_or(i64::MAX))
}

/// Encodes `chunks` on the available cores, in order.
fn encode_parallel<T: Sync>(
    chunks: &[&[T]],
    encode: impl Fn(&[T]) -> Vec<u8> + Sync,
) -> Vec<Vec<u8>> {
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let mut out: Vec<Vec<u8>> = vec![Vec::new(); chunks.len()];
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|k| {
                let encode = &encode;
                scope.spawn(move || {
                    (k..chunks.len())
                        .step_by(workers)
                        .map(|i| (i, encode(chunks[i])))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for handle in handles {
            // A worker only encodes; it cannot panic short of running out of memory.
            if let Ok(blocks) = handle.join() {
                for (i, block) in blocks {
                    out[i] = block;
                }
            }
        }
    });
    out
}

/// Writes one change row per changed certificate and thing (no data: it is gone), and the
/// small parts when they changed.
fn save_changes(tx: &Transaction<'_>, env: &str, state: &FleetState) -> Result<(), StoreError> {
    let changes = state.changes();
    let doing = || format!("saving the changes of {env}");
    let mut put = tx
        .prepare_cached(
            "INSERT OR REPLACE INTO snapshot_changes (env, kind, key, data) VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(sql(doing()))?;
    for id in changes.certificates() {
        let data = state.certificate(id).map(|cert| {
            let attached: Vec<&str> = state
                .policies()
                .values()
                .filter(|p| p.certificates.contains(id))
                .map(|p| &*p.name)
                .collect();
            let mut w = Writer::default();
            encode_certificate(&mut w, &cert, &attached);
            w.finish()
        });
        put.execute(params![env, change::CERTIFICATE, &id.0[..], data])
            .map_err(sql(doing()))?;
    }
    for name in changes.things() {
        let mut w = Writer::default();
        let data = encode_thing(&mut w, state, name).then(|| w.finish());
        put.execute(params![env, change::THING, name.as_bytes(), data])
            .map_err(sql(doing()))?;
    }
    if changes.small_parts() {
        put_block(tx, env, part::SMALL, 0, &small_block(state))?;
    }
    Ok(())
}
