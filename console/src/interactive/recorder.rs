//! What the console's model thread writes to the store on behalf of the TUI: every planned
//! mutation's decision in the audit log, anomaly triage (kept per environment and recorded
//! in the audit log), and the audit log's pages for the Audit view.

use crate::safe_text::SafeText;
use std::collections::HashMap;
use std::path::Path;

use crate::config::Environment;
use crate::model::{FleetState, UnixTime};
use crate::store::audit::{AuditEntry, AuditPage, Decision};
use crate::store::triage::TriageState;
use crate::store::{Store, StoreError};
use crate::tui::data::{
    AuditRow, Confirmable, FleetSnapshot, MutationRequest, RotationStep, Triage, TriageChange,
    TuiUpdate,
};
use crate::tui::feed::anomaly_number;

/// Audit entries per page of the Audit view.
pub const AUDIT_PAGE: usize = 200;

/// What becomes of a mutation confirmed in an offline console: nothing can be applied.
pub const NOT_APPLIED: &str = "not applied: the console is offline; nothing was changed";

/// The store connection and the identity written into every entry.
#[derive(Debug)]
pub struct Recorder {
    store: Store,
    /// Who and where, written into every entry.
    actor: Actor,
    /// Triage in force, by [`crate::tui::data::AnomalyRow::id`].
    triage: HashMap<u64, Triage>,
}

use crate::ops::record::Actor;

fn short(hash: &[u8; 32]) -> Box<str> {
    hex::encode(&hash[..4]).into()
}

/// An audit entry as the Audit view shows it.
#[must_use]
pub fn audit_row(entry: &AuditEntry) -> AuditRow {
    let f = &entry.fields;
    let actor = match &f.account {
        Some(account) => format!("{} ({account})", f.os_user),
        None => f.os_user.clone(),
    };
    let result = if f.outcome.is_empty() {
        f.decision.as_str().to_owned()
    } else {
        format!("{}: {}", f.decision.as_str(), f.outcome)
    };
    AuditRow {
        sequence: entry.sequence,
        at: f.at.0,
        actor: actor.into(),
        action: f.action.as_str().into(),
        target: f.targets.join(" ").into(),
        result: result.into(),
        plan: f.plan.as_str().into(),
        hash: short(&entry.hash).into(),
    }
}

fn plan_of(request: &MutationRequest) -> String {
    format!("{} {}", request.kind.verb(), request.radius.summary())
}

impl Recorder {
    /// Opens a connection of its own to the store at `path` and reads the environment's
    /// triage. `account` is the AWS account checked before the console opened, if any.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be opened or read.
    pub fn open(
        path: &Path,
        env: &Environment,
        account: Option<String>,
        now: UnixTime,
    ) -> Result<Self, StoreError> {
        let store = Store::open(path)?;
        let triage = store
            .triage(&env.name, now)?
            .into_iter()
            .map(|(id, state)| {
                let triage = match state {
                    TriageState::Acknowledged => Triage::Acknowledged,
                    TriageState::Suppressed { until } => Triage::Suppressed(until.0),
                };
                (anomaly_number(&id), triage)
            })
            .collect();
        Ok(Self {
            store,
            actor: Actor {
                account,
                ..Actor::local(&env.name)
            },
            triage,
        })
    }

    /// The caller's identity, once sts:GetCallerIdentity answered: written into every later
    /// entry.
    pub fn set_identity(&mut self, principal: String, account: String) {
        self.actor.principal = Some(principal).filter(|p| !p.is_empty());
        if !account.is_empty() {
            self.actor.account = Some(account);
        }
    }

    /// Sets the stored triage on the snapshot's anomalies, and the newest audit page when
    /// `with_audit` (the first snapshot).
    ///
    /// # Errors
    /// [`StoreError`] when the audit log cannot be read.
    pub fn dress(&self, snapshot: &mut FleetSnapshot, with_audit: bool) -> Result<(), StoreError> {
        for row in &mut snapshot.anomalies {
            if let Some(triage) = self.triage.get(&row.id) {
                row.triage = *triage;
            }
        }
        if with_audit {
            snapshot.audit = self.page(None)?.0.into();
        }
        Ok(())
    }

    /// The audit page of this environment before entry `before` (newest first), and whether
    /// older entries remain.
    ///
    /// # Errors
    /// [`StoreError`] when the audit log cannot be read.
    pub fn page(&self, before: Option<i64>) -> Result<(Vec<AuditRow>, bool), StoreError> {
        let entries = self.store.list_audit(&AuditPage {
            environment: Some(&self.actor.environment),
            before,
            limit: AUDIT_PAGE + 1,
        })?;
        let more = entries.len() > AUDIT_PAGE;
        Ok((
            entries.iter().take(AUDIT_PAGE).map(audit_row).collect(),
            more,
        ))
    }

