//! Building a [`FleetState`] in one pass from whole record sets (the store's snapshot), not
//! through [`FleetState::apply`]: records go into their slots, then every index and aggregate
//! is computed once, without the retract-and-account bookkeeping an update needs.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use super::aggregates::{Cohort, ExpiryHistogram};
use super::ids::{CertId, Day, SlotHasher};
use super::records::{CaRecord, CertificateRecord, GroupRecord, PolicyRecord, ThingRecord};
use super::slot_list::SlotList;
use super::state::{CertSlot, FleetState, SourceInfo, ThingSlot};
use super::status::CertStatus;
use super::update::{AnomalyRecord, Source};

/// A thing and the certificates attached to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThingParts {
    /// The thing.
    pub record: ThingRecord,
    /// Its principals (certificate ids).
    pub certificates: Vec<CertId>,
}

/// A whole fleet as record sets.
#[derive(Debug, Clone, Default)]
pub struct FleetParts {
    /// Device certificates in blocks, as a store reads them (a later duplicate id replaces an
    /// earlier one): placed straight from the blocks, with no concatenated copy of a million
    /// records on the way.
    pub certificates: Vec<Vec<CertificateRecord>>,
    /// Things with their attachments, in blocks like the certificates.
    pub things: Vec<Vec<ThingParts>>,
    /// Registered CAs.
    pub cas: Vec<CaRecord>,
    /// Policies with the certificates and groups they are attached to.
    pub policies: Vec<PolicyRecord>,
    /// Thing groups.
    pub groups: Vec<GroupRecord>,
    /// Anomalies, cleared ones included.
    pub anomalies: Vec<AnomalyRecord>,
    /// Freshness of each source.
    pub sources: Vec<(Source, SourceInfo)>,
}

impl FleetState {
    /// The fleet made of `parts`, aggregates computed once. Records are placed by sorting, not
    /// hashing; the look-up tables by id and name are built on first use.
    #[must_use]
    pub fn from_parts(parts: FleetParts) -> Self {
        let mut certs = Vec::with_capacity(parts.certificates.iter().map(Vec::len).sum());
        for block in parts.certificates {
            certs.extend(block.into_iter().map(|record| CertSlot {
                id: record.id,
                record: Some(record),
                things: SlotList::default(),
            }));
        }
        let mut state = Self {
            certs: later_duplicates_replace_earlier(certs),
            ..Self::default()
        };
        state.place_things(parts.things);
        state.index_certificates();
        state.cas = parts.cas.into_iter().map(|r| (r.id, r)).collect();
        state.policies = parts
            .policies
            .into_iter()
            .map(|p| (p.name.clone(), p))
            .collect();
        state.groups = parts
            .groups
            .into_iter()
            .map(|g| (g.name.clone(), g))
            .collect();
        state.anomalies = parts
            .anomalies
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
        state.sources = parts.sources.into_iter().collect();
        state
    }

    /// Places the things (the first of a name wins) and links them with their certificates:
    /// the wanted ids, sorted, are merged with the certificates' ids, sorted; an id no
    /// certificate has gets a placeholder slot.
    fn place_things(&mut self, things: Vec<Vec<ThingParts>>) {
        let keep = first_of_each_name(&things);
        let count = things.iter().map(Vec::len).sum();
        self.things.reserve(count);
        // (certificate id, thing slot)
        let mut wanted: Vec<(CertId, u32)> = Vec::with_capacity(count);
        for (index, parts) in things.into_iter().flatten().enumerate() {
            if keep.as_ref().is_some_and(|keep| !keep[index]) {
                continue;
            }
            let ThingParts {
                record,
                certificates,
            } = parts;
            let slot = u32::try_from(self.things.len()).unwrap_or(u32::MAX);
            let groups = record.groups.iter().map(|g| self.names.intern(g)).collect();
            let firmware = record.firmware.as_deref().map(|f| self.names.intern(f));
            wanted.extend(certificates.into_iter().map(|id| (id, slot)));
            self.things.push(ThingSlot {
                name: record.name,
                present: true,
                certs: SlotList::default(),
                groups,
                firmware,
                connected: record.connected,
                last_seen: None,
            });
        }
        wanted.sort_unstable();
        let known = sorted_ids(&self.certs);
        // (certificate slot, thing slot)
        let mut links: Vec<(u32, u32)> = Vec::with_capacity(wanted.len());
        let mut next = 0;
        let mut placeholder: Option<(CertId, u32)> = None;
        for (id, thing) in wanted {
            while known.get(next).is_some_and(|(k, _)| *k < id) {
                next += 1;
            }
            let cert = match (known.get(next), placeholder) {
                (Some(&(k, slot)), _) if k == id => slot,
                (_, Some((p, slot))) if p == id => slot,
                _ => {
                    let slot = u32::try_from(self.certs.len()).unwrap_or(u32::MAX);
                    self.certs.push(CertSlot {
                        id,
                        record: None,
                        things: SlotList::default(),
                    });
                    placeholder = Some((id, slot));
                    slot
                }
            };
            links.push((cert, thing));
        }
        links.sort_unstable_by_key(|&(cert, thing)| (thing, cert));
        links.dedup();
        for group in links.chunk_by(|a, b| a.1 == b.1) {
            self.things[group[0].1 as usize].certs = group.iter().map(|&(c, _)| c).collect();
        }
        links.sort_unstable();
        for group in links.chunk_by(|a, b| a.0 == b.0) {
            self.certs[group[0].0 as usize].things = group.iter().map(|&(_, t)| t).collect();
        }
    }

