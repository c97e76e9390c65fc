//! The dashboard: the fleet at a glance on one screen — certificates by status, the expiry
//! calendar of the coming weeks, connected devices over the last hour, the most severe open
//! anomalies, the CA chains with their flags, campaigns and operations in progress — each box
//! with the age of its source.

mod counts;
mod freshness;
mod layout;
mod lists;
mod online;
pub mod progress;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

pub use layout::{Boxes, WIDE, boxes};
pub use online::OnlineHistory;

use crate::safe_text::SafeText;
use crate::tui::data::{FleetSnapshot, Freshness, UnixSeconds};
use crate::tui::widgets::Paint;

/// One cohort's share of devices already on the next trust anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorShare<'a> {
    /// The cohort (a group, a CA, a campaign's target).
    pub cohort: SafeText<'a>,
    /// Its devices on the next trust anchor.
    pub on_next_anchor: u64,
    /// All its devices.
    pub devices: u64,
}

/// What the "Campaigns, operations" box shows ([`progress::of`] makes it from the snapshot's
/// campaigns and operations). Empty, it says that no campaign runs.
#[derive(Debug, Clone, Default)]
pub struct InProgress<'a> {
    /// One line per campaign or operation in progress, most urgent first.
    pub lines: Vec<Line<'a>>,
    /// Per cohort, the share on the next trust anchor.
    pub next_anchor: Vec<AnchorShare<'a>>,
    /// The age of what the lines were made from, for the box title.
    pub freshness: Option<Freshness>,
}

/// The dashboard's own state: the connected-devices samples of the last hour.
#[derive(Debug, Clone, Default)]
pub struct DashboardView {
    online: OnlineHistory,
}

impl DashboardView {
    /// Records how many devices were online at `at` (from a snapshot as it arrives).
    pub fn record_online(&mut self, at: UnixSeconds, online: Option<u64>) {
        self.online.record(at, online);
    }

    /// Draws the dashboard, its campaigns and operations from the snapshot's.
    pub fn render(&self, frame: &mut Frame, area: Rect, paint: &Paint, snapshot: &FleetSnapshot) {
        self.render_with(frame, area, paint, snapshot, &progress::of(snapshot, paint));
    }

    /// Draws the dashboard with the campaigns and operations in `in_progress`.
    pub fn render_with(
        &self,
        frame: &mut Frame,
        area: Rect,
        paint: &Paint,
        snapshot: &FleetSnapshot,
        in_progress: &InProgress,
    ) {
        let b = boxes(area);
        counts::certificates(frame, b.certificates, paint, snapshot);
        counts::expiry(frame, b.expiry, paint, snapshot);
        counts::connected(frame, b.connected, paint, snapshot, &self.online);
        lists::anomalies(frame, b.anomalies, paint, snapshot);
        lists::cas(frame, b.cas, paint, snapshot);
        lists::in_progress(frame, b.in_progress, paint, in_progress);
        if let Some(area) = b.sources {
            frame.render_widget(
                Paragraph::new(freshness::sources_line(paint, snapshot, area.width)),
                area,
            );
        }
    }
}
