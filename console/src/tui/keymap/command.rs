//! The commands a key can be bound to: one name each for keymaps, one line each for help.

use crate::tui::action::ViewId;

/// Something a key asks for. Views and the app interpret them; none mutates the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Command {
    /// Leave the console.
    Quit,
    /// Show the key bindings (filterable).
    Help,
    /// Open the `:` command palette.
    Palette,
    /// Filter the current view (`/`).
    Filter,
    /// Close the overlay, clear the filter or go back a view.
    Back,
    /// Next view (Tab).
    NextView,
    /// Previous view (Shift-Tab).
    PrevView,
    /// Go to a view.
    View(ViewId),
    /// Move up one row.
    Up,
    /// Move down one row.
    Down,
    /// Move left (previous column, week or collapse).
    Left,
    /// Move right (next column, week or expand).
    Right,
    /// One page up.
    PageUp,
    /// One page down.
    PageDown,
    /// First row.
    Top,
    /// Last row.
    Bottom,
    /// Open the selected item (detail, drill-down, jump to the device).
    Open,
    /// Mark or unmark the selected row for a multi-row action.
    Mark,
    /// Cycle the sort column.
    Sort,
    /// Cycle the heatmap's cohort (all, CA, group, firmware).
    Cohort,
    /// Acknowledge the selected anomaly.
    Acknowledge,
    /// Suppress the selected anomaly for a while (asks how long).
    Suppress,
    /// Plan a revocation of the selected or marked certificates (opens the confirmation).
    Revoke,
    /// Plan moving the selected or marked things to quarantine (opens the confirmation).
    Quarantine,
    /// Plan restoring the selected or marked things after a revoke or quarantine (opens the
    /// confirmation).
    Restore,
    /// Start the next stage of the selected campaign (asks for the stage number).
    Promote,
    /// Halt the selected campaign (asks for a reason and the campaign id).
    Halt,
    /// Resume the selected halted campaign (asks for a reason and the campaign id).
    Resume,
    /// Abort the selected campaign (asks for a reason and the campaign id).
    Abort,
    /// Retire the old certificates of the selected campaign (asks for the campaign id).
    Finalize,
}

/// Every command, in help order.
pub const ALL: [Command; 38] = [
    Command::Quit,
    Command::Help,
    Command::Palette,
    Command::Filter,
    Command::Back,
    Command::NextView,
    Command::PrevView,
    Command::View(ViewId::Dashboard),
    Command::View(ViewId::Heatmap),
    Command::View(ViewId::CaChains),
    Command::View(ViewId::Anomalies),
    Command::View(ViewId::Devices),
    Command::View(ViewId::Audit),
    Command::View(ViewId::Rotation),
    Command::View(ViewId::Operations),
    Command::Up,
    Command::Down,
    Command::Left,
    Command::Right,
    Command::PageUp,
    Command::PageDown,
    Command::Top,
    Command::Bottom,
    Command::Open,
    Command::Mark,
    Command::Sort,
    Command::Cohort,
    Command::Acknowledge,
    Command::Suppress,
    Command::Revoke,
    Command::Quarantine,
    Command::Restore,
    Command::Promote,
    Command::Halt,
    Command::Resume,
    Command::Abort,
    Command::Finalize,
    Command::View(ViewId::Detail),
];

impl Command {
    /// The name used in config files and the palette (`page-down`, `view-devices`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Quit => "quit",
            Self::Help => "help",
            Self::Palette => "palette",
            Self::Filter => "filter",
            Self::Back => "back",
            Self::NextView => "next-view",
            Self::PrevView => "prev-view",
            Self::View(view) => view.command_name(),
            Self::Up => "up",
            Self::Down => "down",
            Self::Left => "left",
            Self::Right => "right",
            Self::PageUp => "page-up",
            Self::PageDown => "page-down",
            Self::Top => "top",
            Self::Bottom => "bottom",
            Self::Open => "open",
            Self::Mark => "mark",
            Self::Sort => "sort",
            Self::Cohort => "cohort",
            Self::Acknowledge => "acknowledge",
            Self::Suppress => "suppress",
            Self::Revoke => "revoke",
            Self::Quarantine => "quarantine",
            Self::Restore => "restore",
            Self::Promote => "promote",
            Self::Halt => "halt",
            Self::Resume => "resume",
            Self::Abort => "abort",
            Self::Finalize => "finalize",
        }
    }

    /// One line for the help overlay.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Quit => "leave fleetid",
            Self::Help => "this help (type to filter it)",
            Self::Palette => "command palette with completion",
            Self::Filter => "filter the current view",
            Self::Back => "close, clear the filter, or go back",
            Self::NextView => "next view",
            Self::PrevView => "previous view",
            Self::View(view) => view.describe(),
            Self::Up => "move up",
            Self::Down => "move down",
            Self::Left => "move left / collapse",
            Self::Right => "move right / expand",
            Self::PageUp => "page up",
            Self::PageDown => "page down",
            Self::Top => "first row",
            Self::Bottom => "last row",
            Self::Open => "open: detail, drill down, jump to device",
            Self::Mark => "mark / unmark for a multi-row action",
            Self::Sort => "cycle the sort column",
            Self::Cohort => "heatmap cohort: all, CA, group, firmware",
            Self::Acknowledge => "acknowledge the anomaly (again: undo)",
            Self::Suppress => "suppress the anomaly for a while",
            Self::Revoke => "plan a revocation (asks for confirmation)",
            Self::Quarantine => "plan a quarantine (asks for confirmation)",
            Self::Restore => "plan a restore after a revoke or quarantine (asks for confirmation)",
            Self::Promote => "rotation: start the next stage (asks for its number)",
            Self::Halt => "rotation: halt the campaign (asks why)",
            Self::Resume => "rotation: resume a halted campaign (asks why)",
            Self::Abort => "rotation: abort the campaign (asks why)",
            Self::Finalize => "rotation: retire the old certificates after the grace period",
        }
    }

    /// Why the console would refuse this command now, if it would: in a read-only session
    /// every command that changes the fleet; in a frozen environment the campaign steps that
    /// move a rotation forward (promote, resume). Help and the palette show it beside the
    /// command, so nobody learns it only after the fact.
    #[must_use]
    pub fn refusal(self, read_only: bool, frozen: bool) -> Option<&'static str> {
        let changes = matches!(
            self,
            Self::Revoke
                | Self::Quarantine
                | Self::Restore
                | Self::Promote
                | Self::Halt
                | Self::Resume
                | Self::Abort
                | Self::Finalize
        );
        if read_only && changes {
            Some("refused: read-only")
        } else if frozen && matches!(self, Self::Promote | Self::Resume) {
            Some("refused: frozen")
        } else {
            None
        }
    }

    /// The command with this name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        ALL.into_iter().find(|command| command.name() == name)
    }
}
