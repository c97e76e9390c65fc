//! The device table out of the model: one row per certificate, in the model's order. A
//! million rows must not stall the screen, so the build reads the model's certificate and
//! thing slots directly (no thing look-up by name, no joined view allocated per row), maps
//! the model's interned group and firmware ids to the table's names once per id, and makes
//! the rows' strings on every available core. [`DeviceFeed`] then keeps the table current by
//! changes: the rows of the slots the model touched are patched in place, and only a row that
//! comes, goes or changes what identifies it builds the table again.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use crate::model::{self, CertStatus, FleetState};
use crate::tui::data::{DeviceRow, DeviceTable, RowCells};

use super::ca_label;

/// Interns names into the device table's name list.
#[derive(Default)]
struct Names<'a> {
    index: HashMap<&'a str, u32>,
    names: Vec<Box<str>>,
    /// Table id of each model name id seen so far.
    by_model_id: Vec<Option<u32>>,
}

impl<'a> Names<'a> {
    fn id(&mut self, name: &'a str) -> u32 {
        if let Some(id) = self.index.get(name) {
            return *id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.into());
        self.index.insert(name, id);
        id
    }

    /// The table id of the model's interned name `model_id`.
    fn model_id(&mut self, state: &'a FleetState, model_id: u32) -> u32 {
        let slot = model_id as usize;
        if let Some(Some(id)) = self.by_model_id.get(slot) {
            return *id;
        }
        let id = self.id(state.name_text(model_id));
        if self.by_model_id.len() <= slot {
            self.by_model_id.resize(slot + 1, None);
        }
        self.by_model_id[slot] = Some(id);
        id
    }
}

/// A row's cells before the table's "-" stands in for a missing name.
struct ModelCells {
    group: Option<u32>,
    firmware: Option<u32>,
    online: Option<bool>,
}

/// The thing a certificate's row names: of the things it is attached to, the one whose name
/// sorts first (a certificate shared by two devices shows as the same one however the model
/// learnt of them).
fn shown_thing(state: &FleetState, slot: usize) -> Option<u32> {
    state.certs[slot].things.iter().copied().min_by(|&a, &b| {
        state.things[a as usize]
            .name
            .cmp(&state.things[b as usize].name)
    })
}

/// The name of the thing a certificate's row names.
fn shown_name(state: &FleetState, slot: usize) -> &str {
    shown_thing(state, slot).map_or("(no thing)", |t| &state.things[t as usize].name)
}

/// The cells of certificate `slot` from its things: the shown thing's first group and
/// connectivity when it is in the registry, the first firmware of any; names through `name`
/// (the table's id of a model name id). `None` when `name` does not know one.
fn cells_of(
    state: &FleetState,
    slot: usize,
    mut name: impl FnMut(u32) -> Option<u32>,
) -> Option<ModelCells> {
    let things = &state.certs[slot].things;
    let shown = shown_thing(state, slot).map(|t| &state.things[t as usize]);
    let (group, online) = match shown.filter(|t| t.present) {
        Some(thing) => (
            match thing.groups.first() {
                Some(&g) => Some(name(g)?),
                None => None,
            },
            thing.connected,
        ),
        None => (None, None),
    };
    let firmware = match things
        .iter()
        .find_map(|&t| state.things[t as usize].firmware)
    {
        Some(f) => Some(name(f)?),
        None => None,
    };
    Some(ModelCells {
        group,
        firmware,
        online,
    })
}

/// The first 16 hex digits of a certificate id.
fn short_hex(id: &model::CertId) -> Box<str> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = [0u8; 16];
    for (pair, byte) in text.chunks_exact_mut(2).zip(&id.0[..8]) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
    // Hex digits are ASCII.
    std::str::from_utf8(&text).unwrap_or_default().into()
}

/// What a row holds besides its two strings, resolved in one sequential pass (names are
/// interned in order of first use).
#[derive(Debug, Clone, Copy)]
struct Resolved {
    slot: u32,
    ca: u32,
    group: u32,
    firmware: u32,
    online: Option<bool>,
}

/// Rows per unit of the parallel part of the build.
const ROWS_PER_PART: usize = 16_384;