    fn append(
        &mut self,
        action: &str,
        targets: Vec<String>,
        plan: &str,
        decision: Decision,
        outcome: &str,
    ) -> Result<AuditRow, StoreError> {
        let entry = self
            .store
            .append_audit(self.actor.entry(action, targets, plan, decision, outcome))?;
        Ok(audit_row(&entry))
    }

    /// Records what was decided about something planned in the console: a mutation (its
    /// verb, its things), a campaign step (`rotate-<verb>`, the campaign, its reason) or an
    /// operation's resume (`ops-resume`, the operation).
    ///
    /// # Errors
    /// [`StoreError`] when the entry cannot be appended.
    pub fn decision(
        &mut self,
        request: &Confirmable,
        decision: Decision,
        outcome: &str,
    ) -> Result<AuditRow, StoreError> {
        match request {
            Confirmable::Mutation(request) => self.mutation(request, decision, outcome),
            Confirmable::Step { step, radius } => self.step(step, radius, decision, outcome),
            Confirmable::Resume(resume) => self.append(
                "ops-resume",
                vec![resume.op.to_string()],
                &format!("{} calls left of: {}", resume.left, resume.summary.raw()),
                decision,
                outcome,
            ),
        }
    }

    /// Records what was decided about a planned mutation.
    ///
    /// # Errors
    /// [`StoreError`] when the entry cannot be appended.
    fn mutation(
        &mut self,
        request: &MutationRequest,
        decision: Decision,
        outcome: &str,
    ) -> Result<AuditRow, StoreError> {
        let targets = request.things.iter().map(|t| t.raw().to_owned()).collect();
        self.append(
            request.kind.verb(),
            targets,
            &plan_of(request),
            decision,
            outcome,
        )
    }

    /// A campaign step: `rotate-<verb>`, the campaign as target, what the step does, what it
    /// touches and the reason as the plan.
    fn step(
        &mut self,
        step: &RotationStep,
        radius: &str,
        decision: Decision,
        outcome: &str,
    ) -> Result<AuditRow, StoreError> {
        let mut plan = format!("{}; {radius}", step.describe());
        if let Some(reason) = step.action.reason().filter(|r| !r.is_empty()) {
            plan.push_str("; reason: ");
            plan.push_str(reason);
        }
        self.append(
            &format!("rotate-{}", step.action.verb()),
            vec![step.campaign.to_string()],
            &plan,
            decision,
            outcome,
        )
    }

    /// Keeps a triage change in the store (keyed by the anomaly's id in `state`) and records
    /// it; an anomaly no longer in `state` is recorded but not kept.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    pub fn triage(
        &mut self,
        change: &TriageChange,
        state: &FleetState,
    ) -> Result<AuditRow, StoreError> {
        let now = UnixTime::now();
        let id = state
            .anomalies()
            .keys()
            .find(|id| anomaly_number(id) == change.anomaly)
            .map(ToString::to_string);
        let (action, stored, plan) = match change.triage {
            Triage::Open => ("reopen", None, "show it as new again".to_owned()),
            Triage::Acknowledged => (
                "acknowledge",
                Some(TriageState::Acknowledged),
                "mark it as seen".to_owned(),
            ),
            Triage::Suppressed(until) => (
                "suppress",
                Some(TriageState::Suppressed {
                    until: UnixTime(until),
                }),
                format!("hide it until {}", UnixTime(until).rfc3339()),
            ),
        };
        let outcome = match &id {
            Some(id) => {
                self.store
                    .set_triage(&self.actor.environment, id, stored, now)?;
                self.triage.insert(change.anomaly, change.triage);
                "kept in the store"
            }
            None => "not kept: the anomaly is no longer in the fleet state",
        };
        let targets = vec![
            id.unwrap_or_else(|| format!("#{:016x}", change.anomaly)),
            change.thing.to_string(),
            change.kind.to_string(),
        ];
        self.append(action, targets, &plan, Decision::Confirmed, outcome)
    }
}

/// The audit row as an update for the TUI, or a notice when it could not be written.
#[must_use]
pub fn as_update(result: Result<AuditRow, StoreError>) -> TuiUpdate {
    match result {
        Ok(row) => TuiUpdate::Audit(row),
        Err(e) => TuiUpdate::Notice(SafeText::from_string(format!("audit log: {e}"))),
    }
}

#[cfg(test)]
mod tests;
