//! A plan is a value: the operation, its targets, the exact AWS calls in the order apply
//! makes them, the blast radius and the warnings. `--dry-run --output json` prints it, and
//! apply executes nothing else.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{DENY_ALL_DOCUMENT, DENY_ALL_POLICY, QUARANTINE_GROUP};
use crate::backend::NewCertificateStatus;
use crate::model::{CertId, CertStatus, FleetState, UnixTime};

/// What an operation does to each target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpKind {
    /// Deny-all, certificate INACTIVE, quarantine group, session cut. Reversible by restore.
    Revoke,
    /// As revoke, but the certificate becomes REVOKED, which AWS never lets change again.
    RevokePermanent,
    /// Deny-all, quarantine group, session cut; the certificate's status is untouched.
    Quarantine,
    /// Undoes a revoke or a quarantine: ACTIVE (from INACTIVE only), deny-all detached, out of
    /// the quarantine group.
    Restore,
}

impl OpKind {
    /// The command's name (`revoke`, `revoke --permanent`, ...).
    #[must_use]
    pub fn verb(self) -> &'static str {
        match self {
            Self::Revoke => "revoke",
            Self::RevokePermanent => "revoke --permanent",
            Self::Quarantine => "quarantine",
            Self::Restore => "restore",
        }
    }

    /// The stored spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revoke => "revoke",
            Self::RevokePermanent => "revoke-permanent",
            Self::Quarantine => "quarantine",
            Self::Restore => "restore",
        }
    }

    /// Whether the operation is meant to cut the devices off (and verify the disconnect).
    #[must_use]
    pub fn disconnects(self) -> bool {
        !matches!(self, Self::Restore)
    }
}

/// One certificate the operation acts on, with what the model knew of it when planned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// Certificate id (64 hex characters).
    pub certificate_id: String,
    /// Certificate ARN.
    pub certificate_arn: String,
    /// Things the certificate is attached to.
    pub things: Vec<String>,
    /// Status when planned (AWS spelling).
    pub status: String,
    /// Issuing CA id, when known.
    pub ca: Option<String>,
    /// Groups of its things.
    pub groups: Vec<String>,
    /// Firmware of its thing, when known.
    pub firmware: Option<String>,
    /// Connected when planned (`None`: unknown).
    pub online: Option<bool>,
}

/// One AWS call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "operation")]
pub enum Call {
    /// `iot:CreatePolicy` (an existing policy of that name counts as done).
    #[serde(rename = "iot:CreatePolicy")]
    CreatePolicy {
        /// Policy name.
        policy: String,
        /// Policy document.
        document: String,
    },
    /// `iot:CreateThingGroup` (idempotent).
    #[serde(rename = "iot:CreateThingGroup")]
    CreateThingGroup {
        /// Group name.
        group: String,
    },
    /// `iot:AttachPolicy`.
    #[serde(rename = "iot:AttachPolicy")]
    AttachPolicy {
        /// Policy name.
        policy: String,
        /// Certificate ARN.
        target: String,
    },
    /// `iot:DetachPolicy`.
    #[serde(rename = "iot:DetachPolicy")]
    DetachPolicy {
        /// Policy name.
        policy: String,
        /// Certificate ARN.
        target: String,
    },
    /// `iot:UpdateCertificate`.
    #[serde(rename = "iot:UpdateCertificate")]
    UpdateCertificate {
        /// Certificate id.
        certificate_id: String,
        /// The new status.
        status: NewCertificateStatus,
    },
    /// `iot:AddThingToThingGroup`.
    #[serde(rename = "iot:AddThingToThingGroup")]
    AddThingToThingGroup {
        /// Thing name.
        thing: String,
        /// Group name.
        group: String,
    },
    /// `iot:RemoveThingFromThingGroup`.
    #[serde(rename = "iot:RemoveThingFromThingGroup")]
    RemoveThingFromThingGroup {
        /// Thing name.
        thing: String,
        /// Group name.
        group: String,
    },
    /// The data plane's `iot:DeleteConnection` (client id = thing name).
    #[serde(rename = "iot:DeleteConnection")]
    DeleteConnection {
        /// MQTT client id.
        client_id: String,
    },
}

impl Call {
    /// The IAM action.
    #[must_use]
    pub fn operation(&self) -> &'static str {
        match self {
            Self::CreatePolicy { .. } => "iot:CreatePolicy",
            Self::CreateThingGroup { .. } => "iot:CreateThingGroup",
            Self::AttachPolicy { .. } => "iot:AttachPolicy",
            Self::DetachPolicy { .. } => "iot:DetachPolicy",
            Self::UpdateCertificate { .. } => "iot:UpdateCertificate",
            Self::AddThingToThingGroup { .. } => "iot:AddThingToThingGroup",
            Self::RemoveThingFromThingGroup { .. } => "iot:RemoveThingFromThingGroup",
            Self::DeleteConnection { .. } => "iot:DeleteConnection",
        }
    }
}

/// A call and the target it belongs to (`None`: a preparation shared by all targets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Index into [`Plan::targets`].
    pub target: Option<usize>,
    /// The call.
    pub call: Call,
}

