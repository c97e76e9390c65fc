//! Shared helpers of the TUI tests: an app over the fixture fleet, synchronous filtering,
//! key presses, and rendering to ratatui's TestBackend as text (plus a modifier mask, so
//! snapshots show what stays readable without colour).

#![allow(dead_code)]

use std::sync::atomic::AtomicU64;

use fleetid::tui::app::App;
use fleetid::tui::filter::run_job;
use fleetid::tui::fixture::sample_snapshot;
use fleetid::tui::widgets::banner::Environment;
use fleetid::tui::{TuiOptions, settings};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Color, Modifier};

/// A fixed "now": 2026-11-25 09:46:40 UTC.
pub const NOW: i64 = 1_795_600_000;

/// Options for a production environment, read-only unless told otherwise.
pub fn options(no_colour: bool, read_only: bool) -> TuiOptions {
    TuiOptions {
        theme: "default".to_owned(),
        environment: Environment {
            name: "prod".to_owned(),
            profile: Some("fleet-ops".to_owned()),
            account: Some("123456789012".to_owned()),
            region: Some("eu-west-1".to_owned()),
            colour: None,
            frozen: false,
        },
        read_only,
        no_colour,
        ..TuiOptions::default()
    }
}

/// An app over a 1,000-device fixture fleet.
pub fn app(no_colour: bool, read_only: bool) -> App {
    let settings = settings(&options(no_colour, read_only)).unwrap_or_else(|e| panic!("{e}"));
    App::new(settings, sample_snapshot(1_000, NOW), NOW)
}

/// Runs any pending filter job right here, as the filter thread would.
pub fn settle(app: &mut App) {
    while let Some(job) = app.take_filter_job() {
        let latest = AtomicU64::new(job.generation);
        let result = run_job(&job, &latest).unwrap_or_else(|| panic!("not cancelled"));
        app.on_filter_result(result);
    }
}

/// Presses one key.
pub fn press(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
    settle(app);
}

/// Types text, one key per character.
pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

/// Renders the app at `width` x `height`.
pub fn render(app: &App, width: u16, height: u16) -> Buffer {
    let mut terminal =
        Terminal::new(TestBackend::new(width, height)).unwrap_or_else(|e| panic!("{e}"));
    terminal
        .draw(|frame| app.render(frame))
        .unwrap_or_else(|e| panic!("{e}"));
    terminal.backend().buffer().clone()
}

/// The buffer's text, one line per row.
pub fn text(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// One character per cell for the strongest no-colour cue: R reversed, B bold,
/// U underlined, I italic, D dim, space for none.
pub fn modifier_mask(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            let m = buffer[(x, y)].modifier;
            line.push(if m.contains(Modifier::REVERSED) {
                'R'
            } else if m.contains(Modifier::BOLD) {
                'B'
            } else if m.contains(Modifier::UNDERLINED) {
                'U'
            } else if m.contains(Modifier::ITALIC) {
                'I'
            } else if m.contains(Modifier::DIM) {
                'D'
            } else {
                ' '
            });
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Asserts that no cell carries a colour.
pub fn assert_no_colour(buffer: &Buffer) {
    for cell in &buffer.content {
        assert!(
            cell.fg == Color::Reset && cell.bg == Color::Reset,
            "coloured cell {cell:?}"
        );
    }
}
