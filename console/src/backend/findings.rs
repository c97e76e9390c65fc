//! Security signals converted out of SDK types: Device Defender violations and audit findings,
//! and CloudWatch `AWS/IoT` metric series.

use crate::model::Severity;

/// A Device Defender Detect violation that is still active, or one event of one.
#[derive(Debug, Clone, PartialEq)]
pub struct ViolationRecord {
    /// Violation id (shared by an active violation and its events).
    pub violation_id: String,
    /// The thing that violated the behavior.
    pub thing: Option<String>,
    /// Security profile name.
    pub security_profile: Option<String>,
    /// Behavior name.
    pub behavior: Option<String>,
    /// The metric, e.g. `aws:num-authorization-failures`.
    pub metric: Option<String>,
    /// The last (or event's) value when it is a count or number.
    pub value: Option<f64>,
    /// `in-alarm`, `alarm-cleared`, `alarm-invalidated` for events; `active` for active ones.
    pub kind: String,
    /// When it started (active) or happened (event).
    pub at: Option<i64>,
}

/// A Device Defender audit finding about certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFindingRecord {
    /// Finding id.
    pub finding_id: String,
    /// Audit check name, e.g. `DEVICE_CERTIFICATE_EXPIRING_CHECK`.
    pub check: String,
    /// How bad; `Low` when AWS gives none or one this version does not know.
    pub severity: Severity,
    /// The device certificate concerned, if any.
    pub device_certificate_id: Option<String>,
    /// The CA certificate concerned, if any.
    pub ca_certificate_id: Option<String>,
    /// Machine-readable reason, e.g. `CERTIFICATE_APPROACHING_EXPIRATION`.
    pub reason_code: Option<String>,
    /// Human-readable reason.
    pub reason: Option<String>,
    /// When it was found.
    pub found_at: Option<i64>,
    /// The client ids among its related resources, in the order AWS lists them (one may
    /// repeat: for a shared certificate AWS lists each connection). For
    /// `DEVICE_CERTIFICATE_SHARED_CHECK`: the clients that connected with the certificate.
    pub related_client_ids: Vec<String>,
}

/// Sums of one CloudWatch metric over the requested window, one value per period.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSeries {
    /// Which metric.
    pub metric: IotMetric,
    /// Period start times (seconds), oldest first.
    pub timestamps: Vec<i64>,
    /// The sum over each period, aligned with `timestamps`.
    pub values: Vec<f64>,
}

impl MetricSeries {
    /// The sum over the whole window.
    #[must_use]
    pub fn total(&self) -> f64 {
        self.values.iter().sum()
    }
}

/// The `AWS/IoT` metrics fleetid watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IotMetric {
    /// `Connect.AuthError` (Protocol=MQTT): connections refused for bad credentials.
    ConnectAuthError,
    /// `Connect.Success` (Protocol=MQTT).
    ConnectSuccess,
    /// `CreateCertificateFromCsrFailed`: fleet provisioning by claim failing.
    CreateCertificateFromCsrFailed,
    /// `RegisterThingFailed`: provisioning template runs failing.
    RegisterThingFailed,
    /// `ApproximateNumberOfThingsRegistered`, summed over every claim certificate.
    ThingsRegisteredByClaim,
}

impl IotMetric {
    /// Every metric, in display order.
    pub const ALL: [Self; 5] = [
        Self::ConnectAuthError,
        Self::ConnectSuccess,
        Self::CreateCertificateFromCsrFailed,
        Self::RegisterThingFailed,
        Self::ThingsRegisteredByClaim,
    ];

    /// The CloudWatch metric name.
    #[must_use]
    pub fn metric_name(self) -> &'static str {
        match self {
            Self::ConnectAuthError => "Connect.AuthError",
            Self::ConnectSuccess => "Connect.Success",
            Self::CreateCertificateFromCsrFailed => "CreateCertificateFromCsrFailed",
            Self::RegisterThingFailed => "RegisterThingFailed",
            Self::ThingsRegisteredByClaim => "ApproximateNumberOfThingsRegistered",
        }
    }

    /// The query id used in GetMetricData (lower-case letters, unique).
    #[must_use]
    pub fn query_id(self) -> &'static str {
        match self {
            Self::ConnectAuthError => "connectautherror",
            Self::ConnectSuccess => "connectsuccess",
            Self::CreateCertificateFromCsrFailed => "csrfailed",
            Self::RegisterThingFailed => "registerthingfailed",
            Self::ThingsRegisteredByClaim => "claimregistered",
        }
    }

    /// The metric whose query id is `id`.
    #[must_use]
    pub fn from_query_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.query_id() == id)
    }
}
