//! What the console asks to have recorded: cancelled and refused confirmations, confirmed
//! mutations, anomaly triage; and the Audit view's paging through older entries.

mod tui_support;

use fleetid::tui::action::ViewId;
use fleetid::tui::data::{AuditRow, Confirmable, Refusal, Triage, TuiRequest, TuiUpdate};
use ratatui::crossterm::event::KeyCode;
use tui_support::{NOW, app, press, render, text, type_text};

#[test]
fn a_cancelled_confirmation_is_sent_for_the_audit_log() {
    let mut app = app(false, false);
    press(&mut app, KeyCode::Char('5'));
    press(&mut app, KeyCode::Char('r'));
    type_text(&mut app, "wrong");
    press(&mut app, KeyCode::Enter);
    let requests = app.take_requests();
    let [
        TuiRequest::Declined {
            request: Confirmable::Mutation(request),
            refusal,
        },
    ] = requests.as_slice()
    else {
        panic!("{requests:?}");
    };
    assert_eq!(*refusal, Refusal::Cancelled);
    assert_eq!(request.things.len(), 1);
    assert!(
        app.status()
            .is_some_and(|s| s.starts_with("cancelled revoke"))
    );
    // Esc cancels too.
    press(&mut app, KeyCode::Char('r'));
    press(&mut app, KeyCode::Esc);
    assert!(matches!(
        app.take_requests().as_slice(),
        [TuiRequest::Declined {
            refusal: Refusal::Cancelled,
            ..
        }]
    ));
}

#[test]
fn a_read_only_refusal_is_sent_for_the_audit_log_and_nothing_else() {
    let mut app = app(false, true);
    press(&mut app, KeyCode::Char('5'));
    press(&mut app, KeyCode::Char('r'));
    type_text(&mut app, "dev-0000000");
    press(&mut app, KeyCode::Enter);
    let requests = app.take_requests();
    let [
        TuiRequest::Declined {
            request: Confirmable::Mutation(request),
            refusal,
        },
    ] = requests.as_slice()
    else {
        panic!("{requests:?}");
    };
    assert_eq!(*refusal, Refusal::ReadOnly);
    assert_eq!(request.things[0].raw(), "dev-0000000");
}

#[test]
fn a_confirmed_mutation_is_one_request() {
    let mut app = app(false, false);
    press(&mut app, KeyCode::Char('5'));
    press(&mut app, KeyCode::Char('r'));
    type_text(&mut app, "dev-0000000");
    press(&mut app, KeyCode::Enter);
    let requests = app.take_requests();
    assert!(
        matches!(requests.as_slice(), [TuiRequest::Confirmed(Confirmable::Mutation(m))] if m.things[0].raw() == "dev-0000000"),
        "{requests:?}"
    );
}

#[test]
fn acknowledge_and_suppress_are_sent_to_be_kept() {
    let mut app = app(false, true);
    press(&mut app, KeyCode::Char('4'));
    press(&mut app, KeyCode::Char('a'));
    press(&mut app, KeyCode::Char('a'));
    press(&mut app, KeyCode::Char('s'));
    press(&mut app, KeyCode::Enter);
    let triage: Vec<Triage> = app
        .take_requests()
        .into_iter()
        .map(|r| match r {
            TuiRequest::Triage(change) => {
                assert_eq!(&*change.thing, "dev-0000007");
                change.triage
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        triage,
        [
            Triage::Acknowledged,
            Triage::Open,
            Triage::Suppressed(NOW + 86_400)
        ]
    );
}

fn row(sequence: i64) -> AuditRow {
    AuditRow {
        sequence,
        at: NOW - sequence,
        actor: "oncall".into(),
        action: "revoke".into(),
        target: format!("dev-{sequence}").into(),
        result: "cancelled: nothing was changed".into(),
        plan: "revoke 1 certs".into(),
        hash: "00112233".into(),
    }
}

#[test]
fn the_audit_view_asks_for_older_pages_at_its_end_until_there_are_none() {
    let mut app = app(false, true);
    press(&mut app, KeyCode::Char('6'));
    assert_eq!(app.view(), ViewId::Audit);
    // The fixture shows three entries, numbered 3, 2, 1.
    press(&mut app, KeyCode::Char('j'));
    assert!(app.take_requests().is_empty());
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.take_requests(), [TuiRequest::AuditPage { before: 1 }]);
    // Asked once until the answer arrives.
    press(&mut app, KeyCode::Char('j'));
    assert!(app.take_requests().is_empty());
    app.on_update(TuiUpdate::AuditPage {
        rows: vec![row(0), row(-1)],
        more: false,
    });
    let screen = text(&render(&app, 160, 48));
    assert!(screen.contains("Audit log: 5 entries"), "{screen}");
    for _ in 0..3 {
        press(&mut app, KeyCode::Char('j'));
    }
    assert!(app.take_requests().is_empty(), "no more pages");
    // A new entry goes on top; a later snapshot without audit rows keeps them.
    app.on_update(TuiUpdate::Audit(row(4)));
    app.on_update(TuiUpdate::Snapshot(Box::default()));
    let screen = text(&render(&app, 160, 48));
    assert!(screen.contains("Audit log: 6 entries"), "{screen}");
    assert!(screen.contains("dev-4"), "{screen}");
}

#[test]
fn device_text_in_the_audit_log_is_sanitized() {
    let mut app = app(false, true);
    let mut hostile = row(9);
    hostile.target = "x\u{1b}]0;owned\u{7}y".into();
    hostile.result = "\u{1b}[2Jconfirmed".into();
    app.on_update(TuiUpdate::Audit(hostile));
    press(&mut app, KeyCode::Char('6'));
    let screen = text(&render(&app, 160, 48));
    assert!(!screen.contains('\u{1b}'), "{screen}");
    assert!(screen.contains("x\u{fffd}]0;owned\u{fffd}y"), "{screen}");
}

#[test]
fn a_suppression_ends_at_its_time() {
    let mut app = app(false, true);
    press(&mut app, KeyCode::Char('4'));
    press(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "suppress 30m");
    press(&mut app, KeyCode::Enter);
    let screen = text(&render(&app, 160, 48));
    assert!(screen.contains("1 hidden"), "{screen}");
    app.set_now(NOW + 1_800);
    let screen = text(&render(&app, 160, 48));
    assert!(screen.contains("0 hidden"), "{screen}");
    assert!(!screen.contains(" supp "), "{screen}");
}
