//! The agent's TOML configuration file (`/etc/fleetid-agent/agent.toml`), checked when the
//! agent starts: unknown keys and unusable values are errors naming the file, line and key.
//!
//! Every key is documented in the example shipped with the package
//! (`agent-firmware/packaging/agent.toml`).

mod error;
mod source;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use self::error::{ConfigError, Location};
use self::source::Source;
use super::{DriverConfig, Endpoint};
use crate::core::{FirstIdentity, Policy};

/// Where the packaged agent reads its configuration.
pub const DEFAULT_PATH: &str = "/etc/fleetid-agent/agent.toml";

/// `agent.toml`, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Thing name and MQTT client id.
    pub thing: String,
    /// Where the persistent state lives.
    pub state_file: PathBuf,
    /// Firmware version reported (defaults to the agent's version).
    pub firmware: Option<String>,
    /// The broker.
    pub server: ServerSection,
    /// Keys and certificates.
    pub identity: IdentitySection,
    /// Timing.
    #[serde(default)]
    pub timing: TimingSection,
    /// The LED.
    #[serde(default)]
    pub led: LedSection,
    /// The secure element.
    #[serde(default)]
    pub secure_element: SecureElementSection,
}

/// `[secure_element]`: the chip on an I2C bus, or a simulator whose objects live in a file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecureElementSection {
    /// `/dev/i2c-N` of the SE05x (address 0x48); needs the `linux` feature.
    pub i2c_device: Option<PathBuf>,
    /// A simulated SE05x whose objects are kept in this file.
    pub simulator_file: Option<PathBuf>,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Host name.
    pub host: String,
    /// 8883 or 443.
    #[serde(default = "default_port")]
    pub port: u16,
    /// PEM file of the server trust anchor (e.g. Amazon Root CA 1).
    pub anchor: PathBuf,
    /// MQTT keepalive, 30-1200.
    #[serde(default = "default_keepalive")]
    pub keepalive_seconds: u16,
}

/// `[identity]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitySection {
    /// The two secure element slots the device key alternates between.
    #[serde(default = "default_slots")]
    pub slots: [u32; 2],
    /// Factory certificate (PEM file) for the key in `slots[0]`.
    pub certificate: Option<PathBuf>,
    /// Claim certificate (PEM file) for provisioning by claim.
    pub claim_certificate: Option<PathBuf>,
    /// Slot of the claim key.
    pub claim_slot: Option<u32>,
    /// Provisioning template for provisioning by claim.
    pub template: Option<String>,
}

/// The longest `[timing]` period accepted. Longer ones make no sense for a device and, in
/// milliseconds, would overflow the core's deadlines.
const MAX_PERIOD_SECONDS: u64 = 365 * 24 * 60 * 60;

/// `[timing]`, all in seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimingSection {
    /// Status message period.
    pub status_interval_seconds: u64,
    /// Failures before Fallback.
    pub fallback_after: u32,
    /// Retry period in Fallback, Revoked and Error.
    pub slow_retry_seconds: u64,
    /// Refusals that mean Revoked...
    pub revoked_after: u32,
    /// ...within this window.
    pub revoked_window_seconds: u64,
}

impl Default for TimingSection {
    fn default() -> Self {
        Self {
            status_interval_seconds: 300,
            fallback_after: 5,
            slow_retry_seconds: 900,
            revoked_after: 3,
            revoked_window_seconds: 600,
        }
    }
}

/// `[led]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedSection {
    /// A `/sys/class/leds/<name>` directory; without it the LED is logged.
    pub sysfs: Option<PathBuf>,
}

fn default_port() -> u16 {
    8883
}

fn default_keepalive() -> u16 {
    60
}

fn default_slots() -> [u32; 2] {
    [0x1000_0001, 0x1000_0002]
}

/// A configuration ready to run.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// For [`super::run`].
    pub driver: DriverConfig,
    /// Where the state lives.
    pub state_file: PathBuf,
    /// LED directory, if any.
    pub led_sysfs: Option<PathBuf>,
    /// The secure element, paths resolved.
    pub secure_element: SecureElementSection,
}