/// The device table: one row per certificate, in the model's order. A sequential pass
/// resolves the interned names; the rows (two strings each) are then built on the available
/// cores. Build it off the UI thread and send it with [`TuiUpdate::Devices`]; to keep it
/// current as the model changes, build a [`DeviceFeed`] instead.
///
/// [`TuiUpdate::Devices`]: crate::tui::data::TuiUpdate::Devices
#[must_use]
pub fn device_table(state: &FleetState) -> Arc<DeviceTable> {
    build(state).table
}

/// What not to send when a table is patched: the table's row of every certificate slot and
/// its name of every model name.
struct Built {
    table: Arc<DeviceTable>,
    /// Row of each certificate slot ([`NO_ROW`] for an empty one).
    row_of_slot: Vec<u32>,
    /// Table name of each model name id the table holds.
    by_model_id: Vec<Option<u32>>,
    /// The table's `-`.
    none: u32,
}

/// A slot without a row.
const NO_ROW: u32 = u32::MAX;

fn build(state: &FleetState) -> Built {
    let labels: Vec<(model::CertId, String)> = state
        .issuing_cas()
        .map(|(id, _)| *id)
        .chain(state.cas().keys().copied())
        .map(|id| (id, ca_label(state.cas(), &id)))
        .collect();
    let mut names = Names::default();
    let none = names.id("-");
    let ca_ids: HashMap<model::CertId, u32> = labels
        .iter()
        .map(|(id, label)| (*id, names.id(label)))
        .collect();
    // Consecutive certificates mostly share their CA: look it up only when it changes.
    let mut last_ca: Option<(model::CertId, u32)> = None;
    let mut resolved = Vec::with_capacity(state.certs.len());
    let mut row_of_slot = vec![NO_ROW; state.certs.len()];
    for (index, slot) in state.certs.iter().enumerate() {
        let Some(record) = &slot.record else { continue };
        let cells = cells_of(state, index, |model_id| {
            Some(names.model_id(state, model_id))
        });
        let (group, firmware, online) = cells.map_or((none, none, None), |c| {
            (
                c.group.unwrap_or(none),
                c.firmware.unwrap_or(none),
                c.online,
            )
        });
        let ca = match record.ca {
            None => none,
            Some(id) => match last_ca {
                Some((last, ca)) if last == id => ca,
                _ => {
                    let ca = ca_ids.get(&id).copied().unwrap_or(none);
                    last_ca = Some((id, ca));
                    ca
                }
            },
        };
        row_of_slot[index] = u32::try_from(resolved.len()).unwrap_or(NO_ROW);
        resolved.push(Resolved {
            slot: u32::try_from(index).unwrap_or(u32::MAX),
            ca,
            group,
            firmware,
            online,
        });
    }
    let parts: Vec<&[Resolved]> = resolved.chunks(ROWS_PER_PART).collect();
    let built = build_parts(state, &parts);
    let mut rows = Vec::with_capacity(resolved.len());
    for part in built {
        rows.extend(part);
    }
    Built {
        table: Arc::new(DeviceTable::new(
            rows,
            names.names.into_iter().map(Into::into).collect(),
        )),
        row_of_slot,
        by_model_id: names.by_model_id,
        none,
    }
}

/// What [`DeviceFeed::update`] did to the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableChange {
    /// Nothing the table shows changed.
    Unchanged,
    /// This many rows were patched in place (the table on screen shows them at its next
    /// frame).
    Patched(usize),
    /// Rows came, went or changed what identifies them, or a cohort name is new: the table
    /// was built again ([`DeviceFeed::table`] is the one to send).
    Rebuilt,
}

/// The device table the screen shows, kept current by changes: after the model applied
/// updates, [`DeviceFeed::update`] patches the rows of the certificates and things they
/// touched, in the table the screen already holds.
pub struct DeviceFeed {
    built: Built,
}

impl std::fmt::Debug for DeviceFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceFeed")
            .field("rows", &self.built.table.len())
            .finish_non_exhaustive()
    }
}

impl DeviceFeed {
    /// Builds the table of `state` and starts following what the model touches.
    #[must_use]
    pub fn new(state: &mut FleetState) -> Self {
        state.track_touched();
        let _ = state.take_touched();
        Self {
            built: build(state),
        }
    }

