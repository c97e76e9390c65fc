//! The agent's TOML configuration file (`agent.toml`); every error names the key.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{DriverConfig, Endpoint};
use crate::core::{FirstIdentity, Policy};

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML for this configuration (the message names the key and line).
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A value that parses but cannot be used.
    #[error("{path}: key `{key}`: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The key, dotted.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
}

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

impl ConfigFile {
    /// Reads and checks `path`, and the PEM files it names.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file and the key.
    pub fn load(path: &Path) -> Result<LoadedConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let file: Self = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        file.resolve(path)
    }

    /// Checks the values and reads the PEM files (relative paths are relative to `path`'s
    /// directory).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the key.
    pub fn resolve(self, path: &Path) -> Result<LoadedConfig, ConfigError> {
        let base = path.parent().unwrap_or(Path::new("."));
        let invalid = |key: &'static str, reason: String| ConfigError::Invalid {
            path: path.to_owned(),
            key,
            reason,
        };
        let read = |key: &'static str, file: &Path| {
            std::fs::read_to_string(base.join(file))
                .map_err(|e| invalid(key, format!("reading {}: {e}", file.display())))
        };
        // AWS IoT thing names; also keeps MQTT wildcards and slashes out of the topics.
        let valid_thing = (1..=128).contains(&self.thing.len())
            && self
                .thing
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-'));
        if !valid_thing {
            return Err(invalid(
                "thing",
                "must be 1-128 characters of [a-zA-Z0-9:_-]".into(),
            ));
        }
        if !(30..=1200).contains(&self.server.keepalive_seconds) {
            return Err(invalid(
                "server.keepalive_seconds",
                "must be 30-1200".into(),
            ));
        }
        let periods = [
            (
                "timing.status_interval_seconds",
                self.timing.status_interval_seconds,
            ),
            ("timing.slow_retry_seconds", self.timing.slow_retry_seconds),
            (
                "timing.revoked_window_seconds",
                self.timing.revoked_window_seconds,
            ),
        ];
        for (key, seconds) in periods {
            if seconds > MAX_PERIOD_SECONDS {
                return Err(invalid(
                    key,
                    format!("must be at most {MAX_PERIOD_SECONDS} (a year)"),
                ));
            }
        }
        super::tls::check_server_name(&self.server.host).map_err(|e| invalid("server.host", e))?;
        if self.identity.slots[0] == self.identity.slots[1] {
            return Err(invalid(
                "identity.slots",
                "the two slots must differ".into(),
            ));
        }
        let anchor_pem = read("server.anchor", &self.server.anchor)?;
        let identity = &self.identity;
        let first_identity = match (&identity.certificate, &identity.claim_certificate) {
            (Some(certificate), None) => FirstIdentity::Factory {
                slot: identity.slots[0],
                certificate_pem: read("identity.certificate", certificate)?,
            },
            (None, Some(claim)) => FirstIdentity::Claim {
                slot: identity.claim_slot.ok_or_else(|| {
                    invalid(
                        "identity.claim_slot",
                        "required with claim_certificate".into(),
                    )
                })?,
                certificate_pem: read("identity.claim_certificate", claim)?,
                template: match identity.template.clone() {
                    None => {
                        return Err(invalid(
                            "identity.template",
                            "required with claim_certificate".into(),
                        ));
                    }
                    Some(t) if !crate::wire::is_template_name(&t) => {
                        return Err(invalid(
                            "identity.template",
                            "must be 1-36 characters of [a-zA-Z0-9_-]".into(),
                        ));
                    }
                    Some(t) => t,
                },
            },
            _ => {
                return Err(invalid(
                    "identity.certificate",
                    "set exactly one of certificate and claim_certificate".into(),
                ));
            }
        };
        let mut policy = Policy::new(self.thing.clone(), first_identity, anchor_pem);
        if let Some(firmware) = self.firmware {
            policy.firmware = firmware;
        }
        policy.slots = identity.slots;
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
            state_file: base.join(self.state_file),
            led_sysfs: self.led.sysfs,
            secure_element: SecureElementSection {
                i2c_device: self.secure_element.i2c_device,
                simulator_file: self.secure_element.simulator_file.map(|f| base.join(f)),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn errors_name_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let base = "thing = \"dev-1\"\nstate_file = \"state.json\"\n";
        let unknown = write(
            dir.path(),
            "a.toml",
            &format!("{base}[server]\nhost = \"h\"\nanchor = \"ca.pem\"\nprot = 1\n[identity]\n"),
        );
        let message = ConfigFile::load(&unknown).unwrap_err().to_string();
        assert!(message.contains("prot"), "{message}");
        let keepalive = write(
            dir.path(),
            "b.toml",
            &format!(
                "{base}[server]\nhost = \"h\"\nanchor = \"ca.pem\"\nkeepalive_seconds = 5\n\
                 [identity]\ncertificate = \"d.pem\"\n"
            ),
        );
        let message = ConfigFile::load(&keepalive).unwrap_err().to_string();
        assert!(message.contains("server.keepalive_seconds"), "{message}");
        let missing = write(
            dir.path(),
            "c.toml",
            &format!(
                "{base}[server]\nhost = \"h\"\nanchor = \"ca.pem\"\n[identity]\ncertificate = \"d.pem\"\n"
            ),
        );
        let message = ConfigFile::load(&missing).unwrap_err().to_string();
        assert!(
            message.contains("server.anchor") && message.contains("ca.pem"),
            "{message}"
        );
        let both = write(
            dir.path(),
            "d.toml",
            &format!("{base}[server]\nhost = \"h\"\nanchor = \"c.toml\"\n[identity]\n"),
        );
        let message = ConfigFile::load(&both).unwrap_err().to_string();
        assert!(message.contains("identity.certificate"), "{message}");
        let wildcard = write(
            dir.path(),
            "e.toml",
            "thing = \"dev/+\"\nstate_file = \"s\"\n[server]\nhost = \"h\"\nanchor = \"c.toml\"\n[identity]\n",
        );
        let message = ConfigFile::load(&wildcard).unwrap_err().to_string();
        assert!(message.contains("key `thing`"), "{message}");
        let huge = write(
            dir.path(),
            "f.toml",
            &format!(
                "{base}[server]\nhost = \"h\"\nanchor = \"ca.pem\"\n[identity]\n\
                 [timing]\nslow_retry_seconds = 18446744073709551615\n"
            ),
        );
        let message = ConfigFile::load(&huge).unwrap_err().to_string();
        assert!(message.contains("timing.slow_retry_seconds"), "{message}");
    }
}
