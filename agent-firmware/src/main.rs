//! `fleetid-agent`: runs the device agent as a process (signals, logging, exit codes); the
//! work is done by `fleetid_agent::driver::run`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};
use fleetid_agent::driver::config::{ConfigFile, LoadedConfig, SecureElementSection};
use fleetid_agent::driver::{
    self, DeviceParts, FileStore, KeyStore, Led, LogLed, SecureElementKeys, SysfsLed,
};

/// The fleetid device agent: device identity on an NXP SE05x, over AWS IoT MQTT.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run with the secure element named in the configuration.
    Run {
        /// The agent configuration.
        #[arg(long, short, default_value = "/etc/fleetid-agent/agent.toml")]
        config: PathBuf,
    },
    /// Run with a simulated SE05x (in memory, or kept in --se-file).
    Sim {
        /// The agent configuration.
        #[arg(long, short)]
        config: PathBuf,
        /// Keep the simulated chip's objects in this file.
        #[arg(long)]
        se_file: Option<PathBuf>,
    },
    /// Factory step: generate the device key in a slot and print a CSR for it.
    Csr {
        /// The thing name (the CSR's common name).
        #[arg(long)]
        thing: String,
        /// The slot (SE05x object id; `0x` for hex): `identity.slots[0]` of the config.
        #[arg(long, default_value = "0x10000001", value_parser = parse_slot)]
        slot: u32,
        /// A simulated SE05x kept in this file.
        #[arg(long, conflicts_with = "i2c_device")]
        se_file: Option<PathBuf>,
        /// The SE05x on this Linux I2C bus.
        #[arg(long)]
        i2c_device: Option<PathBuf>,
    },
}

fn parse_slot(text: &str) -> Result<u32, String> {
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|e| format!("slot {text:?}: {e}"))
}

fn secure_element(section: &SecureElementSection) -> Result<SecureElementKeys> {
    if let Some(file) = &section.simulator_file {
        return SecureElementKeys::simulated_at(file).context("opening the simulated SE05x");
    }
    match &section.i2c_device {
        #[cfg(feature = "linux")]
        Some(device) => SecureElementKeys::open_i2c(device).context("opening the SE05x"),
        #[cfg(not(feature = "linux"))]
        Some(device) => bail!(
            "secure_element.i2c_device = {}: this build has no Linux I2C support (feature `linux`)",
            device.display()
        ),
        None => bail!("set secure_element.i2c_device or secure_element.simulator_file"),
    }
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

async fn run(config: LoadedConfig, keys: SecureElementKeys) -> Result<()> {
    let led: Box<dyn Led> = match &config.led_sysfs {
        Some(dir) => Box::new(SysfsLed::new(dir.clone())),
        None => Box::new(LogLed::default()),
    };
    let keys: Arc<dyn KeyStore> = Arc::new(keys);
    let device = DeviceParts {
        keys,
        store: Box::new(FileStore::new(config.state_file.clone())),
        led,
    };
    driver::run(config.driver, device, shutdown_signal())
        .await
        .context("running the agent")
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match Cli::parse().command {
        Command::Run { config } => {
            let config = ConfigFile::load(&config)?;
            let keys = secure_element(&config.secure_element)?;
            run(config, keys).await
        }
        Command::Sim { config, se_file } => {
            let config = ConfigFile::load(&config)?;
            let keys = match se_file {
                Some(file) => SecureElementKeys::simulated_at(&file)?,
                None => SecureElementKeys::simulated()?,
            };
            run(config, keys).await
        }
        Command::Csr {
            thing,
            slot,
            se_file,
            i2c_device,
        } => {
            let keys = secure_element(&SecureElementSection {
                i2c_device,
                simulator_file: se_file,
            })?;
            keys.generate_p256(slot)?;
            let csr =
                driver::tls::sign_csr(Arc::new(keys), slot, &thing).map_err(anyhow::Error::msg)?;
            print!("{csr}");
            Ok(())
        }
    }
}
