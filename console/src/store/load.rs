//! Restoring the snapshot of one environment: the base blocks are decoded on every core as
//! SQLite hands them over, the changes written since replace what they name, and the model
//! is built in one pass ([`FleetState::from_parts`]), not through the update path.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, mpsc};

use rusqlite::{Connection, OptionalExtension};

use super::codec::{DecodeError, Reader};
use super::records::{self, SmallParts, StoredCertificate};
use super::schema::{BLOCK_RECORDS, FORMAT, change, part};
use super::{Store, StoreError};
use crate::model::{CertId, CertificateRecord, FleetParts, FleetState, ThingParts, UnixTime};

/// A restored snapshot.
#[derive(Debug)]
pub struct Snapshot {
    /// The fleet as it was saved (its baseline is the snapshot's version).
    pub state: FleetState,
    /// When it was saved.
    pub saved_at: UnixTime,
}

/// Certificate ids by the name of the policy attached to them.
type Attached = HashMap<Box<str>, Vec<CertId>>;

/// A block decoded into its records.
enum Decoded {
    Certificates(Vec<CertificateRecord>, Attached),
    Things(Vec<ThingParts>),
}

fn decode_block(kind: &str, bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let mut r = Reader::new(bytes);
    if kind == part::CERTIFICATES {
        let mut out = Vec::with_capacity(BLOCK_RECORDS);
        let mut attached: HashMap<&str, Vec<CertId>> = HashMap::new();
        while !r.is_empty() {
            let mut names: [Option<&str>; 4] = [None; 4];
            let mut more: Vec<&str> = Vec::new();
            let mut count = 0;
            let record = records::read_certificate_with(&mut r, |name| {
                match names.get_mut(count) {
                    Some(slot) => *slot = Some(name),
                    None => more.push(name),
                }
                count += 1;
            })?;
            for name in names.into_iter().flatten().chain(more) {
                attached.entry(name).or_default().push(record.id);
            }
            out.push(record);
        }
        let attached = attached
            .into_iter()
            .map(|(name, ids)| (Box::from(name), ids))
            .collect();
        Ok(Decoded::Certificates(out, attached))
    } else {
        let mut out = Vec::with_capacity(BLOCK_RECORDS);
        while !r.is_empty() {
            out.push(records::read_thing(&mut r)?);
        }
        Ok(Decoded::Things(out))
    }
}

