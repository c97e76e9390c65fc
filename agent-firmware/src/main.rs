//! `fleetid-agent`: runs the device agent as a process (signals, logging, exit codes); the
//! work is done by `fleetid_agent::driver::run`.
//!
//! Exit status: 0 after a clean stop, 78 (`EX_CONFIG`) when the configuration cannot be used
//! (the unit does not restart the agent then), 2 for bad arguments, 1 for anything else.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};
use fleetid_agent::driver::config::{
    ConfigError, ConfigFile, DEFAULT_PATH, LoadedConfig, Location, SecureElementSection,
};
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
        #[arg(long, short, default_value = DEFAULT_PATH)]
        config: PathBuf,
    },
    /// Check the configuration and the files it names, as `run` does at start, and exit.
    Check {
        /// The agent configuration.
        #[arg(long, short, default_value = DEFAULT_PATH)]
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
    ///
    /// Settings not given as flags come from the configuration (`thing`, `identity.slots[0]`,
    /// `[secure_element]`); the PEM files it names need not exist yet.
    Csr {
        /// The agent configuration [default: /etc/fleetid-agent/agent.toml when present].
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// The thing name (the CSR's common name) [default: `thing` of the config].
        #[arg(long)]
        thing: Option<String>,
        /// The slot (SE05x object id; `0x` for hex) [default: `identity.slots[0]` of the
        /// config, or 0x10000001].
        #[arg(long, value_parser = parse_slot)]
        slot: Option<u32>,
        /// A simulated SE05x kept in this file.
        #[arg(long, conflicts_with = "i2c_device")]
        se_file: Option<PathBuf>,
        /// The SE05x on this Linux I2C bus.
        #[arg(long)]
        i2c_device: Option<PathBuf>,
    },
}

/// `EX_CONFIG` of sysexits.h: the unit's `RestartPreventExitStatus=` names it.
const EXIT_CONFIG: u8 = 78;

/// The configuration `csr` reads: the one named, or the default one when it exists.
fn csr_config(explicit: Option<PathBuf>) -> Result<Option<ConfigFile>, ConfigError> {
    let path = match explicit {
        Some(path) => path,
        None if Path::new(DEFAULT_PATH).exists() => PathBuf::from(DEFAULT_PATH),
        None => return Ok(None),
    };
    ConfigFile::read(&path).map(Some)
}

fn parse_slot(text: &str) -> Result<u32, String> {
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|e| format!("slot {text:?}: {e}"))
}

/// A configuration error found outside the file's own checks (no line to point at).
fn config_error(path: &Path, key: &str, message: &str) -> ConfigError {
    ConfigError::Invalid {
        at: Location {
            path: path.to_owned(),
            line_column: None,
        },
        key: Some(key.to_owned()),
        message: message.to_owned(),
    }
}

/// Checks that this build can open the configured secure element.
fn check_secure_element(path: &Path, section: &SecureElementSection) -> Result<(), ConfigError> {
    match (&section.i2c_device, &section.simulator_file) {
        (None, None) => Err(config_error(
            path,
            "secure_element.i2c_device",
            "set i2c_device or simulator_file",
        )),
        (Some(_), _) if !cfg!(feature = "linux") => Err(config_error(
            path,
            "secure_element.i2c_device",
            "this build has no Linux I2C support (feature `linux`)",
        )),
        _ => Ok(()),
    }
}

fn secure_element(section: &SecureElementSection) -> Result<SecureElementKeys> {
    if let Some(file) = &section.simulator_file {
        return SecureElementKeys::simulated_at(file).context("opening the simulated SE05x");
    }
    match &section.i2c_device {
        #[cfg(feature = "linux")]
        Some(device) => SecureElementKeys::open_i2c(device)
            .with_context(|| format!("opening the SE05x on {}", device.display())),
        _ => bail!(
            "no secure element: set --i2c-device or --se-file, or secure_element in the config"
        ),
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
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match command(Cli::parse().command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("fleetid-agent: {error:#}");
            if error.downcast_ref::<ConfigError>().is_some() {
                ExitCode::from(EXIT_CONFIG)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

async fn command(command: Command) -> Result<()> {
    match command {
        Command::Run { config: path } => {
            let config = ConfigFile::load(&path)?;
            check_secure_element(&path, &config.secure_element)?;
            let keys = secure_element(&config.secure_element)?;
            run(config, keys).await
        }
        Command::Check { config: path } => {
            let config = ConfigFile::load(&path)?;
            check_secure_element(&path, &config.secure_element)?;
            let endpoint = &config.driver.endpoint;
            println!(
                "{}: ok (thing {}, server {}:{})",
                path.display(),
                config.driver.policy.thing,
                endpoint.host,
                endpoint.port
            );
            Ok(())
        }
        Command::Sim {
            config: path,
            se_file,
        } => {
            let config = ConfigFile::load(&path)?;
            let keys = match se_file {
                Some(file) => SecureElementKeys::simulated_at(&file)?,
                None => SecureElementKeys::simulated()?,
            };
            run(config, keys).await
        }
        Command::Csr {
            config,
            thing,
            slot,
            se_file,
            i2c_device,
        } => {
            // Flags win over the configuration.
            let config = csr_config(config)?;
            let thing = match (thing, &config) {
                (Some(thing), _) => thing,
                (None, Some(config)) => config.thing.clone(),
                (None, None) => bail!("--thing is required without a configuration"),
            };
            let slot = slot
                .or(config.as_ref().map(|c| c.identity.slots[0]))
                .unwrap_or(0x1000_0001);
            let section = if se_file.is_some() || i2c_device.is_some() {
                SecureElementSection {
                    i2c_device,
                    simulator_file: se_file,
                }
            } else {
                config.map(|c| c.secure_element).unwrap_or_default()
            };
            let keys = secure_element(&section)?;
            keys.generate_p256(slot)?;
            let csr =
                driver::tls::sign_csr(Arc::new(keys), slot, &thing).map_err(anyhow::Error::msg)?;
            print!("{csr}");
            Ok(())
        }
    }
}
