//! Drawing the whole screen: banner, tabs, the current view, the status line, overlays.
//! The banner is drawn first and on any size, so the environment is always visible.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{App, Overlay};
use crate::human::{count, relative};
use crate::safe_text::SafeText;
use crate::tui::action::ViewId;
use crate::tui::data::OpProgress;
use crate::tui::theme::Theme;
use crate::tui::widgets::banner::{render_banner, render_tabs};

impl App {
    /// Draws the screen into `frame`. Cost is proportional to what is visible.
    pub fn render(&self, frame: &mut Frame) {
        let area = frame.area();
        let paint = self.paint();
        let [banner, tabs, body, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Min(0),
            Constraint::Length(1),
        ])
        .areas(area);
        render_banner(
            frame,
            banner,
            &paint,
            &self.settings.environment,
            self.settings.read_only,
        );
        if area.height < 4 {
            return;
        }
        render_tabs(frame, tabs, &paint, self.view);
        match self.view {
            ViewId::Dashboard => self.dashboard.render(frame, body, &paint, &self.snapshot),
            ViewId::Heatmap => self.heatmap.render(frame, body, &paint, &self.snapshot),
            ViewId::CaChains => self.cas.render(frame, body, &paint, &self.snapshot),
            ViewId::Anomalies => self.anomalies.render(frame, body, &paint, &self.snapshot),
            ViewId::Devices => self.devices.render(frame, body, &paint),
            ViewId::Detail => self.detail.render(frame, body, &paint),
            ViewId::Audit => self.audit.render(frame, body, &paint, &self.snapshot),
            ViewId::Rotation => {
                self.rotation
                    .render(frame, body, &paint, &self.snapshot.campaigns);
            }
            ViewId::Operations => {
                self.operations
                    .render(frame, body, &paint, &self.snapshot.operations);
            }
        }
        self.render_status(frame, status);
        match &self.overlay {
            Some(Overlay::Help(help)) => help.render(frame, body, &paint),
            Some(Overlay::Palette(palette)) => palette.render(frame, body, &paint),
            Some(Overlay::Confirm(confirm)) => confirm.render(frame, body, &paint),
            None => {}
        }
    }

    fn render_status(&self, frame: &mut Frame, area: ratatui::layout::Rect) {
        let theme = &self.settings.theme;
        let left = if let Some(input) = &self.filter_input {
            Line::from(vec![
                Span::styled("/", theme.style("ui.help.key")),
                Span::styled(
                    SafeText::new(input.text()).into_owned(),
                    theme.style("ui.input"),
                ),
                Span::styled("  Enter keeps, Esc clears", theme.style("ui.text.dim")),
            ])
        } else if let Some(progress) = &self.operation {
            progress_line(progress, area.width, theme)
        } else if let Some((text, error)) = &self.status {
            let scope = if *error {
                "ui.statusline.error"
            } else {
                "ui.statusline"
            };
            Line::styled(text.clone(), theme.style(scope))
        } else {
            Line::styled(
                "? help  : command  / filter  Tab views  Esc back  q quit",
                theme.style("ui.text.dim"),
            )
        };
        let right = format!("data {} ", relative(self.now, self.snapshot.taken_at));
        let right_width = u16::try_from(right.len()).unwrap_or(0);
        let [left_area, right_area] =
            Layout::horizontal([Constraint::Min(0), Constraint::Length(right_width)]).areas(area);
        frame.render_widget(Paragraph::new(left), left_area);
        frame.render_widget(
            Paragraph::new(Line::styled(right, theme.style("ui.text.dim"))),
            right_area,
        );
    }
}

/// Width of the status line's progress bar, in cells.
const BAR: usize = 24;

/// `revoke [#########...............] 12/40 calls, 0 failed` — the bar drawn in the ASCII
/// characters every terminal has.
fn progress_line(progress: &OpProgress, width: u16, theme: &Theme) -> Line<'static> {
    let done = (progress.finished * BAR)
        .checked_div(progress.total)
        .unwrap_or(BAR)
        .min(BAR);
    let bar = BAR.min(usize::from(width).saturating_sub(40)).max(4);
    let filled = done * bar / BAR;
    Line::from(vec![
        Span::styled(format!("{} ", progress.verb), theme.style("ui.statusline")),
        Span::styled(
            format!("[{}{}]", "#".repeat(filled), ".".repeat(bar - filled)),
            theme.style("ui.help.key"),
        ),
        Span::styled(
            format!(
                " {}/{}, {} failed",
                progress.finished,
                count(progress.total as u64, "call"),
                progress.failed
            ),
            theme.style("ui.statusline"),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::theme::ThemeSet;

    fn text(progress: &OpProgress) -> String {
        let theme = ThemeSet::bundled()
            .load("mono")
            .unwrap_or_else(|e| panic!("{e}"));
        progress_line(progress, 80, &theme)
            .spans
            .iter()
            .map(|s| s.content.as_ref())
            .collect()
    }

    #[test]
    fn the_progress_line_counts_calls_in_words_that_agree() {
        let mut progress = OpProgress {
            verb: "revoke",
            finished: 0,
            failed: 0,
            total: 1,
        };
        assert_eq!(
            text(&progress),
            "revoke [........................] 0/1 call, 0 failed"
        );
        progress.total = 8;
        progress.finished = 3;
        assert_eq!(
            text(&progress),
            "revoke [#########...............] 3/8 calls, 0 failed"
        );
    }
}
