//! The rotation view's keys: steps only through the confirmation, and only when they apply;
//! drilling into failure reasons and their devices.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::tui::data::StagePhase;
use crate::tui::fixture::campaigns;
use crate::tui::widgets::confirm::ConfirmDialog;

const NOW: i64 = 1_800_000_000;

fn confirm_of(outcome: Outcome) -> (RotationStep, String) {
    match outcome {
        Outcome::Action(Action::Confirm(Confirmable::Step { step, radius })) => (step, radius),
        other => panic!("expected a confirmation, got {other:?}"),
    }
}

fn dialog(step: RotationStep, radius: String) -> ConfirmDialog {
    ConfirmDialog::new(Confirmable::Step { step, radius }, false)
}

fn type_into(dialog: &mut ConfirmDialog, text: &str) -> Outcome {
    let mut last = Outcome::Ignored;
    for c in text.chars() {
        last = dialog.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    last
}

fn enter(dialog: &mut ConfirmDialog) -> Outcome {
    dialog.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
}

#[test]
fn the_fixture_campaigns_read_as_the_engine_left_them() {
    let rows = campaigns(NOW);
    assert_eq!(rows.len(), 2);
    let running = &rows[0];
    assert_eq!(running.overall, Overall::Running);
    let phases: Vec<StagePhase> = running.stages.iter().map(|s| s.phase).collect();
    assert_eq!(
        phases,
        [StagePhase::Done, StagePhase::Running, StagePhase::Pending]
    );
    let stage = &running.stages[1];
    assert_eq!(stage.counts.devices, 400);
    assert_eq!(stage.counts.on_new, 300);
    // Grouped by reason, most frequent first, every failed device listed under its reason.
    let reasons: Vec<(&str, usize)> = stage
        .reasons
        .iter()
        .map(|r| (r.reason.raw(), r.things.len()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("create-from-csr timed out", 4),
            ("the previous key is not finalized yet", 2)
        ]
    );
    assert_eq!(stage.counts.failed, 6);
    let halted = &rows[1];
    assert_eq!(halted.overall, Overall::Halted);
    assert_eq!(halted.stages[0].phase, StagePhase::Halted);
    assert!(
        halted
            .stopped
            .as_ref()
            .is_some_and(|s| s.raw().ends_with("(halted by gate)"))
    );
}

#[test]
fn promote_does_not_apply_to_a_running_campaign() {
    let rows = campaigns(NOW);
    let mut view = RotationView::default();
    let outcome = view.handle(Command::Promote, &rows, NOW);
    assert!(
        matches!(&outcome, Outcome::Action(Action::Notify(text)) if text.contains("running")),
        "{outcome:?}"
    );
}

#[test]
fn a_halt_asks_its_reason_then_the_campaign_id() {
    let rows = campaigns(NOW);
    let mut view = RotationView::default();
    let (step, radius) = confirm_of(view.handle(Command::Halt, &rows, NOW));
    assert_eq!(&*step.campaign, "rotate-2027q1");
    assert!(radius.contains("not finished"), "{radius}");
    let mut dialog = dialog(step, radius);
    // Enter without a reason asks again; the id typed into the reason box is only a reason.
    assert_eq!(enter(&mut dialog), Outcome::Consumed);
    type_into(&mut dialog, "pager 4411: failures in eu-plant-1");
    assert_eq!(enter(&mut dialog), Outcome::Consumed);
    type_into(&mut dialog, "rotate-2027q1");
    match enter(&mut dialog) {
        Outcome::Action(Action::Request(Confirmable::Step { step, .. })) => assert_eq!(
            step.action,
            RotationAction::Halt {
                reason: "pager 4411: failures in eu-plant-1".into()
            }
        ),
        other => panic!("expected the request, got {other:?}"),
    }
}

#[test]
fn a_wrong_answer_cancels_the_step() {
    let rows = campaigns(NOW);
    let mut view = RotationView::default();
    view.handle(Command::Down, &rows, NOW);
    let (step, radius) = confirm_of(view.handle(Command::Resume, &rows, NOW));
    assert_eq!(&*step.campaign, "meters-us");
    let mut dialog = dialog(step, radius);
    type_into(&mut dialog, "checked: the timeouts were a power outage");
    enter(&mut dialog);
    type_into(&mut dialog, "meters");
    assert!(matches!(
        enter(&mut dialog),
        Outcome::Action(Action::Cancel(_))
    ));
}

#[test]
fn a_promotion_is_confirmed_by_the_stage_number() {
    let mut rows = campaigns(NOW);
    let campaign = &mut rows[0];
    campaign.overall = Overall::AwaitingPromotion;
    campaign.stages[1].phase = StagePhase::WaitingForPromotion;
    let mut view = RotationView::default();
    let (step, radius) = confirm_of(view.handle(Command::Promote, &rows, NOW));
    assert_eq!(step.action, RotationAction::Promote(3));
    assert_eq!(step.expected_answer(), "3");
    assert!(radius.contains("500 devices"), "{radius}");
    let mut dialog = dialog(step, radius);
    type_into(&mut dialog, "3");
    assert!(matches!(
        enter(&mut dialog),
        Outcome::Action(Action::Request(_))
    ));
}

#[test]
fn finalize_waits_for_the_end_of_the_grace_period() {
    let mut rows = campaigns(NOW);
    rows[0].overall = Overall::Done;
    rows[0].grace_ends = Some(NOW + 3_600);
    let mut view = RotationView::default();
    assert!(matches!(
        view.handle(Command::Finalize, &rows, NOW),
        Outcome::Action(Action::Notify(text)) if text.contains("grace period")
    ));
    let (step, _) = confirm_of(view.handle(Command::Finalize, &rows, NOW + 3_600));
    assert_eq!(
        step.action,
        RotationAction::Finalize {
            certificates: rows[0].retire
        }
    );
}

#[test]
fn enter_drills_into_reasons_then_devices_and_esc_climbs_back() {
    let rows = campaigns(NOW);
    let mut view = RotationView::default();
    assert_eq!(view.handle(Command::Open, &rows, NOW), Outcome::Consumed);
    view.handle(Command::Down, &rows, NOW);
    assert_eq!(view.handle(Command::Open, &rows, NOW), Outcome::Consumed);
    let thing = rows[0].stages[1].reasons[1].things[0].raw().to_owned();
    assert_eq!(
        view.handle(Command::Open, &rows, NOW),
        Outcome::Action(Action::OpenDevice(thing.into()))
    );
    assert!(view.back());
    assert!(view.back());
    assert!(!view.back());
}
