//! The live MQTT connection: rumqttc over a SigV4-presigned websocket (the default, with the
//! SDK's credentials), over mTLS with an operator certificate (`--mqtt-cert/--mqtt-key`), or
//! over plain TCP to a local broker. Subscribes to the status and presence topics after every
//! (re)connect and forwards what arrives as [`BackendUpdate::Live`] until the receiver is gone.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS, TlsConfiguration, Transport};
use tokio::sync::mpsc;

use super::pool_identity::member_client_id;
use super::sigv4::presigned_url;
use super::{LiveEvent, PRESENCE_FILTER, STATUS_FILTER, parse_publish};
use crate::backend::error::{BackendError, CallFailure};
use crate::backend::update::BackendUpdate;

/// Largest MQTT packet accepted (AWS IoT allows 128 KB payloads; rumqttc defaults to 10 KiB).
const MAX_PACKET: usize = 256 * 1024;
/// Reconnect backoff bounds.
const BACKOFF_START: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(60);

/// How the console authenticates to the broker.
#[derive(Debug, Clone)]
pub enum LiveAuth {
    /// A SigV4-presigned websocket URL, signed again for every connection.
    SigV4 {
        /// The credentials of the SDK configuration.
        credentials: SharedCredentialsProvider,
        /// The region the endpoint is in.
        region: String,
    },
    /// TLS with an operator certificate and key (PEM files).
    Mtls {
        /// `--mqtt-cert`.
        cert_pem: PathBuf,
        /// `--mqtt-key` (SEC1, PKCS#1 or PKCS#8).
        key_pem: PathBuf,
    },
    /// Unauthenticated plain TCP, for a broker on the same host (a bridge, tests).
    PlainTcp,
}

/// Where and how to follow live events.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// Broker host, optionally `host:port`; `None`: DescribeEndpoint(`iot:Data-ATS`).
    pub endpoint: Option<String>,
    /// CA bundle (PEM) to trust; `None`: the platform's roots.
    pub ca_pem: Option<PathBuf>,
    /// Authentication.
    pub auth: LiveAuth,
    /// MQTT client id (unique: a second connection with the same id drops the first).
    pub client_id: String,
    /// Subscribe to `$aws/events/presence/+/+` too. AWS IoT publishes lifecycle events there;
    /// some brokers (rumqttd) refuse `$` filters by closing the connection.
    pub presence: bool,
}

impl LiveOptions {
    /// The default: a SigV4-signed websocket with the credentials and region of `config`, the
    /// endpoint from DescribeEndpoint, lifecycle events included, and a client id unique to
    /// this process (a second console with the same id would drop the first).
    ///
    /// # Errors
    /// [`BackendError::Live`] when `config` has no credentials provider or no region.
    pub fn sigv4(config: &aws_config::SdkConfig) -> Result<Self, BackendError> {
        let missing = |what: &str| BackendError::Live {
            endpoint: "(DescribeEndpoint)".into(),
            detail: format!("the AWS configuration has no {what} to sign the websocket with"),
        };
        let credentials = config
            .credentials_provider()
            .ok_or_else(|| missing("credentials"))?;
        let region = config.region().ok_or_else(|| missing("region"))?;
        Ok(Self {
            endpoint: None,
            ca_pem: None,
            auth: LiveAuth::SigV4 {
                credentials,
                region: region.to_string(),
            },
            client_id: format!("fleetid-console-{}", std::process::id()),
            presence: true,
        })
    }
}

impl LiveAuth {
    fn default_port(&self) -> u16 {
        match self {
            Self::SigV4 { .. } => 443,
            Self::Mtls { .. } => 8883,
            Self::PlainTcp => 1883,
        }
    }
}

/// Splits `host[:port]`.
fn split_host(endpoint: &str, default_port: u16) -> (String, u16) {
    match endpoint.rsplit_once(':') {
        Some((host, port)) if !host.contains(']') || host.ends_with(']') => match port.parse() {
            Ok(port) => (host.to_owned(), port),
            Err(_) => (endpoint.to_owned(), default_port),
        },
        _ => (endpoint.to_owned(), default_port),
    }
}