/// How much of the fleet an operation touches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct BlastRadius {
    /// Certificates.
    pub certificates: usize,
    /// Things.
    pub things: usize,
    /// Distinct groups of those things.
    pub groups: usize,
    /// Share of the fleet's certificates, in percent.
    pub fleet_percent: f64,
    /// Connected now (by the model).
    pub online: usize,
    /// Certificates per issuing CA (`unknown` when not known).
    pub by_ca: BTreeMap<String, usize>,
    /// Certificates per group of their things (`none` without one).
    pub by_group: BTreeMap<String, usize>,
    /// Certificates per firmware (`unknown` when not reported).
    pub by_firmware: BTreeMap<String, usize>,
}

/// An operation, planned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The operation's id (`op-…`), its key in the journal.
    pub id: String,
    /// The environment it is for.
    pub environment: String,
    /// What it does.
    pub kind: OpKind,
    /// When it was planned.
    pub planned_at: i64,
    /// The certificates.
    pub targets: Vec<Target>,
    /// The calls, in order.
    pub steps: Vec<Step>,
    /// The blast radius.
    pub radius: BlastRadius,
    /// What the operator should know before confirming.
    pub warnings: Vec<String>,
}

impl Plan {
    /// The count `--expect-count` and the TUI's typed confirmation compare with: certificates.
    #[must_use]
    pub fn count(&self) -> usize {
        self.targets.len()
    }

    /// One line: `revoke 3 certificates, 3 things, 1 groups, 0.3 % of the fleet, 2 online`.
    #[must_use]
    pub fn summary(&self) -> String {
        let r = &self.radius;
        format!(
            "{} {} certificate{}, {} thing{}, {} group{}, {:.1} % of the fleet, {} online",
            self.kind.verb(),
            r.certificates,
            plural(r.certificates),
            r.things,
            plural(r.things),
            r.groups,
            plural(r.groups),
            r.fleet_percent,
            r.online
        )
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Why a plan cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A revoked certificate cannot be restored.
    #[error(
        "certificate {0} is REVOKED, which AWS never lets change again; it cannot be restored — \
         issue the device a new certificate instead"
    )]
    RevokedCannotBeRestored(String),
    /// Nothing to do.
    #[error("the selection names no certificate")]
    Empty,
}

/// Builds the plan for `kind` on `ids` from the model. `arn_prefix` is
/// `arn:aws:iot:REGION:ACCOUNT:cert/` (read once from AWS).
///
/// # Errors
/// [`PlanError`] when a target cannot take the operation.
pub fn plan(
    state: &FleetState,
    environment: &str,
    kind: OpKind,
    ids: &[CertId],
    arn_prefix: &str,
    now: UnixTime,
) -> Result<Plan, PlanError> {
    if ids.is_empty() {
        return Err(PlanError::Empty);
    }
    let targets: Vec<Target> = ids.iter().map(|id| target(state, id, arn_prefix)).collect();
    let mut warnings = Vec::new();
    if kind == OpKind::Restore {
        if let Some(revoked) = targets.iter().find(|t| t.status == "REVOKED") {
            return Err(PlanError::RevokedCannotBeRestored(
                revoked.certificate_id.clone(),
            ));
        }
    } else {
        let done = match kind {
            OpKind::Revoke => &["INACTIVE", "REVOKED"][..],
            OpKind::RevokePermanent => &["REVOKED"][..],
            _ => &[][..],
        };
        let already = targets
            .iter()
            .filter(|t| done.contains(&t.status.as_str()))
            .count();
        if already > 0 {
            warnings.push(format!(
                "{already} target{} already {} {}",
                plural(already),
                if already == 1 { "is" } else { "are" },
                done.join(" or ")
            ));
        }
    }
    let radius = radius(state, &targets);
    if radius.fleet_percent > 1.0 {
        warnings.push(format!(
            "more than 1 % of the fleet: {:.1} % of its certificates",
            radius.fleet_percent
        ));
    }
    if matches!(kind, OpKind::Revoke | OpKind::RevokePermanent) {
        warnings.extend(cas_left_without_active(state, &targets));
    }
    let no_thing = targets.iter().filter(|t| t.things.is_empty()).count();
    if no_thing > 0 && kind != OpKind::Restore {
        warnings.push(format!(
            "{no_thing} certificate{} attached to no thing: no quarantine group, no session cut",
            plural(no_thing)
        ));
    }
    let steps = steps(state, kind, &targets);
    Ok(Plan {
        id: op_id(now),
        environment: environment.to_owned(),
        kind,
        planned_at: now.0,
        targets,
        steps,
        radius,
        warnings,
    })
}

