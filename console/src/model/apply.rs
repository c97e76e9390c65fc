//! Applying [`FleetUpdate`]s: upserts keep indexes and aggregates exact by retracting a
//! certificate's contribution before it changes and accounting it again afterwards.

use super::aggregates::Cohort;
use super::ids::{CertId, UnixTime};
use super::records::{CertificateRecord, ThingRecord};
use super::slot_list::SlotList;
use super::state::{CertSlot, FleetState, SourceInfo, ThingSlot};
use super::status::CertStatus;
use super::update::{FleetUpdate, LiveStatusRecord, PresenceEvent, PresenceKind, SourceState};

impl FleetState {
    /// Applies one update.
    pub fn apply(&mut self, update: FleetUpdate) {
        match update {
            FleetUpdate::Certificates(records) => {
                for record in records {
                    self.upsert_certificate(record);
                }
            }
            FleetUpdate::StatusChanged(changes) => {
                for (id, status) in changes {
                    self.change_status(&id, status);
                }
            }
            FleetUpdate::Attachments(links) => {
                for (id, things) in links {
                    self.attach(id, &things);
                }
            }
            FleetUpdate::Connectivity(states) => {
                // Fleet indexing and the thing listing load side by side: a thing may be
                // indexed before it is listed, so its slot is made (not yet present) here.
                for (name, connected, since) in states {
                    let slot = self.thing_slot(&name);
                    self.thing_changed(slot);
                    let thing = &mut self.things[slot as usize];
                    thing.connected = Some(connected);
                    thing.last_seen = thing.last_seen.max(since);
                }
            }
            FleetUpdate::CertificatesRemoved(ids) => {
                for id in &ids {
                    self.remove_certificate(id);
                }
                self.forget_certificate_policies(&ids);
            }
            FleetUpdate::Cas(records) => {
                self.small_changed();
                self.cas.extend(records.into_iter().map(|r| (r.id, r)));
            }
            FleetUpdate::Things(records) => {
                for record in records {
                    self.upsert_thing(&record);
                }
            }
            FleetUpdate::ThingsRemoved(names) => {
                for name in names {
                    self.remove_thing(&name);
                }
            }
            FleetUpdate::Policies(records) => self.upsert_policies(records),
            FleetUpdate::CertificatePolicies(links) => self.set_certificate_policies(links),
            FleetUpdate::GroupPolicies(links) => self.set_group_policies(links),
            FleetUpdate::Groups(records) => {
                self.small_changed();
                self.groups
                    .extend(records.into_iter().map(|r| (r.name.clone(), r)));
            }
            FleetUpdate::Anomalies(records) => {
                self.small_changed();
                self.anomalies
                    .extend(records.into_iter().map(|r| (r.id.clone(), r)));
            }
            FleetUpdate::SourceStatus { source, state, at } => {
                let previous = self.sources.get(&source).and_then(|s| s.fresh_at);
                let fresh_at = if state == SourceState::Fresh {
                    Some(at)
                } else {
                    previous
                };
                self.sources.insert(
                    source,
                    SourceInfo {
                        state,
                        fresh_at,
                        reported_at: at,
                    },
                );
            }
            FleetUpdate::LiveStatus(status) => self.apply_live_status(&status),
            FleetUpdate::Presence(event) => self.apply_presence(&event),
        }
    }

    /// Applies a batch of updates in order.
    pub fn apply_all(&mut self, updates: impl IntoIterator<Item = FleetUpdate>) {
        for update in updates {
            self.apply(update);
        }
    }

    fn cert_slot(&mut self, id: CertId) -> u32 {
        if let Some(slot) = self.cert_slot_of(&id) {
            return slot;
        }
        let slot = u32::try_from(self.certs.len()).unwrap_or(u32::MAX);
        self.certs.push(CertSlot {
            id,
            record: None,
            things: SlotList::default(),
        });
        self.index_cert_slot(id, slot);
        slot
    }

    fn thing_slot(&mut self, name: &str) -> u32 {
        if let Some(slot) = self.thing_slot_of(name) {
            return slot;
        }
        let slot = u32::try_from(self.things.len()).unwrap_or(u32::MAX);
        self.things.push(ThingSlot {
            name: name.into(),
            present: false,
            certs: SlotList::default(),
            groups: SlotList::default(),
            firmware: None,
            connected: None,
            last_seen: None,
        });
        self.index_thing_slot(name, slot);
        slot
    }

    fn upsert_certificate(&mut self, record: CertificateRecord) {
        let slot = self.cert_slot(record.id);
        self.retract(slot);
        if self.certs[slot as usize].record.is_none() {
            self.reshaped();
        }
        self.certs[slot as usize].record = Some(record);
        self.account(slot, 1);
    }

    fn remove_certificate(&mut self, id: &CertId) {
        if let Some(slot) = self.cert_slot_of(id) {
            self.retract(slot);
            if self.certs[slot as usize].record.take().is_some() {
                self.reshaped();
            }
            self.cert_changed(*id);
        }
    }

    fn upsert_thing(&mut self, record: &ThingRecord) {
        let slot = self.thing_slot(&record.name);
        let groups: SlotList = record.groups.iter().map(|g| self.names.intern(g)).collect();
        let firmware = record.firmware.as_deref().map(|f| self.names.intern(f));
        let certs = self.things[slot as usize].certs.clone();
        for &c in &certs {
            self.retract(c);
        }
        self.thing_changed(slot);
        let thing = &mut self.things[slot as usize];
        thing.present = true;
        thing.groups = groups;
        // A firmware version from live status outranks a missing registry attribute.
        if firmware.is_some() {
            thing.firmware = firmware;
        }
        if record.connected.is_some() {
            thing.connected = record.connected;
        }
        for &c in &certs {
            self.account(c, 1);
        }
    }

