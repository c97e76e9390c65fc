//! Table, JSON and CSV output shared by the subcommands and the TUI.
//!
//! A view builds a [`Report`]: its JSON `data` (the stable, documented form — see
//! `docs/cli.md`), a [`Table`] for table and CSV output, and optionally a text form for table
//! output where rows do not fit (trees, calendars). [`render`] wraps JSON in an envelope with
//! the schema version, the time and the freshness of every source. Table and CSV output are
//! made of [`SafeText`] only; JSON keeps exact values and escapes whatever a terminal could
//! act on ([`json`]).

mod anomalies;
mod audit;
mod cas;
mod certs;
mod doctor;
mod heatmap;
pub mod json;
mod status;
mod table;

pub use anomalies::{anomalies_report, anomalies_triaged, anomaly_rows, anomaly_rows_triaged};
pub use audit::{ChainCheck, audit_report};
pub use cas::{ca_list_report, ca_tree_report};
pub use certs::{cert_show_report, certs_report};
pub use doctor::{CheckOutcome, DoctorCheck, doctor_report};
pub use heatmap::heatmap_report;
pub use status::status_report;
pub use table::{MAX_CELL, Table};

use std::io::{self, Write};

use serde_json::{Value, json};

use std::collections::BTreeMap;

use crate::model::{FleetState, Source, SourceInfo, SourceState, UnixTime};
use crate::safe_text::SafeText;

/// Version of the JSON envelope and of every `data` shape in it. Raised only for changes that
/// remove or change the meaning of a field; new fields may appear without a raise.
pub const JSON_SCHEMA: u32 = 1;

/// How to write a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// Aligned columns for people.
    #[default]
    Table,
    /// The stable JSON envelope for scripts.
    Json,
    /// RFC 4180 CSV of the table rows.
    Csv,
}

/// Options that do not change the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RenderOptions {
    /// ANSI bold for headers; see [`RenderOptions::for_output`].
    pub color: bool,
}

impl RenderOptions {
    /// The options for writing `format` to stdout: escape codes only in table output to a
    /// terminal, and never when colour is turned off (`--no-color`, `NO_COLOR`). JSON, CSV and
    /// anything piped or redirected stay plain, for scripts.
    #[must_use]
    pub fn for_output(format: OutputFormat, stdout_is_terminal: bool, no_color: bool) -> Self {
        Self {
            color: format == OutputFormat::Table && stdout_is_terminal && !no_color,
        }
    }
}

/// One view's output in all its forms.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// What it is (`certificates`, `status`, ...): the envelope's `kind`.
    pub kind: &'static str,
    /// The JSON `data`.
    pub data: Value,
    /// Rows for table and CSV output.
    pub table: Table,
    /// Table output instead of `table`, line by line, when rows do not suit (calendars).
    pub text: Option<Vec<SafeText<'static>>>,
    /// Freshness of each source, shown under tables and in the envelope.
    pub freshness: Vec<Freshness>,
    /// When the report was made.
    pub generated_at: UnixTime,
}

/// How current one source's data is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freshness {
    /// The source.
    pub source: Source,
    /// `fresh`, `loading`, `unavailable` or `cached`.
    pub state: &'static str,
    /// Seconds since its last complete load, if there was one.
    pub age_seconds: Option<i64>,
    /// Why it is unavailable, as the source said it (exact in JSON, cleaned in tables).
    pub reason: Option<String>,
}

/// The freshness of every source the fleet state has heard from.
#[must_use]
pub fn freshness(state: &FleetState, now: UnixTime) -> Vec<Freshness> {
    sources_freshness(state.sources(), now)
}

/// The freshness of each of `sources`.
#[must_use]
pub fn sources_freshness(sources: &BTreeMap<Source, SourceInfo>, now: UnixTime) -> Vec<Freshness> {
    sources
        .iter()
        .map(|(&source, info)| {
            let (label, reason) = match &info.state {
                SourceState::Fresh => ("fresh", None),
                SourceState::Loading { .. } => ("loading", None),
                SourceState::Unavailable { reason } => ("unavailable", Some(reason.to_string())),
            };
            Freshness {
                source,
                state: label,
                age_seconds: info.age(now),
                reason,
            }
        })
        .collect()
}

/// Writes `text` line by line, each line as a [`SafeText`]: for output assembled with
/// `format!` (plans, operation and campaign reports) whose line breaks are meant.
///
/// # Errors
/// The I/O error of writing.
pub fn write_safe_lines(out: &mut dyn Write, text: &str) -> io::Result<()> {
    for line in SafeText::lines(text) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// `42s`, `5m`, `3h`, `2d`.
#[must_use]
pub fn human_age(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

fn freshness_line(freshness: &[Freshness]) -> Option<SafeText<'static>> {
    if freshness.is_empty() {
        return None;
    }
    let parts: Vec<String> = freshness
        .iter()
        .map(|f| match (f.state, f.age_seconds, &f.reason) {
            ("unavailable", _, Some(reason)) => {
                format!("{} unavailable ({reason})", f.source.name())
            }
            (state, Some(age), _) => format!("{} {state}, {} old", f.source.name(), human_age(age)),
            (state, None, _) => format!("{} {state}", f.source.name()),
        })
        .collect();
    Some(SafeText::from_string(format!("data: {}", parts.join("; "))))
}

/// `value` with the keys of every object in sorted order, whether or not serde_json's
/// `preserve_order` feature is enabled somewhere in the build: the output stays stable.
#[must_use]
pub fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// Writes `report` in `format`.
#[must_use]
pub fn render(report: &Report, format: OutputFormat, options: RenderOptions) -> String {
    match format {
        OutputFormat::Json => {
            let sources: Vec<Value> = report
                .freshness
                .iter()
                .map(|f| {
                    json!({
                        "source": f.source.name(),
                        "state": f.state,
                        "age_seconds": f.age_seconds,
                        "reason": f.reason,
                    })
                })
                .collect();
            let envelope = json!({
                "schema": JSON_SCHEMA,
                "kind": report.kind,
                "generated_at": report.generated_at.rfc3339(),
                "sources": sources,
                "data": report.data,
            });
            let mut text = json::to_terminal_safe_json(&sorted(envelope)).unwrap_or_default();
            text.push('\n');
            text
        }
        OutputFormat::Csv => report.table.to_csv(),
        OutputFormat::Table => {
            let mut text = match &report.text {
                Some(lines) => lines.iter().fold(String::new(), |mut text, line| {
                    text.push_str(line.as_str());
                    text.push('\n');
                    text
                }),
                None => report.table.to_text(options.color),
            };
            if let Some(line) = freshness_line(&report.freshness) {
                text.push_str(line.as_str());
                text.push('\n');
            }
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assembled_text_is_written_line_by_line_neutralized() {
        let mut out = Vec::new();
        write_safe_lines(&mut out, "plan x\u{1b}[2J\r\nwarning: \u{202E}y\n").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "plan x\u{FFFD}[2J\nwarning: \u{FFFD}y\n"
        );
    }

    #[test]
    fn escape_codes_only_for_table_output_to_a_terminal_with_colour_on() {
        let styled = |format, terminal, no_color| {
            RenderOptions::for_output(format, terminal, no_color).color
        };
        assert!(styled(OutputFormat::Table, true, false));
        assert!(!styled(OutputFormat::Table, false, false), "a pipe");
        assert!(!styled(OutputFormat::Table, true, true), "NO_COLOR");
        assert!(!styled(OutputFormat::Json, true, false));
        assert!(!styled(OutputFormat::Csv, true, false));
    }
}
