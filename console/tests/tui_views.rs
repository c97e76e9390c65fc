//! Snapshot tests of every view and overlay on ratatui's TestBackend, at 80x24 and 160x48,
//! in colour (text) and under NO_COLOR (text plus the modifier mask, with no coloured cell).

mod tui_support;

use fleetid::tui::app::App;
use ratatui::crossterm::event::KeyCode;
use tui_support::{app, assert_no_colour, modifier_mask, press, render, text, type_text};

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

/// Keys that lead from the dashboard to a screen.
type Steps = Box<dyn Fn(&mut App)>;

/// The screens to snapshot: a name and the keys that lead there from the dashboard.
fn screens() -> Vec<(&'static str, Steps)> {
    vec![
        ("dashboard", Box::new(|_: &mut App| {})),
        (
            "heatmap",
            Box::new(|a: &mut App| press(a, KeyCode::Char('2'))),
        ),
        (
            "heatmap_ca_cohort",
            Box::new(|a: &mut App| {
                press(a, KeyCode::Char('2'));
                press(a, KeyCode::Char('c'));
                press(a, KeyCode::Char('l'));
                press(a, KeyCode::Char('j'));
            }),
        ),
        ("cas", Box::new(|a: &mut App| press(a, KeyCode::Char('3')))),
        (
            "anomalies",
            Box::new(|a: &mut App| press(a, KeyCode::Char('4'))),
        ),
        (
            "devices",
            Box::new(|a: &mut App| press(a, KeyCode::Char('5'))),
        ),
        (
            "devices_filtered_marked",
            Box::new(|a: &mut App| {
                press(a, KeyCode::Char('5'));
                press(a, KeyCode::Char('/'));
                type_text(a, "dev-00001");
                press(a, KeyCode::Enter);
                press(a, KeyCode::Char(' '));
                press(a, KeyCode::Char(' '));
            }),
        ),
        (
            "detail",
            Box::new(|a: &mut App| {
                press(a, KeyCode::Char('5'));
                press(a, KeyCode::Char('j'));
                press(a, KeyCode::Enter);
            }),
        ),
        (
            "audit",
            Box::new(|a: &mut App| press(a, KeyCode::Char('6'))),
        ),
        (
            "help_filtered",
            Box::new(|a: &mut App| {
                press(a, KeyCode::Char('?'));
                type_text(a, "view");
            }),
        ),
        (
            "palette",
            Box::new(|a: &mut App| {
                press(a, KeyCode::Char(':'));
                type_text(a, "them");
            }),
        ),
        (
            "confirm_revoke",
            Box::new(|a: &mut App| {
                press(a, KeyCode::Char('5'));
                press(a, KeyCode::Char(' '));
                press(a, KeyCode::Char(' '));
                press(a, KeyCode::Char(' '));
                press(a, KeyCode::Char('r'));
                type_text(a, "3");
            }),
        ),
    ]
}

#[test]
fn every_view_in_colour() {
    for (name, steps) in screens() {
        for (width, height) in SIZES {
            let mut app = app(false, true);
            steps(&mut app);
            let buffer = render(&app, width, height);
            insta::assert_snapshot!(format!("{name}_{width}x{height}"), text(&buffer));
        }
    }
}

#[test]
fn every_view_without_colour() {
    for (name, steps) in screens() {
        for (width, height) in SIZES {
            let mut app = app(true, true);
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
}
