//! What goes into the core ([`Event`]) and what comes out ([`Action`]).

/// Milliseconds since the Unix epoch, as the caller's clock says.
pub type Millis = u64;

/// Something that happened, fed to [`super::Agent::handle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The agent (re)started: first event after `Agent::new` or `Agent::restore`.
    Boot,
    /// Time passed; the caller sends it at or after [`super::Agent::next_deadline`].
    Tick,
    /// The last `Connect` reached an accepted CONNACK.
    Connected,
    /// The last `Connect` did not reach an accepted CONNACK.
    ConnectFailed(ConnectFailure),
    /// An established connection ended.
    Disconnected {
        /// Why, in words (sanitized by the console before display).
        reason: String,
    },
    /// A message arrived on a subscribed topic.
    Message {
        /// The topic.
        topic: String,
        /// The payload.
        payload: Vec<u8>,
    },
    /// `GenerateKey` finished.
    KeyGenerated {
        /// The slot now holding the new key.
        slot: u32,
    },
    /// `SignCsr` finished.
    CsrSigned {
        /// The slot whose key signed.
        slot: u32,
        /// The PEM CSR.
        csr_pem: String,
    },
    /// `DeleteKey` finished.
    KeyDeleted {
        /// The slot now empty.
        slot: u32,
    },
    /// A secure element operation failed.
    SecureElementFailed {
        /// The slot it was for.
        slot: u32,
        /// What failed, in words.
        error: String,
    },
}

/// How a connection attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectFailure {
    /// The server was not reached (DNS, TCP, timeout): says nothing about the certificate.
    Unreachable(String),
    /// The server was reached and refused: TLS handshake failed or closed, or CONNACK refused.
    Refused {
        /// A definite signal that the certificate is not accepted (CONNACK "not authorized",
        /// TLS alert `certificate_revoked`, an MQTT 5 reason code).
        definite: bool,
        /// What happened, in words.
        detail: String,
    },
}

/// MQTT quality of service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qos {
    /// Fire and forget.
    AtMostOnce,
    /// Acknowledged.
    AtLeastOnce,
}

/// What the LED shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LedPattern {
    /// Getting a certificate: slow blink.
    Provisioning,
    /// Trying to connect: fast blink.
    Connecting,
    /// Connected with a verified certificate: on.
    Online,
    /// Rotating the certificate: double blink.
    Rotating,
    /// Provisioning failed repeatedly, slow retries: long off, short on.
    Fallback,
    /// The certificate is refused: SOS.
    Revoked,
    /// A local fault: rapid flicker.
    Error,
}

/// Something the caller must do, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Save [`super::Agent::persisted`] atomically before doing anything that follows.
    Persist,
    /// Close any connection and connect with the key in `slot` and this certificate,
    /// authenticating the server with any of `anchors` (PEM).
    Connect {
        /// Secure element slot of the private key.
        slot: u32,
        /// The client certificate.
        certificate_pem: String,
        /// Trust anchors, current first.
        anchors: Vec<String>,
    },
    /// Close the connection and stay offline until the next `Connect`.
    Disconnect,
    /// Subscribe (QoS 1) to these topic filters, at most 8 (the AWS IoT limit per SUBSCRIBE).
    Subscribe(Vec<String>),
    /// Publish.
    Publish {
        /// The topic.
        topic: String,
        /// The payload.
        payload: Vec<u8>,
        /// Quality of service.
        qos: Qos,
    },
    /// Generate a P-256 key pair in `slot`, replacing what is there; answer `KeyGenerated`.
    GenerateKey {
        /// The slot.
        slot: u32,
    },
    /// Sign a PKCS#10 CSR with the key in `slot`; answer `CsrSigned`.
    SignCsr {
        /// The slot.
        slot: u32,
        /// Subject common name.
        common_name: String,
    },
    /// Delete the key in `slot`; answer `KeyDeleted`.
    DeleteKey {
        /// The slot.
        slot: u32,
    },
    /// Show this pattern.
    SetLed(LedPattern),
}