    /// The table, as patched so far.
    #[must_use]
    pub fn table(&self) -> &Arc<DeviceTable> {
        &self.built.table
    }

    /// Brings the table up to date with what `state` touched since the last call: the rows
    /// of the touched certificates (and of the touched things' certificates) patched in
    /// place, or the table built again when one no longer fits its row.
    pub fn update(&mut self, state: &mut FleetState) -> TableChange {
        let touched = state.take_touched();
        if touched.is_empty() {
            return TableChange::Unchanged;
        }
        if touched.reshaped {
            return self.rebuild(state);
        }
        let mut slots: Vec<u32> = touched.certs.into_iter().collect();
        for thing in touched.things {
            slots.extend(state.things[thing as usize].certs.iter().copied());
        }
        slots.sort_unstable();
        slots.dedup();
        let mut patched = 0;
        for slot in slots {
            match self.patch(state, slot as usize) {
                Some(true) => patched += 1,
                Some(false) => {}
                None => return self.rebuild(state),
            }
        }
        if patched == 0 {
            TableChange::Unchanged
        } else {
            TableChange::Patched(patched)
        }
    }

    /// Patches the row of certificate `slot`: whether it changed, `None` when the row no
    /// longer fits (a certificate without a row, another thing or expiry, a new name).
    fn patch(&self, state: &FleetState, slot: usize) -> Option<bool> {
        let Built {
            table,
            row_of_slot,
            by_model_id,
            none,
        } = &self.built;
        let cert = &state.certs[slot];
        let row = match row_of_slot.get(slot).copied().unwrap_or(NO_ROW) {
            NO_ROW => return cert.record.is_none().then_some(false),
            row => row as usize,
        };
        let record = cert.record.as_ref()?;
        let thing = shown_name(state, slot);
        let expires = record.parsed.as_ref().ok().map(|f| f.not_after.0);
        if table.thing(row).raw() != thing || table.expires(row) != expires {
            return None;
        }
        let known = |model_id: u32| by_model_id.get(model_id as usize).copied().flatten();
        let cells = cells_of(state, slot, known)?;
        Some(table.patch(
            row,
            RowCells {
                state: record.status,
                group: cells.group.unwrap_or(*none),
                firmware: cells.firmware.unwrap_or(*none),
                online: cells.online,
            },
        ))
    }

    fn rebuild(&mut self, state: &FleetState) -> TableChange {
        self.built = build(state);
        TableChange::Rebuilt
    }
}

/// The rows of each part, in order, built on up to the available cores.
fn build_parts(state: &FleetState, parts: &[&[Resolved]]) -> Vec<Vec<DeviceRow>> {
    let threads = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let next = AtomicUsize::new(0);
    let done: Vec<OnceLock<Vec<DeviceRow>>> = parts.iter().map(|_| OnceLock::new()).collect();
    let work = || {
        loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            let Some(part) = parts.get(k) else { return };
            let rows = part.iter().map(|r| row(state, r)).collect();
            // Each part number is handed out once, so the cell is empty.
            let _ = done[k].set(rows);
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..threads.min(parts.len()) {
            // Without a helper thread the calling one builds every part.
            let _ = std::thread::Builder::new()
                .name("fleetid-device-rows".to_owned())
                .spawn_scoped(scope, work);
        }
        work();
    });
    done.into_iter()
        .map(|cell| cell.into_inner().unwrap_or_default())
        .collect()
}

fn row(state: &FleetState, resolved: &Resolved) -> DeviceRow {
    let slot = &state.certs[resolved.slot as usize];
    let record = slot.record.as_ref();
    DeviceRow {
        thing: shown_name(state, resolved.slot as usize).into(),
        cert: record.map_or_else(|| "-".into(), |r| short_hex(&r.id).into()),
        state: record.map_or(CertStatus::Unknown, |r| r.status),
        expires: record.and_then(|r| r.parsed.as_ref().ok().map(|f| f.not_after.0)),
        ca: resolved.ca,
        group: resolved.group,
        firmware: resolved.firmware,
        online: resolved.online,
    }
}
