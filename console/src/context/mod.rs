//! The one context of a fleetid process, built once in `app.rs` and handed down to the TUI,
//! every subcommand, `doctor`, `demo` and the ops code: the resolved environment, one tokio
//! runtime, one AWS configuration and backend (made on first use, after the account guard),
//! the store, the clock, and the only way to a [`MutationPermit`].
//!
//! Nothing here touches the network until asked: `--offline` never builds an AWS
//! configuration, and a command that needs no async work starts no runtime.

mod aws;
pub mod permit;

use std::path::PathBuf;
use std::sync::OnceLock;

use aws_config::SdkConfig;
use aws_credential_types::Credentials;

use crate::backend::aws::AwsBackend;
use crate::backend::live::connection::LiveOptions;
use crate::cli::GlobalArgs;
use crate::config::{Config, ConfigError, Environment, resolve_environment};
use crate::doctor::account::{AccountError, CallerIdentity};
use crate::model::UnixTime;
use crate::store::{self, Store, StoreError};
pub use aws::live_options;
pub use permit::{MutationPermit, ReadOnlyRefusal};

/// Environment variable that moves the cache file (tests, several checkouts).
pub const CACHE_ENV: &str = "FLEETID_CACHE";

/// What a context adds to an environment's AWS target: static credentials instead of the
/// standard chain, and live status options instead of those the environment implies. The
/// demo uses both for the lab; tests use them for moto.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    /// Static credentials instead of the standard chain.
    pub credentials: Option<Credentials>,
    /// Live status over MQTT (`None`: as the environment says, see [`live_options`]).
    pub live: Option<LiveOptions>,
}

/// Where the time comes from: the system clock, or a fixed instant in tests.
#[derive(Debug, Clone, Copy)]
pub struct Clock(fn() -> UnixTime);

impl Clock {
    /// The system clock.
    #[must_use]
    pub fn system() -> Self {
        Self(UnixTime::now)
    }

    /// The time now.
    #[must_use]
    pub fn now(&self) -> UnixTime {
        (self.0)()
    }
}

/// The process's context (see the module documentation).
#[derive(Debug)]
pub struct Context {
    config: Config,
    env: Environment,
    offline: bool,
    connection: Connection,
    /// `None`: no `FLEETID_CACHE` and no platform data directory.
    store_path: Option<PathBuf>,
    clock: Clock,
    runtime: OnceLock<tokio::runtime::Runtime>,
    aws: aws::AwsCells,
}

/// Why a context could not be built or used.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// config.toml or the environment is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The tokio runtime did not start.
    #[error("starting the async runtime: {0}")]
    Runtime(std::io::Error),
}

impl Context {
    /// Loads config.toml (`--config` or the default) and resolves the environment from the
    /// global flags.
    ///
    /// # Errors
    /// [`ContextError::Config`].
    pub fn load(global: &GlobalArgs) -> Result<Self, ContextError> {
        let config = Config::load(global.config.as_deref())?;
        let env = resolve_environment(&config, global)?;
        Ok(Self::new(config, env, global.offline))
    }

    /// A context for `env`, with the store at `FLEETID_CACHE` or the platform default.
    #[must_use]
    pub fn new(config: Config, env: Environment, offline: bool) -> Self {
        let store_path = match std::env::var_os(CACHE_ENV) {
            Some(path) => Some(PathBuf::from(path)),
            None => store::default_path().ok(),
        };
        Self {
            config,
            env,
            offline,
            connection: Connection::default(),
            store_path,
            clock: Clock::system(),
            runtime: OnceLock::new(),
            aws: aws::AwsCells::default(),
        }
    }

