//! The dashboard's boxes of rows: the most severe open anomalies, the CA chains with their
//! flags, and campaigns and operations in progress.

use std::collections::BTreeSet;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::InProgress;
use super::freshness::{self, ANOMALY_SOURCES, title};
use crate::human::{count, date, share, span};
use crate::model::{CertStatus, Severity, Source};
use crate::safe_text::SafeText;
use crate::tui::data::{AnomalyRow, CaNode, FleetSnapshot, Look, Triage};
use crate::tui::views::anomalies::kind_label;
use crate::tui::widgets::Paint;
use crate::tui::widgets::tree::flatten;

/// From this inner width on, the lists show more columns.
const ROOMY: u16 = 56;

/// Whether an anomaly still asks for attention: not acknowledged, and not suppressed now.
fn is_open(row: &AnomalyRow, now: i64) -> bool {
    match row.triage {
        Triage::Open => true,
        Triage::Acknowledged => false,
        Triage::Suppressed(until) => until <= now,
    }
}

/// The `n` most severe open anomalies, newest first within a severity.
fn most_severe(rows: &[AnomalyRow], now: i64, n: usize) -> Vec<&AnomalyRow> {
    let order =
        |a: &&AnomalyRow, b: &&AnomalyRow| b.severity.cmp(&a.severity).then(b.at.cmp(&a.at));
    let mut open: Vec<&AnomalyRow> = rows.iter().filter(|r| is_open(r, now)).collect();
    if open.len() > n && n > 0 {
        open.select_nth_unstable_by(n - 1, order);
        open.truncate(n);
    }
    open.sort_by(order);
    open.truncate(n);
    open
}

/// Open anomalies by severity, and the most severe of them.
pub fn anomalies(frame: &mut Frame, area: Rect, paint: &Paint, snapshot: &FleetSnapshot) {
    let fresh = freshness::worst_of(snapshot, &ANOMALY_SOURCES);
    let block = paint.block(title(paint, "Anomalies", fresh, area.width), false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [totals, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    let mut spans = Vec::new();
    for (severity, n) in Severity::ALL.iter().zip(snapshot.dashboard.anomalies) {
        spans.push(Span::styled(
            severity.label(),
            paint.theme.style(severity.scope()),
        ));
        spans.push(Span::raw(format!(" {n}   ")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), totals);

    let roomy = list.width >= ROOMY;
    let room = usize::from(list.height).saturating_sub(usize::from(roomy));
    let rows = most_severe(&snapshot.anomalies, paint.now, room);
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "no open anomalies",
                paint.theme.style("ui.text.dim"),
            )),
            list,
        );
        return;
    }
    let widths: Vec<Constraint> = if roomy {
        vec![
            Constraint::Length(4),
            Constraint::Length(7),
            Constraint::Length(18),
            Constraint::Length(14),
            Constraint::Fill(1),
        ]
    } else {
        vec![
            Constraint::Length(4),
            Constraint::Fill(1),
            Constraint::Length(14),
        ]
    };
    let table_rows = rows.into_iter().map(|row| {
        let severity = Cell::from(Span::styled(
            row.severity.label(),
            paint.theme.style(row.severity.scope()),
        ));
        let thing = Cell::from(row.thing.safe().into_owned());
        let kind = Cell::from(SafeText::from_string(kind_label(row.kind.raw())));
        if roomy {
            Row::new(vec![
                severity,
                Cell::from(span(paint.now - row.at)),
                thing,
                kind,
                Cell::from(row.detail.safe().into_owned()),
            ])
        } else {
            Row::new(vec![severity, thing, kind])
        }
    });
    let mut table = Table::new(table_rows, widths).style(paint.theme.style("ui.text"));
    if roomy {
        let header = ["sev", "age", "thing", "kind", "detail"];
        table = table.header(Row::new(header).style(paint.theme.style("ui.header")));
    }
    frame.render_widget(table, list);
}

fn count_flagged(nodes: &[CaNode]) -> u64 {
    nodes
        .iter()
        .map(|n| u64::from(n.flagged()) + count_flagged(&n.children))
        .sum()
}

