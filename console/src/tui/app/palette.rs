//! The palette's commands: what it completes from and how typed commands run.

use super::App;
use crate::tui::action::ViewId;
use crate::tui::data::TuiRequest;
use crate::tui::keymap::{ALL_COMMANDS, Command};
use crate::tui::views::heatmap::HeatmapView;
use crate::tui::widgets::Glyphs;

/// Parses `30m`, `24h`, `7d` into seconds.
#[must_use]
pub fn parse_duration(text: &str) -> Option<i64> {
    let (number, unit) = text.split_at(text.len().checked_sub(1)?);
    let number: i64 = number.parse().ok().filter(|n| *n > 0)?;
    let unit = match unit {
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return None,
    };
    number.checked_mul(unit)
}

impl App {
    /// What the palette completes from: every command, theme and cohort.
    pub(super) fn palette_candidates(&self) -> Vec<String> {
        let mut candidates: Vec<String> = ALL_COMMANDS
            .iter()
            .filter(|c| **c != Command::View(ViewId::Detail))
            .map(|c| c.name().to_owned())
            .collect();
        candidates.extend(
            self.settings
                .themes
                .names()
                .iter()
                .map(|name| format!("theme {name}")),
        );
        candidates.extend(["suppress 1h", "suppress 24h", "suppress 7d"].map(String::from));
        candidates.extend(["glyphs ascii", "glyphs unicode", "filter "].map(String::from));
        candidates.extend(HeatmapView::cohort_names(&self.snapshot));
        candidates
    }

    /// Runs a palette command line.
    pub(super) fn run(&mut self, line: &str) {
        let line = line.trim();
        let (verb, argument) = line.split_once(' ').unwrap_or((line, ""));
        let argument = argument.trim();
        match verb {
            "theme" => match self
                .settings
                .themes
                .select(argument, self.settings.no_colour)
            {
                Ok(theme) => {
                    self.settings.theme = theme;
                    let note = if self.settings.no_colour {
                        " (NO_COLOR is set: staying without colour)"
                    } else {
                        ""
                    };
                    self.notify(&format!("theme {argument}{note}"));
                }
                Err(error) => self.error(error.to_string()),
            },
            "suppress" => match parse_duration(argument) {
                Some(seconds) => {
                    let until = self.now + seconds;
                    match self
                        .anomalies
                        .suppress_selected(&self.snapshot, self.now, until)
                    {
                        Some(change) => {
                            self.notify(&format!(
                                "suppressed the anomaly of {} for {argument}",
                                crate::safe_text::SafeText::new(&change.thing)
                            ));
                            self.requests.push(TuiRequest::Triage(change));
                        }
                        None => self.error("suppress: no anomaly selected".to_owned()),
                    }
                }
                None => self.error(format!(
                    "suppress: \"{argument}\" is not a duration like 30m, 24h, 7d"
                )),
            },
            "glyphs" => match argument {
                "ascii" => self.settings.glyphs = Glyphs::Ascii,
                "unicode" => self.settings.glyphs = Glyphs::Unicode,
                _ => self.error(format!("glyphs: \"{argument}\" is not ascii or unicode")),
            },
            "filter" => {
                self.set_filter(argument);
            }
            "cohort" => {
                if self.heatmap.select_cohort(&self.snapshot, argument) {
                    self.show(ViewId::Heatmap);
                } else {
                    self.error(format!("cohort: no cohort \"{argument}\""));
                }
            }
            _ => match Command::from_name(line) {
                Some(command) => self.command(command),
                None => self.error(format!("unknown command \"{line}\" (: and Tab list them)")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("30m"), Some(1_800));
        assert_eq!(parse_duration("24h"), Some(86_400));
        assert_eq!(parse_duration("7d"), Some(604_800));
        for bad in ["", "h", "0h", "-1d", "3w", "1.5h", "99999999999999999d"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
