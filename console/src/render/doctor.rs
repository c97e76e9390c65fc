//! `doctor`: the outcome of each environment check, with a fix hint for every failure.

use serde_json::{Value, json};

use super::{Report, Table};
use crate::model::UnixTime;
use crate::safe_text::SafeText;

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckOutcome {
    /// Fine.
    Pass,
    /// Works, but something is off (e.g. an optional source is unavailable).
    Warn,
    /// Broken: fleetid cannot work this way.
    Fail,
}

impl CheckOutcome {
    /// `pass`, `warn`, `fail`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
        }
    }
}

/// One check of `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctorCheck {
    /// What was checked (`credentials`, `region`, `iot:ListCertificates`, ...).
    pub name: String,
    /// How it came out.
    pub outcome: CheckOutcome,
    /// What was found.
    pub detail: String,
    /// What to do about a warning or failure.
    pub hint: Option<String>,
}

/// The doctor report.
#[must_use]
pub fn doctor_report(checks: &[DoctorCheck], now: UnixTime) -> Report {
    let mut table = Table::new(&["CHECK", "RESULT", "DETAIL", "HINT"]);
    for c in checks {
        table.push(
            [
                c.name.as_str(),
                c.outcome.as_str(),
                c.detail.as_str(),
                c.hint.as_deref().unwrap_or(""),
            ]
            .map(SafeText::new),
        );
    }
    let data: Vec<Value> = checks
        .iter()
        .map(|c| {
            json!({
                "check": c.name,
                "result": c.outcome.as_str(),
                "detail": c.detail,
                "hint": c.hint,
            })
        })
        .collect();
    Report {
        kind: "doctor",
        data: Value::Array(data),
        table,
        text: None,
        freshness: Vec::new(),
        generated_at: now,
    }
}
