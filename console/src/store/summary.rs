//! The summary block: the fleet's aggregates ([`FleetSummary`]) written with every save, base
//! or changes, so `status` and the TUI's first frame read a few hundred kilobytes instead of
//! building a model of the whole fleet. It belongs to the snapshot version it was written
//! with; a snapshot without one (written by an older fleetid) has no summary until its next
//! save.

use rusqlite::OptionalExtension;

use super::codec::{DecodeError, Reader, Writer};
use super::records;
use super::schema::{FORMAT, part};
use super::{Store, StoreError};
use crate::model::{
    CertId, CertStatus, Cohort, Day, ExpiryHistogram, FleetSummary, StatusByCa, StatusCounts,
    SummaryCounts, UnixTime,
};

/// A summary restored from the store.
#[derive(Debug)]
pub struct StoredSummary {
    /// The aggregates, with the CAs, anomalies and sources of the snapshot.
    pub summary: FleetSummary,
    /// When the snapshot was saved.
    pub saved_at: UnixTime,
    /// The snapshot version it belongs to.
    pub version: u64,
}

impl Store {
    /// The summary of the snapshot of `environment`, or `None` when there is no snapshot, it
    /// was written in another format, or it has no summary.
    ///
    /// # Errors
    /// [`StoreError::Sql`] when reading fails, [`StoreError::Corrupt`] when a block cannot be
    /// understood.
    pub fn load_summary(&self, environment: &str) -> Result<Option<StoredSummary>, StoreError> {
        let sql = |source| StoreError::Sql {
            doing: format!("reading the summary of {environment}"),
            source,
        };
        let corrupt = |table: &'static str| {
            move |e: DecodeError| StoreError::Corrupt {
                table,
                environment: environment.to_owned(),
                detail: e.to_string(),
            }
        };
        let head: Option<(i64, i64, i64)> = self
            .connection
            .query_row(
                "SELECT saved_at, version, format FROM snapshot_heads WHERE env = ?1",
                [environment],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(sql)?;
        let Some((saved_at, version, FORMAT)) = head else {
            return Ok(None);
        };
        let mut block = self
            .connection
            .prepare_cached("SELECT data FROM snapshot_blocks WHERE env = ?1 AND part = ?2")
            .map_err(sql)?;
        let mut read = |part: &str| -> Result<Option<Vec<u8>>, StoreError> {
            block
                .query_row([environment, part], |r| r.get(0))
                .optional()
                .map_err(sql)
        };
        let Some(counts) = read(part::SUMMARY)? else {
            return Ok(None);
        };
        let counts = read_counts(&mut Reader::new(&counts)).map_err(corrupt("summary"))?;
        let small = read(part::SMALL)?
            .map(|b| records::read_small_parts(&mut Reader::new(&b)))
            .transpose()
            .map_err(corrupt("small parts"))?
            .unwrap_or_default();
        let sources = read(part::SOURCES)?
            .map(|b| records::read_sources(&mut Reader::new(&b)))
            .transpose()
            .map_err(corrupt("sources"))?
            .unwrap_or_default();
        Ok(Some(StoredSummary {
            summary: FleetSummary {
                counts,
                cas: small.cas.into_iter().map(|c| (c.id, c)).collect(),
                anomalies: small
                    .anomalies
                    .into_iter()
                    .map(|a| (a.id.clone(), a))
                    .collect(),
                sources: sources.into_iter().collect(),
            },
            saved_at: UnixTime(saved_at),
            version: u64::try_from(version).unwrap_or(0),
        }))
    }
}

fn count(w: &mut Writer, n: u64) {
    w.len(usize::try_from(n).unwrap_or(usize::MAX));
}

fn read_count(r: &mut Reader<'_>) -> Result<u64, DecodeError> {
    r.len().map(|n| n as u64)
}

fn read_usize(r: &mut Reader<'_>) -> Result<usize, DecodeError> {
    r.len()
}

