//! The key bindings: one table of defaults, user overrides from the config, and the help
//! listing generated from it.
//!
//! `ctrl-c` always quits and is not remappable, so a broken keymap can never trap anyone.

mod chord;
mod command;

use std::collections::BTreeMap;

use ratatui::crossterm::event::KeyEvent;

pub use chord::KeyChord;
pub use command::{ALL as ALL_COMMANDS, Command};

use crate::tui::action::ViewId;

/// The default bindings: vim keys and arrows, `:` `/` `?`, Tab and digits for views.
pub const DEFAULTS: &[(&str, Command)] = &[
    ("q", Command::Quit),
    ("?", Command::Help),
    (":", Command::Palette),
    ("/", Command::Filter),
    ("esc", Command::Back),
    ("tab", Command::NextView),
    ("backtab", Command::PrevView),
    ("1", Command::View(ViewId::Dashboard)),
    ("2", Command::View(ViewId::Heatmap)),
    ("3", Command::View(ViewId::CaChains)),
    ("4", Command::View(ViewId::Anomalies)),
    ("5", Command::View(ViewId::Devices)),
    ("6", Command::View(ViewId::Audit)),
    ("7", Command::View(ViewId::Rotation)),
    ("8", Command::View(ViewId::Operations)),
    ("k", Command::Up),
    ("up", Command::Up),
    ("j", Command::Down),
    ("down", Command::Down),
    ("h", Command::Left),
    ("left", Command::Left),
    ("l", Command::Right),
    ("right", Command::Right),
    ("ctrl-u", Command::PageUp),
    ("pageup", Command::PageUp),
    ("ctrl-d", Command::PageDown),
    ("pagedown", Command::PageDown),
    ("g", Command::Top),
    ("home", Command::Top),
    ("G", Command::Bottom),
    ("end", Command::Bottom),
    ("enter", Command::Open),
    ("space", Command::Mark),
    ("o", Command::Sort),
    ("c", Command::Cohort),
    ("a", Command::Acknowledge),
    ("s", Command::Suppress),
    ("r", Command::Revoke),
    ("Q", Command::Quarantine),
    ("R", Command::Restore),
    ("P", Command::Promote),
    ("H", Command::Halt),
    ("U", Command::Resume),
    ("X", Command::Abort),
    ("F", Command::Finalize),
];

/// A keymap override from the config, and where it was written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeymapOverride {
    /// The key chord as written (`ctrl-d`).
    pub key: String,
    /// The command name as written (`page-down`, `none`).
    pub command: String,
    /// `file:line:column` of the entry, when it came from a file.
    pub origin: Option<String>,
}

/// One problem in the user's keymap overrides.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}keymap: \"{key}\" = \"{command}\": {problem}", origin.as_deref().map(|o| format!("{o}: ")).unwrap_or_default())]
pub struct KeymapError {
    /// `file:line:column` of the entry, when it came from a file.
    pub origin: Option<String>,
    /// The key as written.
    pub key: String,
    /// The command as written.
    pub command: String,
    /// What is wrong with it.
    pub problem: String,
}

/// Every problem found in the overrides (all are reported at once).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct KeymapErrors(pub Vec<KeymapError>);

/// Key chord to command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: BTreeMap<KeyChord, Command>,
}

impl Default for Keymap {
    fn default() -> Self {
        let bindings = DEFAULTS
            .iter()
            .filter_map(|(key, command)| Some((KeyChord::parse(key).ok()?, *command)))
            .collect();
        Self { bindings }
    }
}

impl Keymap {
    /// The defaults with `overrides` applied: each entry binds a key (`"ctrl-r"`) to a
    /// command name (`"revoke"`), or unbinds it with `"none"`.
    ///
    /// # Errors
    /// All unknown keys, unknown commands and attempts to rebind `ctrl-c`, each naming the
    /// entry.
    pub fn with_overrides<'a, I>(overrides: I) -> Result<Self, KeymapErrors>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        Self::with_located(overrides.into_iter().map(|(key, name)| (key, name, None)))
    }

    /// [`Keymap::with_overrides`] from the config's entries: each error starts with the
    /// entry's `file:line:column`.
    ///
    /// # Errors
    /// As [`Keymap::with_overrides`].
    pub fn with_config(overrides: &[KeymapOverride]) -> Result<Self, KeymapErrors> {
        Self::with_located(
            overrides
                .iter()
                .map(|o| (o.key.as_str(), o.command.as_str(), o.origin.as_deref())),
        )
    }

    fn with_located<'a, I>(overrides: I) -> Result<Self, KeymapErrors>
    where
        I: IntoIterator<Item = (&'a str, &'a str, Option<&'a str>)>,
    {
        let mut keymap = Self::default();
        let mut errors = Vec::new();
        for (key, name, origin) in overrides {
            let fail = |problem: String| KeymapError {
                origin: origin.map(str::to_owned),
                key: key.to_owned(),
                command: name.to_owned(),
                problem,
            };
            let chord = match KeyChord::parse(key) {
                Ok(chord) => chord,
                Err(problem) => {
                    errors.push(fail(problem));
                    continue;
                }
            };
            if Some(chord) == KeyChord::parse("ctrl-c").ok() {
                errors.push(fail("ctrl-c always quits and cannot be rebound".to_owned()));
                continue;
            }
            if name == "none" {
                keymap.bindings.remove(&chord);
            } else if let Some(command) = Command::from_name(name) {
                keymap.bindings.insert(chord, command);
            } else {
                let known: Vec<&str> = ALL_COMMANDS.iter().map(|c| c.name()).collect();
                errors.push(fail(format!(
                    "unknown command (known: {}, none)",
                    known.join(", ")
                )));
            }
        }
        if errors.is_empty() {
            Ok(keymap)
        } else {
            Err(KeymapErrors(errors))
        }
    }

    /// The command bound to a key event, if any. `ctrl-c` is always [`Command::Quit`].
    #[must_use]
    pub fn command_for(&self, event: KeyEvent) -> Option<Command> {
        let chord = KeyChord::from_event(event)?;
        if Some(chord) == KeyChord::parse("ctrl-c").ok() {
            return Some(Command::Quit);
        }
        self.bindings.get(&chord).copied()
    }

    /// The keys bound to `command`, as shown in help (`j, down`).
    #[must_use]
    pub fn keys_for(&self, command: Command) -> Vec<KeyChord> {
        self.bindings
            .iter()
            .filter(|(_, bound)| **bound == command)
            .map(|(chord, _)| *chord)
            .collect()
    }

    /// The help listing: every command in help order with its keys (empty when unbound).
    #[must_use]
    pub fn help_entries(&self) -> Vec<HelpEntry> {
        ALL_COMMANDS
            .iter()
            .filter(|command| **command != Command::View(ViewId::Detail))
            .map(|command| HelpEntry {
                keys: self
                    .keys_for(*command)
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                command: command.name(),
                description: command.describe(),
            })
            .collect()
    }
}

/// One line of the help overlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpEntry {
    /// The keys, comma-separated.
    pub keys: String,
    /// The command's name.
    pub command: &'static str,
    /// What it does.
    pub description: &'static str,
}

#[cfg(test)]
mod tests;
