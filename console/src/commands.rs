//! The read-only subcommands, run over a [`FleetState`]: the same code serves a state fresh
//! from AWS, one restored from the cache, and the tests.

use std::collections::HashMap;
use std::io::{self, Write};

use crate::cli::{CaCommand, CertsCommand, CertsListArgs, Command};
use crate::exit;
use crate::model::{
    AnomalyRecord, CertQuery, CertView, Cohort, FleetState, FleetSummary, FleetUpdate,
    HealthPolicy, QueryError, UnixTime,
};
use crate::render::{self, OutputFormat, RenderOptions, Report};
use crate::store::triage::{TriageMap, TriageState};

/// Why a subcommand failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A filter could not be resolved.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Writing the output failed.
    #[error("writing output: {0}")]
    Output(#[from] io::Error),
    /// The local store (audit log, triage) could not be read.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl CommandError {
    /// The exit code this error maps to.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Query(QueryError::UnknownCa(_)) | Self::NotFound(_) => exit::NOT_FOUND,
            Self::Query(QueryError::AmbiguousCa { .. }) => exit::USAGE,
            Self::Output(_) | Self::Store(_) => exit::FAILURE,
        }
    }
}

/// Where and how a subcommand writes.
pub struct Output<'a> {
    /// Table, JSON or CSV.
    pub format: OutputFormat,
    /// Colour and the like.
    pub options: RenderOptions,
    /// The writer (stdout in the binary, a buffer in tests).
    pub out: &'a mut dyn Write,
}

impl Output<'_> {
    fn write(&mut self, report: &Report) -> io::Result<()> {
        self.out
            .write_all(render::render(report, self.format, self.options).as_bytes())
    }
}

/// `status`: the health verdict from the fleet's aggregates (a model's, or the summary the
/// store keeps beside its snapshot); the exit code says whether the fleet is healthy.
///
/// # Errors
/// [`CommandError::Output`] when the output cannot be written.
pub fn status(
    summary: &FleetSummary,
    policy: HealthPolicy,
    now: UnixTime,
    output: &mut Output<'_>,
) -> Result<u8, CommandError> {
    let health = summary.health(now, policy);
    output.write(&render::status_report(summary, &health, now))?;
    Ok(if health.healthy() {
        exit::OK
    } else {
        exit::CRITICAL
    })
}

/// Runs a subcommand that needs nothing but the fleet state, returning the exit code.
/// `doctor`, `audit`, `completions`, `man` and `anomalies --follow` are run by their own
/// functions. `triage` (from the store) marks and hides anomalies.
///
/// # Errors
/// [`CommandError`] when a filter names nothing or the output cannot be written.
pub fn run(
    command: &Command,
    state: &FleetState,
    triage: &TriageMap,
    now: UnixTime,
    output: &mut Output<'_>,
) -> Result<u8, CommandError> {
    match command {
        Command::Status {
            critical_days,
            warning_days,
        } => {
            let policy = HealthPolicy {
                critical_days: *critical_days,
                warning_days: *warning_days,
            };
            status(&state.summary(), policy, now, output)
        }
        Command::Certs(CertsCommand::List(args)) => {
            let rows = state.query_certificates(&cert_query(args), now)?;
            output.write(&render::certs_report(state, &rows, now))?;
            Ok(exit::OK)
        }
        Command::Certs(CertsCommand::Show { id }) => {
            let cert = find_certificate(state, id)?;
            output.write(&render::cert_show_report(state, &cert, now))?;
            Ok(exit::OK)
        }
        Command::Ca(CaCommand::List) => {
            output.write(&render::ca_list_report(state, now))?;
            Ok(exit::OK)
        }
        Command::Ca(CaCommand::Tree) => {
            output.write(&render::ca_tree_report(state, now))?;
            Ok(exit::OK)
        }
        Command::Anomalies { all, .. } => {
            output.write(&render::anomalies_triaged(state, *all, triage, now))?;
            Ok(exit::OK)
        }
        Command::Heatmap {
            weeks,
            ca,
            group,
            firmware,
        } => {
            let (cohort, label) =
                heatmap_cohort(state, ca.as_deref(), group.as_deref(), firmware.as_deref())?;
            output.write(&render::heatmap_report(state, cohort, &label, *weeks, now))?;
            Ok(exit::OK)
        }
        Command::Doctor
        | Command::Audit { .. }
        | Command::Completions { .. }
        | Command::Man
        | Command::Demo(_)
        | Command::Revoke { .. }
        | Command::Restore { .. }
        | Command::Quarantine { .. }
        | Command::Freeze { .. }
        | Command::Unfreeze { .. }
        | Command::Claim(_)
        | Command::Rotate(_)
        | Command::Ca(
            CaCommand::Deactivate(_) | CaCommand::Revoke(_) | CaCommand::DisableAutoRegistration(_),
        )
        | Command::Ops(_) => Ok(exit::USAGE),
    }
}

