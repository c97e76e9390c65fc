//! The command line: global flags and subcommands (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::model::{CertStatus, SECONDS_PER_DAY};
use crate::render::OutputFormat;

/// fleetid — see and act on the device identity of an AWS IoT fleet.
#[derive(Debug, Parser)]
#[command(name = "fleetid", version, about, long_about = None)]
pub struct Cli {
    /// Flags every subcommand understands.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do; without one, the TUI starts.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Global flags.
#[derive(Debug, Clone, Args, Default)]
pub struct GlobalArgs {
    /// Environment from config.toml (profile, region, expected account, colour, read-only).
    #[arg(long = "env", global = true, value_name = "NAME")]
    pub environment: Option<String>,
    /// AWS profile (overrides the environment's).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// AWS region (overrides the environment's).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// AWS IoT endpoint URL, e.g. a lab or moto at http://127.0.0.1:PORT.
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = OutputArg::Table)]
    pub output: OutputArg,
    /// No colour (also when NO_COLOR is set).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Refuse every mutation before any call is made.
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Use only the cached snapshot; do not contact AWS.
    #[arg(long, global = true)]
    pub offline: bool,
    /// TUI: capture the mouse (wheel scrolls the device table). Off unless this flag or
    /// `mouse = true` in config.toml; the flag wins.
    #[arg(long, global = true, overrides_with = "no_mouse")]
    pub mouse: bool,
    /// TUI: leave the mouse to the terminal (text selection), whatever config.toml says.
    #[arg(long, global = true, overrides_with = "mouse")]
    pub no_mouse: bool,
    /// TUI: ASCII borders and glyphs, for terminals and fonts without box drawing. Also
    /// `ascii = true` in config.toml; the flag wins.
    #[arg(long, global = true, overrides_with = "no_ascii")]
    pub ascii: bool,
    /// TUI: Unicode borders and glyphs, whatever config.toml says.
    #[arg(long, global = true, overrides_with = "ascii")]
    pub no_ascii: bool,
    /// Config file (default: config.toml in the platform config directory).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Live status broker `host[:port]` (default: the account's iot:Data-ATS endpoint).
    #[arg(
        long,
        global = true,
        value_name = "HOST[:PORT]",
        help_heading = "Live status (MQTT)"
    )]
    pub mqtt_endpoint: Option<String>,
    /// CA bundle (PEM) that signed the broker's certificate (default: the platform's roots).
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        help_heading = "Live status (MQTT)"
    )]
    pub mqtt_ca: Option<PathBuf>,
    /// Operator certificate (PEM): follow live status over mTLS instead of a SigV4 websocket.
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        requires = "mqtt_key",
        help_heading = "Live status (MQTT)"
    )]
    pub mqtt_cert: Option<PathBuf>,
    /// The operator certificate's private key (PEM).
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        requires = "mqtt_cert",
        help_heading = "Live status (MQTT)"
    )]
    pub mqtt_key: Option<PathBuf>,
    /// MQTT client id (default: one unique to this process; a second connection with the same
    /// id drops the first).
    #[arg(
        long,
        global = true,
        value_name = "ID",
        help_heading = "Live status (MQTT)"
    )]
    pub mqtt_client_id: Option<String>,
}

/// `--output` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputArg {
    /// Aligned columns.
    #[default]
    Table,
    /// Stable JSON (docs/cli.md).
    Json,
    /// RFC 4180 CSV.
    Csv,
}

impl From<OutputArg> for OutputFormat {
    fn from(arg: OutputArg) -> Self {
        match arg {
            OutputArg::Table => Self::Table,
            OutputArg::Json => Self::Json,
            OutputArg::Csv => Self::Csv,
        }
    }
}

impl GlobalArgs {
    /// Mouse capture: the flags when given, else the config's value.
    #[must_use]
    pub fn mouse_or(&self, config: bool) -> bool {
        flag_or(self.mouse, self.no_mouse, config)
    }

    /// ASCII borders: the flags when given, else the config's value.
    #[must_use]
    pub fn ascii_or(&self, config: bool) -> bool {
        flag_or(self.ascii, self.no_ascii, config)
    }
}

fn flag_or(on: bool, off: bool, config: bool) -> bool {
    if on {
        true
    } else if off {
        false
    } else {
        config
    }
}

/// Subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Health summary; exit 4 when certificates expire inside the critical window or a CA
    /// that is not active still has active device certificates.
    Status {
        /// Critical window in days.
        #[arg(long, default_value_t = 7)]
        critical_days: i64,
        /// Warning window in days.
        #[arg(long, default_value_t = 30)]
        warning_days: i64,
    },
    /// Device certificates.
    #[command(subcommand)]
    Certs(CertsCommand),
    /// CA certificates.
    #[command(subcommand)]
    Ca(CaCommand),
    /// Open anomalies: Device Defender findings and violations, and fleetid's own signals.
    Anomalies {
        /// Keep running and print new anomalies as they arrive.
        #[arg(long)]
        follow: bool,
        /// Include cleared anomalies.
        #[arg(long)]
        all: bool,
    },
    /// The audit log of this environment, newest first: every confirmed, cancelled or refused
    /// action and every anomaly triage. Read from the local store only (no AWS call).
    Audit {
        /// Check the whole hash chain (every environment) first; exit 7 when it is broken.
        #[arg(long)]
        verify: bool,
        /// How many entries to list.
        #[arg(long, default_value_t = 50, value_name = "N")]
        limit: usize,
    },
    /// Expiring certificates per day as a text calendar.
    Heatmap {
        /// Weeks to show, starting with this one.
        #[arg(long, default_value_t = 12)]
        weeks: u16,
        /// Only certificates of this CA (id, id prefix or subject text).
        #[arg(long)]
        ca: Option<String>,
        /// Only devices in this thing group.
        #[arg(long, conflicts_with_all = ["ca", "firmware"])]
        group: Option<String>,
        /// Only devices running this firmware version.
        #[arg(long, conflicts_with = "ca")]
        firmware: Option<String>,
    },
    /// Check credentials, region, permissions, endpoint, config and cache, with a fix hint for
    /// each failure.
    Doctor,
    /// A fleet on loopback (the lab): no AWS account needed. Opens the TUI on it, or with
    /// `--headless` prints its endpoint and credentials and runs until Ctrl-C.
    Demo(DemoArgs),
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
    /// Revoke: deny-all policy, certificate INACTIVE (REVOKED with --permanent), thing into
    /// the quarantine group, live session cut; then verified. Exit 0 verified, 6 read-only,
    /// 8 count differs, 9 partly applied.
    Revoke {
        /// Which certificates.
        #[command(flatten)]
        targets: TargetArgs,
        /// REVOKED instead of INACTIVE: AWS never lets it change again (asks for REVOKE).
        #[arg(long)]
        permanent: bool,
        /// Confirmation and pace.
        #[command(flatten)]
        apply: ApplyArgs,
    },
    /// Restore after a revoke or quarantine: ACTIVE (from INACTIVE only; a REVOKED
    /// certificate cannot come back), deny-all detached, out of the quarantine group.
    Restore {
        /// Which certificates.
        #[command(flatten)]
        targets: TargetArgs,
        /// Confirmation and pace.
        #[command(flatten)]
        apply: ApplyArgs,
    },
    /// Quarantine: deny-all policy, thing into the quarantine group, live session cut; the
    /// certificate's status is untouched.
    Quarantine {
        /// Which certificates.
        #[command(flatten)]
        targets: TargetArgs,
        /// Confirmation and pace.
        #[command(flatten)]
        apply: ApplyArgs,
    },
    /// Freeze the environment: rotation stages refuse to start or promote until unfrozen.
    Freeze {
        /// Why (recorded in the audit log).
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
    /// Lift the environment's freeze.
    Unfreeze {
        /// Why (recorded in the audit log).
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
    /// Provisioning claim certificates.
    #[command(subcommand)]
    Claim(ClaimCommand),
    /// Certificate rotation campaigns (docs/rotation.md).
    #[command(subcommand)]
    Rotate(RotateCommand),
    /// Operations in the journal: list them, resume one that was interrupted.
    #[command(subcommand)]
    Ops(OpsCommand),
}

/// `ops` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum OpsCommand {
    /// The environment's operations, newest first, with their state.
    List {
        /// How many.
        #[arg(long, default_value_t = 20, value_name = "N")]
        limit: usize,
    },
    /// Resume an interrupted operation (the newest unfinished one without an id): calls the
    /// journal has as done are not made again.
    Resume {
        /// Operation id (`op-…`).
        id: Option<String>,
        /// Confirmation and pace (the confirmation was given when the operation started).
        #[command(flatten)]
        apply: ApplyArgs,
    },
}