type Failure = (&'static str, String);

fn corrupt(table: &'static str) -> impl Fn(DecodeError) -> Failure {
    move |e| (table, e.to_string())
}

/// Everything read from the tables, before the model is built.
#[derive(Default)]
struct Read {
    /// In blocks, in order: the model places them straight from there.
    certificates: Vec<Vec<CertificateRecord>>,
    attached: Attached,
    /// In blocks, in order, like the certificates.
    things: Vec<Vec<ThingParts>>,
    small: SmallParts,
    sources: Vec<(crate::model::Source, crate::model::SourceInfo)>,
}

impl Store {
    /// The snapshot of `environment`, or `None` when there is none (or it was written in
    /// another format).
    ///
    /// # Errors
    /// [`StoreError::Sql`] when reading fails, [`StoreError::Corrupt`] when a block cannot be
    /// understood (the caller then reloads from AWS).
    pub fn load(&self, environment: &str) -> Result<Option<Snapshot>, StoreError> {
        let sql = |source| StoreError::Sql {
            doing: format!("reading the snapshot of {environment}"),
            source,
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
        let read = read_snapshot(&self.connection, environment)
            .map_err(sql)?
            .map_err(|(table, detail)| StoreError::Corrupt {
                table,
                environment: environment.to_owned(),
                detail,
            })?;
        let mut state = FleetState::from_parts(into_parts(read));
        state.mark_saved(u64::try_from(version).unwrap_or(0));
        Ok(Some(Snapshot {
            state,
            saved_at: UnixTime(saved_at),
        }))
    }
}

/// The policies' certificate sets from the names each certificate carries.
fn into_parts(read: Read) -> FleetParts {
    let Read {
        certificates: records,
        mut attached,
        things,
        small,
        sources,
    } = read;
    let mut policies = small.policies;
    for policy in &mut policies {
        if let Some(mut ids) = attached.remove(&policy.name) {
            ids.sort_unstable();
            policy.certificates = ids.into_iter().collect::<BTreeSet<_>>();
        }
    }
    FleetParts {
        certificates: records,
        things,
        cas: small.cas,
        policies,
        groups: small.groups,
        anomalies: small.anomalies,
        sources,
    }
}

fn read_snapshot(db: &Connection, env: &str) -> rusqlite::Result<Result<Read, Failure>> {
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let mut read = Read::default();
    let mut small = None;
    let mut sources = None;
    let mut failure: Option<Failure> = None;
    let mut cert_blocks: Vec<(i64, Vec<CertificateRecord>)> = Vec::new();
    let mut thing_blocks: Vec<(i64, Vec<ThingParts>)> = Vec::new();
    // SQLite hands the blocks over on this thread; the workers decode them meanwhile.
    let (work_tx, work_rx) = mpsc::sync_channel::<(String, i64, Vec<u8>)>(workers * 2);
    let work_rx = Mutex::new(work_rx);
    let scanned = std::thread::scope(|scope| -> rusqlite::Result<()> {
        let (done_tx, done_rx) = mpsc::channel();
        for _ in 0..workers {
            let work_rx = &work_rx;
            let done_tx = done_tx.clone();
            scope.spawn(move || {
                loop {
                    let job = work_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((kind, seq, bytes))) = job else {
                        return;
                    };
                    let _ = done_tx.send((seq, decode_block(&kind, &bytes), kind));
                }
            });
        }
        drop(done_tx);
        let mut stmt = db.prepare("SELECT part, seq, data FROM snapshot_blocks WHERE env = ?1")?;
        let mut rows = stmt.query([env])?;
        while let Some(row) = rows.next()? {
            let kind: String = row.get(0)?;
            let seq: i64 = row.get(1)?;
            let bytes = row.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?;
            match kind.as_str() {
                part::SMALL => {
                    small = Some(records::read_small_parts(&mut Reader::new(bytes)));
                }
                part::SOURCES => sources = Some(records::read_sources(&mut Reader::new(bytes))),
                part::CERTIFICATES | part::THINGS
                    if work_tx.send((kind.clone(), seq, bytes.to_vec())).is_err() =>
                {
                    break;
                }
                _ => {}
            }
        }
        drop(work_tx);
        for (seq, decoded, kind) in done_rx {
            match decoded {
                Ok(Decoded::Certificates(c, attached)) => {
                    cert_blocks.push((seq, c));
                    for (name, ids) in attached {
                        read.attached.entry(name).or_default().extend(ids);
                    }
                }
                Ok(Decoded::Things(t)) => thing_blocks.push((seq, t)),
                Err(e) => {
                    let table = if kind == part::THINGS {
                        "things"
                    } else {
                        "certificates"
                    };
                    failure.get_or_insert((table, e.to_string()));
                }
            }
        }
        Ok(())
    });
    scanned?;
    if let Some(failure) = failure {
        return Ok(Err(failure));
    }
    cert_blocks.sort_unstable_by_key(|(seq, _)| *seq);
    thing_blocks.sort_unstable_by_key(|(seq, _)| *seq);
    read.certificates = cert_blocks.into_iter().map(|(_, block)| block).collect();
    read.things = thing_blocks.into_iter().map(|(_, block)| block).collect();
    read.small = match small.transpose() {
        Ok(small) => small.unwrap_or_default(),
        Err(e) => return Ok(Err(corrupt("small parts")(e))),
    };
    read.sources = match sources.transpose() {
        Ok(sources) => sources.unwrap_or_default(),
        Err(e) => return Ok(Err(corrupt("sources")(e))),
    };
    apply_changes(db, env, read)
}

/// Replaces (or removes) the certificates and things named in `snapshot_changes`.
fn apply_changes(
    db: &Connection,
    env: &str,
    mut read: Read,
) -> rusqlite::Result<Result<Read, Failure>> {
    let mut stmt = db.prepare("SELECT kind, key, data FROM snapshot_changes WHERE env = ?1")?;
    let mut rows = stmt.query([env])?;
    let mut certs: HashMap<CertId, Option<StoredCertificate>> = HashMap::new();
    let mut things: HashMap<Vec<u8>, Option<ThingParts>> = HashMap::new();
    while let Some(row) = rows.next()? {
        let kind: i64 = row.get(0)?;
        let key: Vec<u8> = row.get(1)?;
        let data = row
            .get_ref(2)?
            .as_blob_or_null()
            .map_err(rusqlite::Error::from)?;
        if kind == change::CERTIFICATE {
            let Ok(id) = <[u8; 32]>::try_from(key.as_slice()).map(CertId) else {
                return Ok(Err(("changes", "a certificate id is not 32 bytes".into())));
            };
            let record = data
                .map(|d| records::read_certificate(&mut Reader::new(d)))
                .transpose();
            match record {
                Ok(record) => certs.insert(id, record),
                Err(e) => return Ok(Err(corrupt("changes")(e))),
            };
        } else {
            let record = data
                .map(|d| records::read_thing(&mut Reader::new(d)))
                .transpose();
            match record {
                Ok(record) => things.insert(key, record),
                Err(e) => return Ok(Err(corrupt("changes")(e))),
            };
        }
    }
    if !certs.is_empty() {
        for block in &mut read.certificates {
            block.retain(|c| !certs.contains_key(&c.id));
        }
        for ids in read.attached.values_mut() {
            ids.retain(|id| !certs.contains_key(id));
        }
        let mut changed = Vec::with_capacity(certs.len());
        for cert in certs.into_values().flatten() {
            for name in cert.policies {
                read.attached.entry(name).or_default().push(cert.record.id);
            }
            changed.push(cert.record);
        }
        read.certificates.push(changed);
    }
    if !things.is_empty() {
        for block in &mut read.things {
            block.retain(|t| !things.contains_key(t.record.name.as_bytes()));
        }
        read.things.push(things.into_values().flatten().collect());
    }
    Ok(Ok(read))
}
