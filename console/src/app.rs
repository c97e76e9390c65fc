//! What the binary does once the command line is parsed: load the configuration, pick the
//! environment, restore the cached snapshot, refresh it from AWS, run the subcommand, and turn
//! every outcome into an exit code.

use std::io::{self, IsTerminal, Write};
use std::sync::Arc;

use clap::CommandFactory;

use crate::backend::Source as BackendSource;
use crate::backend::aws::AwsBackend;
use crate::cli::{Cli, Command, DemoArgs, GlobalArgs};
use crate::commands::{self, Output};
use crate::context::Context;
use crate::exit;
use crate::interactive::Start;
use crate::model::{FleetState, UnixTime};
use crate::ops::command::Mutation;
use crate::ops::plan::OpKind;
use crate::ops::selector::Selector;
use crate::refresh;
use crate::render::{self, OutputFormat, RenderOptions};
use crate::store::triage::TriageMap;
use crate::store::{self, Store};

/// Runs the parsed command line; returns the process exit code.
#[must_use]
pub fn run(cli: &Cli) -> u8 {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match run_to(cli, &mut out) {
        Ok(code) => code,
        Err(failure) => {
            let _ = out.flush();
            crate::stderr::lines(&format!("fleetid: {}", failure.message));
            failure.code
        }
    }
}

/// A failure with its exit code and message.
#[derive(Debug)]
pub struct Failure {
    /// Exit code.
    pub code: u8,
    /// What went wrong, for stderr.
    pub message: String,
}

fn fail(code: u8, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

/// [`run`] writing to `out`.
///
/// # Errors
/// A [`Failure`] with the exit code and message.
pub fn run_to(cli: &Cli, out: &mut dyn Write) -> Result<u8, Failure> {
    let io_fail = |e: io::Error| fail(exit::FAILURE, format!("writing output: {e}"));
    let Some(command) = &cli.command else {
        return run_console(cli);
    };
    match command {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "fleetid", out);
            return Ok(exit::OK);
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command())
                .render(out)
                .map_err(io_fail)?;
            return Ok(exit::OK);
        }
        Command::Demo(args) if args.device_process => return run_device_process(),
        Command::Demo(args) => return run_demo(args, context(&cli.global)?, &cli.global, out),
        _ => {}
    }
    let ctx = context(&cli.global)?;
    let env = ctx.env();
    let now = ctx.now();
    let mut output = Output {
        format: OutputFormat::from(cli.global.output),
        options: render_options(&cli.global),
        out,
    };
    let cache = ctx.store();
    if let Command::Audit { verify, limit } = command {
        let store = cache.map_err(|e| fail(exit::FAILURE, e.to_string()))?;
        return commands::audit(&store, &env.name, *verify, *limit, now, &mut output)
            .map_err(|e| fail(e.exit_code(), e.to_string()));
    }
    // Anomaly triage kept by the TUI; a store that cannot be read fails below.
    let triage = match &cache {
        Ok(store) => store.triage(&env.name, now).unwrap_or_else(|e| {
            crate::stderr::message(&format!("{e}; anomalies are shown untriaged"));
            TriageMap::new()
        }),
        Err(_) => TriageMap::new(),
    };
    if let Command::Doctor = command {
        let mut checks = crate::doctor::environment_checks(ctx.config(), env);
        let snapshot = cache
            .as_ref()
            .map_err(ToString::to_string)
            .and_then(|store| store.load(&env.name).map_err(|e| e.to_string()));
        checks.extend(crate::doctor::cache_checks(
            snapshot
                .as_ref()
                .map(|s| s.as_ref().map(|s| (&s.state, s.saved_at)))
                .map_err(Clone::clone),
            now,
        ));
        if let Ok(store) = &cache {
            let outages = store.source_outages(&env.name, now).unwrap_or_default();
            checks.extend(crate::doctor::outage_checks(&outages, now));
        }
        if !ctx.offline() {
            // Doctor reports a wrong account as a check of its own, so it asks AWS without
            // the account guard, one attempt per call.
            checks.extend(runtime(&ctx)?.block_on(async {
                let config = ctx
                    .sdk_config()
                    .await
                    .to_builder()
                    .retry_config(aws_config::retry::RetryConfig::adaptive().with_max_attempts(1))
                    .build();
                crate::doctor::remote::remote_checks(env, &config).await
            }));
        }
        let failed = checks
            .iter()
            .any(|c| c.outcome == render::CheckOutcome::Fail);
        output
            .out
            .write_all(
                render::render(
                    &render::doctor_report(&checks, now),
                    output.format,
                    output.options,
                )
                .as_bytes(),
            )
            .map_err(io_fail)?;
        return Ok(if failed { exit::FAILURE } else { exit::OK });
    }
    if let Some(code) = run_ops(&ctx, command, output.format, output.out)? {
        return Ok(code);
    }
    if let Command::Rotate(rotate) = command {
        let model = || {
            fleet_state(&ctx, cache, sources_for(command))
                .map(|(state, _)| state)
                .map_err(|f| crate::ops::command::Stop {
                    code: f.code,
                    message: f.message,
                })
        };
        return crate::ops::rotation::command::run(&ctx, rotate, model, output.format, output.out)
            .map_err(|s| fail(s.code, s.message));
    }
    if let Some(code) = offline_status_from_summary(&ctx, command, cache.as_ref(), &mut output)? {
        return Ok(code);
    }
    let (mut state, online) = fleet_state(&ctx, cache, sources_for(command))?;
    if let Some(mutation) = mutation_of(command) {
        return crate::ops::command::mutate(&ctx, &mutation, &state, output.format, output.out)
            .map_err(|s| fail(s.code, s.message));
    }
    if let Command::Anomalies { follow: true, .. } = command {
        let Some(backend) = online else {
            // --offline: there is nothing to follow; print what the cache holds.
            return commands::follow_triaged(
                &mut state,
                Vec::new(),
                &triage,
                UnixTime::now,
                &mut output,
            )
            .map_err(|e| fail(e.exit_code(), e.to_string()));
        };
        let updates = refresh::follow(runtime(&ctx)?, backend);
        return commands::follow_triaged(&mut state, updates, &triage, UnixTime::now, &mut output)
            .map_err(|e| fail(e.exit_code(), e.to_string()));
    }
    let result = commands::run(command, &state, &triage, now, &mut output)
        .map_err(|e| fail(e.exit_code(), e.to_string()));
    // Freeing a million records one by one takes longer than answering; the process ends
    // right after, so the answer does not wait for it.
    std::thread::spawn(move || drop(state));
    result
}