/// Which certificates an operation acts on; selectors add up.
#[derive(Debug, Clone, Args, Default)]
pub struct TargetArgs {
    /// A certificate id (64 hex characters, or a unique prefix of at least 8).
    #[arg(long = "cert", value_name = "ID")]
    pub certs: Vec<String>,
    /// Every certificate attached to this thing.
    #[arg(long = "thing", value_name = "NAME")]
    pub things: Vec<String>,
    /// Certificate ids and thing names, one per line (`-`: stdin; `#` comments).
    #[arg(long = "from-file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// A `certs list` filter as key=value words: `status=ACTIVE group=G ca=C
    /// expiring-within=30d match=TEXT`.
    #[arg(long = "query", value_name = "Q")]
    pub queries: Vec<String>,
    /// Every device certificate of this CA (id, id prefix or subject text).
    #[arg(long = "ca", value_name = "ID")]
    pub cas: Vec<String>,
}

/// Confirmation and pace of a mutating command.
#[derive(Debug, Clone, Args, Default)]
pub struct ApplyArgs {
    /// Print the plan (the exact calls and the blast radius) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Confirm without asking; needs --expect-count.
    #[arg(long, requires = "expect_count")]
    pub yes: bool,
    /// The number of certificates the plan must have; refused (exit 8) when it differs.
    #[arg(long, value_name = "N")]
    pub expect_count: Option<usize>,
    /// Calls per second at most to each mutating AWS API (AWS IoT Core's quotas are per API;
    /// see docs/ops.md).
    #[arg(long, value_name = "N", default_value_t = crate::ops::DEFAULT_CALLS_PER_SECOND)]
    pub rate: f64,
    /// How long to wait for the disconnects to be observed.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub disconnect_wait: i64,
}

/// Options of `demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Simulated devices, each a real agent with its own simulated secure element.
    #[arg(long, default_value_t = 1000)]
    pub devices: usize,
    /// Seed of the scenario plan (the same seed gives the same fleet).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Scenario: `demo` (something for every view) or `quiet` (healthy devices only).
    #[arg(long, default_value = "demo", value_name = "NAME")]
    pub scenario: String,
    /// No TUI: print the endpoint, the MQTT address and the credential paths, run until Ctrl-C.
    #[arg(long)]
    pub headless: bool,
    /// Where the credentials and CA files are written (default: a fresh temporary directory).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// With `--headless`: also serve the lab's fault injection over HTTP on loopback (cut the
    /// power of agents mid-rotation, restart the gateway, count devices without a working
    /// certificate) and print its address as `fault-admin:`.
    #[arg(long, requires = "headless")]
    pub fault_admin: bool,
    /// Runs the devices of a lab that `fleetid demo` started, handed over on stdin: the demo
    /// starts itself so when its fleet does not fit one process's open-file limit.
    #[arg(long, hide = true)]
    pub device_process: bool,
}

/// `certs` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum CertsCommand {
    /// List certificates, soonest expiry first.
    List(CertsListArgs),
    /// Every field of one certificate.
    Show {
        /// Certificate id (64 hex characters, or a unique prefix of at least 8).
        id: String,
    },
}

/// Filters of `certs list`.
#[derive(Debug, Clone, Args, Default)]
pub struct CertsListArgs {
    /// Only certificates expiring within this time (`30d`, `12h`, `2w`; expired included).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub expiring_within: Option<i64>,
    /// Only certificates of this CA (id, id prefix or subject text).
    #[arg(long)]
    pub ca: Option<String>,
    /// Only certificates with this status.
    #[arg(long, value_parser = parse_status)]
    pub status: Option<CertStatus>,
    /// Only certificates of things in this group.
    #[arg(long)]
    pub group: Option<String>,
    /// Fuzzy match over id, subject, things and groups.
    #[arg(long = "match", value_name = "PATTERN")]
    pub fuzzy: Option<String>,
}

