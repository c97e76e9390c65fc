//! How views talk to the app: the [`Action`]s they emit and the views they name.

use super::data::{Confirmable, DeviceQuery, TriageChange};

/// The views of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ViewId {
    /// Counts, expiry windows, CA summary, anomalies, freshness.
    Dashboard,
    /// Expiry calendar by cohort.
    Heatmap,
    /// CA tree with device-certificate counts.
    CaChains,
    /// Live anomaly feed.
    Anomalies,
    /// The device table.
    Devices,
    /// The audit log of mutations.
    Audit,
    /// Rotation campaigns as pipelines of stages.
    Rotation,
    /// Operations of the journal with their calls.
    Operations,
    /// One device in detail (reached from a table, not a tab).
    Detail,
}

impl ViewId {
    /// The views reachable with Tab and the number keys, in tab order.
    pub const TABS: [Self; 8] = [
        Self::Dashboard,
        Self::Heatmap,
        Self::CaChains,
        Self::Anomalies,
        Self::Devices,
        Self::Audit,
        Self::Rotation,
        Self::Operations,
    ];

    /// The tab title.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::Dashboard => "Dashboard",
            Self::Heatmap => "Expiry",
            Self::CaChains => "CA chains",
            Self::Anomalies => "Anomalies",
            Self::Devices => "Devices",
            Self::Audit => "Audit",
            Self::Rotation => "Rotation",
            Self::Operations => "Ops",
            Self::Detail => "Detail",
        }
    }

    /// The command that switches to it (`view-devices`).
    #[must_use]
    pub fn command_name(self) -> &'static str {
        match self {
            Self::Dashboard => "view-dashboard",
            Self::Heatmap => "view-expiry",
            Self::CaChains => "view-cas",
            Self::Anomalies => "view-anomalies",
            Self::Devices => "view-devices",
            Self::Audit => "view-audit",
            Self::Rotation => "view-rotation",
            Self::Operations => "view-operations",
            Self::Detail => "view-detail",
        }
    }

    /// One line for help.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Dashboard => "dashboard: counts, expiry, CAs, freshness",
            Self::Heatmap => "expiry heatmap by cohort",
            Self::CaChains => "CA chains with device counts",
            Self::Anomalies => "anomaly feed",
            Self::Devices => "device table",
            Self::Audit => "audit log of mutations",
            Self::Rotation => "rotation campaigns: stages, gates, promote, halt",
            Self::Operations => "operations: progress, every call's result, resume",
            Self::Detail => "device detail",
        }
    }
}

/// What a view asks the app to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Switch to a view.
    Show(ViewId),
    /// Open the device detail for this thing.
    OpenDevice(Box<str>),
    /// Show the devices table with this query (heatmap drill-down, CA drill-down).
    ShowDevices(DeviceQuery),
    /// Open the confirmation dialog (the plan, the blast radius, a reason where a step needs
    /// one, the answer to type).
    Confirm(Confirmable),
    /// The user typed the confirmation: hand the request to the model side (refused when
    /// read-only).
    Request(Confirmable),
    /// The user cancelled the confirmation (recorded in the audit log).
    Cancel(Confirmable),
    /// The user triaged an anomaly (kept in the store, recorded in the audit log).
    Triage(TriageChange),
    /// Open the palette with this text already typed (`suppress 24h `).
    PaletteWith(String),
    /// Run a palette command (`view-devices`, `theme mono`, `suppress 24h`).
    Run(String),
    /// Show a message in the status line.
    Notify(String),
}

/// What a component did with a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Not interested; the app may use it.
    Ignored,
    /// Handled; redraw.
    Consumed,
    /// Handled and asks the app for something.
    Action(Action),
    /// Close this overlay.
    Close,
}
