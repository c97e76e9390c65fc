//! Building a [`FleetState`] in one pass from whole record sets (the store's snapshot), not
//! through [`FleetState::apply`]: records go into their slots, then every index and aggregate
//! is computed once, without the retract-and-account bookkeeping an update needs.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::BuildHasherDefault;

use super::aggregates::{Cohort, ExpiryHistogram};
use super::ids::{CertId, Day, SlotHasher};
use super::records::{
    CaRecord, CertStatus, CertificateRecord, GroupRecord, PolicyRecord, ThingRecord,
};
use super::state::{CertSlot, FleetState, SourceInfo, ThingSlot};
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
    /// Device certificates (a later duplicate id replaces an earlier one).
    pub certificates: Vec<CertificateRecord>,
    /// Things with their attachments.
    pub things: Vec<ThingParts>,
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
    /// The fleet made of `parts`, indexes and aggregates computed once.
    #[must_use]
    pub fn from_parts(parts: FleetParts) -> Self {
        let mut state = Self::default();
        state.certs.reserve(parts.certificates.len());
        state.cert_index.reserve(parts.certificates.len());
        for record in parts.certificates {
            let slot = u32::try_from(state.certs.len()).unwrap_or(u32::MAX);
            match state.cert_index.entry(record.id) {
                Entry::Occupied(known) => state.certs[*known.get() as usize].record = Some(record),
                Entry::Vacant(new) => {
                    new.insert(slot);
                    state.certs.push(CertSlot {
                        id: record.id,
                        record: Some(record),
                        things: Box::default(),
                    });
                }
            }
        }
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

    fn place_things(&mut self, things: Vec<ThingParts>) {
        self.things.reserve(things.len());
        self.thing_index.reserve(things.len());
        // (certificate slot, thing slot), grouped by certificate afterwards.
        let mut links: Vec<(u32, u32)> = Vec::with_capacity(things.len());
        for ThingParts {
            record,
            certificates,
        } in things
        {
            if self.thing_index.contains_key(&record.name) {
                continue;
            }
            let slot = u32::try_from(self.things.len()).unwrap_or(u32::MAX);
            let groups = record.groups.iter().map(|g| self.names.intern(g)).collect();
            let firmware = record.firmware.as_deref().map(|f| self.names.intern(f));
            let mut certs: Vec<u32> = certificates
                .into_iter()
                .map(|id| self.placeholder_slot(id))
                .collect();
            certs.sort_unstable();
            certs.dedup();
            links.extend(certs.iter().map(|&c| (c, slot)));
            self.thing_index.insert(record.name.clone(), slot);
            self.things.push(ThingSlot {
                name: record.name,
                present: true,
                certs: certs.into(),
                groups,
                firmware,
                connected: record.connected,
                last_seen: None,
            });
        }
        links.sort_unstable();
        for group in links.chunk_by(|a, b| a.0 == b.0) {
            self.certs[group[0].0 as usize].things = group.iter().map(|&(_, t)| t).collect();
        }
    }

    fn placeholder_slot(&mut self, id: CertId) -> u32 {
        if let Some(&slot) = self.cert_index.get(&id) {
            return slot;
        }
        let slot = u32::try_from(self.certs.len()).unwrap_or(u32::MAX);
        self.cert_index.insert(id, slot);
        self.certs.push(CertSlot {
            id,
            record: None,
            things: Box::default(),
        });
        slot
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
            if let Some(ca) = record.ca
                && status == CertStatus::Active
            {
                *self.active_under_ca.entry(ca).or_insert(0) += 1;
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