/// The model query for `certs list` flags.
#[must_use]
pub fn cert_query(args: &CertsListArgs) -> CertQuery {
    CertQuery {
        expiring_within: args.expiring_within,
        ca: args.ca.clone(),
        status: args.status,
        group: args.group.clone(),
        fuzzy: args.fuzzy.clone(),
    }
}

/// A certificate by full id or unique prefix of at least 8 hex characters.
///
/// # Errors
/// [`CommandError::NotFound`] when none or several match.
pub fn find_certificate<'a>(state: &'a FleetState, id: &str) -> Result<CertView<'a>, CommandError> {
    let wanted = id.trim().to_ascii_lowercase();
    if wanted.len() < 8 {
        return Err(CommandError::NotFound(format!(
            "certificate id {id:?} is too short; give at least 8 hex characters"
        )));
    }
    let mut matches = state
        .certificates()
        .filter(|c| c.record.id.to_string().starts_with(&wanted));
    match (matches.next(), matches.next()) {
        (Some(cert), None) => Ok(cert),
        (None, _) => Err(CommandError::NotFound(format!(
            "no certificate with id {id:?}"
        ))),
        (Some(_), Some(_)) => Err(CommandError::NotFound(format!(
            "several certificates start with {id:?}; give more of the id"
        ))),
    }
}

fn heatmap_cohort(
    state: &FleetState,
    ca: Option<&str>,
    group: Option<&str>,
    firmware: Option<&str>,
) -> Result<(Cohort, String), CommandError> {
    if let Some(ca) = ca {
        let id = state.resolve_ca(ca)?;
        return Ok((Cohort::Ca(id), format!("ca {}", id.short(16))));
    }
    if let Some(group) = group {
        let id = state.name_id(group).ok_or_else(|| {
            CommandError::NotFound(format!("no thing group {group:?} in the fleet"))
        })?;
        return Ok((Cohort::Group(id), format!("group {group}")));
    }
    if let Some(firmware) = firmware {
        let id = state.name_id(firmware).ok_or_else(|| {
            CommandError::NotFound(format!("no device reports firmware {firmware:?}"))
        })?;
        return Ok((Cohort::Firmware(id), format!("firmware {firmware}")));
    }
    Ok((Cohort::All, "all".to_owned()))
}

/// `anomalies --follow`: prints the open anomalies, then applies `updates` as they come and
/// prints every anomaly that is new or changed (JSON output: one JSON object per line).
/// Returns when `updates` ends.
///
/// # Errors
/// When the output cannot be written.
pub fn follow_anomalies(
    state: &mut FleetState,
    updates: impl IntoIterator<Item = FleetUpdate>,
    now: impl Fn() -> UnixTime,
    output: &mut Output<'_>,
) -> Result<u8, CommandError> {
    follow_triaged(state, updates, &TriageMap::new(), now, output)
}

