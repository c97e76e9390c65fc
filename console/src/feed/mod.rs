//! Turns what the backend sends ([`BackendUpdate`]) into model updates ([`FleetUpdate`]):
//! string ids become compact ids, PEM parse results become [`CertFields`] or a
//! [`PemProblem`], Device Defender findings and violations become anomalies, and a few
//! signals fleetid derives itself (refused connections, duplicate client ids, malformed
//! status messages, partially loaded sources) become anomalies too.

mod anomalies;
mod live;

use std::collections::BTreeSet;

use anomalies::{finding, metric_anomaly, violation};

use crate::backend::records::{self as b, PemContents};
use crate::backend::x509::{KeyAlgorithm, ParsedCertificate};
use crate::backend::{BackendUpdate, KnownCertificate, Progress, SnapshotRequest};
use crate::backend::{Source as BSource, SourceState as BState};
use crate::model::{
    AnomalyRecord, CaRecord, CertFields, CertId, CertificateRecord, FleetState, FleetUpdate,
    GroupRecord, KeyKind, PemProblem, PolicyRecord, Severity, Source, SourceState, ThingRecord,
    UnixTime,
};

/// The model's source for a backend source. Thing groups and fleet indexing are part of the
/// model's `things` source: their failures become anomalies instead (see `fleet_updates`).
fn source(s: BSource) -> Source {
    match s {
        BSource::CaCertificates => Source::CaCertificates,
        BSource::Certificates => Source::Certificates,
        BSource::Things | BSource::ThingGroups | BSource::FleetIndexing => Source::Things,
        BSource::Policies => Source::Policies,
        BSource::DefenderDetect => Source::DefenderDetect,
        BSource::DefenderAudit => Source::DefenderAudit,
        BSource::Metrics => Source::CloudWatch,
        BSource::Live => Source::Live,
    }
}

fn key(parsed: &ParsedCertificate) -> KeyKind {
    let bits = u16::try_from(parsed.key_bits).unwrap_or(u16::MAX);
    match parsed.key_algorithm {
        KeyAlgorithm::Rsa => KeyKind::Rsa { bits },
        KeyAlgorithm::EcP256 => KeyKind::Ec { bits: 256 },
        KeyAlgorithm::EcP384 => KeyKind::Ec { bits: 384 },
        KeyAlgorithm::EcP521 => KeyKind::Ec { bits: 521 },
        KeyAlgorithm::EcOther => KeyKind::Ec { bits },
        KeyAlgorithm::Ed25519 | KeyAlgorithm::Other => KeyKind::Other,
    }
}

fn fields(pem: &PemContents) -> Result<CertFields, PemProblem> {
    match pem {
        PemContents::Parsed(p) => Ok(CertFields {
            not_before: UnixTime(p.not_before),
            not_after: UnixTime(p.not_after),
            subject: p.subject.as_str().into(),
            issuer: p.issuer.as_str().into(),
            serial: p.serial.as_str().into(),
            key: key(p),
        }),
        PemContents::Unreadable(e) => Err(PemProblem {
            reason: e.to_string().into(),
        }),
    }
}

fn derived(
    id: String,
    kind: &str,
    severity: Severity,
    summary: String,
    at: UnixTime,
) -> AnomalyRecord {
    AnomalyRecord {
        id: id.into(),
        source: Source::Live,
        kind: kind.into(),
        severity,
        thing: None,
        certificate: None,
        summary: summary.into(),
        at,
        cleared: false,
    }
}

fn bad_id(kind: &str, id: &str, now: UnixTime) -> AnomalyRecord {
    AnomalyRecord {
        source: Source::Certificates,
        ..derived(
            format!("derived:bad-id:{id}"),
            "MALFORMED_CERTIFICATE_ID",
            Severity::Low,
            format!("{kind} id {id:?} is not 64 hex characters; skipped"),
            now,
        )
    }
}

