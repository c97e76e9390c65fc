//! One MQTT connection with rumqttc: options from an `Action::Connect`, and how a failed
//! connection is classified for the revocation rule.

use std::sync::Arc;
use std::time::Duration;

use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, EventLoop, MqttOptions, TlsConfiguration,
    Transport,
};
use std::io::ErrorKind;

use rustls::AlertDescription;

use super::keys::KeyStore;
use super::tls::client_config;
use crate::core::ConnectFailure;

/// Where and how to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name (AWS: the `iot:Data-ATS` endpoint) or loopback address of the lab.
    pub host: String,
    /// 8883 (MQTT over TLS) or 443 (with ALPN `x-amzn-mqtt-ca`).
    pub port: u16,
    /// MQTT keepalive, at least 30 s (AWS IoT treats less as 30).
    pub keepalive_secs: u16,
    /// Seconds to wait for TCP + TLS + CONNACK.
    pub connect_timeout_secs: u16,
}

impl Endpoint {
    /// An endpoint with keepalive 60 s and a 10 s connect timeout.
    #[must_use]
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
            keepalive_secs: 60,
            connect_timeout_secs: 10,
        }
    }
}

/// Opens a connection (lazily: rumqttc connects on the first poll).
///
/// # Errors
/// When the certificate or anchors cannot be read.
pub fn open(
    endpoint: &Endpoint,
    client_id: &str,
    keys: Arc<dyn KeyStore>,
    slot: u32,
    certificate_pem: &str,
    anchors: &[String],
) -> Result<(AsyncClient, EventLoop), String> {
    let tls = client_config(keys, slot, certificate_pem, anchors, endpoint.port == 443)?;
    let mut options = MqttOptions::new(client_id, endpoint.host.clone(), endpoint.port);
    options
        .set_keep_alive(Duration::from_secs(u64::from(
            endpoint.keepalive_secs.max(30),
        )))
        .set_clean_session(true)
        .set_max_packet_size(128 * 1024, 128 * 1024)
        // An agent has a handful of requests in flight; rumqttc's default of 100 costs memory
        // per connection in a lab of thousands.
        .set_inflight(8)
        .set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
            Arc::new(tls),
        )));
    let (client, mut eventloop) = AsyncClient::new(options, 16);
    let mut network = eventloop.network_options();
    network.set_connection_timeout(u64::from(endpoint.connect_timeout_secs));
    eventloop.set_network_options(network);
    Ok((client, eventloop))
}

/// What a connection error before CONNACK says about the certificate.
#[must_use]
pub fn classify(error: &ConnectionError) -> ConnectFailure {
    let detail = error.to_string();
    match error {
        ConnectionError::ConnectionRefused(code) => ConnectFailure::Refused {
            definite: matches!(
                code,
                ConnectReturnCode::NotAuthorized | ConnectReturnCode::BadUserNamePassword
            ),
            detail,
        },
        ConnectionError::NetworkTimeout | ConnectionError::FlushTimeout => {
            ConnectFailure::Unreachable(detail)
        }
        _ => {
            // rumqttc wraps TLS alerts and socket errors several layers deep.
            if let Some(tls) = find_in_chain::<rustls::Error>(error) {
                let definite = matches!(
                    tls,
                    rustls::Error::AlertReceived(AlertDescription::CertificateRevoked)
                );
                return ConnectFailure::Refused { definite, detail };
            }
            match find_in_chain::<std::io::Error>(error).map(std::io::Error::kind) {
                Some(
                    ErrorKind::ConnectionRefused
                    | ErrorKind::TimedOut
                    | ErrorKind::HostUnreachable
                    | ErrorKind::NetworkUnreachable
                    | ErrorKind::NotFound
                    | ErrorKind::AddrNotAvailable,
                ) => ConnectFailure::Unreachable(detail),
                // Reached the server, which closed on us during the handshake or before CONNACK.
                _ => ConnectFailure::Refused {
                    definite: false,
                    detail,
                },
            }
        }
    }
}

/// The first `T` in the error's source chain, looking inside `io::Error`s too.
fn find_in_chain<'a, T: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current = Some(error);
    while let Some(err) = current {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .and_then(|inner| inner.downcast_ref::<T>())
        {
            return Some(inner);
        }
        current = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        let refused = ConnectionError::ConnectionRefused(ConnectReturnCode::NotAuthorized);
        assert!(matches!(
            classify(&refused),
            ConnectFailure::Refused { definite: true, .. }
        ));
        let busy = ConnectionError::ConnectionRefused(ConnectReturnCode::ServiceUnavailable);
        assert!(matches!(
            classify(&busy),
            ConnectFailure::Refused {
                definite: false,
                ..
            }
        ));
        let tcp = ConnectionError::Io(std::io::ErrorKind::ConnectionRefused.into());
        assert!(matches!(classify(&tcp), ConnectFailure::Unreachable(_)));
        let eof = ConnectionError::Io(std::io::ErrorKind::UnexpectedEof.into());
        assert!(matches!(
            classify(&eof),
            ConnectFailure::Refused {
                definite: false,
                ..
            }
        ));
        let revoked = ConnectionError::MqttState(rumqttc::StateError::Io(std::io::Error::other(
            rustls::Error::AlertReceived(AlertDescription::CertificateRevoked),
        )));
        assert!(matches!(
            classify(&revoked),
            ConnectFailure::Refused { definite: true, .. }
        ));
    }
}
