//! The confirmation dialog in front of every mutation and every campaign step: what will
//! happen, the blast radius, a reason where the step needs one, and a typed answer. The
//! default is Cancel: Enter with anything but the expected answer, and Esc, both cancel (and
//! the cancellation is recorded in the audit log).

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::input::{InputEvent, TextInput};
use super::{Paint, centered};
use crate::safe_text::SafeText;
use crate::tui::action::{Action, Outcome};
use crate::tui::data::{Confirmable, MutationRequest, OpKind, RotationAction};

/// How many target names the dialog lists before summarising.
const LISTED: usize = 5;

/// The dialog's state.
#[derive(Debug, Clone)]
pub struct ConfirmDialog {
    request: Confirmable,
    /// The reason being typed, while a step still needs one.
    reason: Option<TextInput>,
    /// A reason was submitted empty.
    reason_missing: bool,
    expected: String,
    input: TextInput,
    read_only: bool,
}

impl ConfirmDialog {
    /// A dialog for `request`. The answer to type: for a mutation the thing's name for one
    /// thing, the count otherwise; for a campaign step the stage number of a promotion, the
    /// campaign id otherwise (after the reason, for a halt, resume or abort); for a resume the
    /// number of calls left.
    #[must_use]
    pub fn new(request: Confirmable, read_only: bool) -> Self {
        let (expected, reason) = match &request {
            Confirmable::Mutation(m) => (
                match m.things.as_slice() {
                    [one] => one.raw().to_owned(),
                    many => many.len().to_string(),
                },
                None,
            ),
            Confirmable::Step { step, .. } => (
                step.expected_answer(),
                step.action.reason().map(|_| TextInput::default()),
            ),
            Confirmable::Resume(resume) => (resume.left.to_string(), None),
        };
        Self {
            request,
            reason,
            reason_missing: false,
            expected,
            input: TextInput::default(),
            read_only,
        }
    }

    /// The answer that confirms.
    #[must_use]
    pub fn expected(&self) -> &str {
        &self.expected
    }

    /// A step's reason is typed first: Enter with one moves on to the answer, Enter without
    /// asks again, Esc cancels. Then Enter with the expected answer confirms; Enter with
    /// anything else, and Esc, cancel.
    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        if let Some(input) = self.reason.as_mut() {
            return match input.handle_key(key) {
                InputEvent::Submit if !input.text().trim().is_empty() => {
                    let text = input.text().trim().to_owned();
                    if let Confirmable::Step { step, .. } = &mut self.request
                        && let RotationAction::Halt { reason }
                        | RotationAction::Resume { reason }
                        | RotationAction::Abort { reason } = &mut step.action
                    {
                        *reason = text;
                    }
                    self.reason = None;
                    self.reason_missing = false;
                    Outcome::Consumed
                }
                InputEvent::Submit => {
                    self.reason_missing = true;
                    Outcome::Consumed
                }
                InputEvent::Cancel => Outcome::Action(Action::Cancel(self.request.clone())),
                InputEvent::Changed | InputEvent::Complete | InputEvent::Unchanged => {
                    Outcome::Consumed
                }
            };
        }
        match self.input.handle_key(key) {
            InputEvent::Submit if self.input.text() == self.expected => {
                Outcome::Action(Action::Request(self.request.clone()))
            }
            InputEvent::Submit | InputEvent::Cancel => {
                Outcome::Action(Action::Cancel(self.request.clone()))
            }
            InputEvent::Changed | InputEvent::Complete | InputEvent::Unchanged => Outcome::Consumed,
        }
    }

    /// Draws the dialog centred over `area`.
    pub fn render(&self, frame: &mut Frame, area: Rect, paint: &Paint) {
        let popup = centered(area, 72, 14);
        frame.render_widget(Clear, popup);
        let verb = match &self.request {
            Confirmable::Mutation(request) => request.kind.verb(),
            Confirmable::Step { step, .. } => step.action.verb(),
            Confirmable::Resume(_) => "resume",
        };
        let danger = paint.theme.style("ui.dialog.danger");
        let block = paint
            .block(Line::styled(format!(" Confirm {verb} "), danger), true)
            .border_style(danger);
        let inner = block.inner(popup);
        frame.render_widget(block, popup);
        let mut lines = match &self.request {
            Confirmable::Mutation(request) => mutation_lines(request, paint),
            Confirmable::Step { step, radius } => vec![
                Line::from(SafeText::from_string(format!("Plan: {}.", step.describe()))),
                Line::styled(SafeText::from_string(radius.clone()), danger),
            ],
            Confirmable::Resume(resume) => vec![
                Line::from(SafeText::from_string(format!(
                    "Plan: resume operation {} from its journal: the calls not done yet, then \
                     verify.",
                    resume.op
                ))),
                Line::styled(resume.summary.safe().into_owned(), danger),
            ],
        };
        lines.push(Line::raw(""));
        if self.read_only {
            lines.push(Line::styled(
                "READ-ONLY: this console will refuse the request.",
                paint.theme.style("ui.read-only"),
            ));
        }
        let key = paint.theme.style("ui.help.key");
        if let Some(reason) = &self.reason {
            lines.push(Line::from(if self.reason_missing {
                Span::styled("A reason is required (it goes to the audit log).", danger)
            } else {
                Span::raw("Why? It goes to the audit log. Enter when written.")
            }));
            lines.push(Line::from(vec![
                Span::styled("reason> ", key),
                Span::styled(
                    SafeText::new(reason.text()).into_owned(),
                    paint.theme.style("ui.input"),
                ),
            ]));
        } else {
            lines.push(Line::from(vec![
                Span::raw("Type "),
                Span::styled(SafeText::new(&self.expected).into_owned(), key),
                Span::raw(" and press Enter to confirm."),
            ]));
            lines.push(Line::from(vec![
                Span::styled("> ", key),
                Span::styled(
                    SafeText::new(self.input.text()).into_owned(),
                    paint.theme.style("ui.input"),
                ),
            ]));
        }
        lines.push(Line::from(vec![
            Span::styled("[ Cancel ]", paint.theme.style("ui.selection")),
            Span::raw("  default: Enter or Esc cancels"),
        ]));
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    }
}