    /// The aggregates from every certificate at once (the secondary indexes are built on
    /// first use, see [`super::indexes`]).
    fn index_certificates(&mut self) {
        let mut buckets: HashMap<(Cohort, Day), u64, BuildHasherDefault<SlotHasher>> =
            HashMap::default();
        let mut cohorts: Vec<Cohort> = Vec::new();
        for cert in &self.certs {
            let Some(record) = cert.record.as_ref() else {
                continue;
            };
            let status = record.status;
            self.status_counts.add(status, 1);
            if let Some(ca) = record.ca {
                self.per_ca.entry(ca).or_default()[status.index()] += 1;
            }
            let Some(day) = record.parsed.as_ref().ok().map(|f| f.not_after.day()) else {
                self.unreadable_pems += 1;
                continue;
            };
            if status != CertStatus::Active {
                continue;
            }
            cohorts.clear();
            cohorts.push(Cohort::All);
            cohorts.extend(record.ca.map(Cohort::Ca));
            for &t in &cert.things {
                let thing = &self.things[t as usize];
                cohorts.extend(thing.groups.iter().map(|&g| Cohort::Group(g)));
                cohorts.extend(thing.firmware.map(Cohort::Firmware));
            }
            cohorts.sort_unstable();
            cohorts.dedup();
            for &cohort in &cohorts {
                *buckets.entry((cohort, day)).or_insert(0) += 1;
            }
        }
        self.histogram = ExpiryHistogram::from_counts(buckets);
    }
}

/// Every certificate slot's id with its slot, sorted by id.
fn sorted_ids(certs: &[CertSlot]) -> Vec<(CertId, u32)> {
    let mut ids: Vec<(CertId, u32)> = certs
        .iter()
        .enumerate()
        .map(|(slot, c)| (c.id, u32::try_from(slot).unwrap_or(u32::MAX)))
        .collect();
    ids.sort_unstable();
    ids
}

/// `records` with each id once: a later record of an id replaces an earlier one, in the
/// earlier one's place.
fn later_duplicates_replace_earlier(records: Vec<CertSlot>) -> Vec<CertSlot> {
    let mut ids: Vec<(CertId, usize)> = records.iter().map(|r| r.id).zip(0..).collect();
    ids.sort_unstable();
    if !ids.windows(2).any(|w| w[0].0 == w[1].0) {
        return records;
    }
    let mut places: Vec<Option<CertSlot>> = records.into_iter().map(Some).collect();
    for run in ids.chunk_by(|a, b| a.0 == b.0).filter(|run| run.len() > 1) {
        let latest = places[run[run.len() - 1].1].take();
        for &(_, index) in &run[1..] {
            places[index] = None;
        }
        places[run[0].1] = latest;
    }
    places.into_iter().flatten().collect()
}