/// The model updates for one backend update received at `now`.
#[must_use]
pub fn fleet_updates(update: BackendUpdate, now: UnixTime) -> Vec<FleetUpdate> {
    let mut anomalies = Vec::new();
    let mut out = match update {
        BackendUpdate::Progress(p) => vec![progress(p, now)],
        BackendUpdate::CaCertificates(cas) => vec![FleetUpdate::Cas(
            cas.iter()
                .filter_map(|ca| {
                    let Ok(id) = CertId::parse(&ca.id) else {
                        anomalies.push(bad_id("CA certificate", &ca.id, now));
                        return None;
                    };
                    Some(CaRecord {
                        id,
                        status: ca.status,
                        auto_registration: ca.auto_registration,
                        parent: ca
                            .parent_ca_id
                            .as_deref()
                            .and_then(|p| CertId::parse(p).ok()),
                        parsed: fields(&ca.pem),
                    })
                })
                .collect(),
        )],
        BackendUpdate::Certificates(certs) => certificates(&certs, now, &mut anomalies),
        BackendUpdate::CertificatesRemoved(ids) => vec![FleetUpdate::CertificatesRemoved(
            ids.iter().filter_map(|id| CertId::parse(id).ok()).collect(),
        )],
        BackendUpdate::StatusChanged(changes) => vec![FleetUpdate::StatusChanged(
            changes
                .iter()
                .filter_map(|(id, s)| Some((CertId::parse(id).ok()?, *s)))
                .collect(),
        )],
        BackendUpdate::CertificateThings(links) => {
            vec![FleetUpdate::Attachments(certificate_links(&links))]
        }
        BackendUpdate::CertificatePolicies(links) => {
            vec![FleetUpdate::CertificatePolicies(certificate_links(&links))]
        }
        BackendUpdate::Things(things) => {
            vec![FleetUpdate::Things(things.iter().map(thing).collect())]
        }
        BackendUpdate::ThingGroups(groups) => vec![
            FleetUpdate::Groups(
                groups
                    .iter()
                    .map(|g| GroupRecord {
                        name: g.name.as_str().into(),
                        parent: None,
                        dynamic: false,
                    })
                    .collect(),
            ),
            FleetUpdate::GroupPolicies(
                groups
                    .iter()
                    .map(|g| (g.name.as_str().into(), names(&g.policies)))
                    .collect(),
            ),
        ],
        BackendUpdate::Policies(policies) => vec![FleetUpdate::Policies(
            policies
                .iter()
                .map(|p| PolicyRecord {
                    name: p.name.as_str().into(),
                    default_version: "".into(),
                    certificates: BTreeSet::new(),
                    groups: BTreeSet::new(),
                    allows_everything: false,
                })
                .collect(),
        )],
        BackendUpdate::Connectivity(states) => vec![FleetUpdate::Connectivity(
            states
                .iter()
                .map(|c| (c.thing.as_str().into(), c.connected, c.since.map(UnixTime)))
                .collect(),
        )],
        BackendUpdate::Violations(v) => vec![FleetUpdate::Anomalies(
            v.iter().map(|v| violation(v, now)).collect(),
        )],
        BackendUpdate::AuditFindings { findings, pool } => vec![FleetUpdate::Anomalies(
            findings
                .iter()
                .map(|f| finding(f, pool.as_ref(), now))
                .collect(),
        )],
        BackendUpdate::Metrics(series) => {
            anomalies.extend(series.iter().filter_map(|s| metric_anomaly(s, now)));
            Vec::new()
        }
        BackendUpdate::SourceFinished {
            source: s,
            state,
            at,
        } if matches!(s, BSource::ThingGroups | BSource::FleetIndexing) => {
            if let BState::Partial { reason, .. } | BState::Unavailable { reason } = state {
                anomalies.push(AnomalyRecord {
                    source: Source::Things,
                    ..derived(
                        format!("derived:unavailable:{}", s.as_str()),
                        "SOURCE_UNAVAILABLE",
                        Severity::Low,
                        format!("{} not (fully) loaded: {reason}", s.as_str()),
                        UnixTime(at),
                    )
                });
            }
            Vec::new()
        }
        BackendUpdate::SourceFinished {
            source: s,
            state,
            at,
        } => {
            let at = UnixTime(at);
            let state = match state {
                BState::Loaded { .. } => SourceState::Fresh,
                BState::Partial {
                    items,
                    failed,
                    reason,
                } => {
                    anomalies.push(AnomalyRecord {
                        source: source(s),
                        ..derived(
                            format!("derived:partial:{}", source(s).name()),
                            "SOURCE_PARTIALLY_LOADED",
                            Severity::Low,
                            format!(
                                "{} of {} items could not be read: {reason}",
                                failed,
                                items + failed
                            ),
                            at,
                        )
                    });
                    SourceState::Fresh
                }
                BState::Unavailable { reason } => SourceState::Unavailable {
                    reason: reason.into(),
                },
            };
            vec![FleetUpdate::SourceStatus {
                source: source(s),
                state,
                at,
            }]
        }
        BackendUpdate::Live(event) => live::live(event, now, &mut anomalies),
    };
    if !anomalies.is_empty() {
        out.push(FleetUpdate::Anomalies(anomalies));
    }
    out
}

