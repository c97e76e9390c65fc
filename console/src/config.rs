//! `config.toml` in the platform config directory: environments (profile, region, expected
//! account, colour, read-only), theme, keymap overrides, and the TUI's `mouse` and `ascii`.
//!
//! Every error names the file, the line and the key; unknown keys are errors, and nothing
//! falls back silently: a missing `--config` file or an unknown `--env` stops the program.
//! The format is documented in docs/config.md.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::cli::GlobalArgs;

/// A problem with the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading config {path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        reason: String,
    },
    /// The file is not valid for fleetid.
    #[error("{}:{line}:{column}: {}{message}", path.display(), key.as_deref().map(|k| format!("key `{k}`: ")).unwrap_or_default())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The dotted key, when one is to blame (`environments.prod.region`).
        key: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// `--env` (or `default_environment`) names an environment the file does not define.
    #[error("environment {name:?} is not defined in {} (defined: {})", path.display(), if known.is_empty() { "none".to_owned() } else { known.join(", ") })]
    UnknownEnvironment {
        /// The file.
        path: PathBuf,
        /// The name asked for.
        name: String,
        /// The names defined.
        known: Vec<String>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    default_environment: Option<Spanned<String>>,
    theme: Option<Spanned<String>>,
    #[serde(default)]
    environments: BTreeMap<String, RawEnvironment>,
    #[serde(default)]
    keymap: BTreeMap<Spanned<String>, Spanned<String>>,
    mouse: Option<bool>,
    ascii: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    profile: Option<String>,
    region: Option<Spanned<String>>,
    account_id: Option<Spanned<String>>,
    colour: Option<Spanned<String>>,
    read_only: Option<bool>,
    endpoint_url: Option<Spanned<String>>,
    mqtt_endpoint: Option<String>,
    mqtt_ca: Option<PathBuf>,
    mqtt_cert: Option<Spanned<PathBuf>>,
    mqtt_key: Option<Spanned<PathBuf>>,
    mqtt_client_id: Option<String>,
}

/// One environment as configured.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnvironmentConfig {
    /// AWS profile.
    pub profile: Option<String>,
    /// AWS region.
    pub region: Option<String>,
    /// The account the caller's identity must belong to (12 digits).
    pub account_id: Option<String>,
    /// Banner colour: a name (`red`, `green`, ...) or `#rrggbb`.
    pub colour: Option<String>,
    /// Refuse mutations in this environment.
    pub read_only: bool,
    /// Endpoint URL (a lab, moto).
    pub endpoint_url: Option<String>,
    /// How live status (MQTT) is followed.
    pub mqtt: MqttConfig,
}

/// Live status settings of an environment. With a certificate and key the console connects
/// over mTLS as an operator; without, over a SigV4-signed websocket with the AWS credentials
/// (only when no `endpoint_url` points at a local stand-in, which has no data endpoint).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MqttConfig {
    /// Broker `host[:port]`; none: the account's `iot:Data-ATS` endpoint (DescribeEndpoint).
    pub endpoint: Option<String>,
    /// CA bundle (PEM) for the broker's certificate; none: the platform's roots.
    pub ca: Option<PathBuf>,
    /// Operator client certificate (PEM).
    pub cert: Option<PathBuf>,
    /// Its private key (PEM).
    pub key: Option<PathBuf>,
    /// MQTT client id; none: one unique to the process.
    pub client_id: Option<String>,
}

/// A keymap override and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeymapEntry {
    /// The key chord as written (`ctrl-d`, `G`).
    pub key: String,
    /// The command name as written (`page-down`).
    pub command: String,
    /// Line in the file, for error messages (1-based).
    pub line: usize,
    /// Column of the key on that line, for error messages (1-based).
    pub column: usize,
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    /// The file it came from (`None`: no file, defaults).
    pub path: Option<PathBuf>,
    /// The environment used without `--env`.
    pub default_environment: Option<String>,
    /// Theme name (a file in `themes/` or a built-in).
    pub theme: Option<String>,
    /// Environments by name.
    pub environments: BTreeMap<String, EnvironmentConfig>,
    /// Keymap overrides, in file order.
    pub keymap: Vec<KeymapEntry>,
    /// TUI: capture the mouse (`--mouse` / `--no-mouse` win).
    pub mouse: bool,
    /// TUI: ASCII borders and glyphs (`--ascii` / `--no-ascii` win).
    pub ascii: bool,
}

