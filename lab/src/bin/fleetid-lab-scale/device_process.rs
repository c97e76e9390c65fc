//! Devices in a second process. One process holds two descriptors per device (the device's
//! socket and the gateway's), so a one-process run stops near half the open-file limit; with
//! `--device-process` the lab (gateway, registry, JITR, API) stays here and the devices run in
//! a child: this same binary started as `fleetid-lab-scale devices`. The parent writes one JSON
//! line to the child's standard input with everything the devices need (gateway address, the
//! root CA, the issuing CA's certificate and key to sign the CSRs made in the simulated
//! SE05x, the plan's size and seed) and keeps the pipe open; closing it stops the devices.

use std::io::{BufRead, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fleetid_lab::fleet::scenario::{self, Scenario};
use fleetid_lab::fleet::{DeviceKind, DeviceLink, Fleet};
use fleetid_lab::pki::CertificateAuthority;
use serde_json::json;

type BoxError = Box<dyn std::error::Error>;

/// The child process that runs the devices.
pub struct DeviceProcess {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl DeviceProcess {
    /// Starts `fleetid-lab-scale devices` and hands it the devices of a `devices`-sized quiet
    /// plan with `seed`.
    pub fn spawn(link: &DeviceLink, devices: usize, seed: u64) -> Result<Self, BoxError> {
        let exe = std::env::current_exe()?;
        let mut child = Command::new(exe)
            .arg("devices")
            .stdin(Stdio::piped())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut stdin = child
            .stdin
            .take()
            .ok_or("the device process has no stdin")?;
        let spec = json!({
            "gateway": link.gateway.to_string(),
            "root_ca_pem": link.root_ca_pem,
            "issuing_ca_pem": link.issuing_ca.certificate_pem,
            "issuing_key_pem": link.issuing_ca.key_pem(),
            "status_interval_ms": u64::try_from(link.status_interval.as_millis())?,
            "kind": match link.kind { DeviceKind::Agent => "agent", DeviceKind::Scripted => "scripted" },
            "devices": devices,
            "seed": seed,
        });
        writeln!(stdin, "{spec}")?;
        stdin.flush()?;
        Ok(Self {
            child,
            stdin: Some(stdin),
        })
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Closes the pipe (the devices disconnect) and waits up to `within` for the child to
    /// exit; kills it after that. Returns whether it exited by itself with success.
    pub async fn stop(mut self, within: Duration) -> bool {
        drop(self.stdin.take());
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(status)) => return status.success(),
                Ok(None) => tokio::time::sleep(Duration::from_millis(100)).await,
                Err(_) => break,
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }
}

/// The child's side: reads the spec line, runs the devices until standard input closes.
pub async fn run_child() -> Result<(), BoxError> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let line = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    })
    .await??;
    let spec: serde_json::Value = serde_json::from_str(&line)?;
    let text = |key: &str| -> Result<String, BoxError> {
        Ok(spec[key]
            .as_str()
            .ok_or_else(|| format!("device spec: {key} missing"))?
            .to_owned())
    };
    let number = |key: &str| -> Result<u64, BoxError> {
        Ok(spec[key]
            .as_u64()
            .ok_or_else(|| format!("device spec: {key} missing"))?)
    };
    let kind = match text("kind")?.as_str() {
        "agent" => DeviceKind::Agent,
        _ => DeviceKind::Scripted,
    };
    let link = DeviceLink {
        gateway: text("gateway")?.parse()?,
        root_ca_pem: text("root_ca_pem")?,
        issuing_ca: Arc::new(CertificateAuthority::from_pem(
            &text("issuing_ca_pem")?,
            &text("issuing_key_pem")?,
        )?),
        status_interval: Duration::from_millis(number("status_interval_ms")?),
        kind,
    };
    let seed = number("seed")?;
    let plan = scenario::plan(usize::try_from(number("devices")?)?, seed, Scenario::Quiet);
    let fleet = Fleet::run_devices(&link, &plan, 0, seed)?;
    // Until the parent closes the pipe.
    tokio::task::spawn_blocking(|| {
        let mut rest = Vec::new();
        let _ = std::io::stdin().lock().read_to_end(&mut rest);
    })
    .await?;
    fleet.shutdown().await;
    Ok(())
}
