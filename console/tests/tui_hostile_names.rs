//! Every TUI view rendered with hostile names: thing names, CA, group and firmware names,
//! anomaly details, audit entries, the agent's live status, cohort and source names, the
//! environment banner and the filter input carry escape sequences, C1 controls, bidi controls,
//! separators and invisible characters. No cell may hold one of them, and each hostile name
//! must be on screen in its neutralized form — so the test fails both when a view leaks a
//! code point and when it stops showing the name.

mod tui_support;

use std::sync::Arc;

use fleetid::safe_text::is_neutralized;
use fleetid::tui::app::App;
use fleetid::tui::data::{
    AuditRow, CaNode, DetailSource, DeviceDetail, DeviceRow, DeviceTable, FleetSnapshot, LiveStatus,
};
use fleetid::tui::fixture::sample_snapshot;
use fleetid::tui::settings;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::KeyCode;
use tui_support::{NOW, options, press, render, text, type_text};

/// Hostile names, one class of code point each, and how the screen must show them.
const HOSTILE: [(&str, &str); 10] = [
    ("h0\u{1b}[2Jx", "h0\u{FFFD}[2Jx"), // CSI: clear the screen
    ("h1\u{1b}]0;t\u{7}", "h1\u{FFFD}]0;t\u{FFFD}"), // OSC: set the window title
    ("h2\u{9b}1mx", "h2\u{FFFD}1mx"),   // C1 CSI
    ("h3\u{202E}gnp", "h3\u{FFFD}gnp"), // right-to-left override
    ("h4\u{2067}q\u{2069}", "h4\u{FFFD}q\u{FFFD}"), // isolates
    ("h5\u{061C}\u{200E}\u{200F}", "h5\u{FFFD}\u{FFFD}\u{FFFD}"), // marks
    ("h6\u{2028}n\u{2029}", "h6\u{FFFD}n\u{FFFD}"), // line and paragraph separators
    ("h7\u{200B}w\u{200D}", "h7\u{FFFD}w\u{FFFD}"), // zero-width space and joiner
    ("h8\u{FEFF}\u{00AD}\u{2060}", "h8\u{FFFD}\u{FFFD}\u{FFFD}"), // BOM, soft hyphen, WJ
    ("h9\u{E0041}\u{E007F}", "h9\u{FFFD}\u{FFFD}"), // tag characters
];

fn hostile(i: usize) -> &'static str {
    HOSTILE[i % HOSTILE.len()].0
}

fn shown(i: usize) -> &'static str {
    HOSTILE[i % HOSTILE.len()].1
}

/// The detail of any device: every field hostile.
#[derive(Debug)]
struct HostileDetails;

impl DetailSource for HostileDetails {
    fn detail(&self, thing: &str) -> Option<DeviceDetail> {
        Some(DeviceDetail {
            thing: thing.into(),
            chain: vec![(hostile(1).into(), hostile(2).into(), Some(NOW + 86_400))],
            policies: vec![hostile(3).into()],
            groups: vec![hostile(4).into()],
            live: Some(LiveStatus {
                state: hostile(5).into(),
                active_cert: hostile(6).into(),
                pending_cert: Some(hostile(7).into()),
                firmware: hostile(8).into(),
                seen: NOW - 5,
                last_error: Some(hostile(9).into()),
            }),
            history: vec![(NOW - 60, hostile(0).into())],
        })
    }
}

/// The fixture fleet with every name replaced by a hostile one.
fn hostile_snapshot() -> FleetSnapshot {
    let mut snapshot = sample_snapshot(HOSTILE.len(), NOW);
    let fixture = Arc::clone(&snapshot.devices);
    let rows: Vec<DeviceRow> = fixture
        .rows()
        .enumerate()
        .map(|(i, row)| DeviceRow {
            thing: hostile(i).into(),
            cert: hostile(i + 1).into(),
            ..row
        })
        .collect();
    let names = (0..fixture.names.len())
        .map(|i| hostile(i).into())
        .collect();
    snapshot.devices = Arc::new(DeviceTable::new(rows, names));
    for (i, series) in snapshot.heatmap.series.iter_mut().enumerate().skip(1) {
        series.name = hostile(i).into();
    }
    fn rename(node: &mut CaNode, i: &mut usize) {
        node.name = hostile(*i).into();
        *i += 1;
        for child in &mut node.children {
            rename(child, i);
        }
    }
    let mut next = 0;
    for root in &mut snapshot.cas {
        rename(root, &mut next);
    }
    for (i, anomaly) in snapshot.anomalies.iter_mut().enumerate() {
        anomaly.thing = hostile(i).into();
        anomaly.kind = hostile(i + 1).into();
        anomaly.detail = hostile(i + 2).into();
    }
    snapshot.audit = (0..3)
        .map(|i| AuditRow {
            sequence: i64::try_from(i).unwrap_or(0) + 1,
            at: NOW - 60,
            actor: hostile(i).into(),
            action: hostile(i + 3).into(),
            target: hostile(i + 6).into(),
            result: hostile(i + 1).into(),
            plan: hostile(i + 4).into(),
            hash: hostile(i + 7).into(),
        })
        .collect();
    // The freshness line names the console's own sources (a `Source`): no outside text there.
    snapshot.details = Some(Arc::new(HostileDetails));
    snapshot
}

