//! Behaviour of the console through its keys: views, filter, help, palette, confirmation,
//! read-only refusal, the banner at every size, hostile device names.

mod tui_support;

use fleetid::model::{Severity, Source};
use fleetid::tui::action::ViewId;
use fleetid::tui::data::{AnomalyRow, Triage, TuiUpdate};
use proptest::prelude::*;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_support::{NOW, app, press, render, text, type_text};

#[test]
fn tab_number_keys_and_esc_move_between_views() {
    let mut app = app(false, true);
    assert_eq!(app.view(), ViewId::Dashboard);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.view(), ViewId::Heatmap);
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.view(), ViewId::Dashboard);
    press(&mut app, KeyCode::Char('5'));
    assert_eq!(app.view(), ViewId::Devices);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.view(), ViewId::Detail);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.view(), ViewId::Devices);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.view(), ViewId::Dashboard);
}

#[test]
fn slash_filters_the_devices_and_esc_clears() {
    let mut app = app(false, true);
    press(&mut app, KeyCode::Char('5'));
    assert_eq!(app.devices().len(), 1_000);
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "dev-0000042");
    assert_eq!(app.devices().shown_things(1), ["dev-0000042"]);
    assert!(app.devices().len() < 1_000);
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.devices().len(), 1_000);
}

#[test]
fn heatmap_drill_down_lists_the_devices_expiring_that_day() {
    let mut app = app(false, true);
    press(&mut app, KeyCode::Char('2'));
    for _ in 0..10 {
        press(&mut app, KeyCode::Char('j'));
    }
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.view(), ViewId::Devices);
    let day = NOW / 86_400 + 10;
    assert_eq!(app.devices().query().expires_day, Some(day));
    let screen = text(&render(&app, 160, 48));
    assert!(screen.contains("expiring 2026-12-05"), "{screen}");
}

#[test]
fn an_action_key_opens_a_confirmation_and_enter_alone_cancels() {
    let mut app = app(false, false);
    press(&mut app, KeyCode::Char('5'));
    press(&mut app, KeyCode::Char('r'));
    let screen = text(&render(&app, 80, 24));
    assert!(screen.contains("Confirm revoke"), "{screen}");
    press(&mut app, KeyCode::Enter);
    assert!(app.take_mutations().is_empty());
    assert!(!text(&render(&app, 80, 24)).contains("Confirm revoke"));
}

#[test]
fn a_typed_confirmation_requests_the_mutation() {
    let mut app = app(false, false);
    press(&mut app, KeyCode::Char('5'));
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char('r'));
    type_text(&mut app, "2");
    press(&mut app, KeyCode::Enter);
    let requests = app.take_mutations();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].things.len(), 2);
    assert_eq!(requests[0].radius.things, 2);
}

#[test]
fn read_only_refuses_even_a_confirmed_mutation() {
    let mut app = app(false, true);
    press(&mut app, KeyCode::Char('5'));
    press(&mut app, KeyCode::Char('r'));
    let screen = text(&render(&app, 80, 24));
    assert!(screen.contains("READ-ONLY"), "{screen}");
    type_text(&mut app, "dev-0000000");
    press(&mut app, KeyCode::Enter);
    assert!(app.take_mutations().is_empty());
    assert!(
        app.status()
            .is_some_and(|s| s.starts_with("read-only: refused"))
    );
}

#[test]
fn help_is_generated_from_the_keymap_and_filterable() {
    let mut app = app(false, true);
    press(&mut app, KeyCode::Char('?'));
    type_text(&mut app, "quarantine");
    let screen = text(&render(&app, 80, 24));
    assert!(screen.contains("plan a quarantine"), "{screen}");
    assert!(!screen.contains("next view"), "{screen}");
    press(&mut app, KeyCode::Esc);
    assert!(!text(&render(&app, 80, 24)).contains("Keys (type"));
}

#[test]
fn the_palette_switches_views_and_themes() {
    let mut app = app(false, true);
    press(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "view-aud");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.view(), ViewId::Audit);
    press(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "theme nope");
    press(&mut app, KeyCode::Enter);
    assert!(
        app.status()
            .is_some_and(|s| s.contains("no theme named \"nope\""))
    );
}

#[test]
fn anomalies_can_be_acknowledged_and_suppressed() {
    let mut app = app(false, true);
    press(&mut app, KeyCode::Char('4'));
    press(&mut app, KeyCode::Char('a'));
    assert!(text(&render(&app, 160, 48)).contains("ack"));
    press(&mut app, KeyCode::Char('s'));
    press(&mut app, KeyCode::Enter);
    assert!(
        app.status().is_some_and(|s| s.starts_with("suppressed")),
        "{:?}",
        app.status()
    );
    assert!(text(&render(&app, 160, 48)).contains("1 hidden"));
}

