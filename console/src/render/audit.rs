//! `audit`: the audit log, newest first, and the outcome of checking its hash chain.

use serde_json::{Value, json};

use super::{Report, Table};
use crate::model::UnixTime;
use crate::safe_text::SafeText;
use crate::store::audit::AuditEntry;

/// What `--verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainCheck {
    /// Every entry links to its predecessor; this many were checked.
    Intact(u64),
    /// The first entry that does not.
    Broken {
        /// Its number.
        sequence: i64,
        /// What does not hold.
        reason: String,
    },
}

/// The entries (already newest first) and, with `--verify`, the chain check.
#[must_use]
pub fn audit_report(entries: &[AuditEntry], check: Option<&ChainCheck>, now: UnixTime) -> Report {
    let mut table = Table::new(&[
        "SEQ",
        "AT",
        "ENVIRONMENT",
        "USER",
        "PRINCIPAL",
        "ACTION",
        "TARGETS",
        "PLAN",
        "DECISION",
        "OUTCOME",
        "HASH",
    ]);
    let mut data = Vec::new();
    for entry in entries {
        let f = &entry.fields;
        let hash = hex::encode(entry.hash);
        table.push(
            [
                entry.sequence.to_string(),
                f.at.rfc3339(),
                f.environment.clone(),
                f.os_user.clone(),
                f.principal
                    .clone()
                    .or_else(|| f.account.clone())
                    .unwrap_or_default(),
                f.action.clone(),
                f.targets.join(" "),
                f.plan.clone(),
                f.decision.as_str().to_owned(),
                f.outcome.clone(),
                hash[..16].to_owned(),
            ]
            .map(SafeText::from_string),
        );
        data.push(json!({
            "sequence": entry.sequence,
            "at": f.at.rfc3339(),
            "environment": f.environment,
            "os_user": f.os_user,
            "principal": f.principal,
            "account": f.account,
            "action": f.action,
            "targets": f.targets,
            "plan": f.plan,
            "decision": f.decision.as_str(),
            "outcome": f.outcome,
            "prev_hash": hex::encode(entry.prev_hash),
            "hash": hash,
        }));
    }
    let verification = check.map(|check| match check {
        ChainCheck::Intact(n) => json!({"intact": true, "entries": n}),
        ChainCheck::Broken { sequence, reason } => {
            json!({"intact": false, "broken_at": sequence, "reason": reason})
        }
    });
    let text = check.map(|check| {
        let verdict = match check {
            ChainCheck::Intact(n) => format!("chain: intact ({n} entries verified)"),
            ChainCheck::Broken { sequence, reason } => {
                format!("chain: BROKEN at entry {sequence}: {reason}")
            }
        };
        let mut lines = SafeText::lines(&table.to_text(false));
        lines.push(SafeText::from_string(verdict));
        lines
    });
    Report {
        kind: "audit",
        data: json!({"entries": Value::Array(data), "verification": verification}),
        table,
        text,
        freshness: Vec::new(),
        generated_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::audit::{Decision, NewAuditEntry};

    #[test]
    fn device_text_is_sanitized_and_a_broken_chain_is_named() {
        let entry = AuditEntry {
            sequence: 7,
            fields: NewAuditEntry {
                at: UnixTime(1_795_593_600),
                os_user: "oncall".into(),
                principal: None,
                account: None,
                environment: "prod".into(),
                action: "acknowledge".into(),
                targets: vec!["x\u{1b}]0;owned\u{7}y".into()],
                plan: "anomaly of x".into(),
                decision: Decision::Confirmed,
                outcome: "acknowledged".into(),
            },
            prev_hash: [0; 32],
            hash: [0xab; 32],
        };
        let check = ChainCheck::Broken {
            sequence: 7,
            reason: "changed".into(),
        };
        let report = audit_report(&[entry], Some(&check), UnixTime(1_795_593_600));
        let text = crate::render::render(
            &report,
            crate::render::OutputFormat::Table,
            crate::render::RenderOptions::default(),
        );
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(text.contains("x\u{FFFD}]0;owned\u{FFFD}y"), "{text}");
        assert!(text.contains("chain: BROKEN at entry 7"), "{text}");
        assert_eq!(report.data["verification"]["broken_at"], 7);
        // JSON keeps the exact value; its encoder escapes it.
        assert_eq!(
            report.data["entries"][0]["targets"][0],
            "x\u{1b}]0;owned\u{7}y"
        );
        assert_eq!(report.data["entries"][0]["hash"], "ab".repeat(32));
    }
}
