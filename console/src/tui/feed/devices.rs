//! The device table out of the model: one row per certificate, in the model's order. A
//! million rows must not stall the screen, so the pass reads the model's certificate and
//! thing slots directly (no thing look-up by name, no joined view allocated per row) and maps
//! the model's interned group and firmware ids to the table's names once per id.

use std::collections::HashMap;
use std::sync::Arc;

use crate::model::{self, FleetState};
use crate::tui::data::{DeviceRow, DeviceTable};

use super::{ca_label, cert_state};

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
    let mut text = String::with_capacity(16);
    for byte in &id.0[..8] {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text.into()
}

/// The device table: one row per certificate, in the model's order. One pass over the
/// certificates; build it off the UI thread and send it with [`TuiUpdate::Devices`].
///
/// [`TuiUpdate::Devices`]: crate::tui::data::TuiUpdate::Devices
#[must_use]
pub fn device_table(state: &FleetState) -> Arc<DeviceTable> {
    let labels: Vec<(model::CertId, String)> = state
        .issuing_cas()
        .map(|(id, _)| *id)
        .chain(state.cas().keys().copied())
        .map(|id| (id, ca_label(state, &id)))
        .collect();
    let mut names = Names::default();
    let none = names.id("-");
    let ca_ids: HashMap<model::CertId, u32> = labels
        .iter()
        .map(|(id, label)| (*id, names.id(label)))
        .collect();
    // Consecutive certificates mostly share their CA: look it up only when it changes.
    let mut last_ca: Option<(model::CertId, u32)> = None;
    let mut rows = Vec::with_capacity(state.certs.len());
    for slot in &state.certs {
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
        rows.push(DeviceRow {
            thing: first.map_or("(no thing)", |t| &t.name).into(),
            cert: short_hex(&record.id),
            state: cert_state(record.status),
            expires: record.parsed.as_ref().ok().map(|f| f.not_after.0),
            ca,
            group,
            firmware,
            online,
        });
    }
    Arc::new(DeviceTable::new(rows, names.names))
}