    fn remove_thing(&mut self, name: &str) {
        let Some(slot) = self.thing_slot_of(name) else {
            return;
        };
        let certs = self.things[slot as usize].certs.clone();
        for &c in &certs {
            self.retract(c);
        }
        self.thing_changed(slot);
        let thing = &mut self.things[slot as usize];
        thing.present = false;
        thing.groups = SlotList::default();
        for &c in &certs {
            self.account(c, 1);
        }
    }

    /// Makes `things` the complete attachment list of certificate `id`.
    fn attach(&mut self, id: CertId, things: &[Box<str>]) {
        let cert = self.cert_slot(id);
        let new: Vec<u32> = things.iter().map(|name| self.thing_slot(name)).collect();
        self.retract(cert);
        let old = std::mem::take(&mut self.certs[cert as usize].things);
        self.cert_changed(id);
        for &t in old.iter().chain(&new) {
            self.thing_changed(t);
        }
        for &t in &old {
            let links = &mut self.things[t as usize].certs;
            *links = links.iter().copied().filter(|&c| c != cert).collect();
        }
        let mut unique = new;
        unique.sort_unstable();
        unique.dedup();
        for &t in &unique {
            let links = &mut self.things[t as usize].certs;
            *links = links.iter().copied().chain([cert]).collect();
        }
        if unique.as_slice() != &old[..] {
            self.reshaped();
        }
        self.certs[cert as usize].things = unique.into_iter().collect();
        self.account(cert, 1);
    }

    fn change_status(&mut self, id: &CertId, status: CertStatus) {
        let Some(slot) = self.cert_slot_of(id) else {
            return;
        };
        if self.certs[slot as usize].record.is_none() {
            return;
        }
        self.retract(slot);
        if let Some(record) = self.certs[slot as usize].record.as_mut() {
            record.status = status;
        }
        self.account(slot, 1);
    }

    fn retract(&mut self, slot: u32) {
        self.account(slot, -1);
    }

    /// Adds (`sign` = 1) or removes (`sign` = -1) the contribution of one certificate to every
    /// index and aggregate. Placeholders contribute nothing.
    fn account(&mut self, slot: u32, sign: i64) {
        let Some(id) = self.certs[slot as usize].record.as_ref().map(|r| r.id) else {
            return;
        };
        self.cert_changed(id);
        self.touch_cert(slot);
        let Some(record) = self.certs[slot as usize].record.as_ref() else {
            return;
        };
        let status = record.status;
        let ca = record.ca;
        let not_after = record.parsed.as_ref().ok().map(|f| f.not_after);
        let day = not_after.map(UnixTime::day);
        let cohorts = if status == CertStatus::Active && day.is_some() {
            self.cohorts_of(slot, ca)
        } else {
            Vec::new()
        };
        self.status_counts.add(status, sign);
        if let Some(indexes) = self.indexes.built_mut() {
            indexes.set(slot, record, sign > 0);
        }
        if let Some(ca) = ca {
            let counts = self.per_ca.entry(ca).or_default();
            let n = &mut counts[status.index()];
            *n = n.saturating_add_signed(sign);
            if counts.iter().all(|&n| n == 0) {
                self.per_ca.remove(&ca);
            }
        }
        if status == CertStatus::Active
            && let Some(at) = not_after
        {
            self.active_expiries.change(at, sign);
        }
        match day {
            Some(day) => {
                for cohort in cohorts {
                    self.histogram.add(cohort, day, sign);
                }
            }
            None => self.unreadable_pems = self.unreadable_pems.saturating_add_signed(sign),
        }
    }

    fn cohorts_of(&self, slot: u32, ca: Option<CertId>) -> Vec<Cohort> {
        let mut cohorts = vec![Cohort::All];
        cohorts.extend(ca.map(Cohort::Ca));
        for &t in &self.certs[slot as usize].things {
            let thing = &self.things[t as usize];
            cohorts.extend(thing.groups.iter().map(|&g| Cohort::Group(g)));
            cohorts.extend(thing.firmware.map(Cohort::Firmware));
        }
        cohorts.sort_unstable();
        cohorts.dedup();
        cohorts
    }

    fn set_thing_firmware(&mut self, slot: u32, firmware: Option<u32>) {
        if self.things[slot as usize].firmware == firmware {
            return;
        }
        self.thing_changed(slot);
        let certs = self.things[slot as usize].certs.clone();
        for &c in &certs {
            self.retract(c);
        }
        self.things[slot as usize].firmware = firmware;
        for &c in &certs {
            self.account(c, 1);
        }
    }

    fn apply_live_status(&mut self, status: &LiveStatusRecord) {
        let at = status.at;
        let slot = self.thing_slot(&status.thing);
        let firmware = self.names.intern(&status.firmware);
        self.set_thing_firmware(slot, Some(firmware));
        let thing = &mut self.things[slot as usize];
        thing.last_seen = Some(thing.last_seen.map_or(at, |seen| seen.max(at)));
    }

    fn apply_presence(&mut self, event: &PresenceEvent) {
        let name = event.thing.as_deref().unwrap_or(&event.client_id);
        let Some(slot) = self.thing_slot_of(name) else {
            return;
        };
        self.thing_changed(slot);
        let thing = &mut self.things[slot as usize];
        // Presence events may arrive out of order: an older one never overrides a newer one.
        if thing.last_seen.is_some_and(|seen| seen > event.at) {
            return;
        }
        thing.last_seen = Some(event.at);
        thing.connected = Some(matches!(event.kind, PresenceKind::Connected));
    }
}
