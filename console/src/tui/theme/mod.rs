//! Colour themes: TOML files with a `palette` and `scopes`, `inherits` from another theme,
//! per-scope fallback (`ui.border.focused` -> `ui.border` -> `ui`), and a colourless mode
//! for `NO_COLOR`.
//!
//! The bundled themes are compiled in with `include_str!`; a directory of user themes may add
//! to them or replace them by name.

mod colour;
mod file;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};

use file::ThemeFile;

pub use colour::parse_literal as parse_colour;

/// The themes shipped in `themes/`, by name.
pub const BUNDLED: [(&str, &str); 4] = [
    ("default", include_str!("../../../../themes/default.toml")),
    ("ansi16", include_str!("../../../../themes/ansi16.toml")),
    ("mono", include_str!("../../../../themes/mono.toml")),
    (
        "high-contrast",
        include_str!("../../../../themes/high-contrast.toml"),
    ),
];

/// The theme used when the environment sets `NO_COLOR`.
pub const NO_COLOR_THEME: &str = "mono";

/// What went wrong loading a theme; every variant names the file or theme.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    /// The file is not valid TOML or has unknown keys.
    #[error("loading theme {origin}: {source}")]
    Toml {
        /// The theme's file or name.
        origin: String,
        /// The parser's message, with line and column.
        source: Box<toml::de::Error>,
    },
    /// A colour is neither a palette entry, an ANSI name nor `#rrggbb`.
    #[error("loading theme {origin}: scope \"{scope}\": unknown colour \"{colour}\"")]
    UnknownColour {
        /// The theme's file or name.
        origin: String,
        /// The scope (or `palette.<name>`) that used it.
        scope: String,
        /// The colour as written.
        colour: String,
    },
    /// A modifier name is not known.
    #[error("loading theme {origin}: scope \"{scope}\": unknown modifier \"{modifier}\"")]
    UnknownModifier {
        /// The theme's file or name.
        origin: String,
        /// The scope that used it.
        scope: String,
        /// The modifier as written.
        modifier: String,
    },
    /// `inherits` names a theme that does not exist, or the chain loops.
    #[error("loading theme {origin}: inherits \"{parent}\": {reason}")]
    Inherits {
        /// The theme's file or name.
        origin: String,
        /// The parent as written.
        parent: String,
        /// `no such theme` or `inheritance loops: a -> b -> a`.
        reason: String,
    },
    /// No theme has the requested name.
    #[error("no theme named \"{name}\" (known: {known})")]
    Unknown {
        /// The requested name.
        name: String,
        /// The names that exist.
        known: String,
    },
    /// A theme directory could not be read.
    #[error("reading themes from {path}: {source}")]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A resolved theme: a style for every scope it or its ancestors define.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    name: String,
    palette: BTreeMap<String, Color>,
    styles: BTreeMap<String, Style>,
    colours: bool,
}

impl Theme {
    /// The theme's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this theme shows colour at all (`false` for mono and under `NO_COLOR`).
    #[must_use]
    pub fn has_colour(&self) -> bool {
        self.colours
    }

    /// The style of `scope`, falling back to its parents (`a.b.c` -> `a.b` -> `a`), then to
    /// the plain style.
    #[must_use]
    pub fn style(&self, scope: &str) -> Style {
        let mut key = scope;
        loop {
            if let Some(style) = self.styles.get(key) {
                return *style;
            }
            match key.rfind('.') {
                Some(dot) => key = &key[..dot],
                None => return Style::new(),
            }
        }
    }

    /// A colour from the palette, an ANSI name or `#rrggbb` (for the environment banner's
    /// configured colour); `None` when the theme shows no colour or the name is unknown.
    #[must_use]
    pub fn colour(&self, name: &str) -> Option<Color> {
        if !self.colours {
            return None;
        }
        self.palette
            .get(name)
            .copied()
            .or_else(|| colour::parse_literal(name))
    }

    /// The same theme with every colour removed; modifiers stay, so selection and severity
    /// remain readable.
    #[must_use]
    pub fn without_colour(mut self) -> Self {
        for style in self.styles.values_mut() {
            *style = strip_colour(*style);
        }
        self.colours = false;
        self
    }
}

fn strip_colour(style: Style) -> Style {
    let mut plain = Style::new();
    plain.add_modifier = style.add_modifier;
    plain.sub_modifier = style.sub_modifier;
    plain
}

/// All themes known by name: the bundled ones plus any loaded from a directory.
#[derive(Debug, Clone)]
pub struct ThemeSet {
    files: BTreeMap<String, (String, ThemeFile)>,
}

