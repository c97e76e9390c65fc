//! The AWS implementation of [`FleetBackend`]: aws-sdk-iot (registry, Device Defender),
//! aws-sdk-cloudwatch (`AWS/IoT` metrics) and live status over MQTT. Nothing here knows the
//! lab: it answers the same API at another endpoint URL.

mod attachments;
mod budget;
mod cas;
mod certificates;
mod defender;
mod describe;
mod evidence;
mod indexing;
mod inventory;
mod jobs;
mod metrics;
mod mutations;
mod snapshot;

pub use budget::{FIRST_CALL_ATTEMPTS, OUTAGE_LASTS};
pub use evidence::ClaimRegistrations;
pub use jobs::{ExecutionDetail, ExecutionSummary, is_not_found};

use std::sync::Arc;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use tokio::sync::{OnceCell, Semaphore, mpsc};

use crate::backend::FleetBackend;
use crate::backend::error::{BackendError, CallFailure};
use crate::backend::live::connection::{LiveOptions, follow_live};
use crate::backend::update::{BackendUpdate, SnapshotRequest, SnapshotSummary};

/// How many DescribeCertificate chains run at once unless configured otherwise.
pub const DEFAULT_DESCRIBE_CONCURRENCY: usize = 8;
/// Attempts per call (adaptive retry mode) unless configured otherwise.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// Where and as whom to call AWS: the global `--profile/--region/--endpoint-url`.
#[derive(Debug, Clone, Default)]
pub struct AwsTarget {
    /// Named profile from the shared config files (SSO, role, static keys, ...).
    pub profile: Option<String>,
    /// Region; otherwise the standard chain (env, profile, IMDS).
    pub region: Option<String>,
    /// Another endpoint answering the AWS API (the lab, moto).
    pub endpoint_url: Option<String>,
}

/// Tuning of the snapshot load.
#[derive(Debug, Clone)]
pub struct LoadSettings {
    /// Certificates read at once (a new one: DescribeCertificate and ListPrincipalThings; one
    /// whose status changed: ListPrincipalThings). Lower it when throttled.
    pub describe_concurrency: usize,
    /// Days of Device Defender audit findings to read.
    pub audit_days: i64,
    /// Hours of violation events and CloudWatch metrics to read.
    pub recent_hours: i64,
}

impl Default for LoadSettings {
    fn default() -> Self {
        Self {
            describe_concurrency: DEFAULT_DESCRIBE_CONCURRENCY,
            audit_days: 30,
            recent_hours: 24,
        }
    }
}

/// The SDK configuration fleetid uses: the standard credential chain (env, profiles, SSO,
/// web identity, IMDS) with the given target, and adaptive retry (client-side rate limiting
/// when throttled).
pub async fn load_sdk_config(target: &AwsTarget, max_attempts: u32) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::adaptive().with_max_attempts(max_attempts));
    if let Some(profile) = &target.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &target.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &target.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// fleetid's backend against AWS IoT (or anything answering its API).
#[derive(Debug, Clone)]
pub struct AwsBackend {
    iot: aws_sdk_iot::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    /// The same clients with the small retry budget of a source's first call.
    iot_first: aws_sdk_iot::Client,
    cloudwatch_first: aws_sdk_cloudwatch::Client,
    settings: LoadSettings,
    describe_slots: Arc<Semaphore>,
    live: Option<LiveOptions>,
    /// The configuration the data plane client is made from, on first use.
    sdk: Option<SdkConfig>,
    data: Arc<OnceCell<aws_sdk_iotdataplane::Client>>,
    /// Why the endpoint cannot cut sessions, once DeleteConnection found out: asked once,
    /// not once per target.
    no_session_cut: Arc<std::sync::OnceLock<String>>,
}

impl AwsBackend {
    /// A backend from an SDK configuration (see [`load_sdk_config`]).
    #[must_use]
    pub fn new(config: &SdkConfig, settings: LoadSettings) -> Self {
        let mut backend = Self::from_clients(
            aws_sdk_iot::Client::new(config),
            aws_sdk_cloudwatch::Client::new(config),
            settings,
        );
        backend.sdk = Some(config.clone());
        backend
    }

