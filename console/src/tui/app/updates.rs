//! What arrives from the model side: snapshots, device tables, live anomalies, audit entries
//! and pages of older ones, details, notices.

use std::sync::Arc;

use super::{App, MAX_ANOMALIES};
use crate::tui::data::{DeviceTable, TuiRequest, TuiUpdate};

/// Rows from which a replaced table is freed on a thread of its own.
const LARGE_TABLE: usize = 10_000;

/// Lets go of a replaced device table. Freeing a million rows (two strings each) takes longer
/// than a frame, so when this is the last reference to a large table it is dropped elsewhere.
fn release_off_screen(table: Arc<DeviceTable>) {
    if table.len() >= LARGE_TABLE && Arc::strong_count(&table) == 1 {
        // Should the thread not start, the table is dropped here after all.
        let _ = std::thread::Builder::new()
            .name("fleetid-table-drop".into())
            .spawn(move || drop(table));
    }
}

impl App {
    /// An update from the backend side.
    pub fn on_update(&mut self, update: TuiUpdate) {
        match update {
            TuiUpdate::Snapshot(snapshot) => {
                let mut previous = std::mem::replace(&mut self.snapshot, *snapshot);
                if self.snapshot.devices_loading && !previous.devices_loading {
                    // Keep the table on screen: a new one comes as `TuiUpdate::Devices`.
                    std::mem::swap(&mut self.snapshot.devices, &mut previous.devices);
                    self.snapshot.devices_loading = previous.devices_loading;
                }
                release_off_screen(previous.devices);
                // The snapshot the console opened on is sampled when its successor arrives.
                self.dashboard
                    .record_online(previous.taken_at, previous.dashboard.online);
                self.dashboard
                    .record_online(self.snapshot.taken_at, self.snapshot.dashboard.online);
                if self.snapshot.audit.is_empty() {
                    // The log comes as entries and pages of its own.
                    self.snapshot.audit = previous.audit;
                }
                self.snapshot.campaigns = previous.campaigns;
                self.snapshot.operations = previous.operations;
                self.devices.set_loading(self.snapshot.devices_loading);
                self.devices.set_table(&self.snapshot.devices);
                // Rows patched in place since the last snapshot.
                self.devices.cells_changed();
            }
            TuiUpdate::Devices(table) => {
                release_off_screen(std::mem::replace(&mut self.snapshot.devices, table));
                self.snapshot.devices_loading = false;
                self.devices.set_loading(false);
                self.devices.set_table(&self.snapshot.devices);
            }
            TuiUpdate::Campaigns(campaigns) => self.snapshot.campaigns = campaigns.into(),
            TuiUpdate::Operations(operations) => self.snapshot.operations = operations.into(),
            TuiUpdate::Anomaly(row) => {
                self.snapshot.anomalies.insert(0, row);
                self.snapshot.anomalies.truncate(MAX_ANOMALIES);
            }
            TuiUpdate::Audit(row) => {
                let mut rows = Vec::with_capacity(self.snapshot.audit.len() + 1);
                rows.push(row);
                rows.extend(self.snapshot.audit.iter().cloned());
                self.snapshot.audit = rows.into();
            }
            TuiUpdate::AuditPage { rows, more } => {
                let mut all = Vec::with_capacity(self.snapshot.audit.len() + rows.len());
                all.extend(self.snapshot.audit.iter().cloned());
                let oldest = all.last().map_or(i64::MAX, |row| row.sequence);
                all.extend(rows.into_iter().filter(|row| row.sequence < oldest));
                self.snapshot.audit = all.into();
                self.audit_more = more;
                self.audit_asked = false;
            }
            TuiUpdate::Detail(detail) => self.detail.receive(*detail),
            TuiUpdate::Notice(text) => {
                self.operation = None;
                self.status = Some((text, false));
            }
            TuiUpdate::Progress(progress) => self.operation = Some(progress),
        }
    }

    /// With the selection on the last audit row, asks once for the page before it.
    pub(super) fn ask_for_older_audit(&mut self) {
        if !self.audit_more || self.audit_asked || !self.audit.at_end(&self.snapshot) {
            return;
        }
        if let Some(oldest) = self.snapshot.audit.last() {
            self.requests.push(TuiRequest::AuditPage {
                before: oldest.sequence,
            });
            self.audit_asked = true;
        }
    }
}
