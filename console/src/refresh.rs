//! Bringing the fleet state up to date from AWS: the cached snapshot goes in, the backend
//! loads what is new or changed (page by page through a bounded channel), the model applies
//! it, and progress is shown on stderr while it runs.

use std::io::{IsTerminal, Write};

use tokio::sync::mpsc;

use crate::backend::aws::{
    AwsBackend, AwsTarget, DEFAULT_MAX_ATTEMPTS, LoadSettings, load_sdk_config,
};
use crate::backend::live::connection::{LiveAuth, LiveOptions};
use crate::backend::{BackendUpdate, FleetBackend};
use crate::config::Environment;
use crate::doctor::account::AccountError;
use crate::feed;
use crate::model::{FleetState, FleetUpdate, Source, SourceState, UnixTime};

/// Updates waiting between the backend and the model; a slow model slows the load.
const CHANNEL_DEPTH: usize = 64;

/// The AWS target of an environment.
#[must_use]
pub fn target(env: &Environment) -> AwsTarget {
    AwsTarget {
        profile: env.settings.profile.clone(),
        region: env.settings.region.clone(),
        endpoint_url: env.settings.endpoint_url.clone(),
    }
}

/// A backend for `env`, with its live status options.
pub async fn backend(env: &Environment) -> AwsBackend {
    let config = load_sdk_config(&target(env), DEFAULT_MAX_ATTEMPTS).await;
    with_live(
        AwsBackend::new(&config, LoadSettings::default()),
        env,
        &config,
    )
}

/// How `env` follows live status: over mTLS with its operator certificate when one is
/// configured (`--mqtt-cert`/`mqtt_cert`), else over a SigV4-signed websocket with the SDK's
/// credentials — except when an endpoint URL points at a local stand-in (moto, the lab),
/// which has no SigV4 data endpoint: then live status needs the certificate.
#[must_use]
pub fn live_options(env: &Environment, config: &aws_config::SdkConfig) -> Option<LiveOptions> {
    let mqtt = &env.settings.mqtt;
    let client_id = || {
        mqtt.client_id
            .clone()
            .unwrap_or_else(|| format!("fleetid-console-{}", std::process::id()))
    };
    if let (Some(cert_pem), Some(key_pem)) = (&mqtt.cert, &mqtt.key) {
        return Some(LiveOptions {
            endpoint: mqtt.endpoint.clone(),
            ca_pem: mqtt.ca.clone(),
            auth: LiveAuth::Mtls {
                cert_pem: cert_pem.clone(),
                key_pem: key_pem.clone(),
            },
            client_id: client_id(),
            presence: true,
        });
    }
    // An endpoint URL from the flag, the config, AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_IOT.
    let stand_in = env.settings.endpoint_url.is_some()
        || config.endpoint_url().is_some()
        || std::env::var_os("AWS_ENDPOINT_URL_IOT").is_some();
    if stand_in {
        return None;
    }
    let mut options = LiveOptions::sigv4(config).ok()?;
    options.endpoint.clone_from(&mqtt.endpoint);
    options.ca_pem.clone_from(&mqtt.ca);
    options.client_id = client_id();
    Some(options)
}

fn with_live(backend: AwsBackend, env: &Environment, config: &aws_config::SdkConfig) -> AwsBackend {
    match live_options(env, config) {
        Some(live) => backend.with_live(live),
        None => backend,
    }
}

/// A backend for `env`, after checking (before any other call) that the credentials belong to
/// the environment's `account_id` when one is configured.
///
/// # Errors
/// The account differs or could not be read.
pub async fn checked_backend(env: &Environment) -> Result<AwsBackend, AccountError> {
    let config = load_sdk_config(&target(env), DEFAULT_MAX_ATTEMPTS).await;
    crate::doctor::account::verify(env, &config).await?;
    Ok(with_live(
        AwsBackend::new(&config, LoadSettings::default()),
        env,
        &config,
    ))
}