/// `ca` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum CaCommand {
    /// Registered CAs with their active device certificates.
    List,
    /// The CA chain as a tree.
    Tree,
    /// Set a CA INACTIVE: AWS IoT registers no new certificate it signed. The devices it
    /// signed keep their certificates' status (the plan counts the ACTIVE ones).
    Deactivate(CaOpArgs),
    /// A compromised CA: INACTIVE, auto-registration disabled, and every device certificate
    /// it signed revoked as `fleetid revoke` does (deny-all, INACTIVE, quarantine, cut).
    Revoke(CaOpArgs),
    /// Disable the CA's auto-registration (JITR); the CA stays ACTIVE.
    DisableAutoRegistration(CaOpArgs),
}

/// The CA a CA operation changes, and its confirmation.
#[derive(Debug, Clone, Args)]
pub struct CaOpArgs {
    /// The CA (id, id prefix or subject text).
    #[arg(long = "ca", value_name = "ID")]
    pub ca: String,
    /// Confirmation and pace. The count is the ACTIVE device certificates the CA signs
    /// (`ca revoke`: the certificates it revokes).
    #[command(flatten)]
    pub apply: ApplyArgs,
}

/// `rotate` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum RotateCommand {
    /// The campaign's stages on the fleet: devices per stage, by group and firmware, and the
    /// AWS names each stage will use. No call is made.
    Plan {
        /// The campaign file (TOML).
        file: PathBuf,
    },
    /// Record the campaign and start stage 1: its thing group and its job. Asks for the
    /// campaign id to be typed unless --yes.
    Start {
        /// The campaign file (TOML).
        file: PathBuf,
        /// Confirm without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Every campaign, or one: stages, counts, the gate's evidence. Reading it advances the
    /// campaign (soak, pass, auto-promote, halt on failures). Exit 10 when halted.
    Status {
        /// The campaign id (all campaigns without it).
        id: Option<String>,
        /// Keep watching (and driving) until the campaigns are done, halted or wait for a
        /// person.
        #[arg(long)]
        watch: bool,
        /// Seconds between two readings with --watch.
        #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
        interval: i64,
    },
    /// Start stage N after stage N-1 passed its gate. Asks for N to be typed unless --yes.
    Promote {
        /// The campaign id.
        id: String,
        /// The stage to start.
        #[arg(long, value_name = "N")]
        stage: usize,
        /// Confirm without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Halt: cancel the running stage's job (devices mid-rotation finish) and advance no more.
    Halt {
        /// The campaign id.
        id: String,
        /// Why, for the audit log.
        #[arg(long)]
        reason: String,
    },
    /// Resume a halted campaign: accept the stage's failures as they are (those devices are
    /// set aside), run the devices the halt stopped again.
    Resume {
        /// The campaign id.
        id: String,
        /// Why, for the audit log.
        #[arg(long)]
        reason: String,
    },
    /// Abort: cancel the running stage's job; the campaign ends where it is.
    Abort {
        /// The campaign id.
        id: String,
        /// Why, for the audit log.
        #[arg(long)]
        reason: String,
    },
    /// After the grace period: set the old certificates of the devices that moved INACTIVE
    /// (plan, confirm, apply, verify as for revoke) and list those still on old ones, and why.
    Finalize {
        /// The campaign id.
        id: String,
        /// Confirmation and pace.
        #[command(flatten)]
        apply: ApplyArgs,
    },
}

/// `claim` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum ClaimCommand {
    /// Disable a provisioning claim certificate: deny-all and INACTIVE, so no device
    /// provisions through it; the plan shows its registrations from CloudWatch. `restore`
    /// undoes it.
    Disable {
        /// The claim certificate (id or unique prefix).
        #[arg(long = "cert", value_name = "ID")]
        cert: String,
        /// Confirmation and pace.
        #[command(flatten)]
        apply: ApplyArgs,
    },
}

/// Parses `30d`, `12h`, `2w`, `90m`, `45s` (a bare number is days) into seconds.
///
/// # Errors
/// A message naming the accepted forms.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 30d, 12h, 2w"))?;
    let factor = match unit {
        "" | "d" => SECONDS_PER_DAY,
        "w" => 7 * SECONDS_PER_DAY,
        "h" => 3600,
        "m" => 60,
        "s" => 1,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}; use s, m, h, d or w"
            ));
        }
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("{text:?} is too long"))
}

