//! Operations (revoke, quarantine, restore, retire, CA actions) as the screen shows them: the
//! journal's operation with its plan's summary and every call with its target and result.
//! Made from the journal's rows (`crate::store::journal`), whose call state is reused here.

use crate::ops::plan::Plan;
use crate::safe_text::OutsideText;
use crate::store::journal::{CallRow, CallState, OpRow};

use super::UnixSeconds;

/// One call of an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallLine {
    /// The IAM action (`iot:UpdateCertificate`).
    pub action: &'static str,
    /// What it is for: the target's things (or certificate), or `all` for a preparation.
    pub target: OutsideText,
    /// Where it is; `None` while not started.
    pub state: Option<CallState>,
    /// The result or the error (AWS text).
    pub detail: OutsideText,
}

/// One operation of the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRow {
    /// Its id (`op-…`).
    pub id: Box<str>,
    /// What it does (`revoke`, `ca-revoke`, ...).
    pub kind: Box<str>,
    /// The journal's state: `applying`, `applied`, `partial`, `verified`, `unverified`.
    pub state: Box<str>,
    /// When it was confirmed.
    pub created: UnixSeconds,
    /// Its last change.
    pub updated: UnixSeconds,
    /// The plan's one-line summary (may name a CA or things).
    pub summary: OutsideText,
    /// Its calls, in order.
    pub calls: Vec<CallLine>,
}

impl OperationRow {
    /// An operation from its journal row and its calls.
    #[must_use]
    pub fn of(op: &OpRow, calls: &[CallRow]) -> Self {
        let plan = serde_json::from_str::<Plan>(&op.plan).ok();
        let lines = plan.as_ref().map_or_else(Vec::new, |plan| {
            plan.steps
                .iter()
                .enumerate()
                .map(|(i, step)| {
                    let call = calls.iter().rev().find(|c| c.step == i);
                    let target = step.target.and_then(|t| plan.targets.get(t)).map_or_else(
                        || "all".to_owned(),
                        |t| {
                            if t.things.is_empty() {
                                t.certificate_id.chars().take(12).collect()
                            } else {
                                t.things.join(", ")
                            }
                        },
                    );
                    CallLine {
                        action: step.call.operation(),
                        target: target.into(),
                        state: call.map(|c| c.state),
                        detail: call.map(|c| c.detail.clone()).unwrap_or_default().into(),
                    }
                })
                .collect()
        });
        Self {
            id: op.id.as_str().into(),
            kind: op.kind.as_str().into(),
            state: op.state.as_str().into(),
            created: op.created.0,
            updated: op.updated.0,
            summary: plan
                .map_or_else(|| "(the plan cannot be read)".to_owned(), |p| p.summary())
                .into(),
            calls: lines,
        }
    }

    /// A killed or failed apply left calls to make: `ops resume` (or `Enter`) finishes it.
    #[must_use]
    pub fn resumable(&self) -> bool {
        matches!(&*self.state, "applying" | "partial")
    }

    /// Calls done, failed, and in all.
    #[must_use]
    pub fn progress(&self) -> (usize, usize, usize) {
        let count = |s: CallState| self.calls.iter().filter(|c| c.state == Some(s)).count();
        (
            count(CallState::Done),
            count(CallState::Failed),
            self.calls.len(),
        )
    }

    /// Calls not done yet: what a resume makes.
    #[must_use]
    pub fn left(&self) -> usize {
        let (done, _, all) = self.progress();
        all - done
    }
}
