//! Lab scale run: boots a quiet fleet of N simulated devices over real mTLS and reports the
//! time until all are connected, the steady-state CPU use and the resident memory.
//!
//! `fleetid-lab-scale [DEVICES] [STEADY_SECONDS] [scripted|agent]` (defaults 1000, 20,
//! scripted: the lab's lightweight device; `agent`: the real fleetid-agent, each with its own
//! simulated SE05x). Linux only (reads /proc/self). Each device uses two descriptors.

use std::time::{Duration, Instant};

use fleetid_lab::fleet::DeviceKind;
use fleetid_lab::fleet::scenario::Scenario;
use fleetid_lab::{Lab, LabOptions};

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name: utime and stime are the 12th and 13th.
    let after = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn memory_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let devices: usize = args.next().map_or(Ok(1000), |a| a.parse())?;
    let steady: u64 = args.next().map_or(Ok(20), |a| a.parse())?;
    let kind = match args.next().as_deref() {
        None | Some("scripted") => DeviceKind::Scripted,
        Some("agent") => DeviceKind::Agent,
        Some(other) => return Err(format!("device kind {other:?}: scripted or agent").into()),
    };

    let started = Instant::now();
    let lab = Lab::start(LabOptions {
        devices,
        seed: 1,
        scenario: Scenario::Quiet,
        device_kind: kind,
        ..LabOptions::default()
    })
    .await?;
    let prepared = started.elapsed();
    let mut progress = lab.progress.clone();
    let deadline = Instant::now() + Duration::from_secs(600);
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
        if p.connected >= devices || Instant::now() > deadline {
            break;
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), progress.changed()).await;
    }
    let booted = started.elapsed();
    let connected = lab.connected();

    let cpu_before = cpu_seconds();
    let wall = Instant::now();
    tokio::time::sleep(Duration::from_secs(steady)).await;
    let cores = (cpu_seconds() - cpu_before) / wall.elapsed().as_secs_f64();
    println!(
        "kind={kind:?} devices={devices} connected={connected} certificates_and_keys_made_in={:.1}s all_connected_after={:.1}s \
         steady_state_cores={cores:.3} (over {steady}s, status every 30s) rss_mib={} peak_rss_mib={} status_messages={}",
        prepared.as_secs_f64(),
        booted.as_secs_f64(),
        memory_kib("VmRSS:") / 1024,
        memory_kib("VmHWM:") / 1024,
        lab.scripted_status_messages(),
    );
    let stopping = Instant::now();
    lab.shutdown().await;
    println!("shutdown_took={:.1}s", stopping.elapsed().as_secs_f64());
    Ok(())
}