#[test]
fn live_anomalies_appear_and_hostile_names_are_sanitized() {
    let mut app = app(false, true);
    app.on_update(TuiUpdate::Anomaly(AnomalyRow {
        id: 999,
        severity: Severity::Critical,
        source: Source::Live,
        thing: "x\u{1b}]0;owned\u{7}y".into(),
        kind: "live-test".into(),
        detail: "\u{1b}[2Jcleared?".into(),
        at: NOW,
        triage: Triage::Open,
    }));
    press(&mut app, KeyCode::Char('4'));
    let buffer = render(&app, 160, 48);
    let screen = text(&buffer);
    assert!(screen.contains("live-test"), "{screen}");
    assert!(
        !screen.contains('\u{1b}') && !screen.contains('\u{7}'),
        "{screen:?}"
    );
}

#[test]
fn ctrl_c_and_q_quit() {
    let mut app = app(false, true);
    app.on_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(app.should_quit());
    let mut app = tui_support::app(false, true);
    press(&mut app, KeyCode::Char('q'));
    assert!(app.should_quit());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Any size, any view, any overlay: rendering never panics and the banner shows the
    /// environment whenever the first line has room for it.
    #[test]
    fn every_size_renders_and_keeps_the_banner(
        width in 1u16..=300,
        height in 1u16..=80,
        view in 0usize..9,
    ) {
        let mut app = app(false, true);
        let keys: &[KeyCode] = match view {
            0 => &[],
            1 => &[KeyCode::Char('2')],
            2 => &[KeyCode::Char('3')],
            3 => &[KeyCode::Char('4')],
            4 => &[KeyCode::Char('5'), KeyCode::Char('G')],
            5 => &[KeyCode::Char('5'), KeyCode::Enter],
            6 => &[KeyCode::Char('6')],
            7 => &[KeyCode::Char('?')],
            _ => &[KeyCode::Char('5'), KeyCode::Char('r')],
        };
        for key in keys {
            press(&mut app, *key);
        }
        let screen = text(&render(&app, width, height));
        if width >= 6 {
            prop_assert!(screen.lines().next().is_some_and(|l| l.contains("PROD")), "{}", screen);
        }
    }
}

#[test]
fn a_frozen_environment_says_frozen_in_the_banner() {
    use fleetid::tui::app::App;
    use fleetid::tui::fixture::sample_snapshot;
    let mut options = tui_support::options(true, false);
    let thawed = text(&render(&app(true, false), 100, 24));
    assert!(
        !thawed.lines().next().unwrap_or("").contains("FROZEN"),
        "{thawed}"
    );
    options.environment.frozen = true;
    let settings = fleetid::tui::settings(&options).unwrap();
    let frozen = text(&render(
        &App::new(settings, sample_snapshot(10, NOW), NOW),
        100,
        24,
    ));
    let banner = frozen.lines().next().unwrap_or("");
    assert!(
        banner.contains("PROD") && banner.contains("FROZEN"),
        "{frozen}"
    );
}

#[test]
fn shift_r_plans_a_restore_of_the_selected_device() {
    let mut app = app(false, false);
    press(&mut app, KeyCode::Char('5'));
    press(&mut app, KeyCode::Char('R'));
    let screen = text(&render(&app, 100, 24));
    assert!(screen.contains("Confirm restore"), "{screen}");
    assert!(screen.contains("out of quarantine"), "{screen}");
    type_text(&mut app, "dev-0000000");
    press(&mut app, KeyCode::Enter);
    let requests = app.take_mutations();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].kind, fleetid::tui::data::OpKind::Restore);
}

#[test]
fn an_operation_shows_a_progress_bar_until_its_result_arrives() {
    use fleetid::tui::data::OpProgress;
    let mut app = app(false, false);
    app.on_update(TuiUpdate::Progress(OpProgress {
        verb: "revoke",
        finished: 12,
        failed: 1,
        total: 24,
    }));
    let screen = text(&render(&app, 100, 24));
    let status = screen.lines().last().unwrap_or("");
    assert!(
        status.contains("revoke [############............] 12/24 calls, 1 failed"),
        "{screen}"
    );
    app.on_update(TuiUpdate::Notice(fleetid::safe_text::SafeText::new(
        "op-1 verified: 24/24 verified",
    )));
    let screen = text(&render(&app, 100, 24));
    let status = screen.lines().last().unwrap_or("");
    assert!(status.contains("op-1 verified"), "{screen}");
    assert!(!status.contains("calls,"), "{screen}");
}