async fn read_file(what: &'static str, path: &PathBuf) -> Result<Vec<u8>, BackendError> {
    tokio::fs::read(path)
        .await
        .map_err(|source| BackendError::ReadFile {
            what,
            path: path.display().to_string(),
            source,
        })
}

async fn endpoint_host(
    iot: &aws_sdk_iot::Client,
    options: &LiveOptions,
) -> Result<String, BackendError> {
    if let Some(endpoint) = &options.endpoint {
        return Ok(endpoint.clone());
    }
    let out = iot
        .describe_endpoint()
        .endpoint_type("iot:Data-ATS")
        .send()
        .await
        .map_err(|e| CallFailure::from_sdk("iot:DescribeEndpoint", &e))?;
    out.endpoint_address()
        .map(str::to_owned)
        .ok_or(BackendError::MissingField {
            operation: "iot:DescribeEndpoint",
            field: "endpointAddress",
        })
}

/// Builds the rumqttc options for `endpoint` (reads certificate files; no network).
///
/// # Errors
/// [`BackendError::ReadFile`] when a certificate, key or CA file cannot be read.
pub async fn mqtt_options(
    options: &LiveOptions,
    endpoint: &str,
) -> Result<MqttOptions, BackendError> {
    let (host, port) = split_host(endpoint, options.auth.default_port());
    let ca = match &options.ca_pem {
        Some(path) => Some(read_file("the MQTT CA bundle", path).await?),
        None => None,
    };
    let tls = |client_auth| match &ca {
        Some(ca) => TlsConfiguration::Simple {
            ca: ca.clone(),
            alpn: None,
            client_auth,
        },
        None => TlsConfiguration::default(),
    };
    let mut mqtt = match &options.auth {
        LiveAuth::PlainTcp => MqttOptions::new(&options.client_id, host, port),
        LiveAuth::Mtls { cert_pem, key_pem } => {
            let cert = read_file("the MQTT operator certificate (--mqtt-cert)", cert_pem).await?;
            let key = read_file("the MQTT operator key (--mqtt-key)", key_pem).await?;
            let mut mqtt = MqttOptions::new(&options.client_id, host, port);
            let config = match &ca {
                Some(ca) => TlsConfiguration::Simple {
                    ca: ca.clone(),
                    alpn: None,
                    client_auth: Some((cert, key)),
                },
                None => {
                    return Err(BackendError::Live {
                        endpoint: endpoint.to_owned(),
                        detail: "mTLS needs the CA bundle of the broker (--mqtt-ca)".into(),
                    });
                }
            };
            mqtt.set_transport(Transport::tls_with_config(config));
            mqtt
        }
        LiveAuth::SigV4 {
            credentials,
            region,
        } => {
            let address = format!("{host}:{port}");
            let mut mqtt =
                MqttOptions::new(&options.client_id, format!("wss://{address}/mqtt"), port);
            mqtt.set_transport(Transport::Wss(tls(None)));
            let (credentials, region) = (credentials.clone(), region.clone());
            mqtt.set_request_modifier(move |request: http::Request<()>| {
                let (credentials, region, address) =
                    (credentials.clone(), region.clone(), address.clone());
                async move { sign_request(request, &credentials, &region, &address).await }
            });
            mqtt
        }
    };
    mqtt.set_max_packet_size(MAX_PACKET, MAX_PACKET);
    mqtt.set_keep_alive(Duration::from_secs(60));
    mqtt.set_clean_session(true);
    Ok(mqtt)
}

/// Replaces the request's URI with a freshly presigned one. On failure the request goes out
/// unsigned, the broker refuses it, and the refusal is reported as a disconnect.
async fn sign_request(
    mut request: http::Request<()>,
    credentials: &SharedCredentialsProvider,
    region: &str,
    address: &str,
) -> http::Request<()> {
    let signed = match credentials.provide_credentials().await {
        Ok(creds) => {
            presigned_url(address, region, &creds, SystemTime::now()).map_err(|e| e.to_string())
        }
        Err(e) => Err(format!(
            "no credentials to sign the MQTT websocket URL: {e}"
        )),
    };
    match signed.map(|url| url.parse::<http::Uri>()) {
        Ok(Ok(uri)) => *request.uri_mut() = uri,
        Ok(Err(e)) => tracing::warn!("signed MQTT URL does not parse: {e}"),
        Err(e) => tracing::warn!("{e}"),
    }
    request
}