    /// A context over a local stand-in (moto, the lab) in one call: an environment named
    /// `name` with `endpoint_url` and `region`, static `credentials`, and the store at
    /// `store_path`.
    #[must_use]
    pub fn for_endpoint(
        name: &str,
        endpoint_url: &str,
        region: &str,
        credentials: Credentials,
        store_path: PathBuf,
    ) -> Self {
        let env = Environment {
            name: name.to_owned(),
            settings: crate::config::EnvironmentConfig {
                region: Some(region.to_owned()),
                endpoint_url: Some(endpoint_url.to_owned()),
                ..crate::config::EnvironmentConfig::default()
            },
        };
        Self::new(Config::default(), env, false)
            .with_store(store_path)
            .with_connection(Connection {
                credentials: Some(credentials),
                live: None,
            })
    }

    /// The same context with static credentials and/or live options (before any AWS use).
    #[must_use]
    pub fn with_connection(mut self, connection: Connection) -> Self {
        self.connection = connection;
        self.aws = aws::AwsCells::default();
        self
    }

    /// The same context for another environment (before any AWS use); `demo` points its
    /// context at the lab once the lab runs.
    #[must_use]
    pub fn with_environment(mut self, env: Environment) -> Self {
        self.env = env;
        self.aws = aws::AwsCells::default();
        self
    }

    /// The same context with the store at `path`.
    #[must_use]
    pub fn with_store(mut self, path: PathBuf) -> Self {
        self.store_path = Some(path);
        self
    }

    /// The loaded configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The resolved environment.
    #[must_use]
    pub fn env(&self) -> &Environment {
        &self.env
    }

    /// `--offline`: only the cache, no AWS.
    #[must_use]
    pub fn offline(&self) -> bool {
        self.offline
    }

    /// The clock.
    #[must_use]
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// The time now, by [`Self::clock`].
    #[must_use]
    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    /// The process's tokio runtime (two workers), started on first use.
    ///
    /// # Errors
    /// [`ContextError::Runtime`] when it cannot start.
    pub fn runtime(&self) -> Result<&tokio::runtime::Runtime, ContextError> {
        if let Some(runtime) = self.runtime.get() {
            return Ok(runtime);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(ContextError::Runtime)?;
        Ok(self.runtime.get_or_init(|| runtime))
    }

    /// The cache file.
    ///
    /// # Errors
    /// [`StoreError::NoDataDir`] without a home directory (and no `FLEETID_CACHE`).
    pub fn store_path(&self) -> Result<&PathBuf, StoreError> {
        self.store_path.as_ref().ok_or(StoreError::NoDataDir)
    }

    /// A connection to the store (each caller its own; SQLite in WAL mode serialises them).
    ///
    /// # Errors
    /// [`StoreError`] when it cannot be opened.
    pub fn store(&self) -> Result<Store, StoreError> {
        Store::open(self.store_path()?)
    }

    /// The SDK configuration for this environment (no call is made but what the credential
    /// chain itself needs): made once.
    pub async fn sdk_config(&self) -> &SdkConfig {
        self.aws.sdk_config(&self.env, &self.connection).await
    }

    /// The backend, made once, after the account guard: when the environment names an
    /// `account_id`, sts:GetCallerIdentity must answer that account before any other call.
    ///
    /// # Errors
    /// [`AccountError`] when the account differs or could not be read.
    pub async fn aws(&self) -> Result<&AwsBackend, AccountError> {
        self.aws.backend(&self.env, &self.connection).await
    }

    /// Who the caller is (one attempt, a few seconds at most; `None` when the endpoint does
    /// not answer sts:GetCallerIdentity), asked once.
    pub async fn caller_identity(&self) -> Option<&CallerIdentity> {
        self.aws.identity(&self.env, &self.connection).await
    }

    /// A permit for mutations, unless the session is read-only (`--read-only` or
    /// `read_only = true`). The only way to one.
    ///
    /// # Errors
    /// [`ReadOnlyRefusal`] when read-only.
    pub fn mutation_permit(&self) -> Result<MutationPermit, ReadOnlyRefusal> {
        permit::mutation_permit(&self.env)
    }
}