fn op_id(now: UnixTime) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let stamp = now
        .to_datetime()
        .map(|t| {
            format!(
                "{:04}{:02}{:02}-{:02}{:02}{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        })
        .unwrap_or_default();
    format!("op-{stamp}-{:05x}", (nanos ^ std::process::id()) & 0xf_ffff)
}

fn target(state: &FleetState, id: &CertId, arn_prefix: &str) -> Target {
    let hex = id.to_string();
    let cert = state.certificate(id);
    let things: Vec<String> = cert
        .map(|c| c.things().map(str::to_owned).collect())
        .unwrap_or_default();
    let online = things
        .iter()
        .filter_map(|t| state.thing(t).and_then(|t| t.connected))
        .reduce(|a, b| a || b);
    Target {
        certificate_arn: format!("{arn_prefix}{hex}"),
        certificate_id: hex,
        status: cert
            .map_or(CertStatus::Unknown, |c| c.record.status)
            .as_aws_str()
            .to_owned(),
        ca: cert.and_then(|c| c.record.ca).map(|ca| ca.to_string()),
        groups: cert
            .map(|c| c.groups().into_iter().map(str::to_owned).collect())
            .unwrap_or_default(),
        firmware: cert.and_then(|c| c.firmware()).map(str::to_owned),
        online,
        things,
    }
}

fn radius(state: &FleetState, targets: &[Target]) -> BlastRadius {
    let mut radius = BlastRadius {
        certificates: targets.len(),
        ..BlastRadius::default()
    };
    let mut groups = std::collections::BTreeSet::new();
    let mut things = std::collections::BTreeSet::new();
    for t in targets {
        things.extend(t.things.iter().cloned());
        groups.extend(t.groups.iter().cloned());
        radius.online += usize::from(t.online == Some(true));
        *radius
            .by_ca
            .entry(t.ca.clone().unwrap_or_else(|| "unknown".into()))
            .or_default() += 1;
        if t.groups.is_empty() {
            *radius.by_group.entry("none".into()).or_default() += 1;
        }
        for g in &t.groups {
            *radius.by_group.entry(g.clone()).or_default() += 1;
        }
        *radius
            .by_firmware
            .entry(t.firmware.clone().unwrap_or_else(|| "unknown".into()))
            .or_default() += 1;
    }
    radius.things = things.len();
    radius.groups = groups.len();
    let fleet = state.certificates().count().max(1);
    #[allow(clippy::cast_precision_loss)]
    {
        radius.fleet_percent = targets.len() as f64 * 100.0 / fleet as f64;
    }
    radius
}

/// A CA whose active device certificates would all be revoked by this plan.
fn cas_left_without_active(state: &FleetState, targets: &[Target]) -> Vec<String> {
    let mut hit: BTreeMap<&str, u64> = BTreeMap::new();
    for t in targets.iter().filter(|t| t.status == "ACTIVE") {
        if let Some(ca) = &t.ca {
            *hit.entry(ca).or_default() += 1;
        }
    }
    hit.into_iter()
        .filter_map(|(ca, n)| {
            let id = CertId::parse(ca).ok()?;
            (state.active_certificates_under(&id) <= n).then(|| {
                format!(
                    "CA {} is left with no active device certificate",
                    id.short(12)
                )
            })
        })
        .collect()
}

fn steps(state: &FleetState, kind: OpKind, targets: &[Target]) -> Vec<Step> {
    let mut steps = Vec::new();
    let prep = |call| Step { target: None, call };
    let any_thing = targets.iter().any(|t| !t.things.is_empty());
    if kind != OpKind::Restore {
        if !state.policies().contains_key(DENY_ALL_POLICY) {
            steps.push(prep(Call::CreatePolicy {
                policy: DENY_ALL_POLICY.into(),
                document: DENY_ALL_DOCUMENT.into(),
            }));
        }
        if any_thing && !state.groups().contains_key(QUARANTINE_GROUP) {
            steps.push(prep(Call::CreateThingGroup {
                group: QUARANTINE_GROUP.into(),
            }));
        }
    }
    for (i, t) in targets.iter().enumerate() {
        let mut push = |call| {
            steps.push(Step {
                target: Some(i),
                call,
            });
        };
        let deny = |attach: bool| {
            let (policy, target) = (DENY_ALL_POLICY.to_owned(), t.certificate_arn.clone());
            if attach {
                Call::AttachPolicy { policy, target }
            } else {
                Call::DetachPolicy { policy, target }
            }
        };
        let status = |status| Call::UpdateCertificate {
            certificate_id: t.certificate_id.clone(),
            status,
        };
        match kind {
            OpKind::Revoke | OpKind::RevokePermanent | OpKind::Quarantine => {
                push(deny(true));
                match kind {
                    OpKind::Revoke => push(status(NewCertificateStatus::Inactive)),
                    OpKind::RevokePermanent => push(status(NewCertificateStatus::Revoked)),
                    _ => {}
                }
                for thing in &t.things {
                    push(Call::AddThingToThingGroup {
                        thing: thing.clone(),
                        group: QUARANTINE_GROUP.into(),
                    });
                }
                for thing in &t.things {
                    push(Call::DeleteConnection {
                        client_id: thing.clone(),
                    });
                }
            }
            OpKind::Restore => {
                if t.status == "INACTIVE" {
                    push(status(NewCertificateStatus::Active));
                }
                push(deny(false));
                for thing in &t.things {
                    push(Call::RemoveThingFromThingGroup {
                        thing: thing.clone(),
                        group: QUARANTINE_GROUP.into(),
                    });
                }
            }
        }
    }
    steps
}