/// Follows live events into `updates` until the receiver is dropped.
///
/// AWS IoT gives one connection at most 100 publishes and 512 KiB a second; a fleet's status
/// messages can be many times that (1M devices every 300 s: 3,333 a second). The status
/// topics are therefore read through a shared subscription (`$share/<group>/...`, the group
/// named after this console's client id, so two consoles do not split one stream) on as many
/// connections as the rate needs: every [`POOL_WINDOW`] the messages received by all of them
/// are counted, and while they come faster than [`PER_CONNECTION`] a second per connection
/// another member connects (up to [`MAX_CONNECTIONS`]). The first connection also follows the
/// lifecycle events. Docs: docs/backend.md, "Live status within AWS IoT's quotas".
///
/// # Errors
/// [`BackendError`] when the options cannot be built (files, endpoint lookup).
pub async fn follow_live(
    iot: &aws_sdk_iot::Client,
    options: &LiveOptions,
    updates: &mpsc::Sender<BackendUpdate>,
) -> Result<(), BackendError> {
    let endpoint = endpoint_host(iot, options).await?;
    let shared = shared_status_filter(&options.client_id);
    let received = Arc::new(AtomicU64::new(0));
    let mut members = tokio::task::JoinSet::new();
    let first = mqtt_options(options, &endpoint).await?;
    let mut filters = vec![shared.clone()];
    if options.presence {
        filters.push(PRESENCE_FILTER.to_owned());
    }
    members.spawn(member(
        first,
        filters,
        updates.clone(),
        Arc::clone(&received),
    ));
    let mut spawned = 1;
    let mut window = tokio::time::interval(POOL_WINDOW);
    window.tick().await;
    let mut counted = 0;
    loop {
        tokio::select! {
            () = updates.closed() => break,
            _ = window.tick() => {
                let total = received.load(Ordering::Relaxed);
                let rate = (total - counted) / POOL_WINDOW.as_secs().max(1);
                counted = total;
                let wanted = connections_for(rate);
                while members.len() < wanted {
                    let mut extra = options.clone();
                    extra.client_id = member_client_id(&options.client_id, spawned);
                    spawned += 1;
                    let mqtt = mqtt_options(&extra, &endpoint).await?;
                    members.spawn(member(
                        mqtt,
                        vec![shared.clone()],
                        updates.clone(),
                        Arc::clone(&received),
                    ));
                }
            }
            Some(_) = members.join_next() => {}
        }
    }
    members.shutdown().await;
    Ok(())
}

/// How often the pool counts what its connections received.
pub const POOL_WINDOW: Duration = Duration::from_secs(5);
/// Publishes a second one connection is meant to carry: 80 % of AWS IoT's 100, so a burst
/// does not reach the quota.
pub const PER_CONNECTION: u64 = 80;
/// The most connections one console opens for status messages.
pub const MAX_CONNECTIONS: usize = 64;

/// Connections a received `rate` (publishes a second) needs. A pool whose members are
/// throttled receives exactly the quota's worth, which asks for one more: the pool grows until
/// what it receives no longer fills its connections.
#[must_use]
pub fn connections_for(rate: u64) -> usize {
    usize::try_from(rate.div_ceil(PER_CONNECTION))
        .unwrap_or(MAX_CONNECTIONS)
        .clamp(1, MAX_CONNECTIONS)
}

/// The shared subscription of this console's status messages: its group is the client id
/// with every character a share name may not hold replaced.
#[must_use]
pub fn shared_status_filter(client_id: &str) -> String {
    let group: String = client_id
        .chars()
        .map(|c| if matches!(c, '/' | '+' | '#') { '_' } else { c })
        .collect();
    format!("$share/{group}/{STATUS_FILTER}")
}

