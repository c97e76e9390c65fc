//! The anomaly feed: live, newest first, with severity and source; acknowledge, suppress for
//! a while, jump to the device. Triage shows at once here and goes to the model side as an
//! [`Action::Triage`], which keeps it in the store and records it in the audit log; rows
//! arrive with the stored triage when the console starts.

use crate::safe_text::SafeText;
use std::collections::HashMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use crate::human::span;
use crate::tui::action::{Action, Outcome};
use crate::tui::data::{
    AnomalyRow, FleetSnapshot, Look, Triage, TriageChange, UnixSeconds, found_by,
};
use crate::tui::keymap::Command;
use crate::tui::widgets::Paint;
use crate::tui::widgets::table::{Scroll, render_table};

/// Selection, filter and triage decisions.
#[derive(Debug, Clone, Default)]
pub struct AnomalyView {
    scroll: Scroll,
    triage: HashMap<u64, Triage>,
    filter: String,
}

impl AnomalyView {
    /// Sets the `/` filter (substring of thing, kind, source or detail, case-insensitive).
    pub fn set_filter(&mut self, text: &str) {
        text.clone_into(&mut self.filter);
        self.scroll.select(0, 0);
    }

    /// The filter text.
    #[must_use]
    pub fn filter(&self) -> &str {
        &self.filter
    }

    fn triage_of(&self, row: &AnomalyRow) -> Triage {
        self.triage.get(&row.id).copied().unwrap_or(row.triage)
    }

    /// The rows shown: not suppressed now, matching the filter.
    #[must_use]
    pub fn visible<'a>(
        &self,
        snapshot: &'a FleetSnapshot,
        now: UnixSeconds,
    ) -> Vec<&'a AnomalyRow> {
        let needle = self.filter.to_lowercase();
        snapshot
            .anomalies
            .iter()
            .filter(|row| !matches!(self.triage_of(row), Triage::Suppressed(until) if until > now))
            .filter(|row| {
                needle.is_empty()
                    || [
                        row.thing.raw(),
                        row.kind.raw(),
                        found_by(row.source),
                        row.detail.raw(),
                    ]
                    .iter()
                    .any(|field| field.to_lowercase().contains(&needle))
            })
            .collect()
    }

    /// Suppresses the selected anomaly until `until`; returns the change, if an anomaly was
    /// selected.
    pub fn suppress_selected(
        &mut self,
        snapshot: &FleetSnapshot,
        now: UnixSeconds,
        until: UnixSeconds,
    ) -> Option<TriageChange> {
        let row = *self.visible(snapshot, now).get(self.scroll.selected())?;
        Some(self.set_triage(row, Triage::Suppressed(until)))
    }

    fn set_triage(&mut self, row: &AnomalyRow, triage: Triage) -> TriageChange {
        self.triage.insert(row.id, triage);
        TriageChange {
            anomaly: row.id,
            thing: row.thing.raw().into(),
            kind: row.kind.raw().into(),
            triage,
        }
    }

    /// Moves; `a` toggles acknowledged; `s` asks how long to suppress; Enter opens the
    /// device.
    pub fn handle(
        &mut self,
        command: Command,
        snapshot: &FleetSnapshot,
        now: UnixSeconds,
    ) -> Outcome {
        let rows = self.visible(snapshot, now);
        if self.scroll.apply(command, rows.len()) {
            return Outcome::Consumed;
        }
        let Some(row) = rows.get(self.scroll.selected()).copied() else {
            return Outcome::Ignored;
        };
        match command {
            Command::Acknowledge => {
                let next = match self.triage_of(row) {
                    Triage::Acknowledged => Triage::Open,
                    _ => Triage::Acknowledged,
                };
                Outcome::Action(Action::Triage(self.set_triage(row, next)))
            }
            Command::Suppress => Outcome::Action(Action::PaletteWith("suppress 24h".to_owned())),
            Command::Open => Outcome::Action(Action::OpenDevice(row.thing.raw().into())),
            _ => Outcome::Ignored,
        }
    }

    /// Draws the feed.
    pub fn render(&self, frame: &mut Frame, area: Rect, paint: &Paint, snapshot: &FleetSnapshot) {
        let rows = self.visible(snapshot, paint.now);
        let hidden = snapshot.anomalies.len() - rows.len();
        let title = format!(
            " Anomalies: {} shown, {hidden} hidden (a: ack, s: suppress, Enter: device) ",
            rows.len()
        );
        let header = Row::new(["sev", "age", "source", "thing", "kind", "state", "detail"]);
        let widths = [
            Constraint::Length(4),
            Constraint::Length(7),
            Constraint::Length(10),
            Constraint::Length(18),
            Constraint::Length(14),
            Constraint::Length(5),
            Constraint::Min(10),
        ];
        render_table(
            frame,
            area,
            paint,
            paint.block(title, true),
            header,
            &widths,
            rows.len(),
            &self.scroll,
            |i| {
                let row = rows[i];
                let state = match self.triage_of(row) {
                    Triage::Acknowledged => "ack",
                    Triage::Suppressed(until) if until > paint.now => "supp",
                    // A suppression that has ended shows the anomaly as new again.
                    Triage::Open | Triage::Suppressed(_) => "new",
                };
                Row::new(vec![
                    Cell::from(Span::styled(
                        row.severity.label(),
                        paint.theme.style(row.severity.scope()),
                    )),
                    Cell::from(span(paint.now - row.at)),
                    Cell::from(found_by(row.source)),
                    Cell::from(row.thing.safe().into_owned()),
                    Cell::from(SafeText::from_string(kind_label(row.kind.raw()))),
                    Cell::from(state),
                    Cell::from(row.detail.safe().into_owned()),
                ])
            },
        );
    }
}

