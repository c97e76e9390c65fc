//! What the dashboard's "Campaigns, operations" box is made of: the campaigns that run, wait
//! for a person or halted, and the operations still applying or left unfinished, most urgent
//! first; and, per campaign onto another CA, the share of its devices holding the next trust
//! anchor.

use ratatui::text::{Line, Span};

use super::{AnchorShare, InProgress};
use crate::human::share;
use crate::ops::rotation::state::Overall;
use crate::tui::data::FleetSnapshot;
use crate::tui::views::rotation::overall_label;
use crate::tui::widgets::Paint;

/// The box's content from the campaigns and operations on screen.
#[must_use]
pub fn of<'a>(snapshot: &'a FleetSnapshot, paint: &Paint) -> InProgress<'a> {
    let theme = paint.theme;
    let mut campaigns: Vec<_> = snapshot
        .campaigns
        .iter()
        .filter(|c| {
            matches!(
                c.overall,
                Overall::Halted | Overall::AwaitingPromotion | Overall::Running
            )
        })
        .collect();
    campaigns.sort_by_key(|c| match c.overall {
        Overall::Halted => 0,
        Overall::AwaitingPromotion => 1,
        _ => 2,
    });
    let mut lines: Vec<Line<'a>> = campaigns
        .iter()
        .map(|c| {
            let (all, done) = c.progress();
            let current = c.current().map_or(0, |i| c.stages[i].number);
            let scope = match c.overall {
                Overall::Halted => "severity.critical",
                Overall::AwaitingPromotion => "severity.medium",
                _ => "status.pending",
            };
            Line::from(vec![
                Span::raw(format!("{} ", c.id.safe())),
                Span::styled(overall_label(c.overall), theme.style(scope)),
                Span::raw(format!(
                    " {current}/{} {} new",
                    c.stages.len(),
                    share(done as u64, all as u64)
                )),
            ])
        })
        .collect();
    let mut operations: Vec<_> = snapshot
        .operations
        .iter()
        .filter(|o| o.resumable())
        .collect();
    operations.sort_by_key(|o| std::cmp::Reverse(o.updated));
    lines.extend(operations.iter().map(|o| {
        let (done, failed, all) = o.progress();
        Line::from(vec![
            Span::raw(format!("{} ", o.kind)),
            Span::styled(o.state.to_string(), theme.style("severity.medium")),
            Span::raw(format!(
                " {done}/{all}{}",
                if failed > 0 {
                    format!(" {failed} failed")
                } else {
                    String::new()
                }
            )),
        ])
    }));
    let next_anchor = snapshot
        .campaigns
        .iter()
        .filter(|c| !matches!(c.overall, Overall::Aborted | Overall::Finalized))
        .filter_map(|c| {
            let next = c.next_ca.as_ref()?;
            Some(AnchorShare {
                cohort: c.id.safe(),
                on_next_anchor: next.holding_anchor as u64,
                devices: next.devices as u64,
            })
        })
        .collect();
    InProgress {
        lines,
        next_anchor,
        freshness: None,
    }
}