/// Parses a certificate status in AWS spelling, any case (`active`, `PENDING_ACTIVATION`).
///
/// # Errors
/// A message listing the statuses.
pub fn parse_status(text: &str) -> Result<CertStatus, String> {
    let normalized = text.replace('-', "_");
    match CertStatus::from_aws_str(&normalized) {
        CertStatus::Unknown => Err(format!(
            "unknown status {text:?}; one of: {}",
            CertStatus::ALL[..6]
                .iter()
                .map(|s| s.as_aws_str().to_ascii_lowercase())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        status => Ok(status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn version_flag_reports_the_package_version() {
        let err = Cli::try_parse_from(["fleetid", "--version"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::DisplayVersion);
        assert!(err.to_string().contains(env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn unknown_subcommands_are_refused() {
        assert!(Cli::try_parse_from(["fleetid", "frobnicate"]).is_err());
    }

    #[test]
    fn certs_list_filters_parse() {
        let cli = Cli::try_parse_from([
            "fleetid",
            "certs",
            "list",
            "--expiring-within",
            "30d",
            "--status",
            "active",
            "--match",
            "dev-1",
            "--output",
            "json",
            "--read-only",
        ])
        .unwrap();
        assert_eq!(cli.global.output, OutputArg::Json);
        assert!(cli.global.read_only);
        let Some(Command::Certs(CertsCommand::List(args))) = cli.command else {
            panic!("not certs list");
        };
        assert_eq!(args.expiring_within, Some(30 * SECONDS_PER_DAY));
        assert_eq!(args.status, Some(CertStatus::Active));
        assert_eq!(args.fuzzy.as_deref(), Some("dev-1"));
    }

    #[test]
    fn demo_defaults_to_a_thousand_devices() {
        let cli = Cli::try_parse_from(["fleetid", "demo", "--headless"]).unwrap();
        let Some(Command::Demo(args)) = cli.command else {
            panic!("not demo");
        };
        assert_eq!(args.devices, 1000);
        assert_eq!(args.scenario, "demo");
        assert!(args.headless);
        assert!(args.state_dir.is_none());
    }

    #[test]
    fn mouse_and_ascii_flags_win_over_the_config_and_the_last_one_counts() {
        let parse = |args: &[&str]| {
            let mut all = vec!["fleetid"];
            all.extend_from_slice(args);
            Cli::try_parse_from(all).unwrap().global
        };
        let none = parse(&[]);
        assert!(!none.mouse_or(false) && none.mouse_or(true));
        assert!(!none.ascii_or(false) && none.ascii_or(true));
        assert!(parse(&["--mouse"]).mouse_or(false));
        assert!(!parse(&["--no-mouse"]).mouse_or(true));
        assert!(parse(&["--ascii"]).ascii_or(false));
        assert!(!parse(&["--no-ascii"]).ascii_or(true));
        assert!(!parse(&["--mouse", "--no-mouse"]).mouse_or(true));
        assert!(parse(&["--no-ascii", "--ascii"]).ascii_or(false));
    }

    #[test]
    fn audit_takes_verify_and_a_limit() {
        let cli = Cli::try_parse_from(["fleetid", "audit", "--verify", "--limit", "5"]).unwrap();
        let Some(Command::Audit { verify, limit }) = cli.command else {
            panic!("not audit");
        };
        assert!(verify);
        assert_eq!(limit, 5);
        assert!(Cli::try_parse_from(["fleetid", "audit", "--limit", "many"]).is_err());
    }

    #[test]
    fn durations_and_statuses_refuse_nonsense() {
        assert_eq!(parse_duration("2w"), Ok(14 * SECONDS_PER_DAY));
        assert_eq!(parse_duration("12h"), Ok(12 * 3600));
        assert_eq!(parse_duration("7"), Ok(7 * SECONDS_PER_DAY));
        assert!(parse_duration("30x").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("d").is_err());
        assert_eq!(
            parse_status("pending-activation"),
            Ok(CertStatus::PendingActivation)
        );
        assert!(parse_status("alive").unwrap_err().contains("active"));
    }
}
