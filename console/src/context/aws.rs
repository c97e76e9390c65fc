//! The context's AWS side, made on first use and once: the SDK configuration (standard
//! credential chain, or the connection's static credentials), the account guard, the backend
//! with its live status options, and the caller's identity for the audit log.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use tokio::sync::OnceCell;

use super::Connection;
use crate::backend::aws::{
    AwsBackend, AwsTarget, DEFAULT_MAX_ATTEMPTS, LoadSettings, load_sdk_config,
};
use crate::backend::live::connection::{LiveAuth, LiveOptions};
use crate::config::Environment;
use crate::doctor::account::{self, AccountError, CallerIdentity};

/// How long sts:GetCallerIdentity may take for the audit log's principal; an endpoint without
/// STS (the lab) answers with an error at once.
const IDENTITY_WAIT: Duration = Duration::from_secs(5);

/// The cells, empty until first use.
#[derive(Debug, Default)]
pub(super) struct AwsCells {
    sdk: OnceCell<SdkConfig>,
    backend: OnceCell<AwsBackend>,
    identity: OnceCell<Option<CallerIdentity>>,
}

impl AwsCells {
    pub(super) async fn sdk_config(
        &self,
        env: &Environment,
        connection: &Connection,
    ) -> &SdkConfig {
        self.sdk
            .get_or_init(|| async {
                let config = load_sdk_config(&target(env), DEFAULT_MAX_ATTEMPTS).await;
                match &connection.credentials {
                    Some(credentials) => config
                        .into_builder()
                        .credentials_provider(SharedCredentialsProvider::new(credentials.clone()))
                        .build(),
                    None => config,
                }
            })
            .await
    }

    pub(super) async fn backend(
        &self,
        env: &Environment,
        connection: &Connection,
    ) -> Result<&AwsBackend, AccountError> {
        self.backend
            .get_or_try_init(|| async {
                let config = self.sdk_config(env, connection).await;
                if let Some(expected) = &env.settings.account_id {
                    let identity = account::caller_identity(config).await.map_err(|failure| {
                        AccountError::Lookup {
                            environment: env.name.clone(),
                            failure,
                        }
                    })?;
                    account::compare(&env.name, expected, &identity.account)?;
                    let _ = self.identity.set(Some(identity));
                }
                let backend = AwsBackend::new(config, LoadSettings::default());
                let live = match (&connection.live, &connection.credentials) {
                    (Some(live), _) => Some(live.clone()),
                    // Static credentials without live options: a stand-in with no live status.
                    (None, Some(_)) => None,
                    (None, None) => live_options(env, config),
                };
                Ok(match live {
                    Some(live) => backend.with_live(live),
                    None => backend,
                })
            })
            .await
    }

    pub(super) async fn identity(
        &self,
        env: &Environment,
        connection: &Connection,
    ) -> Option<&CallerIdentity> {
        self.identity
            .get_or_init(|| async {
                let config = self
                    .sdk_config(env, connection)
                    .await
                    .to_builder()
                    .retry_config(RetryConfig::standard().with_max_attempts(1))
                    .build();
                tokio::time::timeout(IDENTITY_WAIT, account::caller_identity(&config))
                    .await
                    .ok()
                    .and_then(Result::ok)
            })
            .await
            .as_ref()
    }
}

/// The AWS target of an environment.
fn target(env: &Environment) -> AwsTarget {
    AwsTarget {
        profile: env.settings.profile.clone(),
        region: env.settings.region.clone(),
        endpoint_url: env.settings.endpoint_url.clone(),
    }
}

/// How `env` follows live status: over mTLS with its operator certificate when one is
/// configured (`--mqtt-cert`/`mqtt_cert`), else over a SigV4-signed websocket with the SDK's
/// credentials — except when an endpoint URL points at a local stand-in (moto, the lab),
/// which has no SigV4 data endpoint: then live status needs the certificate.
#[must_use]
pub fn live_options(env: &Environment, config: &SdkConfig) -> Option<LiveOptions> {
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use aws_config::{BehaviorVersion, Region};
    use aws_credential_types::Credentials;

    use super::*;
    use crate::config::{EnvironmentConfig, MqttConfig};

    fn sdk_config() -> SdkConfig {
        SdkConfig::builder()
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
