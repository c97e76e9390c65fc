//! Devices in a second process. One process holds two descriptors per device (the device's
//! socket and the gateway's), so a fleet near half the open-file limit does not fit one
//! process; then the lab (gateway, registry, JITR, API) stays in its process and the devices
//! run in a child started by a [`DeviceCommand`] (the same binary, whose entry point calls
//! [`run_child`]).
//!
//! The parent writes one JSON line to the child's standard input with everything the devices
//! need (gateway address, the root CA, the issuing CA's certificate and key to sign the CSRs
//! made in the simulated SE05x, the plan's size, seed and scenario) and keeps the pipe open:
//! each later line is a request of the lab's fault injection (cut the power of agents, report
//! every agent), answered by one JSON line on the child's standard output. Closing the pipe
//! stops the devices.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::scenario::{self, Scenario};
use super::{DeviceKind, DeviceLink, Fleet};
use crate::faults::{AgentReport, PowerCut, agent_reports, cut_power};
use crate::pki::CertificateAuthority;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Descriptors a process needs besides two per device (listeners, the API's connections,
/// files, the runtime).
const SPARE_DESCRIPTORS: u64 = 512;

/// How to start a process that runs devices: a program whose entry point calls
/// [`run_child`] when given `args`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCommand {
    /// The program (usually the running binary).
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
}

/// The soft limit on open files of this process, when /proc tells it.
#[must_use]
pub fn open_file_limit() -> Option<u64> {
    std::fs::read_to_string("/proc/self/limits")
        .ok()?
        .lines()
        .find(|l| l.starts_with("Max open files"))?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()
}

/// Whether `devices` devices and the lab fit this process's open-file limit (`true` when the
/// limit is unknown).
#[must_use]
pub fn fits_one_process(devices: usize) -> bool {
    let needed = u64::try_from(devices)
        .unwrap_or(u64::MAX)
        .saturating_mul(2)
        .saturating_add(SPARE_DESCRIPTORS);
    open_file_limit().is_none_or(|limit| needed <= limit)
}

/// The parent's first line: everything the devices need.
#[derive(Debug, Serialize, Deserialize)]
struct Handover {
    /// The gateway's MQTT (mTLS) address.
    gateway: SocketAddr,
    /// The lab's root CA.
    root_ca_pem: String,
    /// The issuing CA's certificate and key (the devices' CSRs are signed with it).
    issuing_ca_pem: String,
    issuing_key_pem: String,
    /// How often each device reports its status.
    status_interval_ms: u64,
    kind: DeviceKind,
    /// The plan: its size, seed and scenario.
    devices: usize,
    seed: u64,
    scenario: Scenario,
}

/// A request of the parent, one JSON line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
enum Request {
    /// [`cut_power`] on the child's agents.
    PowerCut {
        count: usize,
        down_ms: u64,
        seed: u64,
    },
    /// [`agent_reports`] of the child's agents.
    Agents,
}

/// The child process that runs the devices, and the pipe to it.
pub struct DeviceProcess {
    child: Mutex<Child>,
    pipe: Mutex<Option<(ChildStdin, BufReader<ChildStdout>)>>,
}

impl std::fmt::Debug for DeviceProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceProcess")
            .field("pid", &self.pid())
            .finish_non_exhaustive()
    }
}

impl DeviceProcess {
    /// Starts `command` and hands it the devices of a `devices`-sized `scenario` plan with
    /// `seed`.
    ///
    /// # Errors
    /// The process did not start or its pipe could not be written.
    pub fn spawn(
        command: &DeviceCommand,
        link: &DeviceLink,
        devices: usize,
        seed: u64,
        scenario: Scenario,
    ) -> Result<Self, BoxError> {
        let mut child = Command::new(&command.program)
            .args(&command.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut stdin = child
            .stdin
            .take()
            .ok_or("the device process has no stdin")?;
        let stdout = child
            .stdout
            .take()
            .ok_or("the device process has no stdout")?;
        let handover = Handover {
            gateway: link.gateway,
            root_ca_pem: link.root_ca_pem.clone(),
            issuing_ca_pem: link.issuing_ca.certificate_pem.clone(),
            issuing_key_pem: link.issuing_ca.key_pem(),
            status_interval_ms: u64::try_from(link.status_interval.as_millis())?,
            kind: link.kind,
            devices,
            seed,
            scenario,
        };
        writeln!(stdin, "{}", serde_json::to_string(&handover)?)?;
        stdin.flush()?;
        Ok(Self {
            child: Mutex::new(child),
            pipe: Mutex::new(Some((stdin, BufReader::new(stdout)))),
        })
    }

    /// The child's process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .id()
    }