/// [`follow_anomalies`] with the stored triage: anomalies suppressed at the time they would
/// be printed are skipped, acknowledged ones are marked as in `anomalies`.
///
/// # Errors
/// When the output cannot be written.
pub fn follow_triaged(
    state: &mut FleetState,
    updates: impl IntoIterator<Item = FleetUpdate>,
    triage: &TriageMap,
    now: impl Fn() -> UnixTime,
    output: &mut Output<'_>,
) -> Result<u8, CommandError> {
    let mut seen: HashMap<Box<str>, AnomalyRecord> = HashMap::new();
    let mut first = true;
    let mut emit = |state: &FleetState,
                    output: &mut Output<'_>,
                    fresh: Vec<AnomalyRecord>|
     -> io::Result<()> {
        let at = now();
        let refs: Vec<&AnomalyRecord> = fresh
            .iter()
            .filter(|a| {
                !matches!(triage.get(&*a.id), Some(TriageState::Suppressed { until }) if *until > at)
            })
            .collect();
        let report = render::anomaly_rows_triaged(state, &refs, triage, at);
        match output.format {
            OutputFormat::Json => {
                if let serde_json::Value::Array(items) = &report.data {
                    for item in items {
                        let line =
                            render::json::to_terminal_safe_json_line(&render::sorted(item.clone()))
                                .map_err(io::Error::other)?;
                        writeln!(output.out, "{line}")?;
                    }
                }
            }
            format => {
                let text = render::render(&report, format, output.options);
                let body = if first {
                    text.as_str()
                } else {
                    text.split_once('\n').map_or("", |(_, rest)| rest)
                };
                let body = body
                    .lines()
                    .filter(|l| !l.starts_with("data: "))
                    .collect::<Vec<_>>()
                    .join("\n");
                if !body.is_empty() {
                    writeln!(output.out, "{body}")?;
                }
            }
        }
        first = false;
        output.out.flush()
    };
    let initial: Vec<AnomalyRecord> = state
        .anomalies()
        .values()
        .filter(|a| !a.cleared)
        .cloned()
        .collect();
    for a in &initial {
        seen.insert(a.id.clone(), a.clone());
    }
    emit(state, output, initial)?;
    for update in updates {
        let incoming = match &update {
            FleetUpdate::Anomalies(batch) => batch.clone(),
            _ => Vec::new(),
        };
        state.apply(update);
        let fresh: Vec<AnomalyRecord> = incoming
            .into_iter()
            .filter(|a| seen.get(&a.id) != Some(a))
            .collect();
        for a in &fresh {
            seen.insert(a.id.clone(), a.clone());
        }
        if !fresh.is_empty() {
            emit(state, output, fresh)?;
        }
    }
    Ok(exit::OK)
}

/// `audit`: the newest `limit` entries of `environment`; with `verify`, the whole chain is
/// checked first and a broken one exits [`exit::AUDIT_BROKEN`] (the entries are still listed).
///
/// # Errors
/// [`CommandError::Store`] when the log cannot be read, [`CommandError::Output`].
pub fn audit(
    store: &crate::store::Store,
    environment: &str,
    verify: bool,
    limit: usize,
    now: UnixTime,
    output: &mut Output<'_>,
) -> Result<u8, CommandError> {
    use crate::render::ChainCheck;
    use crate::store::audit::{AuditPage, VerifyError};
    let check = if verify {
        Some(match store.verify_audit() {
            Ok(n) => ChainCheck::Intact(n),
            Err(VerifyError::Broken { sequence, reason }) => {
                ChainCheck::Broken { sequence, reason }
            }
            Err(VerifyError::Store(e)) => return Err(e.into()),
        })
    } else {
        None
    };
    let entries = store.list_audit(&AuditPage {
        environment: Some(environment),
        before: None,
        limit,
    })?;
    output.write(&render::audit_report(&entries, check.as_ref(), now))?;
    Ok(match check {
        Some(ChainCheck::Broken { .. }) => exit::AUDIT_BROKEN,
        _ => exit::OK,
    })
}
