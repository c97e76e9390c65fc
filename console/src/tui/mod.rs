//! The operations console on screen: dashboard, expiry heatmap, CA chains, anomaly feed,
//! devices, device detail, audit log.
//!
//! Data flows one way: the backend/model side sends [`data::TuiUpdate`]s through a bounded
//! channel -> the [`app::App`] applies them in batches -> views render what is visible.
//! `fleetid` with no subcommand on a terminal calls [`run`].

pub mod action;
pub mod app;
pub mod data;
pub mod event_loop;
pub mod feed;
pub mod filter;
#[cfg(any(test, feature = "test-support"))]
pub mod fixture;
pub mod keymap;
pub mod theme;
pub mod views;
pub mod widgets;

use std::path::PathBuf;
use std::sync::mpsc;

pub use event_loop::UpdateSource;

use app::{App, AppSettings};
use data::{FleetSnapshot, TuiRequest};
use keymap::{Keymap, KeymapErrors};
use theme::{ThemeError, ThemeSet};
use widgets::Glyphs;
use widgets::banner::Environment;

/// What the console needs from the config and the command line.
#[derive(Debug, Clone, Default)]
pub struct TuiOptions {
    /// Theme name (`default`, `ansi16`, `mono`, `high-contrast`, or one in `theme_dir`).
    pub theme: String,
    /// A directory of extra `*.toml` themes (the config directory's `themes/`), if any.
    pub theme_dir: Option<PathBuf>,
    /// Keymap overrides from the config: key -> command name (or `none`), with where each
    /// was written.
    pub keymap: Vec<keymap::KeymapOverride>,

    /// The environment shown in the banner.
    pub environment: Environment,
    /// Refuse every mutation.
    pub read_only: bool,
    /// Capture the mouse (off unless `--mouse`).
    pub mouse: bool,
    /// ASCII borders and glyphs.
    pub ascii: bool,
    /// No colour at all (`NO_COLOR`); [`theme::no_colour_requested`] reads the environment.
    pub no_colour: bool,
}

/// Why the console could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    /// A theme could not be loaded.
    #[error(transparent)]
    Theme(#[from] ThemeError),
    /// The keymap overrides have errors (all are listed).
    #[error(transparent)]
    Keymap(#[from] KeymapErrors),
    /// The terminal failed.
    #[error("terminal: {doing}: {source}")]
    Terminal {
        /// What was being done.
        doing: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Builds the app's settings from the options: loads themes and the keymap, reporting every
/// error before the terminal is touched.
///
/// # Errors
/// An unknown or invalid theme, or keymap overrides with errors.
pub fn settings(options: &TuiOptions) -> Result<AppSettings, TuiError> {
    let mut themes = ThemeSet::bundled();
    if let Some(dir) = &options.theme_dir
        && dir.is_dir()
    {
        themes.add_dir(dir)?;
    }
    let name = if options.theme.is_empty() {
        "default"
    } else {
        &options.theme
    };
    let theme = themes.select(name, options.no_colour)?;
    let keymap = Keymap::with_config(&options.keymap)?;
    Ok(AppSettings {
        keymap,
        themes,
        theme,
        no_colour: options.no_colour,
        glyphs: if options.ascii {
            Glyphs::Ascii
        } else {
            Glyphs::Unicode
        },
        environment: options.environment.clone(),
        read_only: options.read_only,
    })
}

/// Runs the console on the terminal until the user quits.
///
/// `initial` is shown at once (the cache's snapshot, or an empty one); `updates` delivers
/// newer snapshots, live events and answers (read on a thread of its own); detail lookups and
/// confirmed mutations go to `requests` (no mutation is sent when read-only).
///
/// # Errors
/// Theme or keymap errors (before the terminal is touched), or a terminal failure.
pub fn run(
    options: &TuiOptions,
    initial: FleetSnapshot,
    updates: impl UpdateSource,
    requests: Option<&mpsc::Sender<TuiRequest>>,
) -> Result<(), TuiError> {
    let settings = settings(options)?;
    let app = App::new(settings, initial, event_loop::now());
    event_loop::run_loop(app, updates, requests, options.mouse)
}