/// Colour names accepted for environments.
pub const COLOURS: [&str; 9] = [
    "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white", "gray",
];

/// The default location: `config.toml` in the platform config directory.
#[must_use]
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "fleetid").map(|d| d.config_dir().join("config.toml"))
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The dotted key at `span`: the nearest `[table]` header above it plus the key on its line.
fn key_at(text: &str, span: &Range<usize>) -> Option<String> {
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = text[line_start..line_end].trim();
    let key = line.split('=').next()?.trim().trim_matches('"');
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_owned());
    if key.is_empty() || key.starts_with('[') {
        return table;
    }
    Some(match table {
        Some(table) => format!("{table}.{key}"),
        None => key.to_owned(),
    })
}

/// A TOML file's error at `span` (from toml or from a check of a [`Spanned`] value), naming
/// the file, the line, the column and the dotted key; used for every TOML file fleetid reads.
pub(crate) fn invalid_at(
    path: &Path,
    text: &str,
    span: &Range<usize>,
    message: String,
) -> ConfigError {
    let (line, column) = line_column(text, span.start);
    ConfigError::Invalid {
        path: path.to_owned(),
        line,
        column,
        key: key_at(text, span),
        message,
    }
}

impl Config {
    /// Loads the configuration: `explicit` must exist; without it the default location is
    /// used when the file is there, and defaults otherwise.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file, line and key.
    pub fn load(explicit: Option<&Path>) -> Result<Self, ConfigError> {
        let path = match explicit {
            Some(path) => path.to_owned(),
            None => match default_path() {
                Some(path) if path.exists() => path,
                _ => return Ok(Self::default()),
            },
        };
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Read {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        Self::parse(&path, &text)
    }

    /// Parses `text` as the contents of `path`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the line and key.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let invalid = |span: Range<usize>, message: String| invalid_at(path, text, &span, message);
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            invalid(span, e.message().trim().to_owned())
        })?;
        let mut environments = BTreeMap::new();
        for (name, env) in raw.environments {
            let region = env.region.map(|r| {
                let ok = !r.get_ref().is_empty()
                    && r.get_ref()
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                (r.span(), r.into_inner(), ok)
            });
            if let Some((span, value, false)) = &region {
                return Err(invalid(
                    span.clone(),
                    format!("{value:?} is not an AWS region name like eu-west-1"),
                ));
            }
            if let Some(account) = &env.account_id
                && !(account.get_ref().len() == 12
                    && account.get_ref().chars().all(|c| c.is_ascii_digit()))
            {
                return Err(invalid(
                    account.span(),
                    format!("{:?} is not a 12-digit AWS account id", account.get_ref()),
                ));
            }
            if let Some(colour) = &env.colour
                && !valid_colour(colour.get_ref())
            {
                return Err(invalid(
                    colour.span(),
                    format!(
                        "unknown colour {:?}; use one of {} or #rrggbb",
                        colour.get_ref(),
                        COLOURS.join(", ")
                    ),
                ));
            }
            if let Some(url) = &env.endpoint_url
                && !(url.get_ref().starts_with("http://") || url.get_ref().starts_with("https://"))
            {
                return Err(invalid(
                    url.span(),
                    format!("{:?} is not an http:// or https:// URL", url.get_ref()),
                ));
            }
            match (&env.mqtt_cert, &env.mqtt_key) {
                (Some(cert), None) => {
                    return Err(invalid(
                        cert.span(),
                        "mqtt_cert needs mqtt_key (the certificate's private key)".to_owned(),
                    ));
                }
                (None, Some(key)) => {
                    return Err(invalid(
                        key.span(),
                        "mqtt_key needs mqtt_cert (the operator certificate)".to_owned(),
                    ));
                }
                _ => {}
            }
            environments.insert(
                name,
                EnvironmentConfig {
                    profile: env.profile,
                    region: region.map(|(_, value, _)| value),
                    account_id: env.account_id.map(Spanned::into_inner),
                    colour: env.colour.map(Spanned::into_inner),
                    read_only: env.read_only.unwrap_or(false),
                    endpoint_url: env.endpoint_url.map(Spanned::into_inner),
                    mqtt: MqttConfig {
                        endpoint: env.mqtt_endpoint,
                        ca: env.mqtt_ca,
                        cert: env.mqtt_cert.map(Spanned::into_inner),
                        key: env.mqtt_key.map(Spanned::into_inner),
                        client_id: env.mqtt_client_id,
                    },
                },
            );
        }
        if let Some(default) = &raw.default_environment
            && !environments.contains_key(default.get_ref())
        {
            return Err(invalid(
                default.span(),
                format!(
                    "default_environment {:?} is not defined under [environments]",
                    default.get_ref()
                ),
            ));
        }
        let mut keymap: Vec<KeymapEntry> = raw
            .keymap
            .into_iter()
            .map(|(key, command)| {
                let (line, column) = line_column(text, key.span().start);
                KeymapEntry {
                    line,
                    column,
                    key: key.into_inner(),
                    command: command.into_inner(),
                }
            })
            .collect();
        keymap.sort_by_key(|entry| (entry.line, entry.column));
        Ok(Self {
            path: Some(path.to_owned()),
            default_environment: raw.default_environment.map(Spanned::into_inner),
            theme: raw.theme.map(Spanned::into_inner),
            environments,
            keymap,
            mouse: raw.mouse.unwrap_or(false),
            ascii: raw.ascii.unwrap_or(false),
        })
    }
}

