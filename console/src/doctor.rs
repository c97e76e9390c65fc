//! `doctor`'s local checks: configuration, environment, cache and the state of each source
//! in the last snapshot. The checks against AWS are in [`remote`], the caller's account and
//! its guard in [`account`].

pub mod account;
pub mod remote;

use crate::backend::SourceOutage;
use crate::config::{Config, Environment};
use crate::model::{FleetState, SourceState, UnixTime};
use crate::render::{CheckOutcome, DoctorCheck, human_age};

fn check(name: &str, outcome: CheckOutcome, detail: String, hint: Option<&str>) -> DoctorCheck {
    DoctorCheck {
        name: name.to_owned(),
        outcome,
        detail,
        hint: hint.map(ToOwned::to_owned),
    }
}

/// Checks of the configuration and the environment.
#[must_use]
pub fn environment_checks(config: &Config, env: &Environment) -> Vec<DoctorCheck> {
    let mut out = vec![match &config.path {
        Some(path) => check(
            "config",
            CheckOutcome::Pass,
            format!(
                "{} ({} environments)",
                path.display(),
                config.environments.len()
            ),
            None,
        ),
        None => check(
            "config",
            CheckOutcome::Pass,
            "no config file; flags and the AWS defaults apply".to_owned(),
            Some("see docs/config.md to define environments"),
        ),
    }];
    let s = &env.settings;
    out.push(check(
        "environment",
        CheckOutcome::Pass,
        format!(
            "{} (profile {}, {})",
            env.name,
            s.profile
                .as_deref()
                .unwrap_or("from AWS_PROFILE or default"),
            if s.read_only {
                "read-only"
            } else {
                "read-write"
            }
        ),
        None,
    ));
    let region = s
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok());
    out.push(match region {
        Some(region) => check("region", CheckOutcome::Pass, region, None),
        None => check(
            "region",
            CheckOutcome::Warn,
            "not set here; the AWS profile must name one".to_owned(),
            Some("set region in config.toml, pass --region, or export AWS_REGION"),
        ),
    });
    if s.account_id.is_none() && s.endpoint_url.is_none() {
        out.push(check(
            "expected account",
            CheckOutcome::Warn,
            "no account_id configured: a wrong profile would go unnoticed".to_owned(),
            Some("add account_id = \"<12 digits>\" to the environment in config.toml"),
        ));
    }
    out
}

/// Checks of the cached snapshot and of each source's last state.
#[must_use]
pub fn cache_checks(
    cache: Result<Option<(&FleetState, UnixTime)>, String>,
    now: UnixTime,
) -> Vec<DoctorCheck> {
    let (state, saved_at) = match cache {
        Err(reason) => {
            return vec![check(
                "cache",
                CheckOutcome::Fail,
                reason,
                Some("check the permissions of the data directory, or delete the cache file"),
            )];
        }
        Ok(None) => {
            return vec![check(
                "cache",
                CheckOutcome::Warn,
                "no snapshot of this environment yet".to_owned(),
                Some("run `fleetid status` once online to fill it"),
            )];
        }
        Ok(Some(found)) => found,
    };
    let mut out = vec![check(
        "cache",
        CheckOutcome::Pass,
        format!(
            "snapshot {} old, {} certificates",
            human_age((now.0 - saved_at.0).max(0)),
            state.status_counts().total()
        ),
        None,
    )];
    for (source, info) in state.sources() {
        out.push(match &info.state {
            SourceState::Unavailable { reason } => check(
                source.name(),
                CheckOutcome::Warn,
                format!("unavailable: {reason}"),
                Some(source_hint(source.name())),
            ),
            _ => check(
                source.name(),
                CheckOutcome::Pass,
                info.age(now).map_or_else(
                    || "loading".to_owned(),
                    |a| format!("loaded {} ago", human_age(a)),
                ),
                None,
            ),
        });
    }
    if state.unreadable_pems() > 0 {
        out.push(check(
            "certificate PEMs",
            CheckOutcome::Warn,
            format!(
                "{} certificates have a PEM fleetid cannot read",
                state.unreadable_pems()
            ),
            Some("list them with `fleetid certs list --output json` (pem_problem is set)"),
        ));
    }
    out
}

/// Checks of the sources remembered as unavailable: refreshes do not ask them until their
/// time has passed.
#[must_use]
pub fn outage_checks(outages: &[SourceOutage], now: UnixTime) -> Vec<DoctorCheck> {
    outages
        .iter()
        .map(|outage| {
            check(
                &format!("{} (remembered unavailable)", outage.source.as_str()),
                CheckOutcome::Warn,
                format!(
                    "unavailable (found {} ago, not asked again for {}): {}",
                    human_age((now.0 - outage.since).max(0)),
                    human_age((outage.until - now.0).max(0)),
                    outage.reason
                ),
                Some(
                    "the endpoint gave a definite no; refreshes skip this source until then \
                     instead of waiting on it (docs/backend.md, \"Sources that fail\")",
                ),
            )
        })
        .collect()
}

fn source_hint(source: &str) -> &'static str {
    match source {
        "defender-detect" => {
            "Device Defender Detect needs security profiles (and is closed to new customers from 2026-08-31); the rest works without it"
        }
        "defender-audit" => {
            "enable the certificate audit checks and allow iot:ListAuditFindings (docs/iam.md)"
        }
        "cloudwatch" => "allow cloudwatch:GetMetricData (docs/iam.md)",
        "live" => {
            "allow iot:Connect/Subscribe/Receive on fleetid/v1/+/status and $aws/events/presence/+/+"
        }
        _ => "check the permissions in docs/iam.md for this source",
    }
}
