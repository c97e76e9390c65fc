//! How each record of the snapshot is encoded (see [`super::codec`]): a device certificate with
//! the names of the policies attached to it, a thing with its principals, and the small
//! parts (CAs, policies, thing groups, anomalies, source states) in one block.

use std::collections::BTreeSet;

use super::codec::{DecodeError, Reader, Writer};
use crate::model::{
    AnomalyRecord, CaRecord, CaStatus, CertFields, CertId, CertStatus, CertificateRecord,
    GroupRecord, KeyKind, PemProblem, PolicyRecord, Severity, Source, SourceInfo, SourceState,
    ThingParts, ThingRecord, UnixTime,
};

/// A certificate as stored: the record and the policies attached to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCertificate {
    pub record: CertificateRecord,
    pub policies: Vec<Box<str>>,
}

fn id(w: &mut Writer, id: &CertId) {
    w.bytes(&id.0);
}

fn read_id(r: &mut Reader<'_>) -> Result<CertId, DecodeError> {
    let b = r.take(32)?;
    Ok(CertId(
        b.try_into().map_err(|_| DecodeError("an id is short"))?,
    ))
}

fn opt_id(w: &mut Writer, v: Option<&CertId>) {
    match v {
        Some(v) => {
            w.u8(1);
            id(w, v);
        }
        None => w.u8(0),
    }
}

fn read_opt_id(r: &mut Reader<'_>) -> Result<Option<CertId>, DecodeError> {
    match r.u8()? {
        0 => Ok(None),
        _ => read_id(r).map(Some),
    }
}

fn pem(w: &mut Writer, parsed: &Result<CertFields, PemProblem>) {
    match parsed {
        Ok(f) => {
            w.u8(0);
            w.i64(f.not_before.0);
            w.i64(f.not_after.0);
            w.str(&f.subject);
            w.shared(&f.issuer);
            w.str(&f.serial.text());
            let (kind, bits) = match f.key {
                KeyKind::Ec { bits } => (0, bits),
                KeyKind::Rsa { bits } => (1, bits),
                KeyKind::Other => (2, 0),
            };
            w.u8(kind);
            w.len(usize::from(bits));
        }
        Err(p) => {
            w.u8(1);
            w.str(&p.reason);
        }
    }
}

fn read_pem(r: &mut Reader<'_>) -> Result<Result<CertFields, PemProblem>, DecodeError> {
    if r.u8()? != 0 {
        return Ok(Err(PemProblem {
            reason: r.str()?.into(),
        }));
    }
    let not_before = UnixTime(r.i64()?);
    let not_after = UnixTime(r.i64()?);
    let subject = r.str()?.into();
    let issuer = r.shared_arc()?;
    let serial = r.str()?.into();
    let kind = r.u8()?;
    let bits = u16::try_from(r.len()?).map_err(|_| DecodeError("key size out of range"))?;
    let key = match kind {
        0 => KeyKind::Ec { bits },
        1 => KeyKind::Rsa { bits },
        _ => KeyKind::Other,
    };
    Ok(Ok(CertFields {
        not_before,
        not_after,
        subject,
        issuer,
        serial,
        key,
    }))
}

pub fn certificate(w: &mut Writer, record: &CertificateRecord, policies: &[&str]) {
    id(w, &record.id);
    w.u8(u8::try_from(record.status.index()).unwrap_or(u8::MAX));
    opt_id(w, record.ca.as_ref());
    w.i64(record.created.0);
    w.i64(record.last_modified.0);
    w.str(&record.generation.text());
    pem(w, &record.parsed);
    w.len(policies.len());
    for p in policies {
        w.shared(p);
    }
}

pub fn read_certificate(r: &mut Reader<'_>) -> Result<StoredCertificate, DecodeError> {
    let mut policies = Vec::new();
    let record = read_certificate_with(r, |name| policies.push(name.into()))?;
    Ok(StoredCertificate { record, policies })
}

/// A certificate record, handing each attached policy's name to `policy` (a block collects
/// them per policy, with no list per certificate).
pub fn read_certificate_with<'a>(
    r: &mut Reader<'a>,
    mut policy: impl FnMut(&'a str),
) -> Result<CertificateRecord, DecodeError> {
    let id = read_id(r)?;
    let status = *CertStatus::ALL
        .get(usize::from(r.u8()?))
        .unwrap_or(&CertStatus::Unknown);
    let ca = read_opt_id(r)?;
    let created = UnixTime(r.i64()?);
    let last_modified = UnixTime(r.i64()?);
    let generation = r.str()?.into();
    let parsed = read_pem(r)?;
    for _ in 0..r.len()? {
        policy(r.shared()?);
    }
    Ok(CertificateRecord {
        id,
        status,
        ca,
        created,
        last_modified,
        generation,
        parsed,
    })
}

pub fn thing<'a>(
    w: &mut Writer,
    name: &str,
    groups: impl ExactSizeIterator<Item = &'a str>,
    firmware: Option<&str>,
    connected: Option<bool>,
    certificates: &[CertId],
) {
    w.str(name);
    w.len(groups.len());
    for g in groups {
        w.shared(g);
    }
    match firmware {
        Some(f) => {
            w.u8(1);
            w.shared(f);
        }
        None => w.u8(0),
    }
    w.u8(match connected {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    });
    w.len(certificates.len());
    for c in certificates {
        id(w, c);
    }
}