/// How the device gets its first certificate, as the file says.
enum FirstIdentityFiles<'a> {
    /// A factory certificate for the key in `slots[0]` (JITR).
    Factory { certificate: &'a Path },
    /// Provisioning by claim.
    Claim {
        certificate: &'a Path,
        slot: u32,
        template: &'a str,
    },
}

/// A file being checked: its path and text, to point errors at lines and keys.
struct Checked<'a> {
    path: &'a Path,
    source: Source<'a>,
}

impl<'a> Checked<'a> {
    fn new(path: &'a Path, text: &'a str) -> Self {
        Self {
            path,
            source: Source::new(text),
        }
    }

    fn at(&self, offset: Option<usize>) -> Location {
        Location {
            path: self.path.to_owned(),
            line_column: offset.map(|o| self.source.position(o)),
        }
    }

    /// The value of `key` cannot be used; points at it when the file sets it.
    fn invalid(&self, key: &str, message: impl Into<String>) -> ConfigError {
        let span = self.source.span_of(key);
        ConfigError::Invalid {
            at: self.at(span.map(|s| s.start)),
            key: Some(key.to_owned()),
            message: message.into(),
        }
    }

    /// Not TOML, an unknown key, a missing key or a value of the wrong type.
    fn toml(&self, error: &toml::de::Error) -> ConfigError {
        let span = error.span();
        ConfigError::Invalid {
            at: self.at(span.as_ref().map(|s| s.start)),
            key: span.and_then(|s| self.source.key_at(&s)),
            message: error.message().trim().to_owned(),
        }
    }
}

fn read_text(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
        path: path.to_owned(),
        error,
    })
}

impl ConfigFile {
    /// Reads and checks `path`, and the PEM files it names: what `fleetid-agent run` does
    /// at start.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file, and the line and key when the file has them.
    pub fn load(path: &Path) -> Result<LoadedConfig, ConfigError> {
        let text = read_text(path)?;
        let checked = Checked::new(path, &text);
        Self::check(&checked, &text)?.resolve(&checked)
    }

