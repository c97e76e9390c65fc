//! Live events (agents' status messages, lifecycle events, the connection itself) as model
//! updates, with the anomalies fleetid derives from them.

use super::derived;
use crate::backend::live::{LiveEvent, PresenceEvent as LivePresence, PresenceKind as LiveKind};
use crate::model::{
    AnomalyRecord, CertId, FleetUpdate, LiveStatusRecord, PresenceEvent, PresenceKind, Severity,
    Source, SourceState, UnixTime,
};

pub(super) fn live(
    event: LiveEvent,
    now: UnixTime,
    anomalies: &mut Vec<AnomalyRecord>,
) -> Vec<FleetUpdate> {
    match event {
        LiveEvent::Status { thing, message } => {
            if message.thing != thing {
                anomalies.push(AnomalyRecord {
                    thing: Some(thing.as_str().into()),
                    ..derived(
                        format!("derived:topic-mismatch:{thing}"),
                        "STATUS_TOPIC_MISMATCH",
                        Severity::High,
                        format!(
                            "status on the topic of {thing:?} claims to be {:?}",
                            message.thing
                        ),
                        now,
                    )
                });
            }
            let state = serde_json::to_value(&message.state)
                .ok()
                .and_then(|v| v.as_str().map(Into::into));
            vec![FleetUpdate::LiveStatus(LiveStatusRecord {
                thing: thing.into(),
                firmware: message.firmware.as_str().into(),
                sequence: message.sequence,
                state,
                last_error: message.last_disconnect.as_deref().map(Into::into),
                at: now,
            })]
        }
        LiveEvent::Presence(p) => presence(&p, now, anomalies),
        LiveEvent::Malformed { topic, reason } => {
            anomalies.push(derived(
                format!("derived:malformed:{topic}"),
                "MALFORMED_MESSAGE",
                Severity::Low,
                format!("unreadable message on {topic}: {reason}"),
                now,
            ));
            Vec::new()
        }
        LiveEvent::Connected => vec![FleetUpdate::SourceStatus {
            source: Source::Live,
            state: SourceState::Fresh,
            at: now,
        }],
        LiveEvent::Disconnected { reason } => vec![FleetUpdate::SourceStatus {
            source: Source::Live,
            state: SourceState::Unavailable {
                reason: reason.into(),
            },
            at: now,
        }],
    }
}

fn presence(
    p: &LivePresence,
    now: UnixTime,
    anomalies: &mut Vec<AnomalyRecord>,
) -> Vec<FleetUpdate> {
    let at = p
        .timestamp_ms
        .map_or(now, |ms| UnixTime(ms.div_euclid(1000)));
    let reason: Box<str> = p.reason.as_deref().unwrap_or("UNKNOWN").into();
    let kind = match p.kind {
        LiveKind::Connected => PresenceKind::Connected,
        LiveKind::Disconnected => PresenceKind::Disconnected {
            reason: reason.clone(),
        },
        LiveKind::ConnectFailed => PresenceKind::ConnectFailed {
            reason: reason.clone(),
        },
    };
    let flagged = match &kind {
        PresenceKind::ConnectFailed { .. } => Some(("CONNECT_FAILED", Severity::Medium)),
        PresenceKind::Disconnected { reason } if &**reason == "DUPLICATE_CLIENTID" => {
            Some(("DUPLICATE_CLIENT_ID", Severity::High))
        }
        PresenceKind::Disconnected { reason } if &**reason == "AUTH_ERROR" => {
            Some(("AUTH_ERROR", Severity::Medium))
        }
        _ => None,
    };
    let certificate = p
        .certificate_id
        .as_deref()
        .and_then(|c| CertId::parse(c).ok());
    if let Some((kind_name, severity)) = flagged {
        anomalies.push(AnomalyRecord {
            thing: p.thing.as_deref().map(Into::into),
            certificate,
            ..derived(
                format!("derived:{kind_name}:{}", p.client_id),
                kind_name,
                severity,
                format!("client {:?}: {reason}", p.client_id),
                at,
            )
        });
    }
    vec![FleetUpdate::Presence(PresenceEvent {
        client_id: p.client_id.as_str().into(),
        thing: p.thing.as_deref().map(Into::into),
        certificate,
        kind,
        at,
    })]
}