pub fn read_thing(r: &mut Reader<'_>) -> Result<ThingParts, DecodeError> {
    let name = r.str()?.into();
    let n = r.len()?;
    let groups = (0..n)
        .map(|_| r.shared().map(Into::into))
        .collect::<Result<_, _>>()?;
    let firmware = match r.u8()? {
        0 => None,
        _ => Some(r.shared()?.into()),
    };
    let connected = match r.u8()? {
        0 => None,
        1 => Some(false),
        _ => Some(true),
    };
    let n = r.len()?;
    let certificates = (0..n).map(|_| read_id(r)).collect::<Result<_, _>>()?;
    Ok(ThingParts {
        record: ThingRecord {
            name,
            groups,
            firmware,
            connected,
        },
        certificates,
    })
}

/// The small parts of a snapshot, decoded.
#[derive(Debug, Default)]
pub struct SmallParts {
    pub cas: Vec<CaRecord>,
    /// Policies without their certificates (those come with each certificate).
    pub policies: Vec<PolicyRecord>,
    pub groups: Vec<GroupRecord>,
    pub anomalies: Vec<AnomalyRecord>,
}

pub fn small_parts<'a>(
    w: &mut Writer,
    cas: impl ExactSizeIterator<Item = &'a CaRecord>,
    policies: impl ExactSizeIterator<Item = &'a PolicyRecord>,
    groups: impl ExactSizeIterator<Item = &'a GroupRecord>,
    anomalies: impl ExactSizeIterator<Item = &'a AnomalyRecord>,
) {
    w.len(cas.len());
    for ca in cas {
        id(w, &ca.id);
        w.shared(ca.status.as_aws_str());
        w.u8(u8::from(ca.auto_registration));
        opt_id(w, ca.parent.as_ref());
        pem(w, &ca.parsed);
    }
    w.len(policies.len());
    for p in policies {
        w.str(&p.name);
        w.str(&p.default_version);
        w.len(p.groups.len());
        for g in &p.groups {
            w.shared(g);
        }
        w.u8(u8::from(p.allows_everything));
    }
    w.len(groups.len());
    for g in groups {
        w.str(&g.name);
        w.opt_str(g.parent.as_deref());
        w.u8(u8::from(g.dynamic));
    }
    w.len(anomalies.len());
    for a in anomalies {
        w.str(&a.id);
        w.shared(a.source.name());
        w.shared(&a.kind);
        w.shared(a.severity.as_str());
        w.opt_str(a.thing.as_deref());
        opt_id(w, a.certificate.as_ref());
        w.str(&a.summary);
        w.i64(a.at.0);
        w.u8(u8::from(a.cleared));
    }
}

pub fn sources<'a>(
    w: &mut Writer,
    sources: impl ExactSizeIterator<Item = (&'a Source, &'a SourceInfo)>,
) {
    w.len(sources.len());
    for (source, info) in sources {
        w.shared(source.name());
        match &info.state {
            SourceState::Fresh => w.u8(0),
            SourceState::Unavailable { reason } => {
                w.u8(1);
                w.str(reason);
            }
            // Saved while loading: the load never finished.
            SourceState::Loading { .. } => {
                w.u8(1);
                w.str("loading was interrupted");
            }
        }
        w.i64(info.fresh_at.map_or(i64::MIN, |t| t.0));
        w.i64(info.reported_at.0);
    }
}

fn read_source(r: &mut Reader<'_>) -> Result<Source, DecodeError> {
    Source::from_name(r.shared()?).ok_or(DecodeError("an unknown source"))
}

pub fn read_small_parts(r: &mut Reader<'_>) -> Result<SmallParts, DecodeError> {
    let mut out = SmallParts::default();
    for _ in 0..r.len()? {
        out.cas.push(CaRecord {
            id: read_id(r)?,
            status: CaStatus::from_aws_str(r.shared()?),
            auto_registration: r.u8()? != 0,
            parent: read_opt_id(r)?,
            parsed: read_pem(r)?,
        });
    }
    for _ in 0..r.len()? {
        let name = r.str()?.into();
        let default_version = r.str()?.into();
        let n = r.len()?;
        let groups = (0..n)
            .map(|_| r.shared().map(Into::into))
            .collect::<Result<_, _>>()?;
        out.policies.push(PolicyRecord {
            name,
            default_version,
            certificates: BTreeSet::new(),
            groups,
            allows_everything: r.u8()? != 0,
        });
    }
    for _ in 0..r.len()? {
        out.groups.push(GroupRecord {
            name: r.str()?.into(),
            parent: r.opt_str()?.map(Into::into),
            dynamic: r.u8()? != 0,
        });
    }
    for _ in 0..r.len()? {
        out.anomalies.push(AnomalyRecord {
            id: r.str()?.into(),
            source: read_source(r)?,
            kind: r.shared()?.into(),
            severity: Severity::from_str_lossy(r.shared()?),
            thing: r.opt_str()?.map(Into::into),
            certificate: read_opt_id(r)?,
            summary: r.str()?.into(),
            at: UnixTime(r.i64()?),
            cleared: r.u8()? != 0,
        });
    }
    Ok(out)
}

pub fn read_sources(r: &mut Reader<'_>) -> Result<Vec<(Source, SourceInfo)>, DecodeError> {
    (0..r.len()?)
        .map(|_| {
            let source = read_source(r)?;
            let state = match r.u8()? {
                0 => SourceState::Fresh,
                _ => SourceState::Unavailable {
                    reason: r.str()?.into(),
                },
            };
            let fresh_at = Some(r.i64()?).filter(|&t| t != i64::MIN).map(UnixTime);
            let reported_at = UnixTime(r.i64()?);
            Ok((
                source,
                SourceInfo {
                    state,
                    fresh_at,
                    reported_at,
                },
            ))
        })
        .collect()
}