/// What a revoke, quarantine or restore does and to whom.
fn mutation_lines(request: &MutationRequest, paint: &Paint) -> Vec<Line<'static>> {
    let danger = paint.theme.style("ui.dialog.danger");
    let r = &request.radius;
    let what = match request.kind {
        OpKind::Revoke => {
            "attach deny-all policy, set certificates INACTIVE, add things to quarantine, \
             cut the live session"
        }
        OpKind::Quarantine => {
            "attach deny-all policy, add things to the quarantine group, cut the live session"
        }
        OpKind::Restore => {
            "set INACTIVE certificates ACTIVE, detach deny-all, take things out of quarantine"
        }
        other => other.verb(),
    };
    let mut names: Vec<String> = request
        .things
        .iter()
        .take(LISTED)
        .map(|t| t.safe().to_string())
        .collect();
    if request.things.len() > LISTED {
        names.push(format!("and {} more", request.things.len() - LISTED));
    }
    vec![
        Line::from(format!("Plan: {what}.")),
        Line::styled(format!("Blast radius: {}", r.summary()), danger),
        Line::from(format!("Targets: {}", names.join(", "))),
    ]
}

#[cfg(test)]
mod tests {
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};

    use super::*;
    use crate::tui::data::BlastRadius;

    fn request(things: &[&str]) -> MutationRequest {
        MutationRequest {
            kind: OpKind::Revoke,
            things: things.iter().map(|t| (*t).into()).collect(),
            radius: BlastRadius {
                certs: things.len() as u64,
                things: things.len() as u64,
                groups: 1,
                fleet_percent: 0.1,
                online: 0,
            },
        }
    }

    fn type_text(dialog: &mut ConfirmDialog, text: &str) {
        for c in text.chars() {
            dialog.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
    }

    fn enter(dialog: &mut ConfirmDialog) -> Outcome {
        dialog.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
    }

    #[test]
    fn enter_alone_cancels() {
        let mut dialog = ConfirmDialog::new(Confirmable::Mutation(request(&["a", "b"])), false);
        assert_eq!(
            enter(&mut dialog),
            Outcome::Action(Action::Cancel(Confirmable::Mutation(request(&["a", "b"]))))
        );
    }

    #[test]
    fn a_wrong_answer_cancels() {
        let mut dialog = ConfirmDialog::new(Confirmable::Mutation(request(&["a", "b"])), false);
        type_text(&mut dialog, "3");
        assert!(matches!(
            enter(&mut dialog),
            Outcome::Action(Action::Cancel(_))
        ));
    }

    #[test]
    fn the_count_confirms_many_and_the_name_confirms_one() {
        let mut many = ConfirmDialog::new(Confirmable::Mutation(request(&["a", "b"])), false);
        type_text(&mut many, "2");
        assert!(matches!(
            enter(&mut many),
            Outcome::Action(Action::Request(_))
        ));
        let mut one = ConfirmDialog::new(Confirmable::Mutation(request(&["dev-7"])), false);
        assert_eq!(one.expected(), "dev-7");
        type_text(&mut one, "dev-7");
        assert!(matches!(
            enter(&mut one),
            Outcome::Action(Action::Request(_))
        ));
    }
}
