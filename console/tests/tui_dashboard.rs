//! The dashboard at 80×24 and 200×60, in colour, under NO_COLOR and in ASCII, after an hour of
//! snapshots (so the connected-devices sparkline has a history); at 80×24 every box shows
//! its whole title, and smaller screens draw without panicking.

mod tui_support;

use fleetid::tui::app::App;
use fleetid::tui::data::TuiUpdate;
use fleetid::tui::fixture::sample_snapshot;
use fleetid::tui::settings;
use tui_support::{NOW, assert_no_colour, modifier_mask, options, render, text};

/// An app opened an hour ago that received a snapshot every five minutes since, with the
/// online count dipping in the middle.
fn app_with_an_hour(no_colour: bool) -> App {
    app_with_an_hour_in(&options(no_colour, true))
}

fn app_with_an_hour_in(options: &fleetid::tui::TuiOptions) -> App {
    let base = sample_snapshot(1_000, NOW);
    let settings = settings(options).unwrap_or_else(|e| panic!("{e}"));
    let mut opened = base.clone();
    opened.taken_at = NOW - 3_600;
    let mut app = App::new(settings, opened, NOW - 3_600);
    let online = [655, 660, 658, 640, 420, 380, 510, 600, 640, 650, 655, 659];
    for (i, count) in (0_i64..).zip(online) {
        let at = NOW - 3_600 + (i + 1) * 300;
        let mut snapshot = base.clone();
        snapshot.taken_at = at;
        snapshot.dashboard.online = Some(count);
        app.set_now(at);
        app.on_update(TuiUpdate::Snapshot(Box::new(snapshot)));
    }
    app.set_now(NOW);
    app
}

#[test]
fn dashboard_in_colour() {
    for (width, height) in [(80, 24), (200, 60)] {
        let buffer = render(&app_with_an_hour(false), width, height);
        insta::assert_snapshot!(format!("dashboard_{width}x{height}"), text(&buffer));
    }
}

#[test]
fn dashboard_without_colour() {
    for (width, height) in [(80, 24), (200, 60)] {
        let buffer = render(&app_with_an_hour(true), width, height);
        assert_no_colour(&buffer);
        insta::assert_snapshot!(
            format!("dashboard_{width}x{height}_no_color"),
            format!(
                "{}\n--- modifiers ---\n{}",
                text(&buffer),
                modifier_mask(&buffer)
            )
        );
    }
}

#[test]
fn dashboard_in_ascii() {
    let app = app_with_an_hour_in(&fleetid::tui::TuiOptions {
        ascii: true,
        ..options(true, true)
    });
    insta::assert_snapshot!("dashboard_80x24_ascii", text(&render(&app, 80, 24)));
}

#[test]
fn at_80x24_every_box_shows_its_whole_title() {
    let screen = text(&render(&app_with_an_hour(false), 80, 24));
    let titles = [
        "┌ Certificates (12 s ago) ─",
        "┌ Expiry, next 8 weeks (12 s ago) ─",
        "┌ Connected, last hour (2 s ago) ─",
        "┌ Anomalies (unavailable, 66 min ago) ─",
        "┌ CA chains (40 s ago) ─",
        "┌ Campaigns, operations ─",
    ];
    for title in titles {
        assert!(screen.contains(title), "{title:?} not whole in\n{screen}");
    }
    // No more boxes than those, and every title closes before the corner.
    assert_eq!(screen.matches('┌').count(), titles.len(), "{screen}");
    for line in screen.lines().filter(|l| l.contains('┌')) {
        for title in line.split('┌').skip(1) {
            let top = title.split_inclusive('┐').next().unwrap_or_default();
            assert!(top.ends_with(" ─┐") || top.contains(" ──"), "cut: {line}");
        }
    }
}

#[test]
fn small_screens_draw_without_panicking() {
    let app = app_with_an_hour(false);
    for (width, height) in [(20, 5), (40, 12), (60, 16), (79, 23), (119, 30), (120, 20)] {
        let screen = text(&render(&app, width, height));
        assert!(screen.contains("PROD"), "{width}x{height}");
    }
}