/// Loads a snapshot from `backend` on top of `state`. Progress goes to stderr when it is a
/// terminal. Returns why the certificate source was unavailable, if it was.
/// `sources` limits the load (empty: every source but live).
pub async fn refresh(
    backend: &impl FleetBackend,
    state: &mut FleetState,
    sources: Vec<crate::backend::Source>,
) -> Option<String> {
    let (tx, mut rx) = mpsc::channel::<BackendUpdate>(CHANNEL_DEPTH);
    let mut request = feed::snapshot_request(state);
    request.sources = sources;
    let show_progress = std::io::stderr().is_terminal();
    let load = backend.load_snapshot(request, tx);
    let apply = async {
        while let Some(update) = rx.recv().await {
            for change in feed::fleet_updates(update, UnixTime::now()) {
                if show_progress {
                    progress(&change);
                }
                state.apply(change);
            }
        }
    };
    let (_summary, ()) = tokio::join!(load, apply);
    if show_progress {
        eprint!("\r\x1b[2K");
    }
    match state.sources().get(&Source::Certificates).map(|s| &s.state) {
        Some(SourceState::Unavailable { reason }) => Some(reason.to_string()),
        _ => None,
    }
}

fn progress(change: &FleetUpdate) {
    if let FleetUpdate::SourceStatus {
        source: Source::Certificates,
        state: SourceState::Loading { done, total },
        ..
    } = change
    {
        let total = total.map_or_else(|| "?".to_owned(), |t| t.to_string());
        eprint!("\rloading certificates: {done}/{total}");
        let _ = std::io::stderr().flush();
    }
}

/// Follows live events into a blocking iterator of model updates (for `anomalies --follow`).
/// The runtime must outlive the iterator.
pub fn follow(
    runtime: &tokio::runtime::Runtime,
    backend: AwsBackend,
) -> impl Iterator<Item = FleetUpdate> {
    let (tx, mut rx) = mpsc::channel::<BackendUpdate>(CHANNEL_DEPTH);
    runtime.spawn(async move {
        if let Err(e) = backend.follow_live(tx).await {
            eprintln!("fleetid: live status: {e}");
        }
    });
    std::iter::from_fn(move || rx.blocking_recv())
        .flat_map(|update| feed::fleet_updates(update, UnixTime::now()))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use aws_config::{BehaviorVersion, Region};
    use aws_credential_types::Credentials;
    use aws_credential_types::provider::SharedCredentialsProvider;

    use super::*;
    use crate::config::{EnvironmentConfig, MqttConfig};

    fn sdk_config() -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "test",
            )))
            .build()
    }

    fn env(endpoint_url: Option<&str>, mqtt: MqttConfig) -> Environment {
        Environment {
            name: "test".into(),
            settings: EnvironmentConfig {
                endpoint_url: endpoint_url.map(str::to_owned),
                mqtt,
                ..EnvironmentConfig::default()
            },
        }
    }

    #[test]
    fn live_status_is_mtls_with_a_certificate_sigv4_on_aws_and_off_for_a_bare_stand_in() {
        let operator = MqttConfig {
            ca: Some(PathBuf::from("/lab/root-ca.pem")),
            cert: Some(PathBuf::from("/lab/operator.pem")),
            key: Some(PathBuf::from("/lab/operator.key")),
            client_id: Some("fleetid-operator".into()),
            ..MqttConfig::default()
        };
        let mtls = live_options(&env(Some("http://127.0.0.1:1"), operator), &sdk_config()).unwrap();
        assert!(matches!(mtls.auth, LiveAuth::Mtls { .. }));
        assert_eq!(mtls.client_id, "fleetid-operator");
        assert_eq!(mtls.endpoint, None, "found through DescribeEndpoint");
        assert_eq!(mtls.ca_pem, Some(PathBuf::from("/lab/root-ca.pem")));

        let aws = live_options(&env(None, MqttConfig::default()), &sdk_config()).unwrap();
        assert!(matches!(aws.auth, LiveAuth::SigV4 { .. }));
        assert!(aws.client_id.starts_with("fleetid-console-"));

        assert!(
            live_options(
                &env(Some("http://127.0.0.1:1"), MqttConfig::default()),
                &sdk_config()
            )
            .is_none()
        );
        // The same endpoint given as AWS_ENDPOINT_URL (the SDK configuration carries it).
        let from_env = sdk_config()
            .into_builder()
            .endpoint_url("http://127.0.0.1:1")
            .build();
        assert!(live_options(&env(None, MqttConfig::default()), &from_env).is_none());
    }
}