impl ThemeSet {
    /// The bundled themes.
    ///
    /// # Panics
    /// Never in a released build: a test parses every bundled theme.
    #[must_use]
    pub fn bundled() -> Self {
        let mut files = BTreeMap::new();
        for (name, text) in BUNDLED {
            let origin = format!("themes/{name}.toml");
            #[allow(clippy::expect_used)] // Checked by `every_bundled_theme_resolves`.
            let file = ThemeFile::parse(&origin, text).expect("bundled theme parses");
            files.insert(name.to_owned(), (origin, file));
        }
        Self { files }
    }

    /// Adds (or replaces by name) the theme in `text`, reported as `origin` in errors.
    ///
    /// # Errors
    /// The text is not a valid theme file.
    pub fn add(&mut self, name: &str, origin: &str, text: &str) -> Result<(), ThemeError> {
        let file = ThemeFile::parse(origin, text)?;
        self.files
            .insert(name.to_owned(), (origin.to_owned(), file));
        Ok(())
    }

    /// Adds every `*.toml` in `dir` (the file stem is the theme's name).
    ///
    /// # Errors
    /// The directory or a file cannot be read, or a file is not a valid theme.
    pub fn add_dir(&mut self, dir: &Path) -> Result<(), ThemeError> {
        let io = |source| ThemeError::Io {
            path: dir.to_owned(),
            source,
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|source| ThemeError::Io {
                path: path.clone(),
                source,
            })?;
            let name = path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default();
            self.add(&name, &path.display().to_string(), &text)?;
        }
        Ok(())
    }

    /// The names of all known themes, sorted.
    #[must_use]
    pub fn names(&self) -> Vec<&str> {
        self.files.keys().map(String::as_str).collect()
    }

    /// Resolves the theme `name` through its `inherits` chain. A theme without `inherits`
    /// starts from `default`; `inherits = "none"` starts from nothing.
    ///
    /// # Errors
    /// Unknown theme, unknown parent, a loop, or an invalid colour or modifier.
    pub fn load(&self, name: &str) -> Result<Theme, ThemeError> {
        let (origin, _) = self.files.get(name).ok_or_else(|| ThemeError::Unknown {
            name: name.to_owned(),
            known: self.names().join(", "),
        })?;
        let merged = self.merged(name, &mut Vec::new())?;
        let (palette, styles) = merged.resolve(origin)?;
        let theme = Theme {
            name: name.to_owned(),
            palette,
            styles,
            colours: true,
        };
        Ok(if merged.colours == Some(false) {
            theme.without_colour()
        } else {
            theme
        })
    }

    /// Loads `name`, or the mono theme when `no_colour` (the `NO_COLOR` convention); either
    /// way the result has no colour when `no_colour`.
    ///
    /// # Errors
    /// As [`ThemeSet::load`].
    pub fn select(&self, name: &str, no_colour: bool) -> Result<Theme, ThemeError> {
        if no_colour {
            Ok(self.load(NO_COLOR_THEME)?.without_colour())
        } else {
            self.load(name)
        }
    }

    fn merged(&self, name: &str, chain: &mut Vec<String>) -> Result<ThemeFile, ThemeError> {
        let (origin, file) = &self.files[name];
        chain.push(name.to_owned());
        let parent = match file.inherits.as_deref() {
            Some("none") => None,
            Some(parent) => Some(parent),
            None if name == "default" => None,
            None => Some("default"),
        };
        let Some(parent) = parent else {
            return Ok(file.clone());
        };
        let fail = |reason: String| ThemeError::Inherits {
            origin: origin.clone(),
            parent: parent.to_owned(),
            reason,
        };
        if chain.iter().any(|seen| seen == parent) {
            return Err(fail(format!(
                "inheritance loops: {} -> {parent}",
                chain.join(" -> ")
            )));
        }
        if !self.files.contains_key(parent) {
            return Err(fail("no such theme".to_owned()));
        }
        Ok(self.merged(parent, chain)?.overlay(file))
    }
}

/// Whether the `NO_COLOR` convention asks for no colour (set and not empty).
#[must_use]
pub fn no_colour_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty())
}

/// True when a style stays distinguishable without colour.
#[must_use]
pub fn readable_without_colour(style: Style) -> bool {
    style
        .add_modifier
        .intersects(Modifier::REVERSED | Modifier::BOLD | Modifier::UNDERLINED)
}

#[cfg(test)]
mod tests;