fn valid_colour(text: &str) -> bool {
    COLOURS.contains(&text)
        || (text.len() == 7
            && text.starts_with('#')
            && text[1..].chars().all(|c| c.is_ascii_hexdigit()))
}

/// The environment a run uses: configuration overridden by command-line flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// Its name (`default` without a config file).
    pub name: String,
    /// Merged settings.
    pub settings: EnvironmentConfig,
}

/// Picks the environment (`--env`, else `default_environment`, else `default`) and applies
/// `--profile`, `--region`, `--endpoint-url`, the `--mqtt-*` flags and `--read-only` on top.
///
/// # Errors
/// [`ConfigError::UnknownEnvironment`] when a named environment is not in the file.
pub fn resolve_environment(config: &Config, args: &GlobalArgs) -> Result<Environment, ConfigError> {
    let name = args
        .environment
        .clone()
        .or_else(|| config.default_environment.clone());
    let (name, mut settings) = match name {
        Some(name) => match config.environments.get(&name) {
            Some(env) => (name, env.clone()),
            None => {
                return Err(ConfigError::UnknownEnvironment {
                    path: config
                        .path
                        .clone()
                        .or_else(default_path)
                        .unwrap_or_else(|| PathBuf::from("config.toml")),
                    name,
                    known: config.environments.keys().cloned().collect(),
                });
            }
        },
        None => ("default".to_owned(), EnvironmentConfig::default()),
    };
    if let Some(profile) = &args.profile {
        settings.profile = Some(profile.clone());
    }
    if let Some(region) = &args.region {
        settings.region = Some(region.clone());
    }
    if let Some(url) = &args.endpoint_url {
        settings.endpoint_url = Some(url.clone());
    }
    let mqtt = &mut settings.mqtt;
    for (flag, setting) in [
        (&args.mqtt_endpoint, &mut mqtt.endpoint),
        (&args.mqtt_client_id, &mut mqtt.client_id),
    ] {
        if let Some(value) = flag {
            *setting = Some(value.clone());
        }
    }
    for (flag, setting) in [
        (&args.mqtt_ca, &mut mqtt.ca),
        (&args.mqtt_cert, &mut mqtt.cert),
        (&args.mqtt_key, &mut mqtt.key),
    ] {
        if let Some(value) = flag {
            *setting = Some(value.clone());
        }
    }
    settings.read_only |= args.read_only;
    Ok(Environment { name, settings })
}

#[cfg(test)]
mod tests;
