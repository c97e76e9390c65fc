//! `fleetid demo`: starts the lab (an AWS-IoT-like cloud with a fleet of simulated devices) on
//! loopback, shows the fleet booting on stderr, then either opens the TUI on it — the same code
//! path as `fleetid --endpoint-url <lab>` with the lab's static credentials, plus live status
//! over mTLS with the lab's operator certificate — or, with `--headless`, prints where the lab
//! is and runs until Ctrl-C. The console sees nothing of the lab but its endpoint and
//! credentials.

use std::io::{self, IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use fleetid_lab::fleet::FleetProgress;
use fleetid_lab::fleet::process::{self, DeviceCommand};
use fleetid_lab::fleet::scenario::{Role, Scenario};
use fleetid_lab::{DeviceHost, Lab, LabError, LabHandle, LabOptions, OPERATOR_CLIENT_ID};

use crate::backend::live::connection::{LiveAuth, LiveOptions};
use crate::cli::{DemoArgs, GlobalArgs};
use crate::config::{Environment, EnvironmentConfig};
use crate::context::{Connection, Context, ContextError};
use crate::interactive;
use crate::safe_text::SafeText;
use crate::stderr;
use crate::tui::TuiError;

/// How long the fleet may take to boot before the demo goes on without the rest.
const BOOT_DEADLINE: Duration = Duration::from_secs(300);
/// How often each demo device reports: often enough that live status moves on screen.
const STATUS_INTERVAL: Duration = Duration::from_secs(10);
/// Progress lines when stderr is not a terminal: at most one per this period.
const PLAIN_PROGRESS_EVERY: Duration = Duration::from_secs(2);
/// The environment name the TUI's banner shows.
const ENVIRONMENT: &str = "demo (lab on loopback)";

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// `--scenario` names no scenario.
    #[error("unknown scenario {0:?}; one of: demo, quiet")]
    UnknownScenario(String),
    /// The TUI needs a terminal.
    #[error("the demo's TUI needs a terminal on stdout; use `fleetid demo --headless`")]
    NotATerminal,
    /// The async runtime did not start.
    #[error(transparent)]
    Runtime(#[from] ContextError),
    /// The lab did not start.
    #[error("starting the lab: {0}")]
    Lab(#[from] LabError),
    /// Ctrl-C could not be awaited.
    #[error("waiting for Ctrl-C: {0}")]
    Signal(io::Error),
    /// Printing the lab's addresses failed.
    #[error("writing output: {0}")]
    Output(io::Error),
    /// The TUI failed.
    #[error(transparent)]
    Tui(#[from] TuiError),
    /// The devices of a device process failed.
    #[error("device process: {0}")]
    DeviceProcess(String),
}

/// `fleetid demo --device-process`: runs the devices the demo's lab hands over on stdin
/// (`fleetid_lab::fleet::process`) until the lab closes the pipe.
///
/// # Errors
/// The runtime did not start, or the devices failed.
pub fn run_device_process() -> Result<(), DemoError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| DemoError::DeviceProcess(e.to_string()))?;
    runtime
        .block_on(process::run_child())
        .map_err(|e| DemoError::DeviceProcess(e.to_string()))
}

/// Where the demo's devices run: in its own process, or — when they would not fit its
/// open-file limit (two descriptors per device) — in a second one, this binary started with
/// `demo --device-process`.
fn device_host(devices: usize) -> DeviceHost {
    if process::fits_one_process(devices) {
        return DeviceHost::Here;
    }
    match std::env::current_exe() {
        Ok(program) => {
            stderr::line(&SafeText::from_string(format!(
                "fleetid demo: {devices} devices do not fit this process's open-file limit; \
                 they run in a second process"
            )));
            DeviceHost::Process(DeviceCommand {
                program,
                args: vec!["demo".to_owned(), "--device-process".to_owned()],
            })
        }
        // Then the lab's start reports what the limit allows.
        Err(_) => DeviceHost::Here,
    }
}

/// Runs `fleetid demo` until the user quits (TUI) or presses Ctrl-C (headless). The lab's
/// shutdown is awaited in every case once it has started.
///
/// # Errors
/// A [`DemoError`] saying which step failed.
pub fn run(
    args: &DemoArgs,
    ctx: Context,
    global: &GlobalArgs,
    out: &mut dyn Write,
) -> Result<(), DemoError> {
    let scenario = Scenario::parse(&args.scenario)
        .ok_or_else(|| DemoError::UnknownScenario(args.scenario.clone()))?;
    if !args.headless && !io::stdout().is_terminal() {
        return Err(DemoError::NotATerminal);
    }
    let started = Instant::now();
    let runtime = ctx.runtime()?;
    let lab = runtime.block_on(Lab::start(LabOptions {
        devices: args.devices,
        seed: args.seed,
        scenario,
        state_dir: args.state_dir.clone(),
        status_interval: STATUS_INTERVAL,
        device_host: device_host(args.devices),
        ..LabOptions::default()
    }))?;
    stderr::line(&SafeText::from_string(format!(
        "fleetid demo: lab API on {}, MQTT on {}; {} devices booting (Ctrl-C stops)",
        lab.endpoint_url, lab.mqtt_addr, args.devices
    )));
    let booted = runtime.block_on(boot(&lab, started));
    let (ctx, result) = match booted {
        Ok(Booted::Interrupted) => (Arc::new(ctx), Ok(())),
        Ok(Booted::Ready) if args.headless => {
            let result = runtime.block_on(headless(&lab, args.fault_admin, out));
            (Arc::new(ctx), result)
        }
        Ok(Booted::Ready) => {
            let ctx = Arc::new(lab_context(&lab, ctx, global.read_only));
            let result = open_tui(&ctx, global);
            (ctx, result)
        }
        Err(e) => (Arc::new(ctx), Err(e)),
    };
    stderr::line(&SafeText::new("fleetid demo: stopping the lab"));
    ctx.runtime()?.block_on(lab.shutdown());
    stderr::line(&SafeText::new("fleetid demo: stopped"));
    result
}

/// How the boot wait ended.
enum Booted {
    /// Every planned registration was decided (or the deadline passed).
    Ready,
    /// Ctrl-C.
    Interrupted,
}

/// Shows boot progress until every planned certificate is provisioned or rejected and every
/// admitted device is connected again (JITR drops each first connection), the deadline
/// passes, or Ctrl-C.
async fn boot(lab: &LabHandle, started: Instant) -> Result<Booted, DemoError> {
    // Devices that share another's certificate register nothing of their own.
    let registrations = lab
        .plan
        .iter()
        .filter(|d| !matches!(d.role, Role::SharesCertificateOf(_)))
        .count();
    // The recalled batch never connects; the flapping device is away now and then.
    let steadily_connected = lab
        .plan
        .iter()
        .filter(|d| !matches!(d.role, Role::Recalled | Role::Flapping))
        .count();
    let terminal = io::stderr().is_terminal();
    let mut progress = lab.progress.clone();
    let mut last_line: Option<Instant> = None;
    let deadline = tokio::time::sleep(BOOT_DEADLINE);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(deadline, ctrl_c);
    let last = loop {
        if lab.device_process_ended() {
            stderr::blank();
            return Err(DemoError::DeviceProcess(
                "it ended while the fleet booted (its message is above)".into(),
            ));
        }
        let now = *progress.borrow_and_update();
        if terminal {
            stderr::progress(&SafeText::from_string(progress_line(&now)));
        } else if last_line.is_none_or(|t| t.elapsed() >= PLAIN_PROGRESS_EVERY) {
            stderr::line(&SafeText::from_string(progress_line(&now)));
            last_line = Some(Instant::now());
        }
        if now.provisioned + now.rejected >= registrations && now.connected >= steadily_connected {
            break now;
        }
        tokio::select! {
            changed = progress.changed() => {
                if changed.is_err() {
                    break now;
                }
            }
            () = &mut deadline => {
                stderr::blank();
                stderr::line(&SafeText::from_string(format!(
                    "fleetid demo: the fleet is still booting after {} s; going on",
                    BOOT_DEADLINE.as_secs()
                )));
                break now;
            }
            signal = &mut ctrl_c => {
                signal.map_err(DemoError::Signal)?;
                stderr::blank();
                return Ok(Booted::Interrupted);
            }
            // Look at the device process now and then even when nothing moves.
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    };
    if terminal {
        stderr::blank();
    }
    stderr::line(&SafeText::from_string(format!(
        "fleetid demo: fleet booted in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        progress_line(&last)
    )));
    Ok(Booted::Ready)
}

fn progress_line(p: &FleetProgress) -> String {
    format!(
        "devices: {}/{} connected, {} provisioned, {} rejected",
        p.connected, p.total, p.provisioned, p.rejected
    )
}

/// Prints where the lab is (one `key: value` per line, for people and scripts) and waits for
/// Ctrl-C; with `fault_admin`, serves the lab's fault injection on loopback meanwhile.
async fn headless(
    lab: &LabHandle,
    fault_admin: bool,
    out: &mut dyn Write,
) -> Result<(), DemoError> {
    let dir = &lab.state_dir;
    let credentials = dir.join("credentials");
    let region = fleetid_lab::registry::REGION;
    let mut lines = vec![
        format!("endpoint-url: {}", lab.endpoint_url),
        format!("mqtt-address: {}", lab.mqtt_addr),
        format!("region: {region}"),
        format!("credentials-file: {}", credentials.display()),
        format!("operator-ca: {}", lab.operator.ca_pem.display()),
        format!("operator-cert: {}", lab.operator.cert_pem.display()),
        format!("operator-key: {}", lab.operator.key_pem.display()),
        format!("operator-client-id: {OPERATOR_CLIENT_ID}"),
    ];
    for outcome in lab.jitr.outcomes() {
        if let Some(reason) = &outcome.rejected {
            lines.push(format!(
                "rejected: {} {}",
                outcome.certificate_id,
                SafeText::new(reason)
            ));
        }
    }
    lines.push(format!(
        "example: AWS_SHARED_CREDENTIALS_FILE={} AWS_PROFILE=default AWS_REGION={region} \
         fleetid --endpoint-url {} certs list",
        credentials.display(),
        lab.endpoint_url
    ));
    lines.push(format!(
        "example-live: AWS_SHARED_CREDENTIALS_FILE={} AWS_PROFILE=default AWS_REGION={region} \
         fleetid --endpoint-url {} --mqtt-ca {} --mqtt-cert {} --mqtt-key {} \
         --mqtt-client-id {OPERATOR_CLIENT_ID} anomalies --follow",
        credentials.display(),
        lab.endpoint_url,
        lab.operator.ca_pem.display(),
        lab.operator.cert_pem.display(),
        lab.operator.key_pem.display(),
    ));
    let (stop_admin, admin_stopped) = tokio::sync::oneshot::channel::<()>();
    let admin = if fault_admin {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(DemoError::Output)?;
        let addr = listener.local_addr().map_err(DemoError::Output)?;
        lines.push(format!("fault-admin: http://{addr}"));
        Some(tokio::spawn(fleetid_lab::faults::serve(
            listener,
            lab.faults(),
            async {
                let _ = admin_stopped.await;
            },
        )))
    } else {
        None
    };
    lines.push("ready: Ctrl-C stops the lab".to_owned());
    let text = lines.join("\n") + "\n";
    out.write_all(text.as_bytes()).map_err(DemoError::Output)?;
    out.flush().map_err(DemoError::Output)?;
    let result = tokio::signal::ctrl_c().await.map_err(DemoError::Signal);
    let _ = stop_admin.send(());
    if let Some(admin) = admin {
        let _ = tokio::time::timeout(Duration::from_secs(5), admin).await;
    }
    result
}

/// `ctx` pointed at the lab: an environment with the lab's endpoint and region, its static
/// credentials, and live status over mTLS with its operator certificate.
#[must_use]
pub fn lab_context(lab: &LabHandle, ctx: Context, read_only: bool) -> Context {
    let env = Environment {
        name: ENVIRONMENT.to_owned(),
        settings: EnvironmentConfig {
            region: Some(fleetid_lab::registry::REGION.to_owned()),
            endpoint_url: Some(lab.endpoint_url.clone()),
            read_only,
            ..EnvironmentConfig::default()
        },
    };
    ctx.with_environment(env)
        .with_connection(lab_connection(lab))
}

/// The TUI on the lab's context; the demo starts from an empty fleet (no cache).
fn open_tui(ctx: &Arc<Context>, global: &GlobalArgs) -> Result<(), DemoError> {
    let options = interactive::options(ctx.config(), ctx.env(), global);
    interactive::run(
        &options,
        Arc::clone(ctx),
        interactive::Start::Fleet(Box::default()),
        None,
    )?;
    Ok(())
}

/// How a console reaches the lab: its static credentials, and live status over the gateway
/// with the operator certificate.
#[must_use]
pub fn lab_connection(lab: &LabHandle) -> Connection {
    Connection {
        credentials: Some(Credentials::new(
            fleetid_lab::api::ACCESS_KEY_ID,
            fleetid_lab::api::SECRET_ACCESS_KEY,
            None,
            None,
            "fleetid-demo",
        )),
        live: Some(LiveOptions {
            endpoint: Some(lab.mqtt_addr.to_string()),
            ca_pem: Some(lab.operator.ca_pem.clone()),
            auth: LiveAuth::Mtls {
                cert_pem: lab.operator.cert_pem.clone(),
                key_pem: lab.operator.key_pem.clone(),
            },
            client_id: OPERATOR_CLIENT_ID.to_owned(),
            presence: true,
        }),
    }
}