/// `status --offline` answered from the snapshot's summary, without building the model;
/// `None` for any other command, or when the snapshot has no readable summary (the whole
/// snapshot is loaded then).
fn offline_status_from_summary(
    ctx: &Context,
    command: &Command,
    cache: Result<&Store, &store::StoreError>,
    output: &mut Output<'_>,
) -> Result<Option<u8>, Failure> {
    let Command::Status {
        critical_days,
        warning_days,
    } = command
    else {
        return Ok(None);
    };
    let Ok(store) = cache else {
        return Ok(None);
    };
    if !ctx.offline() {
        return Ok(None);
    }
    let Ok(Some(stored)) = store.load_summary(&ctx.env().name) else {
        return Ok(None);
    };
    let policy = crate::model::HealthPolicy {
        critical_days: *critical_days,
        warning_days: *warning_days,
    };
    commands::status(&stored.summary, policy, ctx.now(), output)
        .map(Some)
        .map_err(|e| fail(e.exit_code(), e.to_string()))
}

/// The ops commands that need no fleet refresh: the journal, the freeze, and the read-only
/// refusal of a mutation (before any call); `None` for every other command.
fn run_ops(
    ctx: &Context,
    command: &Command,
    format: OutputFormat,
    out: &mut dyn Write,
) -> Result<Option<u8>, Failure> {
    use crate::cli::OpsCommand;
    use crate::ops::command;
    let to_failure = |s: command::Stop| fail(s.code, s.message);
    match command {
        Command::Ops(OpsCommand::List { limit }) => command::list(ctx, *limit, format, out)
            .map(Some)
            .map_err(to_failure),
        Command::Ops(OpsCommand::Resume { id, apply }) => {
            command::resume(ctx, id.as_deref(), apply, format, out)
                .map(Some)
                .map_err(to_failure)
        }
        Command::Freeze { reason } => command::freeze(ctx, reason, true, out)
            .map(Some)
            .map_err(to_failure),
        Command::Unfreeze { reason } => command::freeze(ctx, reason, false, out)
            .map(Some)
            .map_err(to_failure),
        _ => match mutation_of(command) {
            // Refused before the refresh: no AWS call at all in a read-only session.
            Some(mutation) if !mutation.apply.dry_run && ctx.mutation_permit().is_err() => {
                Err(to_failure(command::refuse_read_only(ctx, &mutation)))
            }
            _ => Ok(None),
        },
    }
}

