//! Snapshot tests of the cockpit's views on ratatui's TestBackend: the rotation view (`7`) over
//! the fixture's two campaigns — the pipeline with the gate's evidence, a stage's failure
//! reasons and their devices, the halt confirmation asking its reason — and the operations
//! view (`8`) over its three operations — an unfinished one with its calls, the resume
//! confirmation; at 80x24 and 200x60, in colour (text) and under NO_COLOR (text plus the
//! modifier mask, with no coloured cell).

mod tui_support;

use fleetid::tui::app::App;
use ratatui::crossterm::event::KeyCode;
use tui_support::{app, assert_no_colour, modifier_mask, press, render, text, type_text};

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 60)];

type Steps = Box<dyn Fn(&mut App)>;

fn screens() -> Vec<(&'static str, Steps)> {
    vec![
        (
            "rotation",
            Box::new(|a: &mut App| press(a, KeyCode::Char('7'))),
        ),
        (
            "rotation_reason_devices",
            Box::new(|a: &mut App| {
                press(a, KeyCode::Char('7'));
                press(a, KeyCode::Enter);
                press(a, KeyCode::Enter);
            }),
        ),
        (
            "rotation_halted",
            Box::new(|a: &mut App| {
                press(a, KeyCode::Char('7'));
                press(a, KeyCode::Char('j'));
            }),
        ),
        (
            "rotation_confirm_halt",
            Box::new(|a: &mut App| {
                press(a, KeyCode::Char('7'));
                press(a, KeyCode::Char('H'));
                type_text(a, "pager 4411");
            }),
        ),
        (
            "operations",
            Box::new(|a: &mut App| press(a, KeyCode::Char('8'))),
        ),
        (
            "operations_failed_call",
            Box::new(|a: &mut App| {
                press(a, KeyCode::Char('8'));
                press(a, KeyCode::Char('j'));
            }),
        ),
        (
            "operations_confirm_resume",
            Box::new(|a: &mut App| {
                press(a, KeyCode::Char('8'));
                press(a, KeyCode::Enter);
                type_text(a, "2");
            }),
        ),
    ]
}

#[test]
fn the_cockpit_views_in_colour() {
    for (name, steps) in screens() {
        for (width, height) in SIZES {
            let mut app = app(false, false);
            steps(&mut app);
            let buffer = render(&app, width, height);
            insta::assert_snapshot!(format!("{name}_{width}x{height}"), text(&buffer));
        }
    }
}

#[test]
fn the_cockpit_views_without_colour() {
    for (name, steps) in screens() {
        let (width, height) = SIZES[0];
        let mut app = app(true, false);
        steps(&mut app);
        let buffer = render(&app, width, height);
        assert_no_colour(&buffer);
        insta::assert_snapshot!(
            format!("{name}_{width}x{height}_no_color"),
            format!(
                "{}\n--- modifiers ---\n{}",
                text(&buffer),
                modifier_mask(&buffer)
            )
        );
    }
}

#[test]
fn a_halt_confirmed_in_a_read_only_console_is_refused_and_recorded() {
    let mut app = app(false, true);
    press(&mut app, KeyCode::Char('7'));
    press(&mut app, KeyCode::Char('H'));
    type_text(&mut app, "pager 4411");
    press(&mut app, KeyCode::Enter);
    type_text(&mut app, "rotate-2027q1");
    press(&mut app, KeyCode::Enter);
    let requests = app.take_requests();
    assert!(
        matches!(
            requests.as_slice(),
            [fleetid::tui::data::TuiRequest::Declined {
                request: fleetid::tui::data::Confirmable::Step { .. },
                refusal: fleetid::tui::data::Refusal::ReadOnly,
            }]
        ),
        "{requests:?}"
    );
    assert!(
        app.status()
            .is_some_and(|s| s.starts_with("read-only: refused"))
    );
}

#[test]
fn a_read_only_console_shows_in_help_and_palette_what_it_would_refuse() {
    let mut app = app(false, true);
    press(&mut app, KeyCode::Char('?'));
    type_text(&mut app, "rotation");
    let help = text(&render(&app, 100, 30));
    for command in ["promote", "halt", "resume", "abort", "finalize"] {
        let line = help
            .lines()
            .find(|l| l.contains(&format!(" {command} ")))
            .unwrap_or_else(|| panic!("{command} in the help:\n{help}"));
        assert!(line.contains("refused: read-only"), "{line}");
    }
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "revok");
    let palette = text(&render(&app, 100, 30));
    assert!(
        palette
            .lines()
            .any(|l| l.contains("revoke") && l.contains("refused: read-only")),
        "{palette}"
    );
}
