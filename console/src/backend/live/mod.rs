//! Live events over MQTT: agents' status messages on `fleetid/v1/<thing>/status` and AWS IoT
//! lifecycle events on `$aws/events/presence/<event>/<clientId>`. [`parse_publish`] turns one
//! publish into a [`LiveEvent`]; [`connection`] holds the rumqttc connection (mTLS or SigV4
//! websocket) and the loop that feeds the update channel; [`pool_identity`] says who its
//! connections are.

pub mod connection;
pub mod pool_identity;
pub mod sigv4;

use fleetid_agent::wire::StatusMessage;
use serde::Deserialize;

/// The topic filters the console subscribes to.
pub const STATUS_FILTER: &str = "fleetid/v1/+/status";
/// Lifecycle events: connected, disconnected, connect_failed.
pub const PRESENCE_FILTER: &str = "$aws/events/presence/+/+";

/// A presence change reported by AWS IoT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceKind {
    /// `connected`.
    Connected,
    /// `disconnected`.
    Disconnected,
    /// `connect_failed` (e.g. AUTHORIZATION_FAILED).
    ConnectFailed,
}

/// One lifecycle event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceEvent {
    /// Which change.
    pub kind: PresenceKind,
    /// The MQTT client id.
    pub client_id: String,
    /// The thing, when the client is an exclusively attached thing.
    pub thing: Option<String>,
    /// The certificate id used (principalIdentifier).
    pub certificate_id: Option<String>,
    /// `disconnectReason` or `connectFailureReason`.
    pub reason: Option<String>,
    /// When, in milliseconds since the Unix epoch.
    pub timestamp_ms: Option<i64>,
    /// Shared by the connect/disconnect pair of one session; orders out-of-order events.
    pub version: Option<i64>,
}

/// Something that happened on the MQTT side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveEvent {
    /// An agent's status message.
    Status {
        /// The thing named in the topic.
        thing: String,
        /// The parsed message (its `thing` field may differ from the topic: a sign of trouble).
        message: Box<StatusMessage>,
    },
    /// A lifecycle event.
    Presence(PresenceEvent),
    /// A message on our topics that could not be read.
    Malformed {
        /// The topic it came on.
        topic: String,
        /// Why it could not be read.
        reason: String,
    },
    /// The MQTT session is up (after connect or reconnect).
    Connected,
    /// The MQTT session was lost; the backend reconnects with backoff.
    Disconnected {
        /// Why.
        reason: String,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PresenceJson {
    client_id: Option<String>,
    thing_name: Option<String>,
    principal_identifier: Option<String>,
    disconnect_reason: Option<String>,
    connect_failure_reason: Option<String>,
    timestamp: Option<i64>,
    version_number: Option<i64>,
}

/// Reads one publish received on our subscriptions; `None` for topics we did not ask for.
#[must_use]
pub fn parse_publish(topic: &str, payload: &[u8]) -> Option<LiveEvent> {
    let levels: Vec<&str> = topic.split('/').collect();
    match levels.as_slice() {
        ["fleetid", "v1", thing, "status"] => Some(match StatusMessage::from_json(payload) {
            Ok(message) => LiveEvent::Status {
                thing: (*thing).to_owned(),
                message: Box::new(message),
            },
            Err(e) => malformed(topic, &e.to_string()),
        }),
        ["$aws", "events", "presence", event, client_id] => {
            let kind = match *event {
                "connected" => PresenceKind::Connected,
                "disconnected" => PresenceKind::Disconnected,
                "connect_failed" => PresenceKind::ConnectFailed,
                other => return Some(malformed(topic, &format!("unknown event type {other}"))),
            };
            Some(match serde_json::from_slice::<PresenceJson>(payload) {
                Ok(json) => LiveEvent::Presence(PresenceEvent {
                    kind,
                    client_id: json.client_id.unwrap_or_else(|| (*client_id).to_owned()),
                    thing: json.thing_name,
                    certificate_id: json.principal_identifier,
                    reason: json.disconnect_reason.or(json.connect_failure_reason),
                    timestamp_ms: json.timestamp,
                    version: json.version_number,
                }),
                Err(e) => malformed(topic, &format!("presence event is not JSON: {e}")),
            })
        }
        _ => None,
    }
}

fn malformed(topic: &str, reason: &str) -> LiveEvent {
    LiveEvent::Malformed {
        topic: topic.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_message_is_read_with_the_topic_thing() {
        let message = StatusMessage::new("dev-9", 3, "2.0.1");
        let event = parse_publish("fleetid/v1/dev-9/status", &message.to_json());
        assert_eq!(
            event,
            Some(LiveEvent::Status {
                thing: "dev-9".into(),
                message: Box::new(message)
            })
        );
    }

    #[test]
    fn disconnect_event_carries_reason_and_certificate() {
        let payload = br#"{"clientId":"dev-3","timestamp":1623724243659,"eventType":"disconnected",
            "principalIdentifier":"abc","clientInitiatedDisconnect":false,
            "disconnectReason":"DUPLICATE_CLIENTID","versionNumber":7,"thingName":"dev-3"}"#;
        let Some(LiveEvent::Presence(event)) =
            parse_publish("$aws/events/presence/disconnected/dev-3", payload)
        else {
            panic!("not a presence event");
        };
        assert_eq!(event.kind, PresenceKind::Disconnected);
        assert_eq!(event.reason.as_deref(), Some("DUPLICATE_CLIENTID"));
        assert_eq!(event.certificate_id.as_deref(), Some("abc"));
        assert_eq!(event.version, Some(7));
        assert_eq!(event.timestamp_ms, Some(1_623_724_243_659));
    }

    #[test]
    fn connect_failed_reason_and_bad_payloads() {
        let payload = br#"{"clientId":"x","eventType":"connect_failed","connectFailureReason":"AUTHORIZATION_FAILED"}"#;
        let Some(LiveEvent::Presence(event)) =
            parse_publish("$aws/events/presence/connect_failed/x", payload)
        else {
            panic!("not a presence event");
        };
        assert_eq!(event.kind, PresenceKind::ConnectFailed);
        assert_eq!(event.reason.as_deref(), Some("AUTHORIZATION_FAILED"));
        assert!(matches!(
            parse_publish("fleetid/v1/d/status", b"{not json"),
            Some(LiveEvent::Malformed { .. })
        ));
        assert!(matches!(
            parse_publish("$aws/events/presence/subscribed/x", b"{}"),
            Some(LiveEvent::Malformed { .. })
        ));
        assert_eq!(parse_publish("other/topic", b"{}"), None);
    }
}