/// A kind as the feed's narrow column shows it: a short, readable form of Device Defender's
/// check names (`DEVICE_CERTIFICATE_EXPIRING_CHECK` is `cert expiring`); any other name in
/// capitals and underscores in lower case with spaces, without a `_CHECK` suffix; a behaviour
/// name (`DebugTopicPublish`) as it is. The detail pane and `--output json` keep the full name.
#[must_use]
pub fn kind_label(kind: &str) -> String {
    let known = match kind {
        "DEVICE_CERTIFICATE_EXPIRING_CHECK" => "cert expiring",
        "CA_CERTIFICATE_EXPIRING_CHECK" => "CA expiring",
        "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK" => "weak cert key",
        "CA_CERTIFICATE_KEY_QUALITY_CHECK" => "weak CA key",
        "DEVICE_CERTIFICATE_SHARED_CHECK" => "shared cert",
        "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK" => "revoked sub-CA",
        "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK" => "revoked CA use",
        "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK" => "revoked in use",
        "CONFLICTING_CLIENT_IDS_CHECK" => "client id dup",
        "IOT_POLICY_OVERLY_PERMISSIVE_CHECK" => "broad policy",
        "LOGGING_DISABLED_CHECK" => "logging off",
        other if other.contains('_') && !other.chars().any(|c| c.is_ascii_lowercase()) => {
            return other
                .strip_suffix("_CHECK")
                .unwrap_or(other)
                .replace('_', " ")
                .to_lowercase();
        }
        other => other,
    };
    known.to_owned()
}

#[cfg(test)]
mod kind_tests {
    use super::kind_label;

    #[test]
    fn check_names_read_short_and_whole() {
        assert_eq!(
            kind_label("DEVICE_CERTIFICATE_EXPIRING_CHECK"),
            "cert expiring"
        );
        assert_eq!(
            kind_label("INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK"),
            "revoked sub-CA"
        );
        assert_eq!(
            kind_label("UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK"),
            "unauthenticated cognito role overly permissive"
        );
        assert_eq!(kind_label("DebugTopicPublish"), "DebugTopicPublish");
        assert_eq!(kind_label("CONNECT_AUTH_ERROR"), "connect auth error");
        for known in [
            "DEVICE_CERTIFICATE_EXPIRING_CHECK",
            "CA_CERTIFICATE_EXPIRING_CHECK",
            "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK",
            "CA_CERTIFICATE_KEY_QUALITY_CHECK",
            "DEVICE_CERTIFICATE_SHARED_CHECK",
            "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK",
            "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK",
            "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK",
            "CONFLICTING_CLIENT_IDS_CHECK",
            "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
            "LOGGING_DISABLED_CHECK",
        ] {
            // The feed's kind column is 14 wide: a known check is never cut.
            assert!(kind_label(known).chars().count() <= 14, "{known}");
        }
    }
}