/// The CA tree with each CA's status and flag; when it is longer than the box, the flagged
/// CAs are kept and the rest filled in, in tree order.
pub fn cas(frame: &mut Frame, area: Rect, paint: &Paint, snapshot: &FleetSnapshot) {
    let d = &snapshot.dashboard;
    let fresh = freshness::of(snapshot, Source::CaCertificates);
    let block = paint.block(title(paint, "CA chains", fresh, area.width), false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [totals, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    let flagged = count_flagged(&snapshot.cas).max(d.cas_flagged);
    let flag_scope = if flagged > 0 {
        "status.flagged"
    } else {
        "ui.text"
    };
    let roomy = list.width >= ROOMY;
    let mut spans = vec![
        Span::raw(format!("{}, ", count(d.cas, "CA"))),
        Span::styled(format!("{flagged} flagged"), paint.theme.style(flag_scope)),
    ];
    let why = " (inactive or revoked CA, active certificates)";
    let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    if used + why.len() <= usize::from(totals.width) {
        spans.push(Span::styled(why, paint.theme.style("ui.text.dim")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), totals);

    let lines = flatten(&snapshot.cas, &BTreeSet::new(), paint.glyphs);
    let room = usize::from(list.height).saturating_sub(usize::from(roomy));
    let shown: Vec<usize> = if lines.len() <= room {
        (0..lines.len()).collect()
    } else {
        // The flagged first, then the others in order, for all but the "more" line.
        let keep = room.saturating_sub(1);
        let mut chosen: Vec<usize> = (0..lines.len())
            .filter(|i| lines[*i].node.flagged())
            .chain((0..lines.len()).filter(|i| !lines[*i].node.flagged()))
            .take(keep)
            .collect();
        chosen.sort_unstable();
        chosen
    };
    let mut rows: Vec<Row> = shown
        .iter()
        .map(|i| {
            let line = &lines[*i];
            let node = line.node;
            let flag = if node.flagged() {
                Span::styled("LENS!", paint.theme.style("status.flagged"))
            } else {
                Span::raw("")
            };
            let mut cells = vec![
                Cell::from(format!("{}{}", line.prefix, node.name.safe())),
                Cell::from(Span::styled(
                    node.status.label(),
                    paint.theme.style(node.status.scope()),
                )),
            ];
            if roomy {
                cells.push(Cell::from(format!(
                    "{:>6}",
                    node.devices.get(CertStatus::Active)
                )));
                cells.push(Cell::from(
                    node.expires.map_or_else(|| "-".to_owned(), date),
                ));
            }
            cells.push(Cell::from(flag));
            Row::new(cells)
        })
        .collect();
    if shown.len() < lines.len() {
        rows.push(Row::new(vec![Cell::from(Span::styled(
            format!("{} more: 3 shows the tree", lines.len() - shown.len()),
            paint.theme.style("ui.text.dim"),
        ))]));
    }
    let widths: Vec<Constraint> = if roomy {
        vec![
            Constraint::Fill(1),
            Constraint::Length(8),
            Constraint::Length(6),
            Constraint::Length(10),
            Constraint::Length(5),
        ]
    } else {
        vec![
            Constraint::Fill(1),
            Constraint::Length(8),
            Constraint::Length(5),
        ]
    };
    let mut table = Table::new(rows, widths).style(paint.theme.style("ui.text"));
    if roomy {
        let header = ["CA", "status", "active", "expires", "flag"];
        table = table.header(Row::new(header).style(paint.theme.style("ui.header")));
    }
    frame.render_widget(table, list);
}

/// Campaigns and operations in progress, then each cohort's share on the next trust anchor;
/// says so when there are none.
pub fn in_progress(frame: &mut Frame, area: Rect, paint: &Paint, progress: &InProgress) {
    let name = "Campaigns, operations";
    let heading = match &progress.freshness {
        Some(fresh) => title(paint, name, Some(fresh), area.width),
        None => Line::raw(format!(" {name} ")),
    };
    let block = paint.block(heading, false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let dim = paint.theme.style("ui.text.dim");
    let mut lines: Vec<Line> = if progress.lines.is_empty() {
        vec![Line::styled("no campaign running", dim)]
    } else {
        progress.lines.clone()
    };
    lines.push(Line::raw(""));
    if progress.next_anchor.is_empty() {
        lines.push(Line::styled("next trust anchor: none", dim));
    } else {
        lines.push(Line::styled(
            "on the next trust anchor",
            paint.theme.style("ui.header"),
        ));
        let width = usize::from(inner.width).saturating_sub(9);
        for anchor in &progress.next_anchor {
            let cohort: String = anchor.cohort.as_str().chars().take(width).collect();
            lines.push(Line::from(vec![
                Span::raw(format!("{cohort:<width$}")),
                Span::raw(format!(
                    "{:>9}",
                    share(anchor.on_next_anchor, anchor.devices)
                )),
            ]));
        }
    }
    frame.render_widget(
        Paragraph::new(lines).style(paint.theme.style("ui.text")),
        inner,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::safe_text::OutsideText;

    fn anomaly(id: u64, severity: Severity, at: i64, triage: Triage) -> AnomalyRow {
        AnomalyRow {
            id,
            severity,
            source: Source::Live,
            thing: OutsideText::from(format!("dev-{id}")),
            kind: OutsideText::from("flapping"),
            detail: OutsideText::default(),
            at,
            triage,
        }
    }

    #[test]
    fn the_most_severe_open_anomalies_come_first_newest_first() {
        let rows = vec![
            anomaly(1, Severity::Low, 50, Triage::Open),
            anomaly(2, Severity::Critical, 10, Triage::Open),
            anomaly(3, Severity::Critical, 20, Triage::Open),
            anomaly(4, Severity::Critical, 30, Triage::Acknowledged),
            anomaly(5, Severity::High, 40, Triage::Suppressed(1_000)),
            anomaly(6, Severity::High, 5, Triage::Suppressed(60)),
        ];
        let ids = |n| {
            most_severe(&rows, 100, n)
                .iter()
                .map(|r| r.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(10), vec![3, 2, 6, 1]);
        assert_eq!(ids(2), vec![3, 2]);
        assert_eq!(ids(0), Vec::<u64>::new());
    }
}
