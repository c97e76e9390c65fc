//! The dashboard: certificate counts by status, expiry windows, CA summary, open anomalies,
//! and the age of every number.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::safe_text::SafeText;
use crate::tui::data::{CertState, FleetSnapshot, Freshness, Severity};
use crate::tui::widgets::{Paint, age};

/// A freshness older than this is drawn as stale.
const STALE_AFTER: i64 = 15 * 60;

/// The dashboard has no state of its own: it shows the snapshot.
#[derive(Debug, Clone, Default)]
pub struct DashboardView;

fn freshness_of<'a>(snapshot: &'a FleetSnapshot, source: &str) -> Option<&'a Freshness> {
    snapshot
        .dashboard
        .freshness
        .iter()
        .find(|f| &*f.source == source)
}

fn age_label(paint: &Paint, fresh: Option<&Freshness>) -> Span<'static> {
    let updated = fresh.and_then(|f| f.updated);
    let stale =
        updated.is_none_or(|t| paint.now - t > STALE_AFTER) || fresh.is_some_and(|f| !f.available);
    let scope = if stale { "ui.stale" } else { "ui.text.dim" };
    let text = match updated {
        Some(_) => format!("({} ago)", age(paint.now, updated)),
        None => "(not loaded)".to_owned(),
    };
    Span::styled(text, paint.theme.style(scope))
}

fn line(label: &str, value: &str, style: ratatui::style::Style) -> Line<'static> {
    Line::from(vec![
        Span::raw(format!("{label:<14}")),
        Span::styled(format!("{value:>10}"), style),
    ])
}

impl DashboardView {
    /// Draws the dashboard.
    pub fn render(&self, frame: &mut Frame, area: Rect, paint: &Paint, snapshot: &FleetSnapshot) {
        let d = &snapshot.dashboard;
        let text = paint.theme.style("ui.text");
        let [top, bottom] =
            Layout::vertical([Constraint::Length(11), Constraint::Min(3)]).areas(area);
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);

        let certs_age = age_label(paint, freshness_of(snapshot, "certificates"));
        let mut lines: Vec<Line> = CertState::ALL
            .iter()
            .zip(d.status_counts)
            .map(|(state, n)| {
                line(
                    state.label(),
                    &n.to_string(),
                    paint.theme.style(state.scope()),
                )
            })
            .collect();
        lines.push(line(
            "expired",
            &d.expired.to_string(),
            paint.theme.style("severity.high"),
        ));
        for (days, n) in [7, 30, 90].iter().zip(d.expiring) {
            let scope = if *days == 7 && n > 0 {
                "severity.medium"
            } else {
                "ui.text"
            };
            lines.push(line(
                &format!("expiring {days}d"),
                &n.to_string(),
                paint.theme.style(scope),
            ));
        }
        let block = paint.block(
            Line::from(vec![Span::raw(" Certificates "), certs_age, Span::raw(" ")]),
            false,
        );
        frame.render_widget(Paragraph::new(lines).block(block).style(text), left);

        let cas_age = age_label(paint, freshness_of(snapshot, "ca-certificates"));
        let flagged_scope = if d.cas_flagged > 0 {
            "status.flagged"
        } else {
            "ui.text"
        };
        let mut lines = vec![
            line("CAs", &d.cas.to_string(), text),
            line(
                "CAs flagged",
                &d.cas_flagged.to_string(),
                paint.theme.style(flagged_scope),
            ),
            line("things", &d.things.to_string(), text),
            line(
                "online",
                &d.online.map_or_else(|| "?".to_owned(), |n| n.to_string()),
                paint.theme.style("live.online"),
            ),
            Line::raw(""),
            Line::styled("open anomalies", paint.theme.style("ui.header")),
        ];
        for (severity, n) in Severity::ALL.iter().zip(d.anomalies) {
            lines.push(line(
                severity.label(),
                &n.to_string(),
                paint.theme.style(severity.scope()),
            ));
        }
        let block = paint.block(
            Line::from(vec![
                Span::raw(" CAs, things, anomalies "),
                cas_age,
                Span::raw(" "),
            ]),
            false,
        );
        frame.render_widget(Paragraph::new(lines).block(block).style(text), right);

        let mut spans = Vec::new();
        for fresh in &d.freshness {
            let mark = if fresh.available {
                ""
            } else {
                " (unavailable)"
            };
            spans.push(Span::raw(format!(
                "{}{mark} ",
                SafeText::new(&fresh.source)
            )));
            spans.push(age_label(paint, Some(fresh)));
            spans.push(Span::raw("   "));
        }
        let block = paint.block(" Freshness of every source ", false);
        frame.render_widget(
            Paragraph::new(Line::from(spans))
                .wrap(ratatui::widgets::Wrap { trim: true })
                .block(block)
                .style(text),
            bottom,
        );
    }
}
