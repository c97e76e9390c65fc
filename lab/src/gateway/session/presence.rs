//! A session's presence: registering it (duplicate client ids, shared certificates),
//! fleet-indexing connectivity and the lifecycle events, on connect and on disconnect.

use std::sync::atomic::Ordering;

use serde_json::json;
use tokio::sync::mpsc;

use super::super::admission::now_ms;
use super::super::router::{SessionEntry, ToSession};
use super::Session;
use crate::detector::{Finding, Observation};
use crate::registry::Connectivity;

impl Session {
    /// Registers the session, kicking an older one with the same client id.
    pub(super) fn admit(&mut self, tx: mpsc::Sender<ToSession>) {
        let shared = &self.shared;
        let mut clients: Vec<String> = shared
            .router
            .sessions_with_cert(&self.cert_id)
            .into_iter()
            .map(|(client, _)| client)
            .filter(|client| *client != self.client_id)
            .collect();
        if !clients.is_empty() {
            clients.sort();
            let reason = format!(
                "clients {} and {} connected with the same certificate",
                clients.join(", "),
                self.client_id
            );
            clients.push(self.client_id.clone());
            shared.detector.finding(
                Finding::now(
                    "DEVICE_CERTIFICATE_SHARED_CHECK",
                    "CRITICAL",
                    "DEVICE_CERTIFICATE",
                    &self.cert_id,
                    "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES",
                    reason,
                )
                .with_related_client_ids(clients),
            );
        }
        let entry = SessionEntry {
            session_id: self.session_id,
            cert_id: self.cert_id.clone(),
            tx,
        };
        if let Some(old) = shared.router.register(&self.client_id, entry) {
            let _ = old.tx.try_send(ToSession::Close("DUPLICATE_CLIENTID"));
            shared.detector.finding(Finding::now(
                "CONFLICTING_CLIENT_IDS_CHECK",
                "HIGH",
                "CLIENT_ID",
                &self.client_id,
                "CONFLICTING_CLIENT_IDS",
                format!(
                    "client id {} connected while already connected",
                    self.client_id
                ),
            ));
        }
        self.registered = true;
        shared.connected.fetch_add(1, Ordering::Relaxed);
        shared
            .detector
            .observe(self.subject(), Observation::Connect);
        shared.registry.set_connectivity(
            self.subject(),
            Connectivity {
                connected: true,
                timestamp_ms: now_ms(),
                disconnect_reason: None,
                client_id: self.client_id.clone(),
            },
        );
        shared.publish_json(
            &format!("$aws/events/presence/connected/{}", self.client_id),
            &self.lifecycle("connected", None),
        );
    }

    pub(super) fn lifecycle(&self, event: &str, reason: Option<&str>) -> serde_json::Value {
        let mut body = json!({
            "clientId": self.client_id,
            "timestamp": now_ms(),
            "eventType": event,
            "sessionIdentifier": format!("{:016x}", self.session_id),
            "principalIdentifier": self.cert_id,
            "versionNumber": self.session_id,
            "ipAddress": self.peer.ip().to_string(),
        });
        if let Some(thing) = &self.thing_name {
            body["thingName"] = json!(thing);
        }
        if let Some(reason) = reason {
            body["clientInitiatedDisconnect"] = json!(self.client_initiated);
            body["disconnectReason"] = json!(reason);
        }
        body
    }

    pub(super) fn finish(&mut self, reason: &'static str) {
        if !self.registered {
            return;
        }
        let shared = &self.shared;
        shared.connected.fetch_sub(1, Ordering::Relaxed);
        if shared
            .router
            .unregister(&self.client_id, self.session_id, &self.filters)
        {
            shared.registry.set_connectivity(
                self.subject(),
                Connectivity {
                    connected: false,
                    timestamp_ms: now_ms(),
                    disconnect_reason: Some(reason.to_owned()),
                    client_id: self.client_id.clone(),
                },
            );
        }
        shared.publish_json(
            &format!("$aws/events/presence/disconnected/{}", self.client_id),
            &self.lifecycle("disconnected", Some(reason)),
        );
    }
}
