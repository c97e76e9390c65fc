//! The device table out of the model: one row per certificate, in the model's order. A
//! million rows must not stall the screen, so the build reads the model's certificate and
//! thing slots directly (no thing look-up by name, no joined view allocated per row), maps
//! the model's interned group and firmware ids to the table's names once per id, and makes
//! the rows' strings on every available core.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use crate::model::{self, CertStatus, FleetState};
use crate::tui::data::{DeviceRow, DeviceTable};

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
/// cores. Build it off the UI thread and send it with [`TuiUpdate::Devices`].
///
/// [`TuiUpdate::Devices`]: crate::tui::data::TuiUpdate::Devices
#[must_use]
pub fn device_table(state: &FleetState) -> Arc<DeviceTable> {
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
    for (index, slot) in state.certs.iter().enumerate() {
        let Some(record) = &slot.record else { continue };
        let things = &slot.things;
        let first = things.first().map(|&t| &state.things[t as usize]);
        let (group, online) = match first.filter(|t| t.present) {
            Some(thing) => (
                thing
                    .groups
                    .first()
                    .map_or(none, |&g| names.model_id(state, g)),
                thing.connected,
            ),
            None => (none, None),
        };
        let firmware = things
            .iter()
            .find_map(|&t| state.things[t as usize].firmware)
            .map_or(none, |f| names.model_id(state, f));
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
    Arc::new(DeviceTable::new(
        rows,
        names.names.into_iter().map(Into::into).collect(),
    ))
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
    let thing = slot
        .things
        .first()
        .map(|&t| &*state.things[t as usize].name);
    let record = slot.record.as_ref();
    DeviceRow {
        thing: thing.unwrap_or("(no thing)").into(),
        cert: record.map_or_else(|| "-".into(), |r| short_hex(&r.id).into()),
        state: record.map_or(CertStatus::Unknown, |r| r.status),
        expires: record.and_then(|r| r.parsed.as_ref().ok().map(|f| f.not_after.0)),
        ca: resolved.ca,
        group: resolved.group,
        firmware: resolved.firmware,
        online: resolved.online,
    }
}