    /// Reads and checks `path` without reading the files it names (the factory step runs
    /// before the device certificate exists). Relative paths are made relative to `path`'s
    /// directory.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file, and the line and key when the file has them.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = read_text(path)?;
        Self::parse(path, &text)
    }

    /// Checks `text` as the contents of `path` (see [`ConfigFile::read`]).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the file, line and key.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        Self::check(&Checked::new(path, text), text)
    }

    fn check(at: &Checked<'_>, text: &str) -> Result<Self, ConfigError> {
        let mut file: Self = toml::from_str(text).map_err(|e| at.toml(&e))?;
        file.check_values(at)?;
        file.first_identity_files(at)?;
        let base = at.path.parent().unwrap_or(Path::new("."));
        file.relative_to(base);
        Ok(file)
    }

    fn check_values(&self, at: &Checked<'_>) -> Result<(), ConfigError> {
        // AWS IoT thing names; also keeps MQTT wildcards and slashes out of the topics.
        let valid_thing = (1..=128).contains(&self.thing.len())
            && self
                .thing
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-'));
        if !valid_thing {
            return Err(at.invalid("thing", "must be 1-128 characters of [a-zA-Z0-9:_-]"));
        }
        if self.server.port == 0 {
            return Err(at.invalid("server.port", "must be 1-65535 (8883, or 443)"));
        }
        if !(30..=1200).contains(&self.server.keepalive_seconds) {
            return Err(at.invalid("server.keepalive_seconds", "must be 30-1200"));
        }
        let timing = &self.timing;
        let periods = [
            (
                "timing.status_interval_seconds",
                timing.status_interval_seconds,
            ),
            ("timing.slow_retry_seconds", timing.slow_retry_seconds),
            (
                "timing.revoked_window_seconds",
                timing.revoked_window_seconds,
            ),
        ];
        for (key, seconds) in periods {
            if seconds > MAX_PERIOD_SECONDS {
                return Err(at.invalid(
                    key,
                    format!("must be at most {MAX_PERIOD_SECONDS} (a year)"),
                ));
            }
        }
        super::tls::check_server_name(&self.server.host)
            .map_err(|e| at.invalid("server.host", e))?;
        if self.identity.slots[0] == self.identity.slots[1] {
            return Err(at.invalid("identity.slots", "the two slots must differ"));
        }
        let se = &self.secure_element;
        if se.i2c_device.is_some() && se.simulator_file.is_some() {
            return Err(at.invalid(
                "secure_element.simulator_file",
                "set i2c_device or simulator_file, not both",
            ));
        }
        Ok(())
    }

    fn first_identity_files(
        &self,
        at: &Checked<'_>,
    ) -> Result<FirstIdentityFiles<'_>, ConfigError> {
        let identity = &self.identity;
        match (&identity.certificate, &identity.claim_certificate) {
            (Some(certificate), None) => Ok(FirstIdentityFiles::Factory { certificate }),
            (None, Some(certificate)) => {
                let slot = identity.claim_slot.ok_or_else(|| {
                    at.invalid("identity.claim_slot", "required with claim_certificate")
                })?;
                let template = identity.template.as_deref().ok_or_else(|| {
                    at.invalid("identity.template", "required with claim_certificate")
                })?;
                if !crate::wire::is_template_name(template) {
                    return Err(at.invalid(
                        "identity.template",
                        "must be 1-36 characters of [a-zA-Z0-9_-]",
                    ));
                }
                Ok(FirstIdentityFiles::Claim {
                    certificate,
                    slot,
                    template,
                })
            }
            _ => Err(at.invalid(
                "identity.certificate",
                "set exactly one of certificate and claim_certificate",
            )),
        }
    }

    /// Relative paths in the file are relative to its directory.
    fn relative_to(&mut self, base: &Path) {
        let paths = [
            Some(&mut self.state_file),
            Some(&mut self.server.anchor),
            self.identity.certificate.as_mut(),
            self.identity.claim_certificate.as_mut(),
            self.secure_element.simulator_file.as_mut(),
        ];
        for path in paths.into_iter().flatten() {
            *path = base.join(&*path);
        }
    }

    /// Reads the PEM files and builds what the driver runs with.
    fn resolve(self, at: &Checked<'_>) -> Result<LoadedConfig, ConfigError> {
        let read = |key: &str, file: &Path| {
            std::fs::read_to_string(file)
                .map_err(|e| at.invalid(key, format!("reading {}: {e}", file.display())))
        };
        let anchor_pem = read("server.anchor", &self.server.anchor)?;
        let first_identity = match self.first_identity_files(at)? {
            FirstIdentityFiles::Factory { certificate } => FirstIdentity::Factory {
                slot: self.identity.slots[0],
                certificate_pem: read("identity.certificate", certificate)?,
            },
            FirstIdentityFiles::Claim {
                certificate,
                slot,
                template,
            } => FirstIdentity::Claim {
                slot,
                certificate_pem: read("identity.claim_certificate", certificate)?,
                template: template.to_owned(),
            },
        };
        let mut policy = Policy::new(self.thing.clone(), first_identity, anchor_pem);
        if let Some(firmware) = self.firmware {
            policy.firmware = firmware;
        }
        policy.slots = self.identity.slots;
        let timing = &self.timing;
        policy.status_interval_ms = timing.status_interval_seconds.max(1) * 1_000;
        policy.fallback_after = timing.fallback_after.max(1);
        policy.slow_retry_ms = timing.slow_retry_seconds.max(1) * 1_000;
        policy.revoked_after = timing.revoked_after.max(1);
        policy.revoked_window_ms = timing.revoked_window_seconds * 1_000;
        let mut endpoint = Endpoint::new(self.server.host, self.server.port);
        endpoint.keepalive_secs = self.server.keepalive_seconds;
        Ok(LoadedConfig {
            driver: DriverConfig {
                policy,
                endpoint,
                seed: None,
            },
            state_file: self.state_file,
            led_sysfs: self.led.sysfs,
            secure_element: self.secure_element,
        })
    }
}
