//! The theme file format (`themes/*.toml`) and its resolution into styles.

use std::collections::BTreeMap;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use super::ThemeError;
use super::colour::{parse_literal, parse_modifier};

/// A resolved palette and the style of every scope.
pub(super) type Resolved = (BTreeMap<String, Color>, BTreeMap<String, Style>);

/// One theme file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ThemeFile {
    /// The theme this one starts from; `"none"` starts from nothing.
    pub inherits: Option<String>,
    /// `false` strips every colour after resolution (the mono theme).
    pub colours: Option<bool>,
    /// Named colours.
    #[serde(default)]
    pub palette: BTreeMap<String, String>,
    /// Scope name to style.
    #[serde(default)]
    pub scopes: BTreeMap<String, ScopeSpec>,
}

/// A scope's style: either just a foreground colour or a table.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum ScopeSpec {
    /// `"ui.text" = "fg"`.
    Fg(String),
    /// `"ui.text" = { fg = "fg", bg = "bg", modifiers = ["bold"] }`.
    Style(StyleSpec),
}

/// The table form of a scope's style.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    modifiers: Vec<String>,
}

impl ThemeFile {
    /// Parses the text of a theme file; `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<Self, ThemeError> {
        toml::from_str(text).map_err(|source| ThemeError::Toml {
            origin: origin.to_owned(),
            source: Box::new(source),
        })
    }

    /// Lays `child` over `self` (palette entries and scopes of the child win).
    pub fn overlay(mut self, child: &Self) -> Self {
        self.palette
            .extend(child.palette.iter().map(|(k, v)| (k.clone(), v.clone())));
        self.scopes
            .extend(child.scopes.iter().map(|(k, v)| (k.clone(), v.clone())));
        self.colours = child.colours.or(self.colours);
        self
    }

    /// Resolves the palette and every scope into ratatui styles.
    pub fn resolve(&self, origin: &str) -> Result<Resolved, ThemeError> {
        let mut palette = BTreeMap::new();
        for (name, value) in &self.palette {
            let colour = parse_literal(value).ok_or_else(|| ThemeError::UnknownColour {
                origin: origin.to_owned(),
                scope: format!("palette.{name}"),
                colour: value.clone(),
            })?;
            palette.insert(name.clone(), colour);
        }
        let colour_of = |scope: &str, text: &str| {
            palette
                .get(text)
                .copied()
                .or_else(|| parse_literal(text))
                .ok_or_else(|| ThemeError::UnknownColour {
                    origin: origin.to_owned(),
                    scope: scope.to_owned(),
                    colour: text.to_owned(),
                })
        };
        let mut styles = BTreeMap::new();
        for (scope, spec) in &self.scopes {
            let style = match spec {
                ScopeSpec::Fg(fg) => Style::new().fg(colour_of(scope, fg)?),
                ScopeSpec::Style(spec) => {
                    let mut style = Style::new();
                    if let Some(fg) = &spec.fg {
                        style = style.fg(colour_of(scope, fg)?);
                    }
                    if let Some(bg) = &spec.bg {
                        style = style.bg(colour_of(scope, bg)?);
                    }
                    let mut modifiers = Modifier::empty();
                    for name in &spec.modifiers {
                        modifiers |=
                            parse_modifier(name).ok_or_else(|| ThemeError::UnknownModifier {
                                origin: origin.to_owned(),
                                scope: scope.clone(),
                                modifier: name.clone(),
                            })?;
                    }
                    style.add_modifier(modifiers)
                }
            };
            styles.insert(scope.clone(), style);
        }
        Ok((palette, styles))
    }
}
