//! A plan is a value: the operation, its targets, the exact AWS calls in the order apply
//! makes them, the blast radius and the warnings. `--dry-run --output json` prints it, and
//! apply executes nothing else.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{DENY_ALL_DOCUMENT, DENY_ALL_POLICY, QUARANTINE_GROUP};
use crate::backend::CaReadBack;
use crate::model::{CaStatus, CertId, CertStatus, FleetState, NewCertificateStatus, UnixTime};

/// What an operation does.
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
    /// A CA certificate INACTIVE: AWS IoT registers no new certificate it signed.
    CaDeactivate,
    /// A CA's auto-registration (JITR) disabled; the CA stays ACTIVE.
    CaDisableAutoRegistration,
    /// A compromised CA: INACTIVE with auto-registration disabled, then every device
    /// certificate it signed revoked as `revoke` does.
    CaRevoke,
    /// A provisioning claim certificate: deny-all and INACTIVE, so no new device provisions
    /// through it. Reversible by restore.
    ClaimDisable,
    /// A rotated device's old certificate INACTIVE (`rotate finalize`): nothing else changes,
    /// the device already connects with its new one. Reversible by restore.
    Retire,
}

/// What an operation leaves on each target certificate, as verify reads it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effect {
    /// The status it ends in (`None`: untouched).
    pub status: Option<NewCertificateStatus>,
    /// Whether the deny-all policy ends attached (`None`: untouched).
    pub deny_all: Option<bool>,
    /// Whether its things end in the quarantine group (`None`: untouched).
    pub quarantined: Option<bool>,
    /// Whether its devices are cut off (session cut, disconnect observed).
    pub cut_off: bool,
}

impl OpKind {
    /// The command's name (`revoke`, `revoke --permanent`, `ca deactivate`, ...).
    #[must_use]
    pub fn verb(self) -> &'static str {
        match self {
            Self::Revoke => "revoke",
            Self::RevokePermanent => "revoke --permanent",
            Self::Quarantine => "quarantine",
            Self::Restore => "restore",
            Self::CaDeactivate => "ca deactivate",
            Self::CaDisableAutoRegistration => "ca disable-auto-registration",
            Self::CaRevoke => "ca revoke",
            Self::ClaimDisable => "claim disable",
            Self::Retire => "rotate finalize",
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
            Self::CaDeactivate => "ca-deactivate",
            Self::CaDisableAutoRegistration => "ca-disable-auto-registration",
            Self::CaRevoke => "ca-revoke",
            Self::ClaimDisable => "claim-disable",
            Self::Retire => "retire",
        }
    }

    /// Whether the operation acts on a CA certificate (`--ca ID`) rather than on device
    /// certificates.
    #[must_use]
    pub fn on_ca(self) -> bool {
        matches!(
            self,
            Self::CaDeactivate | Self::CaDisableAutoRegistration | Self::CaRevoke
        )
    }

    /// What it leaves on each target certificate.
    #[must_use]
    pub fn effect(self) -> Effect {
        let cut = |status| Effect {
            status,
            deny_all: Some(true),
            quarantined: Some(true),
            cut_off: true,
        };
        match self {
            Self::Revoke | Self::CaRevoke => cut(Some(NewCertificateStatus::Inactive)),
            Self::RevokePermanent => cut(Some(NewCertificateStatus::Revoked)),
            Self::Quarantine => cut(None),
            Self::Restore => Effect {
                status: Some(NewCertificateStatus::Active),
                deny_all: Some(false),
                quarantined: Some(false),
                cut_off: false,
            },
            Self::ClaimDisable => Effect {
                status: Some(NewCertificateStatus::Inactive),
                deny_all: Some(true),
                quarantined: None,
                cut_off: false,
            },
            Self::Retire => Effect {
                status: Some(NewCertificateStatus::Inactive),
                deny_all: None,
                quarantined: None,
                cut_off: false,
            },
            Self::CaDeactivate | Self::CaDisableAutoRegistration => Effect {
                status: None,
                deny_all: None,
                quarantined: None,
                cut_off: false,
            },
        }
    }

    /// Whether the operation is meant to cut the devices off (and verify the disconnect).
    #[must_use]
    pub fn disconnects(self) -> bool {
        self.effect().cut_off
    }
}