/// The operation, selectors and flags of `revoke`, `restore` and `quarantine`.
fn mutation_of(command: &Command) -> Option<Mutation<'_>> {
    use crate::cli::{CaCommand, ClaimCommand};
    let devices = |kind, targets, apply| Mutation {
        kind,
        selectors: crate::ops::command::selectors(targets),
        apply,
    };
    fn ca(kind: OpKind, args: &crate::cli::CaOpArgs) -> Mutation<'_> {
        Mutation {
            kind,
            selectors: vec![Selector::Ca(args.ca.clone())],
            apply: &args.apply,
        }
    }
    Some(match command {
        Command::Revoke {
            targets,
            permanent,
            apply,
        } => devices(
            if *permanent {
                OpKind::RevokePermanent
            } else {
                OpKind::Revoke
            },
            targets,
            apply,
        ),
        Command::Restore { targets, apply } => devices(OpKind::Restore, targets, apply),
        Command::Quarantine { targets, apply } => devices(OpKind::Quarantine, targets, apply),
        Command::Ca(CaCommand::Deactivate(args)) => ca(OpKind::CaDeactivate, args),
        Command::Ca(CaCommand::Revoke(args)) => ca(OpKind::CaRevoke, args),
        Command::Ca(CaCommand::DisableAutoRegistration(args)) => {
            ca(OpKind::CaDisableAutoRegistration, args)
        }
        Command::Claim(ClaimCommand::Disable { cert, apply }) => Mutation {
            kind: OpKind::ClaimDisable,
            selectors: vec![Selector::Cert(cert.clone())],
            apply,
        },
        _ => return None,
    })
}

/// The sources a subcommand needs: listings of certificates and CAs skip Device Defender and
/// CloudWatch; `status`, `anomalies` and `doctor` load everything (empty list).
fn sources_for(command: &Command) -> Vec<BackendSource> {
    if let Some(mutation) = mutation_of(command) {
        // A mutation plans from the registry and connectivity (a certificate names its CA):
        // no Device Defender or CloudWatch; the CA listing only for a CA operation.
        let mut sources = vec![
            BackendSource::Certificates,
            BackendSource::Things,
            BackendSource::ThingGroups,
            BackendSource::Policies,
            BackendSource::FleetIndexing,
        ];
        if mutation.kind.on_ca() {
            sources.push(BackendSource::CaCertificates);
        }
        return sources;
    }
    match command {
        Command::Certs(_) | Command::Ca(_) | Command::Heatmap { .. } => vec![
            BackendSource::CaCertificates,
            BackendSource::Certificates,
            BackendSource::Things,
            BackendSource::ThingGroups,
        ],
        // Stages are chosen from the registry and connectivity; `next_ca` among the CAs.
        Command::Rotate(_) => vec![
            BackendSource::CaCertificates,
            BackendSource::Certificates,
            BackendSource::Things,
            BackendSource::ThingGroups,
            BackendSource::FleetIndexing,
        ],
        _ => Vec::new(),
    }
}

/// No subcommand: the TUI on a terminal, a usage error otherwise.
fn run_console(cli: &Cli) -> Result<u8, Failure> {
    if !io::stdout().is_terminal() {
        return Err(fail(
            exit::USAGE,
            "no subcommand given and stdout is not a terminal; see `fleetid --help`",
        ));
    }
    let ctx = context(&cli.global)?;
    // The expected account is checked before the screen opens, as for every online command.
    if !ctx.offline() && ctx.env().settings.account_id.is_some() {
        runtime(&ctx)?
            .block_on(ctx.aws())
            .map_err(|e| fail(e.exit_code(), e.to_string()))?;
    }
    let mut options = crate::interactive::options(ctx.config(), ctx.env(), &cli.global);
    let store = ctx
        .store()
        .map_err(|e| fail(exit::FAILURE, e.to_string()))?;
    // The banner says FROZEN while `fleetid freeze` is in force.
    options.environment.frozen = store
        .freeze(&ctx.env().name)
        .map_err(|e| fail(exit::FAILURE, e.to_string()))?
        .is_some();
    // The summary draws the first frame; the model thread loads the whole snapshot. Without
    // a summary (a snapshot of an older fleetid), the snapshot is loaded here.
    let start = match store.load_summary(&ctx.env().name) {
        Ok(Some(stored)) => Start::Summary(Box::new(stored)),
        Ok(None) | Err(_) => Start::Fleet(Box::new(
            store
                .load(&ctx.env().name)
                .map_err(|e| fail(exit::FAILURE, e.to_string()))?
                .map(|s| s.state)
                .unwrap_or_default(),
        )),
    };
    crate::interactive::run(&options, Arc::new(ctx), start, Some(store)).map_err(|e| match e {
        crate::tui::TuiError::Theme(_) | crate::tui::TuiError::Keymap(_) => {
            fail(exit::CONFIG, e.to_string())
        }
        crate::tui::TuiError::Terminal { .. } => fail(exit::FAILURE, e.to_string()),
    })?;
    Ok(exit::OK)
}

/// The context of this run (config.toml and the environment resolved once).
fn context(global: &GlobalArgs) -> Result<Context, Failure> {
    Context::load(global).map_err(|e| fail(exit::CONFIG, e.to_string()))
}