    /// A backend from ready clients (tests hand in mocked ones).
    #[must_use]
    pub fn from_clients(
        iot: aws_sdk_iot::Client,
        cloudwatch: aws_sdk_cloudwatch::Client,
        settings: LoadSettings,
    ) -> Self {
        let describe_slots = Arc::new(Semaphore::new(settings.describe_concurrency.max(1)));
        let iot_first = aws_sdk_iot::Client::from_conf(
            iot.config()
                .to_builder()
                .retry_config(budget::first_call_retry())
                .build(),
        );
        let cloudwatch_first = aws_sdk_cloudwatch::Client::from_conf(
            cloudwatch
                .config()
                .to_builder()
                .retry_config(budget::first_call_retry())
                .build(),
        );
        Self {
            iot,
            cloudwatch,
            iot_first,
            cloudwatch_first,
            settings,
            describe_slots,
            live: None,
            sdk: None,
            data: Arc::new(OnceCell::new()),
            no_session_cut: Arc::default(),
        }
    }

    /// The data plane client (DeleteConnection), made on first use: at the configured
    /// endpoint URL when there is one, else at the account's iot:Data-ATS endpoint
    /// (DescribeEndpoint), as AWS documents for the data plane.
    ///
    /// # Errors
    /// [`BackendError::Call`] when DescribeEndpoint fails, [`BackendError::InvalidRequest`]
    /// for a backend made from bare clients.
    pub async fn data_plane(&self) -> Result<&aws_sdk_iotdataplane::Client, BackendError> {
        let Some(sdk) = &self.sdk else {
            return Err(BackendError::InvalidRequest {
                operation: "iot:DeleteConnection",
                detail: "this backend was made without an SDK configuration".into(),
            });
        };
        self.data
            .get_or_try_init(|| async {
                if sdk.endpoint_url().is_some() {
                    return Ok(aws_sdk_iotdataplane::Client::new(sdk));
                }
                let out = self
                    .iot
                    .describe_endpoint()
                    .endpoint_type("iot:Data-ATS")
                    .send()
                    .await
                    .map_err(|e| CallFailure::from_sdk("iot:DescribeEndpoint", &e))?;
                let address = out.endpoint_address().unwrap_or_default();
                let config = aws_sdk_iotdataplane::config::Builder::from(sdk)
                    .endpoint_url(format!("https://{address}"))
                    .build();
                Ok(aws_sdk_iotdataplane::Client::from_conf(config))
            })
            .await
    }

    /// Enables live status over MQTT with these options.
    #[must_use]
    pub fn with_live(mut self, live: LiveOptions) -> Self {
        self.live = Some(live);
        self
    }

    /// Whether live status (and so the lifecycle events that show a disconnect) is configured.
    #[must_use]
    pub fn has_live(&self) -> bool {
        self.live.is_some()
    }

    /// The AWS IoT client (for `doctor` and the ops code).
    #[must_use]
    pub fn iot(&self) -> &aws_sdk_iot::Client {
        &self.iot
    }
}

impl FleetBackend for AwsBackend {
    async fn load_snapshot(
        &self,
        request: SnapshotRequest,
        updates: mpsc::Sender<BackendUpdate>,
    ) -> SnapshotSummary {
        snapshot::load(self, &request, &updates).await
    }

    async fn follow_live(&self, updates: mpsc::Sender<BackendUpdate>) -> Result<(), BackendError> {
        let Some(options) = &self.live else {
            return Err(BackendError::Live {
                endpoint: "(none)".into(),
                detail: "live status is not configured: with an endpoint URL (a local stand-in) \
                         give the broker's operator certificate with --mqtt-cert, --mqtt-key and \
                         --mqtt-ca"
                    .into(),
            });
        };
        follow_live(&self.iot, options, &updates).await
    }
}
