//! Who acts, for the audit log: the OS user, the AWS principal and account when known, the
//! environment — and the entries the ops code writes (plan, confirmation, each call, result).

use crate::model::UnixTime;
use crate::store::audit::{Decision, NewAuditEntry};
use crate::store::{Store, StoreError};

/// The operating-system user running the console (`USER`, `LOGNAME`, `USERNAME`).
#[must_use]
pub fn os_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Who and where, written into every entry.
#[derive(Debug, Clone)]
pub struct Actor {
    /// OS user.
    pub os_user: String,
    /// AWS principal ARN, when sts answered.
    pub principal: Option<String>,
    /// AWS account, when sts answered.
    pub account: Option<String>,
    /// Environment name.
    pub environment: String,
}

impl Actor {
    /// The OS user in `environment`, with no AWS identity (for what is decided before, or
    /// without, any AWS call).
    #[must_use]
    pub fn local(environment: &str) -> Self {
        Self {
            os_user: os_user(),
            principal: None,
            account: None,
            environment: environment.to_owned(),
        }
    }

    /// Appends one entry.
    ///
    /// # Errors
    /// [`StoreError`] when the audit log cannot be written.
    pub fn record(
        &self,
        store: &mut Store,
        action: &str,
        targets: Vec<String>,
        plan: &str,
        decision: Decision,
        outcome: &str,
    ) -> Result<(), StoreError> {
        store
            .append_audit(self.entry(action, targets, plan, decision, outcome))
            .map(drop)
    }

    /// The audit entry [`Actor::record`] appends, for a caller that writes it together with
    /// something else.
    #[must_use]
    pub fn entry(
        &self,
        action: &str,
        targets: Vec<String>,
        plan: &str,
        decision: Decision,
        outcome: &str,
    ) -> NewAuditEntry {
        NewAuditEntry {
            at: UnixTime::now(),
            os_user: self.os_user.clone(),
            principal: self.principal.clone(),
            account: self.account.clone(),
            environment: self.environment.clone(),
            action: action.to_owned(),
            targets,
            plan: plan.to_owned(),
            decision,
            outcome: outcome.to_owned(),
        }
    }
}
