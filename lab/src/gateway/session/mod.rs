//! One device connection through the gateway: admission of its certificate (JITR for
//! unknown ones), CONNECT with `iot:Connect`, then publish/subscribe/receive, each authorized
//! by the certificate's policies, until the client leaves or the gateway closes it.

mod presence;
pub mod quota;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_rustls::server::TlsStream;

use super::mqtt::{self, Incoming, Publish};
use super::router::ToSession;
use super::{Shared, jobs};
use crate::cert_facts::CertFacts;
use crate::detector::Observation;
use crate::policy::{Decision, PolicyContext, PolicyDocument, evaluate};
use crate::registry::{CertStatus, arn, cert_arn};

/// How long a client may take to send CONNECT after the handshake.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// AWS IoT treats shorter keep-alives as 30 s.
const MIN_KEEP_ALIVE: u16 = 30;

/// Admits and serves one TLS connection.
pub(super) async fn serve(shared: Arc<Shared>, tls: TlsStream<TcpStream>, peer: SocketAddr) {
    let Some(facts) = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(|der| CertFacts::from_der(der).ok())
    else {
        return;
    };
    let label = facts
        .common_name
        .clone()
        .unwrap_or_else(|| facts.id.clone());
    match shared.registry.certificate(&facts.id) {
        Ok(cert) if cert.status == CertStatus::Active => {}
        Ok(_) => {
            shared
                .detector
                .observe(&label, Observation::AuthorizationFailure);
            shared.count_connect(false);
            return;
        }
        Err(_) => {
            // Registered PENDING_ACTIVATION and dropped: not authorized either.
            super::admission::register_just_in_time(&shared, &facts).await;
            shared.count_connect(false);
            return;
        }
    }
    Session::new(shared, facts.id, peer).run(tls).await;
}

struct Session {
    shared: Arc<Shared>,
    cert_id: String,
    peer: SocketAddr,
    session_id: u64,
    client_id: String,
    thing_name: Option<String>,
    policies: Vec<PolicyDocument>,
    filters: Vec<String>,
    next_pkid: u16,
    registered: bool,
    client_initiated: bool,
    /// What this connection may still receive (AWS IoT's per-connection quota), when the
    /// gateway enforces it.
    quota: Option<quota::ReceiveQuota>,
}

impl Session {
    fn new(shared: Arc<Shared>, cert_id: String, peer: SocketAddr) -> Self {
        let session_id = shared.next_session.fetch_add(1, Ordering::Relaxed);
        Self {
            quota: shared
                .receive_quota
                .then(|| quota::ReceiveQuota::aws(Instant::now())),
            shared,
            cert_id,
            peer,
            session_id,
            client_id: String::new(),
            thing_name: None,
            policies: Vec::new(),
            filters: Vec::new(),
            next_pkid: 0,
            registered: false,
            client_initiated: false,
        }
    }

    /// Who the detector and connectivity speak of: the thing, else the client id.
    fn subject(&self) -> &str {
        self.thing_name.as_deref().unwrap_or(&self.client_id)
    }

    fn load_policies(&mut self) {
        self.policies = self
            .shared
            .registry
            .effective_policies(&self.cert_id)
            .into_iter()
            .map(|p| p.parsed)
            .collect();
    }

    fn authorize(&self, action: &str, resource: &str) -> bool {
        let ctx = PolicyContext {
            client_id: &self.client_id,
            thing_name: self.thing_name.as_deref(),
        };
        evaluate(&self.policies, action, &arn(resource), &ctx) == Decision::Allow
    }

    fn denied(&self) {
        self.shared
            .detector
            .observe(self.subject(), Observation::AuthorizationFailure);
    }

    /// Runs the session to its end, lifecycle event included. The session's inbox is dropped
    /// only after the disconnected event went out: whoever waits for it to close (the API's
    /// DeleteConnection) then finds the session gone from the tables and the event published.
    async fn run(mut self, tls: TlsStream<TcpStream>) {
        let (tx, mut rx) = mpsc::channel::<ToSession>(256);
        let reason = self.converse(tls, tx, &mut rx).await;
        self.finish(reason);
        drop(rx);
    }

    /// CONNECT, then packets and gateway messages until the connection ends; returns the
    /// disconnect reason.
    async fn converse(
        &mut self,
        tls: TlsStream<TcpStream>,
        tx: mpsc::Sender<ToSession>,
        rx: &mut mpsc::Receiver<ToSession>,
    ) -> &'static str {
        let (mut reader, mut writer) = tokio::io::split(tls);
        let mut input = BytesMut::with_capacity(2048);
        let mut out = BytesMut::with_capacity(512);

