//! The decision log: one JSON line per decision, which is also a CloudWatch embedded metric
//! format (EMF) record counting activations, and rejections by reason.
//!
//! EMF: the `_aws.CloudWatchMetrics` block names namespace `fleetid/jitr`, dimension sets
//! `[Outcome]` and (rejections) `[Outcome, Reason]`, and one metric `Activations` or
//! `Rejections` (unit `Count`, value 1). CloudWatch Logs turns such lines into metrics without
//! any API call.

use serde_json::{Map, Value, json};

use crate::apply::{ApplyError, ApplyReport};
use crate::decision::Decision;

/// CloudWatch namespace of the metrics.
pub const METRIC_NAMESPACE: &str = "fleetid/jitr";

/// What one decision log line describes.
#[derive(Debug, Clone, Copy)]
pub struct DecisionLogInput<'a> {
    /// Milliseconds since the epoch when the line is written.
    pub now_ms: u64,
    /// The certificate, when the event named one.
    pub certificate_id: Option<&'a str>,
    /// The CA, when the event named one.
    pub ca_certificate_id: Option<&'a str>,
    /// The device id, when it could be read from the certificate.
    pub device_id: Option<&'a str>,
    /// The decision.
    pub decision: &'a Decision,
    /// What applying it did, when it was applied.
    pub report: Option<&'a ApplyReport>,
    /// Why applying it failed, when it did.
    pub apply_error: Option<&'a ApplyError>,
}

/// Builds the log line (call `to_string()` for the single-line JSON).
pub fn decision_line(input: &DecisionLogInput<'_>) -> Value {
    let mut line = Map::new();
    line.insert("event".into(), "jitr_decision".into());
    let mut text = |key: &str, value: Option<&str>| {
        if let Some(value) = value {
            line.insert(key.into(), sanitize(value).into());
        }
    };
    text("certificate_id", input.certificate_id);
    text("ca_certificate_id", input.ca_certificate_id);
    text("device_id", input.device_id);
    let (outcome, metric, dimensions) = match input.decision {
        Decision::Activate {
            thing,
            policy,
            groups,
            attributes,
        } => {
            line.insert("outcome".into(), "activate".into());
            line.insert("thing".into(), thing.as_str().into());
            line.insert("policy".into(), policy.name.as_str().into());
            line.insert("groups".into(), json!(groups));
            line.insert("attributes".into(), json!(attributes));
            ("activate", "Activations", json!([["Outcome"]]))
        }
        Decision::Reject { reason, detail } => {
            line.insert("outcome".into(), "reject".into());
            line.insert("reason".into(), reason.as_str().into());
            line.insert("detail".into(), sanitize(detail).into());
            line.insert("Reason".into(), reason.as_str().into());
            (
                "reject",
                "Rejections",
                json!([["Outcome"], ["Outcome", "Reason"]]),
            )
        }
    };
    if let Some(report) = input.report {
        line.insert("changed".into(), report.changed().into());
        line.insert("steps".into(), json!(report.steps));
    }
    if let Some(error) = input.apply_error {
        line.insert("apply_error".into(), sanitize(&error.to_string()).into());
        line.insert("retryable".into(), error.is_retryable().into());
    }
    line.insert("Outcome".into(), outcome.into());
    line.insert(metric.into(), 1.into());
    line.insert(
        "_aws".into(),
        json!({
            "Timestamp": input.now_ms,
            "CloudWatchMetrics": [{
                "Namespace": METRIC_NAMESPACE,
                "Dimensions": dimensions,
                "Metrics": [{"Name": metric, "Unit": "Count"}],
            }],
        }),
    );
    Value::Object(line)
}

/// Builds the log line for an event on which no decision could be taken (the certificate or
/// CA could not be described, the manifest could not be reached). Counted as metric `Errors`.
pub fn error_line(
    now_ms: u64,
    certificate_id: &str,
    ca_certificate_id: &str,
    error: &str,
    retryable: bool,
) -> Value {
    json!({
        "event": "jitr_error",
        "certificate_id": sanitize(certificate_id),
        "ca_certificate_id": sanitize(ca_certificate_id),
        "error": sanitize(error),
        "retryable": retryable,
        "Outcome": "error",
        "Errors": 1,
        "_aws": {
            "Timestamp": now_ms,
            "CloudWatchMetrics": [{
                "Namespace": METRIC_NAMESPACE,
                "Dimensions": [["Outcome"]],
                "Metrics": [{"Name": "Errors", "Unit": "Count"}],
            }],
        },
    })
}

/// Escapes control characters (C0, C1, DEL) and bidirectional overrides, so text that came
/// from a device cannot steer the terminal of whoever reads the log.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || bidi {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reason::RejectReason;

    #[test]
    fn rejection_line_is_emf_with_reason_dimension() {
        let decision = Decision::Reject {
            reason: RejectReason::Recalled,
            detail: "device dev-1 is recalled\u{1b}[2J".into(),
        };
        let line = decision_line(&DecisionLogInput {
            now_ms: 1_700_000_000_000,
            certificate_id: Some("abc"),
            ca_certificate_id: Some("ca"),
            device_id: Some("dev-1"),
            decision: &decision,
            report: None,
            apply_error: None,
        });
        let text = line.to_string();
        assert!(!text.contains('\n') && !text.contains('\u{1b}'), "{text}");
        assert_eq!(line["reason"], "RECALLED");
        assert_eq!(line["Reason"], "RECALLED");
        assert_eq!(line["Outcome"], "reject");
        assert_eq!(line["Rejections"], 1);
        let emf = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(line["_aws"]["Timestamp"], 1_700_000_000_000_u64);
        assert_eq!(emf["Namespace"], METRIC_NAMESPACE);
        assert_eq!(emf["Metrics"][0]["Name"], "Rejections");
        // Every dimension named in a dimension set must be a member of the root object.
        for set in emf["Dimensions"].as_array().unwrap() {
            for name in set.as_array().unwrap() {
                assert!(line.get(name.as_str().unwrap()).is_some(), "{name} missing");
            }
        }
    }

    #[test]
    fn sanitize_escapes_controls_and_bidi() {
        assert_eq!(
            sanitize("a\u{1b}b\u{202e}c\u{85}"),
            "a\\u{1b}b\\u{202e}c\\u{85}"
        );
        assert_eq!(sanitize("plain dev-1"), "plain dev-1");
    }
}
