//! CA chains: root -> intermediate tree with device-certificate counts, status, expiry and
//! auto-registration; an inactive or revoked CA that still has active device certificates is
//! flagged (AWS IoT Lens 6.1.2).

use std::collections::BTreeSet;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use crate::human::date;
use crate::model::CertStatus;
use crate::tui::action::{Action, Outcome};
use crate::tui::data::{CaNode, CohortKind, DeviceQuery, FleetSnapshot, Look};
use crate::tui::keymap::Command;
use crate::tui::widgets::Paint;
use crate::tui::widgets::table::{Scroll, render_table};
use crate::tui::widgets::tree::{TreeNode, flatten};

impl TreeNode for CaNode {
    fn children(&self) -> &[Self] {
        &self.children
    }
}

/// Selection and collapsed nodes of the tree.
#[derive(Debug, Clone, Default)]
pub struct CaView {
    scroll: Scroll,
    collapsed: BTreeSet<Vec<usize>>,
}

impl CaView {
    /// Up/down move; left collapses, right expands; Enter lists the CA's devices.
    pub fn handle(&mut self, command: Command, snapshot: &FleetSnapshot, paint: &Paint) -> Outcome {
        let lines = flatten(&snapshot.cas, &self.collapsed, paint.glyphs);
        if self.scroll.apply(command, lines.len()) {
            return Outcome::Consumed;
        }
        let Some(line) = lines.get(self.scroll.selected()) else {
            return Outcome::Ignored;
        };
        match command {
            Command::Left => {
                self.collapsed.insert(line.path.clone());
            }
            Command::Right => {
                self.collapsed.remove(&line.path);
            }
            Command::Open => {
                return Outcome::Action(Action::ShowDevices(DeviceQuery {
                    cohort: Some((CohortKind::Ca, line.node.name.raw().into())),
                    ..DeviceQuery::default()
                }));
            }
            _ => return Outcome::Ignored,
        }
        Outcome::Consumed
    }

    /// Draws the tree as a table.
    pub fn render(&self, frame: &mut Frame, area: Rect, paint: &Paint, snapshot: &FleetSnapshot) {
        let lines = flatten(&snapshot.cas, &self.collapsed, paint.glyphs);
        let flagged = count_flagged(&snapshot.cas);
        let title = if flagged > 0 {
            format!(" CA chains: {flagged} flagged (inactive/revoked CA with active certs) ")
        } else {
            " CA chains ".to_owned()
        };
        let header = Row::new([
            "CA", "status", "auto", "expires", "active", "inact.", "revok.", "flag",
        ]);
        let widths = [
            Constraint::Fill(1),
            Constraint::Length(8),
            Constraint::Length(4),
            Constraint::Length(10),
            Constraint::Length(7),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(5),
        ];
        render_table(
            frame,
            area,
            paint,
            paint.block(title, true),
            header,
            &widths,
            lines.len(),
            &self.scroll,
            |i| {
                let line = &lines[i];
                let node = line.node;
                let fold = if line.collapsed { "+ " } else { "" };
                let flag = if node.flagged() {
                    Span::styled("LENS!", paint.theme.style("status.flagged"))
                } else {
                    Span::raw("")
                };
                Row::new(vec![
                    Cell::from(format!("{}{fold}{}", line.prefix, node.name.safe())),
                    Cell::from(Span::styled(
                        node.status.label(),
                        paint.theme.style(node.status.scope()),
                    )),
                    Cell::from(if node.auto_registration { "yes" } else { "no" }),
                    Cell::from(node.expires.map_or_else(|| "-".to_owned(), date)),
                    Cell::from(node.devices.get(CertStatus::Active).to_string()),
                    Cell::from(node.devices.get(CertStatus::Inactive).to_string()),
                    Cell::from(node.devices.get(CertStatus::Revoked).to_string()),
                    Cell::from(flag),
                ])
            },
        );
    }
}

fn count_flagged(nodes: &[CaNode]) -> usize {
    nodes
        .iter()
        .map(|n| usize::from(n.flagged()) + count_flagged(&n.children))
        .sum()
}