/// Encodes the counts: status counts, per-CA counts, the histogram one cohort at a time
/// with its days as differences, and the active expiries as differences.
pub fn write_counts(w: &mut Writer, counts: &SummaryCounts) {
    for (_, n) in counts.status_counts.iter() {
        count(w, n);
    }
    count(w, counts.unreadable_pems);
    count(w, counts.things);
    match counts.things_online {
        Some(n) => {
            w.u8(1);
            count(w, n);
        }
        None => w.u8(0),
    }
    w.len(counts.per_ca.len());
    for (id, per_status) in &counts.per_ca {
        w.bytes(&id.0);
        for &n in per_status {
            count(w, n);
        }
    }
    w.len(counts.names.len());
    for name in &counts.names {
        w.str(name);
    }
    let cohorts = counts.histogram.cohorts();
    w.len(cohorts.len());
    for cohort in cohorts {
        match cohort {
            Cohort::All => w.u8(0),
            Cohort::Ca(id) => {
                w.u8(1);
                w.bytes(&id.0);
            }
            Cohort::Group(n) => {
                w.u8(2);
                w.len(n as usize);
            }
            Cohort::Firmware(n) => {
                w.u8(3);
                w.len(n as usize);
            }
        }
        let days: Vec<(Day, u64)> = counts.histogram.all_days(cohort).collect();
        w.len(days.len());
        let mut previous = i64::from(days.first().map_or(0, |(d, _)| d.0));
        w.i64(previous);
        for (day, n) in days {
            w.len(usize::try_from(i64::from(day.0) - previous).unwrap_or(0));
            previous = i64::from(day.0);
            count(w, n);
        }
    }
    let expiries = &counts.active_expiries;
    w.len(expiries.len());
    let mut previous = expiries.first().map_or(0, |t| t.0);
    w.i64(previous);
    for t in expiries {
        w.len(usize::try_from(t.0 - previous).unwrap_or(0));
        previous = t.0;
    }
}

/// Decodes what [`write_counts`] wrote.
pub fn read_counts(r: &mut Reader<'_>) -> Result<SummaryCounts, DecodeError> {
    let mut status_counts = StatusCounts::default();
    for status in CertStatus::ALL {
        status_counts.add(status, i64::try_from(read_count(r)?).unwrap_or(i64::MAX));
    }
    let unreadable_pems = read_count(r)?;
    let things = read_count(r)?;
    let things_online = match r.u8()? {
        0 => None,
        _ => Some(read_count(r)?),
    };
    let mut per_ca = std::collections::BTreeMap::new();
    for _ in 0..read_usize(r)? {
        let id = read_id(r)?;
        let mut per_status: StatusByCa = Default::default();
        for n in &mut per_status {
            *n = read_count(r)?;
        }
        per_ca.insert(id, per_status);
    }
    let names = (0..read_usize(r)?)
        .map(|_| r.str().map(Into::into))
        .collect::<Result<Vec<Box<str>>, _>>()?;
    let mut buckets = Vec::new();
    for _ in 0..read_usize(r)? {
        let cohort = match r.u8()? {
            0 => Cohort::All,
            1 => Cohort::Ca(read_id(r)?),
            2 => Cohort::Group(read_name(r, &names)?),
            3 => Cohort::Firmware(read_name(r, &names)?),
            _ => return Err(DecodeError("an unknown cohort")),
        };
        let days = read_usize(r)?;
        let mut day = r.i64()?;
        for _ in 0..days {
            day += i64::try_from(r.len()?).map_err(|_| DecodeError("a day is out of range"))?;
            let day = i32::try_from(day).map_err(|_| DecodeError("a day is out of range"))?;
            buckets.push(((cohort, Day(day)), read_count(r)?));
        }
    }
    let n = read_usize(r)?;
    let mut active_expiries = Vec::with_capacity(n.min(r.remaining()));
    let mut t = r.i64()?;
    for _ in 0..n {
        t = t.saturating_add(
            i64::try_from(r.len()?).map_err(|_| DecodeError("an expiry is out of range"))?,
        );
        active_expiries.push(UnixTime(t));
    }
    Ok(SummaryCounts {
        status_counts,
        histogram: ExpiryHistogram::from_counts(buckets),
        names,
        per_ca,
        unreadable_pems,
        things,
        things_online,
        active_expiries,
    })
}

fn read_id(r: &mut Reader<'_>) -> Result<CertId, DecodeError> {
    let b = r.take(32)?;
    Ok(CertId(
        b.try_into().map_err(|_| DecodeError("an id is short"))?,
    ))
}

fn read_name(r: &mut Reader<'_>, names: &[Box<str>]) -> Result<u32, DecodeError> {
    let n = r.len()?;
    if n >= names.len() {
        return Err(DecodeError("a cohort names no known group or firmware"));
    }
    u32::try_from(n).map_err(|_| DecodeError("a cohort number is out of range"))
}

#[cfg(test)]
mod tests;