/// The context's runtime, or the failure to start it.
fn runtime(ctx: &Context) -> Result<&tokio::runtime::Runtime, Failure> {
    ctx.runtime()
        .map_err(|e| fail(exit::FAILURE, e.to_string()))
}

/// `fleetid demo`: the lab on loopback (see [`crate::demo`]).
#[cfg(feature = "lab")]
fn run_demo(
    args: &DemoArgs,
    ctx: Context,
    global: &GlobalArgs,
    out: &mut dyn Write,
) -> Result<u8, Failure> {
    use crate::demo::DemoError;
    crate::demo::run(args, ctx, global, out)
        .map(|()| exit::OK)
        .map_err(|e| {
            let code = match e {
                DemoError::UnknownScenario(_) | DemoError::NotATerminal => exit::USAGE,
                _ => exit::FAILURE,
            };
            fail(code, e.to_string())
        })
}

/// `fleetid demo --device-process`: the devices of a demo's lab (see [`crate::demo`]).
#[cfg(feature = "lab")]
fn run_device_process() -> Result<u8, Failure> {
    crate::demo::run_device_process()
        .map(|()| exit::OK)
        .map_err(|e| fail(exit::FAILURE, e.to_string()))
}

/// `fleetid demo --device-process` without the lab compiled in.
#[cfg(not(feature = "lab"))]
fn run_device_process() -> Result<u8, Failure> {
    run_demo_without_lab()
}

/// `fleetid demo` without the lab compiled in.
#[cfg(not(feature = "lab"))]
fn run_demo(_: &DemoArgs, _: Context, _: &GlobalArgs, _: &mut dyn Write) -> Result<u8, Failure> {
    run_demo_without_lab()
}

#[cfg(not(feature = "lab"))]
fn run_demo_without_lab() -> Result<u8, Failure> {
    Err(fail(
        exit::USAGE,
        "this fleetid was built without the lab (cargo feature \"lab\"); `fleetid demo` needs it",
    ))
}

/// Styled output (bold headers) only for a person: table output to a terminal, without
/// `--no-color` or `NO_COLOR`. A pipe or a file gets plain text (docs/cli.md).
fn render_options(global: &GlobalArgs) -> RenderOptions {
    let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    RenderOptions::for_output(
        OutputFormat::from(global.output),
        io::stdout().is_terminal(),
        global.no_color || no_color_env,
    )
}

/// The fleet to answer from: the cached snapshot with `--offline`; otherwise the cached
/// snapshot refreshed from AWS (only new or changed certificates are described) and saved
/// back. When AWS cannot be read but a snapshot exists, the snapshot is used and its age shows.
fn fleet_state(
    ctx: &Context,
    cache: Result<Store, store::StoreError>,
    sources: Vec<BackendSource>,
) -> Result<(FleetState, Option<AwsBackend>), Failure> {
    let env = ctx.env();
    let mut store = cache.map_err(|e| fail(exit::FAILURE, e.to_string()))?;
    let snapshot = store
        .load(&env.name)
        .map_err(|e| fail(exit::FAILURE, e.to_string()))?;
    if ctx.offline() {
        let state = snapshot.map(|s| s.state).ok_or_else(|| {
            fail(
                exit::FAILURE,
                format!(
                    "no cached snapshot of environment {:?} in {}; run once without --offline",
                    env.name,
                    store.path().display()
                ),
            )
        })?;
        return Ok((state, None));
    }
    let had_cache = snapshot.is_some();
    let mut state = snapshot.map(|s| s.state).unwrap_or_default();
    // Without the memory a refresh only spends the retry budget on a failing source again.
    let outages = store
        .source_outages(&env.name, ctx.now())
        .unwrap_or_default();
    let (backend, refreshed) = runtime(ctx)?
        .block_on(async {
            let backend = ctx.aws().await?;
            let refreshed = refresh::refresh(backend, &mut state, sources, outages).await;
            Ok((backend.clone(), refreshed))
        })
        .map_err(|e: crate::doctor::account::AccountError| fail(e.exit_code(), e.to_string()))?;
    if let Err(e) = store.set_source_outages(&env.name, &refreshed.outages) {
        crate::stderr::message(&e.to_string());
    }
    match refreshed.certificate_problem {
        Some(reason) if !had_cache => {
            return Err(fail(
                exit::FAILURE,
                format!("reading certificates from AWS failed: {reason}"),
            ));
        }
        Some(reason) => {
            crate::stderr::message(&format!(
                "reading certificates from AWS failed ({reason}); showing the cached snapshot"
            ));
        }
        None => {}
    }
    if let Err(e) = store.save(&env.name, &state, ctx.now()) {
        crate::stderr::message(&e.to_string());
    }
    Ok((state, Some(backend)))
}
