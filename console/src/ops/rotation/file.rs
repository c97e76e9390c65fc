//! The campaign file (TOML, docs/rotation.md): what to rotate, in which stages, under which
//! gate. Unknown keys and invalid values are errors naming the file, the line and the key.

use std::ops::Range;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::cli::parse_duration;
use crate::config::{ConfigError, invalid_at};

/// Stages unless the file says otherwise: cumulative percentages of the target.
pub const DEFAULT_STAGES: [u8; 3] = [10, 50, 100];

/// What a campaign rotates: one of a CA's devices, a thing group, or a `certs list` filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CampaignTarget {
    /// Devices whose certificate this CA signed (id, prefix or subject text).
    Ca(String),
    /// Devices in this thing group.
    Group(String),
    /// A `certs list` filter (`status=ACTIVE expiring-within=90d ...`).
    Query(String),
}

/// When a stage may be promoted to the next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gate {
    /// Percent of the stage's devices that must be on the new certificate.
    pub min_success: f64,
    /// Percent failed, timed out or rejected over which the campaign halts.
    pub max_failure: f64,
    /// Seconds to wait after the stage completes before promotion.
    pub soak_seconds: i64,
    /// Promote without a person when the gate passes.
    pub auto_promote: bool,
}

/// The job each stage creates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSettings {
    /// Per-device timeout, in minutes (AWS IoT's in-progress timeout unit).
    pub timeout_minutes: i64,
    /// Executions started per minute at most.
    pub rollout_per_minute: i32,
    /// The fleet provisioning template the agent registers its new certificate with.
    pub template: String,
}

/// A campaign file, checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    /// `[a-zA-Z0-9_-]`, 1 to 32 characters: the AWS names derive from it.
    pub id: String,
    /// What it rotates.
    pub target: CampaignTarget,
    /// A CA to rotate onto, when not the current one.
    pub next_ca: Option<String>,
    /// Cumulative percentages, increasing, ending at 100.
    pub stages: Vec<u8>,
    /// The gate of every stage.
    pub gate: Gate,
    /// The stage jobs.
    pub job: JobSettings,
    /// Seconds after the last stage before the old certificates are set INACTIVE.
    pub grace_seconds: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCampaign {
    id: Spanned<String>,
    target: Spanned<RawTarget>,
    next_ca: Option<Spanned<String>>,
    stages: Option<Spanned<Vec<u8>>>,
    #[serde(default)]
    gate: RawGate,
    #[serde(default)]
    job: RawJob,
    #[serde(default)]
    finalize: RawFinalize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    ca: Option<String>,
    group: Option<String>,
    query: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGate {
    min_success: Option<Spanned<f64>>,
    max_failure: Option<Spanned<f64>>,
    soak: Option<Spanned<String>>,
    auto_promote: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJob {
    timeout: Option<Spanned<String>>,
    rollout_per_minute: Option<Spanned<i64>>,
    template: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFinalize {
    grace: Option<Spanned<String>>,
}

/// The template the lab and fleetid's own provisioning stack register rotated certificates
/// with, unless `[job] template` names another.
pub const DEFAULT_TEMPLATE: &str = "fleetid-rotate";

impl Campaign {
    /// Reads and checks the campaign file at `path`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file, line and key.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Self::parse(path, &text)
    }

    /// Parses `text` as the contents of `path`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the line and key.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let invalid =
            |span: Range<usize>, message: &str| invalid_at(path, text, &span, message.to_owned());
        let raw: RawCampaign = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            invalid_at(path, text, &span, e.message().trim().to_owned())
        })?;
        let id = raw.id.get_ref();
        if id.is_empty()
            || id.len() > 32
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid(
                raw.id.span(),
                "must be 1 to 32 characters of a-z, A-Z, 0-9, - and _ (AWS names derive from it)",
            ));
        }
        let target_span = raw.target.span();
        let target = match raw.target.into_inner() {
            RawTarget {
                ca: Some(ca),
                group: None,
                query: None,
            } => CampaignTarget::Ca(ca),
            RawTarget {
                ca: None,
                group: Some(group),
                query: None,
            } => CampaignTarget::Group(group),
            RawTarget {
                ca: None,
                group: None,
                query: Some(query),
            } => CampaignTarget::Query(query),
            _ => {
                return Err(invalid(
                    target_span,
                    "name exactly one of ca, group or query",
                ));
            }
        };
        let stages = match raw.stages {
            Some(stages) => {
                let span = stages.span();
                let stages = stages.into_inner();
                let increasing = stages.windows(2).all(|w| w[0] < w[1]);
                if stages.is_empty()
                    || !increasing
                    || stages.first().is_some_and(|s| *s == 0)
                    || stages.last() != Some(&100)
                {
                    return Err(invalid(
                        span,
                        "cumulative percentages, increasing, from above 0 to 100 (e.g. [10, 50, 100])",
                    ));
                }
                stages
            }
            None => DEFAULT_STAGES.to_vec(),
        };
        let percent = |value: Option<Spanned<f64>>, default: f64| match value {
            Some(v) if !(0.0..=100.0).contains(v.get_ref()) => {
                Err(invalid(v.span(), "a percentage from 0 to 100"))
            }
            Some(v) => Ok(v.into_inner()),
            None => Ok(default),
        };
        let duration = |value: Option<Spanned<String>>, default: i64| match value {
            Some(v) => parse_duration(v.get_ref())
                .and_then(|s| {
                    if s < 0 {
                        Err("must not be negative".to_owned())
                    } else {
                        Ok(s)
                    }
                })
                .map_err(|e| invalid(v.span(), &e)),
            None => Ok(default),
        };
        let gate = Gate {
            min_success: percent(raw.gate.min_success, 98.0)?,
            max_failure: percent(raw.gate.max_failure, 1.0)?,
            soak_seconds: duration(raw.gate.soak, 600)?,
            auto_promote: raw.gate.auto_promote.unwrap_or(false),
        };
        let timeout_span = raw.job.timeout.as_ref().map_or(0..0, Spanned::span);
        let timeout = duration(raw.job.timeout, 600)?;
        let timeout_minutes = timeout / 60 + i64::from(timeout % 60 != 0);
        if !(1..=10_080).contains(&timeout_minutes) {
            let span = timeout_span;
            return Err(invalid(
                span,
                "from 1 minute to 7 days (AWS IoT's job timeout)",
            ));
        }
        let rollout_per_minute = match raw.job.rollout_per_minute {
            Some(r) if !(1..=1000).contains(r.get_ref()) => {
                return Err(invalid(
                    r.span(),
                    "from 1 to 1000 (AWS IoT's maximumPerMinute)",
                ));
            }
            Some(r) => i32::try_from(r.into_inner()).unwrap_or(1000),
            None => 1000,
        };
        let template = match raw.job.template {
            Some(t) if !is_template_name(t.get_ref()) => {
                return Err(invalid(
                    t.span(),
                    "1 to 36 characters of a-z, A-Z, 0-9, - and _",
                ));
            }
            Some(t) => t.into_inner(),
            None => DEFAULT_TEMPLATE.to_owned(),
        };
        Ok(Self {
            id: raw.id.into_inner(),
            target,
            next_ca: raw.next_ca.map(Spanned::into_inner),
            stages,
            gate,
            job: JobSettings {
                timeout_minutes,
                rollout_per_minute,
                template,
            },
            grace_seconds: duration(raw.finalize.grace, 7 * 86_400)?,
        })
    }

    /// The static thing group of stage `n` (1-based).
    #[must_use]
    pub fn stage_group(&self, n: usize) -> String {
        format!("fleetid-rotate-{}-s{n}", self.id)
    }

    /// The job id of stage `n` (1-based): the same on every retry, so a job is never created
    /// twice.
    #[must_use]
    pub fn stage_job(&self, n: usize) -> String {
        format!("fleetid-rotate-{}-s{n}", self.id)
    }
}