    /// Whether the child has exited (or cannot be asked).
    #[must_use]
    pub fn ended(&self) -> bool {
        self.child
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .try_wait()
            .map_or(true, |status| status.is_some())
    }

    /// One request and its answer (requests wait for each other).
    fn ask<T: for<'de> Deserialize<'de>>(&self, request: &Request) -> Result<T, BoxError> {
        let mut pipe = self.pipe.lock().unwrap_or_else(PoisonError::into_inner);
        let (stdin, stdout) = pipe.as_mut().ok_or("the device process is stopping")?;
        writeln!(stdin, "{}", serde_json::to_string(request)?)?;
        stdin.flush()?;
        let mut line = String::new();
        if stdout.read_line(&mut line)? == 0 {
            return Err("the device process ended".into());
        }
        Ok(serde_json::from_str(&line)?)
    }

    /// [`cut_power`] in the child; nothing cut when it cannot be asked.
    pub(crate) fn cut_power(&self, count: usize, down: Duration, seed: u64) -> PowerCut {
        let down_ms = u64::try_from(down.as_millis()).unwrap_or(u64::MAX);
        self.ask(&Request::PowerCut {
            count,
            down_ms,
            seed,
        })
        .unwrap_or(PowerCut {
            requested: count,
            rotating: 0,
            cut: Vec::new(),
        })
    }

    /// [`agent_reports`] from the child; none when it cannot be asked.
    pub(crate) fn agents(&self) -> Vec<AgentReport> {
        self.ask(&Request::Agents).unwrap_or_default()
    }

    /// Closes the pipe (the devices disconnect) and waits up to `within` for the child to
    /// exit; kills it after that. Returns whether it exited by itself with success.
    pub async fn stop(&self, within: Duration) -> bool {
        drop(
            self.pipe
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            let status = self
                .child
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .try_wait();
            match status {
                Ok(Some(status)) => return status.success(),
                Ok(None) => tokio::time::sleep(Duration::from_millis(100)).await,
                Err(_) => break,
            }
        }
        let mut child = self.child.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = child.kill();
        let _ = child.wait();
        false
    }
}

/// The child's side: reads the spec line, runs the devices, answers the parent's requests
/// until standard input closes, then stops the devices.
///
/// # Errors
/// A malformed spec, devices that could not be started, the pipe failing.
pub async fn run_child() -> Result<(), BoxError> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    // Standard input is read on a thread of its own: one line per message.
    std::thread::Builder::new()
        .name("device-process-stdin".into())
        .spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        })?;
    let line = lines.recv().await.ok_or("no device spec on stdin")?;
    let handover: Handover = serde_json::from_str(&line)?;
    let link = DeviceLink {
        gateway: handover.gateway,
        root_ca_pem: handover.root_ca_pem,
        issuing_ca: Arc::new(CertificateAuthority::from_pem(
            &handover.issuing_ca_pem,
            &handover.issuing_key_pem,
        )?),
        status_interval: Duration::from_millis(handover.status_interval_ms),
        kind: handover.kind,
    };
    let seed = handover.seed;
    let plan = scenario::plan(handover.devices, seed, handover.scenario);
    let fleet = Fleet::run_devices(&link, &plan, 0, seed)?;
    let agents = fleet.agents();
    let mut out = std::io::stdout();
    // Until the parent closes the pipe.
    while let Some(line) = lines.recv().await {
        let answer = match serde_json::from_str::<Request>(&line)? {
            Request::PowerCut {
                count,
                down_ms,
                seed,
            } => serde_json::to_string(&cut_power(
                &agents,
                count,
                Duration::from_millis(down_ms),
                seed,
            ))?,
            Request::Agents => serde_json::to_string(&agent_reports(&agents))?,
        };
        writeln!(out, "{answer}")?;
        out.flush()?;
    }
    fleet.shutdown().await;
    Ok(())
}
