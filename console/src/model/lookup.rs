//! Certificate slots by id and thing slots by name, built on first use. A load from the store
//! places records by sorting, not hashing, so the device table and the dashboard come without
//! two million random inserts into tables far larger than any cache; the first look-up (a
//! detail, an update, an operation) builds them, and every later change keeps them exact.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::ids::{CertId, CertIdMap};
use super::state::{CertSlot, FleetState, ThingSlot};

/// The two look-up tables, each built when first needed.
#[derive(Debug, Default, Clone)]
pub(crate) struct Lookup {
    certs: OnceLock<CertIdMap<u32>>,
    things: OnceLock<HashMap<Box<str>, u32>>,
}

fn cert_table(certs: &[CertSlot]) -> CertIdMap<u32> {
    let mut out = CertIdMap::default();
    out.reserve(certs.len());
    for (slot, cert) in certs.iter().enumerate() {
        out.insert(cert.id, u32::try_from(slot).unwrap_or(u32::MAX));
    }
    out
}

fn thing_table(things: &[ThingSlot]) -> HashMap<Box<str>, u32> {
    let mut out = HashMap::with_capacity(things.len());
    for (slot, thing) in things.iter().enumerate() {
        out.insert(thing.name.clone(), u32::try_from(slot).unwrap_or(u32::MAX));
    }
    out
}

impl FleetState {
    /// The slot of certificate `id` (placeholders included).
    pub(crate) fn cert_slot_of(&self, id: &CertId) -> Option<u32> {
        self.lookup
            .certs
            .get_or_init(|| cert_table(&self.certs))
            .get(id)
            .copied()
    }

    /// The slot of the thing named `name` (things only heard of included).
    pub(crate) fn thing_slot_of(&self, name: &str) -> Option<u32> {
        self.lookup
            .things
            .get_or_init(|| thing_table(&self.things))
            .get(name)
            .copied()
    }

    /// Records that `id` now lives in `slot` (the table is built first if it was not).
    pub(crate) fn index_cert_slot(&mut self, id: CertId, slot: u32) {
        let lock = std::mem::take(&mut self.lookup.certs);
        let mut table = lock.into_inner().unwrap_or_else(|| cert_table(&self.certs));
        table.insert(id, slot);
        self.lookup.certs = OnceLock::from(table);
    }

    /// Records that `name` now lives in `slot` (the table is built first if it was not).
    pub(crate) fn index_thing_slot(&mut self, name: &str, slot: u32) {
        let lock = std::mem::take(&mut self.lookup.things);
        let mut table = lock
            .into_inner()
            .unwrap_or_else(|| thing_table(&self.things));
        table.insert(name.into(), slot);
        self.lookup.things = OnceLock::from(table);
    }

    /// Builds the look-up tables now, so the first look-up does not wait for them (the TUI's
    /// model thread calls this once the device table is on its way).
    pub fn prepare_lookups(&self) {
        self.lookup.certs.get_or_init(|| cert_table(&self.certs));
        self.lookup.things.get_or_init(|| thing_table(&self.things));
    }
}