        let connect =
            tokio::time::timeout(CONNECT_TIMEOUT, read_packet(&mut reader, &mut input)).await;
        let Ok(Ok(Some(Incoming::Connect {
            level,
            client_id,
            keep_alive,
            ..
        }))) = connect
        else {
            return "CLIENT_ERROR";
        };
        if level != 4 {
            mqtt::connack(&mut out, 1);
            let _ = writer.write_all(&out).await;
            return "CLIENT_ERROR";
        }
        if client_id.is_empty() || client_id.len() > 128 {
            mqtt::connack(&mut out, 2);
            let _ = writer.write_all(&out).await;
            return "CLIENT_ERROR";
        }
        self.client_id = client_id;
        let principal = cert_arn(&self.cert_id);
        if self
            .shared
            .registry
            .principal_things(&principal)
            .contains(&self.client_id)
        {
            self.thing_name = Some(self.client_id.clone());
        }
        self.load_policies();
        if !self.authorize("iot:Connect", &format!("client/{}", self.client_id)) {
            self.denied();
            self.shared.count_connect(false);
            mqtt::connack(&mut out, 5);
            let _ = writer.write_all(&out).await;
            return "AUTH_ERROR";
        }

        self.admit(tx);
        self.shared.count_connect(true);
        mqtt::connack(&mut out, 0);
        if writer.write_all(&out).await.is_err() {
            return "CONNECTION_LOST";
        }
        out.clear();

