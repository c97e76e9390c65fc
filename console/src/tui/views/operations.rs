//! The operations view (`8`): the journal's newest operations (revoke, quarantine, restore,
//! retire, CA actions) with their progress, and the selected one's calls with their target
//! and result. An operation a killed or failed apply left unfinished says so, and `Enter`
//! resumes it — through the confirmation, like every change.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use crate::human::{count, relative};
use crate::store::journal::CallState;
use crate::tui::action::{Action, Outcome};
use crate::tui::data::{Confirmable, OperationRow, ResumeRequest};
use crate::tui::keymap::Command;
use crate::tui::widgets::table::{Scroll, render_table};
use crate::tui::widgets::{Paint, progress_bar};

/// Selection state of the operations view.
#[derive(Debug, Clone, Default)]
pub struct OperationsView {
    operations: Scroll,
}

impl OperationsView {
    /// Moves; `Enter` on an unfinished operation asks to resume it.
    pub fn handle(&mut self, command: Command, operations: &[OperationRow]) -> Outcome {
        if command == Command::Open {
            return match operations.get(self.operations.selected()) {
                Some(op) if op.resumable() => {
                    Outcome::Action(Action::Confirm(Confirmable::Resume(ResumeRequest {
                        op: op.id.clone(),
                        left: op.left(),
                        summary: op.summary.clone(),
                    })))
                }
                Some(op) => Outcome::Action(Action::Notify(format!(
                    "operation {} is {}: nothing to resume",
                    op.id, op.state
                ))),
                None => Outcome::Ignored,
            };
        }
        if self.operations.apply(command, operations.len()) {
            Outcome::Consumed
        } else {
            Outcome::Ignored
        }
    }

    /// Draws the list and the selected operation's calls.
    pub fn render(&self, frame: &mut Frame, area: Rect, paint: &Paint, ops: &[OperationRow]) {
        if ops.is_empty() {
            let empty = Paragraph::new(
                "No operation in this environment's journal yet. Revoke, quarantine and \
                 restore (r, Q, R in Devices), CA actions and a campaign's finalize show here \
                 with every call they make.",
            )
            .wrap(ratatui::widgets::Wrap { trim: true })
            .style(paint.theme.style("ui.text.dim"))
            .block(paint.block(" Operations ", true));
            frame.render_widget(empty, area);
            return;
        }
        let list_height = u16::try_from(ops.len().min(8)).unwrap_or(8) + 3;
        let [list, calls] =
            Layout::vertical([Constraint::Length(list_height), Constraint::Min(4)]).areas(area);
        let wide = area.width >= 120;
        let mut header = vec!["operation", "kind", "state", "calls", "started"];
        let mut widths = vec![
            Constraint::Length(24),
            Constraint::Length(13),
            Constraint::Length(if wide { 19 } else { 10 }),
            Constraint::Length(if wide { 28 } else { 14 }),
            Constraint::Length(11),
        ];
        if wide {
            header.push("summary");
            widths.push(Constraint::Min(20));
        }
        let resumable = ops.iter().filter(|o| o.resumable()).count();
        let title = if resumable > 0 {
            format!(
                " Operations: {}, {} resumable (*, Enter) ",
                count(ops.len() as u64, "operation"),
                resumable
            )
        } else {
            format!(" Operations: {} ", count(ops.len() as u64, "operation"))
        };
        render_table(
            frame,
            list,
            paint,
            paint.block(title, true),
            Row::new(header),
            &widths,
            ops.len(),
            &self.operations,
            |i| {
                let op = &ops[i];
                let (done, failed, all) = op.progress();
                let failed = if failed > 0 {
                    format!(", {failed} failed")
                } else {
                    String::new()
                };
                let calls = if wide {
                    format!(
                        "{} {done}/{all}{failed}",
                        progress_bar(done, all, 12, paint.glyphs)
                    )
                } else {
                    format!("{done}/{all}{failed}")
                };
                let state_scope = match &*op.state {
                    "verified" => "status.active",
                    "applying" | "partial" => "severity.medium",
                    _ => "status.inactive",
                };
                let state = match (op.resumable(), wide) {
                    (true, true) => format!("{}, resumable", op.state),
                    (true, false) => format!("{}*", op.state),
                    (false, _) => op.state.to_string(),
                };
                let mut cells = vec![
                    Cell::from(op.id.to_string()),
                    Cell::from(op.kind.to_string()),
                    Cell::from(Span::styled(state, paint.theme.style(state_scope))),
                    Cell::from(calls),
                    Cell::from(relative(paint.now, op.created)),
                ];
                if wide {
                    cells.push(Cell::from(op.summary.safe().into_owned()));
                }
                Row::new(cells)
            },
        );
        if let Some(op) = ops.get(self.operations.selected()) {
            render_calls(frame, calls, paint, op);
        }
    }
}

/// The selected operation's calls, one row each.
fn render_calls(frame: &mut Frame, area: Rect, paint: &Paint, op: &OperationRow) {
    let title = format!(
        " {}: {}{} ",
        op.id,
        op.summary.safe(),
        if op.resumable() {
            " — unfinished: Enter resumes it"
        } else {
            ""
        }
    );
    let widths = [
        Constraint::Length(30),
        Constraint::Length(20),
        Constraint::Length(8),
        Constraint::Min(10),
    ];
    let rows: Vec<Row> = op
        .calls
        .iter()
        .map(|call| {
            let (word, scope) = match call.state {
                Some(CallState::Done) => ("done", "status.active"),
                Some(CallState::Failed) => ("FAILED", "severity.high"),
                Some(CallState::Started) => ("started", "severity.medium"),
                None => ("not yet", "ui.text.dim"),
            };
            Row::new(vec![
                Cell::from(call.action),
                Cell::from(call.target.safe().into_owned()),
                Cell::from(Span::styled(word, paint.theme.style(scope))),
                Cell::from(call.detail.safe().into_owned()),
            ])
        })
        .collect();
    let table = Table::new(rows, widths)
        .header(Row::new(["call", "for", "result", "detail"]).style(paint.theme.style("ui.header")))
        .block(paint.block(title, false))
        .style(paint.theme.style("ui.text"))
        .column_spacing(1);
    frame.render_widget(table, area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fixture::operations;

    #[test]
    fn enter_on_an_unfinished_operation_asks_to_resume_it_with_the_calls_left() {
        let ops = operations(1_800_000_000);
        let mut view = OperationsView::default();
        match view.handle(Command::Open, &ops) {
            Outcome::Action(Action::Confirm(Confirmable::Resume(resume))) => {
                assert_eq!(&*resume.op, "op-20261205T174512-3f2a");
                // Six calls, four done: the one started when the apply was killed and the
                // one never started are made again.
                assert_eq!(resume.left, 2);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_verified_operation_has_nothing_to_resume() {
        let ops = operations(1_800_000_000);
        let mut view = OperationsView::default();
        view.handle(Command::Bottom, &ops);
        assert!(matches!(
            view.handle(Command::Open, &ops),
            Outcome::Action(Action::Notify(text)) if text.contains("verified")
        ));
    }
}
