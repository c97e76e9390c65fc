//! What arrives from the model side: snapshots, device tables, live anomalies, audit entries
//! and pages of older ones, details, notices.

use super::{App, MAX_ANOMALIES};
use crate::tui::data::{TuiRequest, TuiUpdate};

impl App {
    /// An update from the backend side.
    pub fn on_update(&mut self, update: TuiUpdate) {
        match update {
            TuiUpdate::Snapshot(snapshot) => {
                let previous = std::mem::replace(&mut self.snapshot, *snapshot);
                if self.snapshot.devices_loading && !previous.devices.rows.is_empty() {
                    // Keep the table on screen until its successor is built.
                    self.snapshot.devices = previous.devices;
                    self.snapshot.devices_loading = previous.devices_loading;
                }
                if self.snapshot.audit.is_empty() {
                    // The log comes as entries and pages of its own.
                    self.snapshot.audit = previous.audit;
                }
                self.devices.set_loading(self.snapshot.devices_loading);
                self.devices.set_table(&self.snapshot.devices);
            }
            TuiUpdate::Devices(table) => {
                self.snapshot.devices = table;
                self.snapshot.devices_loading = false;
                self.devices.set_loading(false);
                self.devices.set_table(&self.snapshot.devices);
            }
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
            TuiUpdate::Notice(text) => self.status = Some((text, false)),
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