        let keep_alive = Duration::from_secs(u64::from(keep_alive.max(MIN_KEEP_ALIVE)) * 3 / 2);
        let mut deadline = Instant::now() + keep_alive;
        let mut shutdown = self.shared.shutdown.clone();
        let mut restarts = self.shared.restarts.subscribe();
        loop {
            tokio::select! {
                read = tokio::time::timeout_at(deadline, reader.read_buf(&mut input)) => {
                    match read {
                        Err(_) => return "MQTT_KEEP_ALIVE_TIMEOUT",
                        Ok(Ok(0) | Err(_)) => return "CONNECTION_LOST",
                        Ok(Ok(_)) => {}
                    }
                    deadline = Instant::now() + keep_alive;
                    loop {
                        match mqtt::decode(&mut input) {
                            Ok(None) => break,
                            Ok(Some(packet)) => {
                                if let Err(reason) = self.on_packet(packet, &mut out) {
                                    let _ = writer.write_all(&out).await;
                                    return reason;
                                }
                            }
                            Err(_) => return "CLIENT_ERROR",
                        }
                    }
                }
                message = rx.recv() => {
                    match message {
                        None => return "SERVER_ERROR",
                        Some(ToSession::Close(reason)) => return reason,
                        Some(ToSession::Recheck) => {
                            if let Err(reason) = self.recheck() {
                                return reason;
                            }
                        }
                        Some(ToSession::Deliver(p)) => self.deliver(&p, &mut out),
                    }
                }
                _ = shutdown.changed() => return "SERVER_INITIATED_DISCONNECT",
                _ = restarts.changed() => return "SERVER_INITIATED_DISCONNECT",
            }
            if !out.is_empty() {
                if writer.write_all(&out).await.is_err() {
                    return "CONNECTION_LOST";
                }
                out.clear();
            }
        }
    }

    fn on_packet(&mut self, packet: Incoming, out: &mut BytesMut) -> Result<(), &'static str> {
        match packet {
            Incoming::Connect { .. } => return Err("CLIENT_ERROR"),
            Incoming::PingReq => mqtt::pingresp(out),
            Incoming::PubAck(_) => {}
            Incoming::Disconnect => {
                self.client_initiated = true;
                return Err("CLIENT_INITIATED_DISCONNECT");
            }
            Incoming::Subscribe(pkid, filters) => {
                let mut codes = Vec::with_capacity(filters.len());
                for (filter, qos) in filters {
                    if !self.authorize("iot:Subscribe", &format!("topicfilter/{filter}")) {
                        self.denied();
                        return Err("AUTH_ERROR");
                    }
                    self.shared
                        .router
                        .subscribe(&self.client_id, &filter, qos.min(1));
                    if !self.filters.contains(&filter) {
                        self.filters.push(filter);
                    }
                    codes.push(qos.min(1));
                }
                mqtt::suback(out, pkid, &codes);
            }
            Incoming::Unsubscribe(pkid, filters) => {
                for filter in filters {
                    self.shared.router.unsubscribe(&self.client_id, &filter);
                    self.filters.retain(|f| f != &filter);
                }
                mqtt::unsuback(out, pkid);
            }
            Incoming::Publish(p) => {
                if !self.authorize("iot:Publish", &format!("topic/{}", p.topic)) {
                    self.denied();
                    return Err("AUTH_ERROR");
                }
                if p.qos > 0 {
                    mqtt::puback(out, p.pkid);
                }
                self.shared
                    .detector
                    .observe_publish(self.subject(), &p.topic);
                self.shared.published.fetch_add(1, Ordering::Relaxed);
                if p.topic.starts_with("$aws/things/") && p.topic.contains("/jobs/") {
                    for (topic, body) in jobs::handle(&self.shared.registry, &p.topic, &p.payload) {
                        self.shared.publish_json(&topic, &body);
                    }
                } else if p.topic.starts_with("$aws/provisioning-templates/") {
                    for (topic, body) in super::provisioning::provision(
                        &self.shared,
                        &self.client_id,
                        &self.cert_id,
                        &p.topic,
                        &p.payload,
                    ) {
                        self.answer_privately(&topic, &body, out);
                    }
                } else if p.topic.starts_with("$aws/certificates/create-from-csr/") {
                    for (topic, body) in
                        super::provisioning::create_from_csr(&self.shared, &p.topic, &p.payload)
                    {
                        self.answer_privately(&topic, &body, out);
                    }
                } else {
                    self.shared.router.route(&Publish { pkid: 0, ..p });
                }
            }
        }
        Ok(())
    }

    /// A fleet provisioning answer: AWS IoT sends it to the connection that asked (when it
    /// subscribed to the answer topic), never to other subscribers — with many devices asking
    /// at once, each must get its own certificate.
    fn answer_privately(&mut self, topic: &str, body: &serde_json::Value, out: &mut BytesMut) {
        if !self
            .filters
            .iter()
            .any(|f| super::mqtt::filter_matches(f, topic))
        {
            return;
        }
        let publish = Publish {
            topic: topic.to_owned(),
            payload: body.to_string().into(),
            qos: 1,
            pkid: 0,
            retain: false,
        };
        self.deliver(&publish, out);
    }

    fn deliver(&mut self, p: &Publish, out: &mut BytesMut) {
        if !self.authorize("iot:Receive", &format!("topic/{}", p.topic)) {
            return;
        }
        let size = p.topic.len() + p.payload.len();
        if let Some(quota) = &mut self.quota
            && !quota.admit(size, Instant::now())
        {
            // Throttled, as AWS IoT throttles a connection over its quota: lost to it.
            self.shared.throttled.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let pkid = if p.qos > 0 {
            self.next_pkid = self.next_pkid.checked_add(1).unwrap_or(1);
            self.next_pkid
        } else {
            0
        };
        mqtt::publish(
            out,
            &Publish {
                pkid,
                topic: p.topic.clone(),
                payload: Bytes::clone(&p.payload),
                qos: p.qos,
                retain: false,
            },
        );
    }

    /// After a registry change: a certificate that left ACTIVE or lost `iot:Connect` is
    /// disconnected at once.
    fn recheck(&mut self) -> Result<(), &'static str> {
        let active = self
            .shared
            .registry
            .certificate(&self.cert_id)
            .is_ok_and(|c| c.status == CertStatus::Active);
        if !active {
            return Err("AUTH_ERROR");
        }
        self.load_policies();
        if self.authorize("iot:Connect", &format!("client/{}", self.client_id)) {
            Ok(())
        } else {
            self.denied();
            Err("AUTH_ERROR")
        }
    }
}

async fn read_packet<R: AsyncReadExt + Unpin>(
    reader: &mut R,
    input: &mut BytesMut,
) -> std::io::Result<Option<Incoming>> {
    // Bounded by MAX_PACKET: decode errors out on anything larger.
    loop {
        match mqtt::decode(input) {
            Ok(Some(p)) => return Ok(Some(p)),
            Ok(None) => {}
            Err(e) => return Err(std::io::Error::other(e)),
        }
        if reader.read_buf(input).await? == 0 {
            return Ok(None);
        }
    }
}