fn is_template_name(name: &str) -> bool {
    (1..=36).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Campaign, String> {
        Campaign::parse(Path::new("c.toml"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn the_documented_example_parses_with_its_values() {
        let c = parse(
            r#"
id = "rotate-2027q1"
target = { ca = "abcd1234" }
stages = [10, 50, 100]
[gate]
min_success = 98.0
max_failure = 1.0
soak = "10m"
auto_promote = false
[job]
timeout = "10m"
rollout_per_minute = 1000
[finalize]
grace = "7d"
"#,
        )
        .unwrap();
        assert_eq!(c.target, CampaignTarget::Ca("abcd1234".into()));
        assert_eq!(c.stages, [10, 50, 100]);
        assert_eq!(c.gate.soak_seconds, 600);
        assert_eq!(c.job.timeout_minutes, 10);
        assert_eq!(c.grace_seconds, 7 * 86_400);
        assert_eq!(c.stage_job(2), "fleetid-rotate-rotate-2027q1-s2");
    }

    #[test]
    fn an_unknown_key_names_file_line_and_key() {
        let e = parse("id = \"x\"\ntarget = { group = \"g\" }\n[gate]\nmin_sucess = 98.0\n")
            .unwrap_err();
        assert!(e.starts_with("c.toml:4:1: key `gate.min_sucess`:"), "{e}");
        assert!(e.contains("unknown field"), "{e}");
    }

    #[test]
    fn invalid_values_name_their_line() {
        for (text, line) in [
            ("id = \"x y\"\ntarget = { group = \"g\" }\n", 1),
            ("id = \"x\"\ntarget = { group = \"g\", ca = \"c\" }\n", 2),
            (
                "id = \"x\"\ntarget = { group = \"g\" }\nstages = [50, 10, 100]\n",
                3,
            ),
            (
                "id = \"x\"\ntarget = { group = \"g\" }\nstages = [10, 50]\n",
                3,
            ),
            (
                "id = \"x\"\ntarget = { group = \"g\" }\n[gate]\nmax_failure = 101.0\n",
                4,
            ),
            (
                "id = \"x\"\ntarget = { group = \"g\" }\n[gate]\nsoak = \"10 parsecs\"\n",
                4,
            ),
            (
                "id = \"x\"\ntarget = { group = \"g\" }\n[job]\nrollout_per_minute = 0\n",
                4,
            ),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.starts_with(&format!("c.toml:{line}:")), "{text:?}: {e}");
        }
    }
}
