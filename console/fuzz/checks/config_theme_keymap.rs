//! What must hold for any text read as the console's config file, a theme file or a key chord:
//! parsing never panics (errors are values), a config that parses yields a keymap or a list of
//! keymap errors, a theme that parses resolves or fails with an error, and a key chord that
//! parses prints as text that parses back to it. Shared by the fuzz target and the corpus
//! replay test (`tests/fuzz_corpus.rs`).

use std::path::Path;

use fleetid::config::Config;
use fleetid::tui::keymap::{KeyChord, Keymap, KeymapOverride};
use fleetid::tui::theme::ThemeSet;

/// Checks one input; panics on a violation.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);

    if let Ok(config) = Config::parse(Path::new("fuzz/config.toml"), &text) {
        let overrides: Vec<KeymapOverride> = config
            .keymap
            .iter()
            .map(|entry| KeymapOverride {
                key: entry.key.clone(),
                command: entry.command.clone(),
                origin: Some(format!("config.toml:{}:{}", entry.line, entry.column)),
            })
            .collect();
        match Keymap::with_config(&overrides) {
            Ok(keymap) => {
                let _ = keymap.help_entries();
            }
            Err(errors) => assert!(!errors.0.is_empty(), "an error without a problem"),
        }
    }

    let mut themes = ThemeSet::bundled();
    if themes.add("fuzz", "themes/fuzz.toml", &text).is_ok()
        && let Ok(theme) = themes.load("fuzz")
    {
        let _ = theme.style("table.header");
    }

    for line in text.lines().take(16) {
        if let Ok(chord) = KeyChord::parse(line) {
            let printed = chord.to_string();
            assert_eq!(
                KeyChord::parse(&printed),
                Ok(chord),
                "{line:?} printed as {printed:?}"
            );
        }
    }
}