fn hostile_app() -> App {
    let mut options = options(false, true);
    options.environment.name = hostile(0).to_owned();
    options.environment.profile = Some(hostile(3).to_owned());
    options.environment.account = Some(hostile(7).to_owned());
    let settings = settings(&options).unwrap_or_else(|e| panic!("{e}"));
    App::new(settings, hostile_snapshot(), NOW)
}

/// Renders at 160x48 and checks that no cell holds a neutralized code point and that each of
/// `expected` is on screen.
fn assert_safe_and_shown(app: &App, view: &str, expected: &[&str]) -> String {
    let buffer: Buffer = render(app, 160, 48);
    // The planted code points, listed so the check does not rest on the code under test alone.
    let planted: Vec<char> = HOSTILE
        .iter()
        .flat_map(|(raw, _)| raw.chars())
        .filter(|c| !c.is_ascii_alphanumeric() && !"[];".contains(*c))
        .collect();
    for (i, cell) in buffer.content.iter().enumerate() {
        assert!(
            !cell
                .symbol()
                .chars()
                .any(|c| is_neutralized(c) || planted.contains(&c)),
            "{view}: cell {i} holds {:?}",
            cell.symbol()
        );
    }
    let screen = text(&buffer);
    for name in expected {
        assert!(
            screen.contains(name),
            "{view}: {name:?} not shown:\n{screen}"
        );
    }
    screen
}

#[test]
fn banner_and_dashboard() {
    let app = hostile_app();
    // The banner shows the environment name upper-cased.
    assert_safe_and_shown(
        &app,
        "dashboard",
        &["H0\u{FFFD}[2JX", shown(3), shown(7), shown(0)],
    );
}

#[test]
fn heatmap_with_a_hostile_cohort() {
    let mut app = hostile_app();
    press(&mut app, KeyCode::Char('2'));
    press(&mut app, KeyCode::Char('c'));
    press(&mut app, KeyCode::Char('l'));
    press(&mut app, KeyCode::Char('j'));
    let screen = assert_safe_and_shown(&app, "heatmap", &[]);
    assert!(
        HOSTILE.iter().any(|(_, shown)| screen.contains(shown)),
        "heatmap: no cohort name shown:\n{screen}"
    );
}

#[test]
fn ca_chains() {
    let mut app = hostile_app();
    press(&mut app, KeyCode::Char('3'));
    assert_safe_and_shown(&app, "cas", &[shown(0), shown(1), shown(2), shown(3)]);
}

#[test]
fn anomalies() {
    let mut app = hostile_app();
    press(&mut app, KeyCode::Char('4'));
    assert_safe_and_shown(&app, "anomalies", &[shown(0), shown(1), shown(2), shown(9)]);
}

#[test]
fn devices_with_every_column() {
    let mut app = hostile_app();
    press(&mut app, KeyCode::Char('5'));
    let every: Vec<&str> = (0..HOSTILE.len()).map(shown).collect();
    assert_safe_and_shown(&app, "devices", &every);
}

#[test]
fn device_detail() {
    let mut app = hostile_app();
    press(&mut app, KeyCode::Char('5'));
    press(&mut app, KeyCode::Enter);
    let every: Vec<&str> = (0..HOSTILE.len()).map(shown).collect();
    assert_safe_and_shown(&app, "detail", &every);
}

#[test]
fn audit_log() {
    let mut app = hostile_app();
    press(&mut app, KeyCode::Char('6'));
    assert_safe_and_shown(&app, "audit", &[shown(0), shown(3), shown(6), shown(7)]);
}

#[test]
fn confirmation_of_hostile_targets() {
    let mut app = hostile_app();
    press(&mut app, KeyCode::Char('5'));
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char('r'));
    assert_safe_and_shown(&app, "confirm", &["Targets:", shown(0), shown(1)]);
}

#[test]
fn filter_input_typed_with_bidi_and_zero_width() {
    let mut app = hostile_app();
    press(&mut app, KeyCode::Char('5'));
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "q\u{202E}\u{200B}x");
    assert_safe_and_shown(&app, "filter", &["/q\u{FFFD}\u{FFFD}x"]);
}
