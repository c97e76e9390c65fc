//! Tests of the keymap: defaults, overrides, error reporting.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

#[test]
fn every_default_binding_parses() {
    for (text, _) in DEFAULTS {
        assert!(KeyChord::parse(text).is_ok(), "{text}");
    }
    assert_eq!(Keymap::default().bindings.len(), DEFAULTS.len());
}

#[test]
fn vim_keys_and_arrows_both_move() {
    let keymap = Keymap::default();
    assert_eq!(
        keymap.command_for(key(KeyCode::Char('j'))),
        Some(Command::Down)
    );
    assert_eq!(keymap.command_for(key(KeyCode::Down)), Some(Command::Down));
    assert_eq!(
        keymap.command_for(key(KeyCode::Tab)),
        Some(Command::NextView)
    );
    assert_eq!(
        keymap.command_for(key(KeyCode::Char('5'))),
        Some(Command::View(ViewId::Devices))
    );
}

#[test]
fn overrides_bind_and_unbind() {
    let keymap = Keymap::with_overrides([("ctrl-r", "revoke"), ("r", "none"), ("x", "quit")])
        .unwrap_or_else(|e| panic!("{e}"));
    let ctrl_r = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL);
    assert_eq!(keymap.command_for(ctrl_r), Some(Command::Revoke));
    assert_eq!(keymap.command_for(key(KeyCode::Char('r'))), None);
    assert_eq!(
        keymap.command_for(key(KeyCode::Char('x'))),
        Some(Command::Quit)
    );
    assert_eq!(keymap.keys_for(Command::Quit).len(), 2);
}

#[test]
fn every_error_is_reported_with_its_entry() {
    let err = Keymap::with_overrides([
        ("pgnd", "page-down"),
        ("x", "frobnicate"),
        ("ctrl-c", "help"),
        ("y", "top"),
    ])
    .expect_err("three bad entries");
    assert_eq!(err.0.len(), 3);
    let text = err.to_string();
    assert!(
        text.contains("keymap: \"pgnd\" = \"page-down\": unknown key name \"pgnd\""),
        "{text}"
    );
    assert!(
        text.contains("keymap: \"x\" = \"frobnicate\": unknown command"),
        "{text}"
    );
    assert!(text.contains("ctrl-c always quits"), "{text}");
}

#[test]
fn ctrl_c_quits_even_when_q_is_unbound() {
    let keymap = Keymap::with_overrides([("q", "none")]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(keymap.command_for(key(KeyCode::Char('q'))), None);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(keymap.command_for(ctrl_c), Some(Command::Quit));
}

#[test]
fn help_lists_every_command_with_its_keys() {
    let entries = Keymap::default().help_entries();
    let down = entries
        .iter()
        .find(|e| e.command == "down")
        .unwrap_or_else(|| panic!("down missing"));
    assert_eq!(down.keys, "j, down");
    assert!(entries.iter().all(|e| !e.description.is_empty()));
    let names: std::collections::BTreeSet<_> = entries.iter().map(|e| e.command).collect();
    assert_eq!(names.len(), entries.len(), "command names are unique");
}

#[test]
fn command_names_round_trip() {
    for command in ALL_COMMANDS {
        assert_eq!(Command::from_name(command.name()), Some(command));
    }
}

mod properties {
    use proptest::prelude::*;

    use super::super::KeyChord;

    proptest! {
        #[test]
        fn parsing_never_panics_and_display_round_trips(text in "\\PC{0,12}") {
            if let Ok(chord) = KeyChord::parse(&text) {
                let shown = chord.to_string();
                prop_assert_eq!(KeyChord::parse(&shown), Ok(chord));
            }
        }
    }
}