/// The CA certificate a CA operation changes, with what it still signs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Authority {
    /// CA certificate id.
    pub ca_certificate_id: String,
    /// Its status when planned.
    pub status: CaStatus,
    /// Auto-registration when planned.
    pub auto_registration: bool,
    /// The ACTIVE device certificates it signed, by the model.
    pub active_certificates: Vec<String>,
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
    /// Status when planned.
    pub status: CertStatus,
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
    /// `iot:UpdateCACertificate`.
    #[serde(rename = "iot:UpdateCACertificate")]
    UpdateCaCertificate {
        /// CA certificate id.
        ca_certificate_id: String,
        /// Set INACTIVE.
        deactivate: bool,
        /// Set auto-registration DISABLE.
        disable_auto_registration: bool,
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
            Self::UpdateCaCertificate { .. } => "iot:UpdateCACertificate",
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
    /// The CA a CA operation changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<Authority>,
    /// Evidence read for the decision (CloudWatch for a claim certificate).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

impl Plan {
    /// The count `--expect-count` and the TUI's typed confirmation compare with: the
    /// certificates it changes — or, for a CA operation that changes none, the ACTIVE device
    /// certificates the CA still signs, so the person confirms the reach, not "1".
    #[must_use]
    pub fn count(&self) -> usize {
        match &self.authority {
            Some(ca) if self.targets.is_empty() => ca.active_certificates.len(),
            _ => self.targets.len(),
        }
    }

    /// One line: `revoke 3 certificates, 3 things, 1 group, 0.3 % of the fleet, 2 online`;
    /// a CA operation names the CA first.
    #[must_use]
    pub fn summary(&self) -> String {
        let r = &self.radius;
        let reach = format!(
            "{} certificate{}, {} thing{}, {} group{}, {:.1} % of the fleet, {} online",
            r.certificates,
            plural(r.certificates),
            r.things,
            plural(r.things),
            r.groups,
            plural(r.groups),
            r.fleet_percent,
            r.online
        );
        match &self.authority {
            Some(ca) if self.targets.is_empty() => format!(
                "{} CA {} ({}), which still signs {reach} (ACTIVE)",
                self.kind.verb(),
                short(&ca.ca_certificate_id),
                ca.status
            ),
            Some(ca) => format!(
                "{} CA {} and {reach}",
                self.kind.verb(),
                short(&ca.ca_certificate_id)
            ),
            None => format!("{} {reach}", self.kind.verb()),
        }
    }
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
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
    /// `--ca` names no registered CA.
    #[error("no registered CA certificate {0} (see `fleetid ca list`)")]
    UnknownCa(String),
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
    build(state, environment, kind, targets, None, now)
}

/// The CA a CA operation changes, as planning found it.
#[derive(Debug, Clone)]
pub struct CaSubject {
    /// Its id.
    pub id: CertId,
    /// Status and auto-registration as AWS read them back just now.
    pub read: CaReadBack,
    /// The device certificates registered under it.
    pub signed: Vec<CertId>,
}

/// Builds the plan of a CA operation (`kind.on_ca()`) on `ca`: the CA's change, and for
/// `ca revoke` the revoke of every device certificate it signed that is not REVOKED
/// already. `arn_prefix` as for [`plan`].
///
/// # Errors
/// As [`plan`].
pub fn plan_ca(
    state: &FleetState,
    environment: &str,
    kind: OpKind,
    ca: &CaSubject,
    arn_prefix: &str,
    now: UnixTime,
) -> Result<Plan, PlanError> {
    let signed = |wanted: fn(CertStatus) -> bool| -> Vec<Target> {
        ca.signed
            .iter()
            .filter(|id| {
                wanted(
                    state
                        .certificate(id)
                        .map_or(CertStatus::Unknown, |c| c.record.status),
                )
            })
            .map(|id| target(state, id, arn_prefix))
            .collect()
    };
    let active = signed(|s| s == CertStatus::Active);
    let authority = Authority {
        ca_certificate_id: ca.id.to_string(),
        status: ca.read.status,
        auto_registration: ca.read.auto_registration,
        active_certificates: active.iter().map(|t| t.certificate_id.clone()).collect(),
    };
    if kind == OpKind::CaRevoke {
        let targets = signed(|s| s != CertStatus::Revoked);
        return build(state, environment, kind, targets, Some(authority), now);
    }
    let mut plan = build(state, environment, kind, Vec::new(), Some(authority), now)?;
    // What the CA still signs is the reach the person confirms.
    plan.radius = radius(state, &active);
    Ok(plan)
}

fn build(
    state: &FleetState,
    environment: &str,
    kind: OpKind,
    targets: Vec<Target>,
    authority: Option<Authority>,
    now: UnixTime,
) -> Result<Plan, PlanError> {
    let mut warnings = Vec::new();
    if kind == OpKind::Restore {
        if let Some(revoked) = targets.iter().find(|t| t.status == CertStatus::Revoked) {
            return Err(PlanError::RevokedCannotBeRestored(
                revoked.certificate_id.clone(),
            ));
        }
    } else {
        let done = match kind {
            OpKind::Revoke | OpKind::CaRevoke | OpKind::ClaimDisable | OpKind::Retire => {
                &[CertStatus::Inactive, CertStatus::Revoked][..]
            }
            OpKind::RevokePermanent => &[CertStatus::Revoked][..],
            _ => &[][..],
        };
        let already = targets.iter().filter(|t| done.contains(&t.status)).count();
        if already > 0 {
            warnings.push(format!(
                "{already} target{} already {} {}",
                plural(already),
                if already == 1 { "is" } else { "are" },
                done.iter()
                    .map(|s| s.as_aws_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ));
        }
    }
    if let Some(ca) = &authority {
        warnings.extend(authority_warnings(kind, ca));
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
    if no_thing > 0 && kind.effect().cut_off {
        warnings.push(format!(
            "{no_thing} certificate{} attached to no thing: no quarantine group, no session cut",
            plural(no_thing)
        ));
    }
    if kind == OpKind::ClaimDisable {
        let attached = targets.iter().filter(|t| !t.things.is_empty()).count();
        if attached > 0 {
            warnings.push(format!(
                "{attached} of these certificates {} attached to a thing: a claim certificate \
                 usually is not — is this a device's own certificate?",
                if attached == 1 { "is" } else { "are" }
            ));
        }
    }
    let steps = steps(state, kind, &targets, authority.as_ref());
    Ok(Plan {
        id: op_id(now),
        environment: environment.to_owned(),
        kind,
        planned_at: now.0,
        targets,
        steps,
        radius,
        warnings,
        authority,
        evidence: Vec::new(),
    })
}

fn authority_warnings(kind: OpKind, ca: &Authority) -> Vec<String> {
    let mut warnings = Vec::new();
    let active = ca.active_certificates.len();
    match kind {
        OpKind::CaDeactivate | OpKind::CaRevoke if ca.status == CaStatus::Inactive => {
            warnings.push("the CA is already INACTIVE".to_owned());
        }
        OpKind::CaDisableAutoRegistration if !ca.auto_registration => {
            warnings.push("auto-registration is already disabled".to_owned());
        }
        _ => {}
    }
    if matches!(
        kind,
        OpKind::CaDeactivate | OpKind::CaDisableAutoRegistration
    ) && active > 0
    {
        warnings.push(format!(
            "{active} ACTIVE device certificate{} signed by this CA {}: this changes how new \
             certificates register, it cuts no device off (`fleetid ca revoke` does)",
            plural(active),
            if active == 1 {
                "keeps its status"
            } else {
                "keep their status"
            }
        ));
    }
    warnings
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
        status: cert.map_or(CertStatus::Unknown, |c| c.record.status),
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
    for t in targets.iter().filter(|t| t.status == CertStatus::Active) {
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

fn steps(
    state: &FleetState,
    kind: OpKind,
    targets: &[Target],
    authority: Option<&Authority>,
) -> Vec<Step> {
    let mut steps = Vec::new();
    let prep = |call| Step { target: None, call };
    if let Some(ca) = authority {
        steps.push(prep(Call::UpdateCaCertificate {
            ca_certificate_id: ca.ca_certificate_id.clone(),
            deactivate: kind != OpKind::CaDisableAutoRegistration,
            disable_auto_registration: kind != OpKind::CaDeactivate,
        }));
    }
    let effect = kind.effect();
    let any_thing = targets.iter().any(|t| !t.things.is_empty());
    if effect.deny_all == Some(true) && !targets.is_empty() {
        if !state.policies().contains_key(DENY_ALL_POLICY) {
            steps.push(prep(Call::CreatePolicy {
                policy: DENY_ALL_POLICY.into(),
                document: DENY_ALL_DOCUMENT.into(),
            }));
        }
        if effect.quarantined == Some(true)
            && any_thing
            && !state.groups().contains_key(QUARANTINE_GROUP)
        {
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
        if kind == OpKind::Restore {
            if t.status == CertStatus::Inactive {
                push(status(NewCertificateStatus::Active));
            }
            push(deny(false));
            for thing in &t.things {
                push(Call::RemoveThingFromThingGroup {
                    thing: thing.clone(),
                    group: QUARANTINE_GROUP.into(),
                });
            }
            continue;
        }
        if effect.deny_all == Some(true) {
            push(deny(true));
        }
        if let Some(new) = effect.status {
            push(status(new));
        }
        if effect.quarantined == Some(true) {
            for thing in &t.things {
                push(Call::AddThingToThingGroup {
                    thing: thing.clone(),
                    group: QUARANTINE_GROUP.into(),
                });
            }
        }
        if effect.cut_off {
            for thing in &t.things {
                push(Call::DeleteConnection {
                    client_id: thing.clone(),
                });
            }
        }
    }
    steps
}
