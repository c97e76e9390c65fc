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
use crate::tui::data::{MutationRequest, OpKind, RotationAction, RotationStep};

/// How many target names the dialog lists before summarising.
const LISTED: usize = 5;

/// What is being confirmed.
#[derive(Debug, Clone)]
enum Subject {
    /// A revoke, quarantine or restore.
    Mutation(MutationRequest),
    /// A campaign step, with what it touches.
    Step {
        step: RotationStep,
        radius: String,
        /// The reason being typed, while the step still needs one.
        reason: Option<TextInput>,
    },
}

/// The dialog's state.
#[derive(Debug, Clone)]
pub struct ConfirmDialog {
    subject: Subject,
    expected: String,
    input: TextInput,
    read_only: bool,
    /// A reason was submitted empty.
    reason_missing: bool,
}

impl ConfirmDialog {
    /// A dialog for `request`; the answer to type is the thing's name for one thing, the
    /// count otherwise.
    #[must_use]
    pub fn new(request: MutationRequest, read_only: bool) -> Self {
        let expected = match request.things.as_slice() {
            [one] => one.raw().to_owned(),
            many => many.len().to_string(),
        };
        Self {
            subject: Subject::Mutation(request),
            expected,
            input: TextInput::default(),
            read_only,
            reason_missing: false,
        }
    }

    /// A dialog for a campaign step: first its reason (halt, resume, abort), then the answer
    /// to type — the stage number for a promotion, the campaign id otherwise.
    #[must_use]
    pub fn for_step(step: RotationStep, radius: String, read_only: bool) -> Self {
        let reason = step.action.reason().map(|_| TextInput::default());
        Self {
            expected: step.expected_answer(),
            subject: Subject::Step {
                step,
                radius,
                reason,
            },
            input: TextInput::default(),
            read_only,
            reason_missing: false,
        }
    }

    /// The answer that confirms.
    #[must_use]
    pub fn expected(&self) -> &str {
        &self.expected
    }

    fn cancel(&self) -> Outcome {
        Outcome::Action(match &self.subject {
            Subject::Mutation(request) => Action::CancelMutation(request.clone()),
            Subject::Step { step, .. } => Action::CancelStep(step.clone()),
        })
    }

    fn confirm(&self) -> Outcome {
        Outcome::Action(match &self.subject {
            Subject::Mutation(request) => Action::RequestMutation(request.clone()),
            Subject::Step { step, .. } => Action::RequestStep(step.clone()),
        })
    }

    /// A step's reason is typed first: Enter with one moves on to the answer, Enter without
    /// asks again, Esc cancels. Then Enter with the expected answer confirms; Enter with
    /// anything else, and Esc, cancel.
    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        if let Subject::Step {
            step,
            reason: reason @ Some(_),
            ..
        } = &mut self.subject
            && let Some(input) = reason.as_mut()
        {
            return match input.handle_key(key) {
                InputEvent::Submit if !input.text().trim().is_empty() => {
                    let text = input.text().trim().to_owned();
                    if let RotationAction::Halt { reason: r }
                    | RotationAction::Resume { reason: r }
                    | RotationAction::Abort { reason: r } = &mut step.action
                    {
                        *r = text;
                    }
                    *reason = None;
                    self.reason_missing = false;
                    Outcome::Consumed
                }
                InputEvent::Submit => {
                    self.reason_missing = true;
                    Outcome::Consumed
                }
                InputEvent::Cancel => Outcome::Action(Action::CancelStep(step.clone())),
                InputEvent::Changed | InputEvent::Complete | InputEvent::Unchanged => {
                    Outcome::Consumed
                }
            };
        }
        match self.input.handle_key(key) {
            InputEvent::Submit if self.input.text() == self.expected => self.confirm(),
            InputEvent::Submit | InputEvent::Cancel => self.cancel(),
            InputEvent::Changed | InputEvent::Complete | InputEvent::Unchanged => Outcome::Consumed,
        }
    }

    /// Draws the dialog centred over `area`.
    pub fn render(&self, frame: &mut Frame, area: Rect, paint: &Paint) {
        let popup = centered(area, 72, 14);
        frame.render_widget(Clear, popup);
        let verb = match &self.subject {
            Subject::Mutation(request) => request.kind.verb(),
            Subject::Step { step, .. } => step.action.verb(),
        };
        let danger = paint.theme.style("ui.dialog.danger");
        let block = paint
            .block(Line::styled(format!(" Confirm {verb} "), danger), true)
            .border_style(danger);
        let inner = block.inner(popup);
        frame.render_widget(block, popup);
        let mut lines = match &self.subject {
            Subject::Mutation(request) => mutation_lines(request, paint),
            Subject::Step { step, radius, .. } => vec![
                Line::from(SafeText::from_string(format!("Plan: {}.", step.describe()))),
                Line::styled(SafeText::from_string(radius.clone()), danger),
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
        if let Subject::Step {
            reason: Some(reason),
            ..
        } = &self.subject
        {
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
        Line::styled(
            format!(
                "Blast radius: {} certificates, {} things, {} groups, {:.4} % of the fleet, {} online now",
                r.certs, r.things, r.groups, r.fleet_percent, r.online
            ),
            danger,
        ),
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
        let mut dialog = ConfirmDialog::new(request(&["a", "b"]), false);
        assert_eq!(
            enter(&mut dialog),
            Outcome::Action(Action::CancelMutation(request(&["a", "b"])))
        );
    }

    #[test]
    fn a_wrong_answer_cancels() {
        let mut dialog = ConfirmDialog::new(request(&["a", "b"]), false);
        type_text(&mut dialog, "3");
        assert!(matches!(
            enter(&mut dialog),
            Outcome::Action(Action::CancelMutation(_))
        ));
    }

    #[test]
    fn the_count_confirms_many_and_the_name_confirms_one() {
        let mut many = ConfirmDialog::new(request(&["a", "b"]), false);
        type_text(&mut many, "2");
        assert!(matches!(
            enter(&mut many),
            Outcome::Action(Action::RequestMutation(_))
        ));
        let mut one = ConfirmDialog::new(request(&["dev-7"]), false);
        assert_eq!(one.expected(), "dev-7");
        type_text(&mut one, "dev-7");
        assert!(matches!(
            enter(&mut one),
            Outcome::Action(Action::RequestMutation(_))
        ));
    }
}