/// One connection of the pool: subscribes to `filters` on every connect and sends what it
/// receives into `updates` (counting the publishes in `received`), reconnecting with backoff,
/// until the receiver is dropped.
async fn member(
    mqtt: MqttOptions,
    filters: Vec<String>,
    updates: mpsc::Sender<BackendUpdate>,
    received: Arc<AtomicU64>,
) {
    let (client, mut eventloop) = AsyncClient::new(mqtt, 16);
    let mut backoff = BACKOFF_START;
    loop {
        let event = tokio::select! {
            () = updates.closed() => break,
            event = eventloop.poll() => event,
        };
        let live = match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff = BACKOFF_START;
                for filter in &filters {
                    if let Err(e) = client.try_subscribe(filter.as_str(), QoS::AtMostOnce) {
                        tracing::warn!("subscribing to {filter}: {e}");
                    }
                }
                Some(LiveEvent::Connected)
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                received.fetch_add(1, Ordering::Relaxed);
                parse_publish(&publish.topic, &publish.payload)
            }
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                let refused = ack
                    .return_codes
                    .iter()
                    .any(|code| matches!(code, rumqttc::SubscribeReasonCode::Failure));
                refused.then(|| LiveEvent::Disconnected {
                    reason: format!(
                        "the broker refused a subscription ({}): grant iot:Subscribe and \
                         iot:Receive on them",
                        filters.join(", ")
                    ),
                })
            }
            Ok(_) => None,
            Err(e) => {
                let reason = format!("{e}");
                if updates
                    .send(BackendUpdate::Live(LiveEvent::Disconnected { reason }))
                    .await
                    .is_err()
                {
                    break;
                }
                tokio::select! {
                    () = updates.closed() => break,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
                None
            }
        };
        if let Some(live) = live
            && updates.send(BackendUpdate::Live(live)).await.is_err()
        {
            break;
        }
    }
    // Best effort: the process may be going away anyway.
    let _ = client.try_disconnect();
}

#[cfg(test)]
mod tests {
    use super::{LiveAuth, LiveOptions, split_host};
    use aws_config::{BehaviorVersion, Region, SdkConfig};
    use aws_credential_types::Credentials;
    use aws_credential_types::provider::SharedCredentialsProvider;

    #[test]
    fn sigv4_options_take_region_and_credentials_from_the_sdk_config() {
        let config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-central-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKID", "secret", None, None, "test",
            )))
            .build();
        let options = LiveOptions::sigv4(&config).unwrap();
        assert!(
            matches!(&options.auth, LiveAuth::SigV4 { region, .. } if region == "eu-central-1")
        );
        assert!(options.presence);
        assert_eq!(options.endpoint, None);
        let bare = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-central-1"))
            .build();
        let err = LiveOptions::sigv4(&bare).unwrap_err().to_string();
        assert!(err.contains("no credentials"), "{err}");
    }

    #[test]
    fn the_pool_grows_with_what_it_receives() {
        use super::{MAX_CONNECTIONS, connections_for, shared_status_filter};
        assert_eq!(connections_for(0), 1);
        assert_eq!(connections_for(80), 1);
        // One throttled connection receives the quota's 100 a second: it asks for a second.
        assert_eq!(connections_for(100), 2);
        // 1M devices every 300 s.
        assert_eq!(connections_for(3_334), 42);
        assert_eq!(connections_for(u64::MAX), MAX_CONNECTIONS);
        assert_eq!(
            shared_status_filter("fleetid-op/1"),
            "$share/fleetid-op_1/fleetid/v1/+/status"
        );
    }

    #[test]
    fn host_and_port_are_split() {
        assert_eq!(
            split_host("a-ats.iot.x.amazonaws.com", 443),
            ("a-ats.iot.x.amazonaws.com".into(), 443)
        );
        assert_eq!(
            split_host("127.0.0.1:1884", 8883),
            ("127.0.0.1".into(), 1884)
        );
        assert_eq!(split_host("[::1]:1884", 8883), ("[::1]".into(), 1884));
        assert_eq!(split_host("[::1]", 8883), ("[::1]".into(), 8883));
    }
}
