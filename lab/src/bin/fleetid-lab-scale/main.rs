//! Lab scale run: boots a quiet fleet of N simulated devices over real mTLS and reports the
//! time until all are connected, the steady-state CPU use and the resident memory.
//!
//! `fleetid-lab-scale [DEVICES] [STEADY_SECONDS] [scripted|agent] [--device-process]`
//! (defaults 1000, 20, scripted: the lab's lightweight device; `agent`: the real
//! fleetid-agent, each with its own simulated SE05x). Linux only (reads /proc). In one process
//! each device uses two descriptors; `--device-process` runs the devices in a child process
//! (`fleetid_lab::fleet::process`, this binary started as `fleetid-lab-scale devices`) and
//! reports both processes' CPU and memory.

mod procfs;

use std::time::{Duration, Instant};

use fleetid_lab::fleet::DeviceKind;
use fleetid_lab::fleet::process::{self, DeviceCommand};
use fleetid_lab::fleet::scenario::Scenario;
use fleetid_lab::{DeviceHost, Lab, LabOptions};
use procfs::Process;

type BoxError = Box<dyn std::error::Error>;

/// Status interval of every device.
const STATUS_INTERVAL: Duration = Duration::from_secs(30);
/// How long the boot may take before the run gives up.
const BOOT_DEADLINE: Duration = Duration::from_secs(600);

struct Args {
    devices: usize,
    steady: u64,
    kind: DeviceKind,
    device_process: bool,
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Args, BoxError> {
    let (flags, positional): (Vec<String>, Vec<String>) = args.partition(|a| a.starts_with("--"));
    let device_process = match flags.as_slice() {
        [] => false,
        [flag] if flag == "--device-process" => true,
        other => return Err(format!("unknown flags {other:?}: only --device-process").into()),
    };
    let mut positional = positional.into_iter();
    let devices = positional.next().map_or(Ok(1000), |a| a.parse())?;
    let steady = positional.next().map_or(Ok(20), |a| a.parse())?;
    let kind = match positional.next().as_deref() {
        None | Some("scripted") => DeviceKind::Scripted,
        Some("agent") => DeviceKind::Agent,
        Some(other) => return Err(format!("device kind {other:?}: scripted or agent").into()),
    };
    Ok(Args {
        devices,
        steady,
        kind,
        device_process,
    })
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    if std::env::args().nth(1).as_deref() == Some("devices") {
        return process::run_child().await.map_err(|e| e as BoxError);
    }
    let args = parse_args(std::env::args().skip(1))?;
    if !args.device_process && !process::fits_one_process(args.devices) {
        return Err(format!(
            "{} devices need about two open files each in one process; the limit is {}: add \
             --device-process to run the devices in a second process",
            args.devices,
            process::open_file_limit().unwrap_or_default()
        )
        .into());
    }
    run(&args).await
}

async fn run(args: &Args) -> Result<(), BoxError> {
    let started = Instant::now();
    let lab = Lab::start(LabOptions {
        devices: args.devices,
        seed: 1,
        scenario: Scenario::Quiet,
        device_kind: args.kind,
        status_interval: STATUS_INTERVAL,
        device_host: if args.device_process {
            DeviceHost::Process(DeviceCommand {
                program: std::env::current_exe()?,
                args: vec!["devices".to_owned()],
            })
        } else {
            DeviceHost::Here
        },
        ..LabOptions::default()
    })
    .await?;
    let prepared = started.elapsed();
    let mut progress = lab.progress.clone();
    let deadline = Instant::now() + BOOT_DEADLINE;
    let mut last_print = Instant::now();
    loop {
        let p = *progress.borrow_and_update();
        if last_print.elapsed() > Duration::from_secs(5) {
            eprintln!(
                "{:>6.1} s: {} of {} connected",
                started.elapsed().as_secs_f64(),
                p.connected,
                p.total
            );
            last_print = Instant::now();
        }
        if p.connected >= args.devices || Instant::now() > deadline {
            break;
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), progress.changed()).await;
    }
    let booted = started.elapsed();
    let connected = lab.connected();

    let child = lab.device_process_id().map(Process::Pid);
    let cpu = |p: Option<Process>| p.map_or(0.0, Process::cpu_seconds);
    let (lab_boot_cpu, devices_boot_cpu) = (Process::This.cpu_seconds(), cpu(child));
    let (lab_before, devices_before) = (Process::This.cpu_seconds(), cpu(child));
    let wall = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.steady)).await;
    let seconds = wall.elapsed().as_secs_f64();
    let lab_cores = (Process::This.cpu_seconds() - lab_before) / seconds;
    let device_cores = (cpu(child) - devices_before) / seconds;
    let mib = |p: Option<Process>, key| p.map_or(0, |p| p.memory_kib(key) / 1024);
    println!(
        "kind={:?} devices={} device_process={} connected={connected} \
         certificates_and_keys_made_in={:.1}s all_connected_after={:.1}s \
         boot_cpu_seconds={:.1} (lab {lab_boot_cpu:.1} + devices {devices_boot_cpu:.1}) \
         steady_state_cores={:.3} (lab {lab_cores:.3} + devices {device_cores:.3}, over {}s, \
         status every {}s) rss_mib={} (lab {} + devices {}) peak_rss_mib={} (lab {} + devices {})",
        args.kind,
        args.devices,
        args.device_process,
        prepared.as_secs_f64(),
        booted.as_secs_f64(),
        lab_boot_cpu + devices_boot_cpu,
        lab_cores + device_cores,
        args.steady,
        STATUS_INTERVAL.as_secs(),
        mib(Some(Process::This), "VmRSS:") + mib(child, "VmRSS:"),
        mib(Some(Process::This), "VmRSS:"),
        mib(child, "VmRSS:"),
        mib(Some(Process::This), "VmHWM:") + mib(child, "VmHWM:"),
        mib(Some(Process::This), "VmHWM:"),
        mib(child, "VmHWM:"),
    );
    let stopping = Instant::now();
    // The lab stops its device process first.
    lab.shutdown().await;
    println!("shutdown_took={:.1}s", stopping.elapsed().as_secs_f64());
    Ok(())
}