fn progress(p: Progress, now: UnixTime) -> FleetUpdate {
    FleetUpdate::SourceStatus {
        source: Source::Certificates,
        state: SourceState::Loading {
            done: (p.described + p.unchanged) as u64,
            total: p.listing_done.then_some(p.listed as u64),
        },
        at: now,
    }
}

fn certificates(
    certs: &[b::CertificateRecord],
    now: UnixTime,
    anomalies: &mut Vec<AnomalyRecord>,
) -> Vec<FleetUpdate> {
    let mut records = Vec::with_capacity(certs.len());
    let mut links = Vec::with_capacity(certs.len());
    let mut policies = Vec::with_capacity(certs.len());
    for c in certs {
        let Ok(id) = CertId::parse(&c.id) else {
            anomalies.push(bad_id("certificate", &c.id, now));
            continue;
        };
        records.push(CertificateRecord {
            id,
            status: c.status,
            ca: c
                .ca_certificate_id
                .as_deref()
                .and_then(|p| CertId::parse(p).ok()),
            created: UnixTime(c.created.unwrap_or(0)),
            last_modified: UnixTime(c.last_modified.or(c.created).unwrap_or(0)),
            generation: c.generation_id.as_deref().unwrap_or("").into(),
            parsed: fields(&c.pem),
        });
        links.push((id, names(&c.things)));
        policies.push((id, names(&c.policies)));
    }
    vec![
        FleetUpdate::Certificates(records),
        FleetUpdate::Attachments(links),
        FleetUpdate::CertificatePolicies(policies),
    ]
}

/// Certificate id -> names, for the certificates whose id is well formed.
fn certificate_links(links: &[(String, Vec<String>)]) -> Vec<(CertId, Vec<Box<str>>)> {
    links
        .iter()
        .filter_map(|(id, texts)| Some((CertId::parse(id).ok()?, names(texts))))
        .collect()
}

fn names(texts: &[String]) -> Vec<Box<str>> {
    texts.iter().map(|t| t.as_str().into()).collect()
}

fn thing(t: &b::ThingRecord) -> ThingRecord {
    ThingRecord {
        name: t.name.as_str().into(),
        groups: t.groups.iter().map(|g| g.as_str().into()).collect(),
        firmware: t.firmware.as_deref().map(Into::into),
        connected: None,
    }
}

/// What the backend needs to read only what changed: the status and last-modified time of
/// every certificate the (cached) state holds, the CAs it knows, and the certificates each
/// policy is known to be attached to.
#[must_use]
pub fn snapshot_request(state: &FleetState) -> SnapshotRequest {
    SnapshotRequest {
        known_certificates: state
            .certificates()
            .map(|c| {
                (
                    c.record.id.to_string(),
                    KnownCertificate {
                        status: c.record.status,
                        last_modified: Some(c.record.last_modified.0),
                    },
                )
            })
            .collect(),
        known_ca_ids: state.cas().keys().map(ToString::to_string).collect(),
        known_policy_targets: state
            .policies()
            .values()
            .map(|p| {
                (
                    p.name.to_string(),
                    p.certificates.iter().map(ToString::to_string).collect(),
                )
            })
            .collect(),
        outages: Vec::new(),
        sources: Vec::new(),
    }
}