/// Which things to keep when a name repeats (the first of each name), or `None` when every
/// name is distinct — found by sorting the names' hashes, not by a table of names.
fn first_of_each_name(blocks: &[Vec<ThingParts>]) -> Option<Vec<bool>> {
    let hash = |name: &str| {
        let mut hasher = std::hash::DefaultHasher::new();
        name.hash(&mut hasher);
        hasher.finish()
    };
    let names: Vec<&str> = blocks.iter().flatten().map(|t| &*t.record.name).collect();
    let mut hashes: Vec<(u64, usize)> = names.iter().map(|name| hash(name)).zip(0..).collect();
    hashes.sort_unstable();
    let mut keep: Option<Vec<bool>> = None;
    for run in hashes
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|run| run.len() > 1)
    {
        for (k, &(_, later)) in run.iter().enumerate() {
            if run[..k]
                .iter()
                .any(|&(_, earlier)| names[earlier] == names[later])
            {
                keep.get_or_insert_with(|| vec![true; names.len()])[later] = false;
            }
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FleetUpdate, HealthPolicy, UnixTime, synthetic};

    const NOW: UnixTime = UnixTime(1_795_000_000);

    fn parts(certificates: Vec<CertificateRecord>, things: Vec<ThingParts>) -> FleetParts {
        FleetParts {
            certificates: vec![certificates],
            things: vec![things],
            cas: synthetic::cas(NOW),
            ..FleetParts::default()
        }
    }

    fn thing(i: usize, certificates: Vec<CertId>) -> ThingParts {
        ThingParts {
            record: synthetic::thing(i),
            certificates,
        }
    }

    /// What a user of the model sees of every certificate and thing, slot numbers aside.
    fn seen(state: &FleetState) -> (Vec<String>, Vec<String>) {
        let mut certs: Vec<String> = state
            .certificates()
            .map(|c| {
                let mut things: Vec<&str> = c.things().collect();
                things.sort_unstable();
                format!(
                    "{:?} {things:?} {:?} {:?}",
                    c.record,
                    c.groups(),
                    c.firmware()
                )
            })
            .collect();
        certs.sort();
        let mut things: Vec<String> = state
            .things()
            .map(|t| {
                let mut ids = t.certificates.clone();
                ids.sort_unstable();
                let by_name = state.thing(t.name).map(|v| v.name);
                format!(
                    "{} {ids:?} {:?} {:?} {by_name:?}",
                    t.name, t.groups, t.firmware
                )
            })
            .collect();
        things.sort();
        (certs, things)
    }

    #[test]
    fn a_bulk_build_with_repeats_and_unknown_ids_equals_the_update_path() {
        let unknown = synthetic::cert_id(999);
        let mut replaced = synthetic::certificate(5, NOW);
        replaced.status = CertStatus::Revoked;
        let mut renamed_group = synthetic::thing(7);
        renamed_group.groups = vec!["later".into()];
        let mut certificates: Vec<CertificateRecord> =
            (0..10).map(|i| synthetic::certificate(i, NOW)).collect();
        certificates.push(replaced.clone());
        let mut things: Vec<ThingParts> = (0..10)
            .map(|i| thing(i, vec![synthetic::cert_id(i)]))
            .collect();
        // A later thing of a known name is ignored; ids no certificate has get placeholders,
        // shared by the things that name them; a repeated id is one link.
        things.push(ThingParts {
            record: renamed_group,
            certificates: vec![unknown],
        });
        things.push(thing(10, vec![unknown, unknown, synthetic::cert_id(3)]));
        things.push(thing(11, vec![unknown]));
        let built = FleetState::from_parts(parts(certificates, things));

        let mut updated = FleetState::new();
        updated.apply(FleetUpdate::Cas(synthetic::cas(NOW)));
        let mut records: Vec<CertificateRecord> =
            (0..10).map(|i| synthetic::certificate(i, NOW)).collect();
        records[5] = replaced;
        updated.apply(FleetUpdate::Certificates(records));
        updated.apply(FleetUpdate::Things((0..12).map(synthetic::thing).collect()));
        let mut links: Vec<(CertId, Vec<Box<str>>)> = (0..10)
            .map(|i| (synthetic::cert_id(i), vec![synthetic::thing(i).name]))
            .collect();
        links[3].1.push(synthetic::thing(10).name);
        links.push((
            unknown,
            vec![synthetic::thing(10).name, synthetic::thing(11).name],
        ));
        updated.apply(FleetUpdate::Attachments(links));

        assert_eq!(seen(&built), seen(&updated));
        assert_eq!(built.certificates().count(), 10);
        assert!(built.certificate(&unknown).is_none());
        assert_eq!(
            built
                .certificate(&synthetic::cert_id(5))
                .map(|c| c.record.status),
            Some(CertStatus::Revoked)
        );
        assert_eq!(built.status_counts(), updated.status_counts());
        assert_eq!(built.summary(), updated.summary());
        assert_eq!(
            built.health(NOW, HealthPolicy::default()),
            updated.health(NOW, HealthPolicy::default())
        );
    }
}
