//! The Lambda handler on real event JSON, against an in-memory control plane and file
//! manifest: decisions, log lines, and which failures ask the Lambda service for a retry.
#![allow(clippy::unwrap_used)]

mod support;

use fleetid_jitr::{
    CertificateStatus, ControlPlaneErrorKind, FileManifest, Handled, JitrConfig, ManifestEntry,
    ManifestError, ManifestSource, handle_registration,
};
use support::memory::MemoryControlPlane;
use support::pki::{DeviceSpec, TestCa};
use support::sold;
use time::OffsetDateTime;

const CERT_ID: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
const CA_ID: &str = "c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2";

/// The event as AWS IoT publishes it (documented sample shape, our ids and a current time).
fn sample_event(at: OffsetDateTime) -> serde_json::Value {
    let text = format!(
        r#"{{
          "certificateId": "{CERT_ID}",
          "caCertificateId": "{CA_ID}",
          "timestamp": {ms},
          "certificateStatus": "PENDING_ACTIVATION",
          "awsAccountId": "123456789012",
          "certificateRegistrationTimestamp": "{ms}"
        }}"#,
        ms = at.unix_timestamp() * 1000
    );
    serde_json::from_str(&text).unwrap()
}

struct Setup {
    control_plane: MemoryControlPlane,
    manifest: FileManifest,
    config: JitrConfig,
    now: OffsetDateTime,
}

impl Setup {
    /// Runs the handler on `event` with this setup's control plane, manifest and config.
    async fn handle(&self, event: &serde_json::Value, now_ms: u64) -> Handled {
        handle_registration(
            event,
            &self.control_plane,
            &self.manifest,
            &self.config,
            now_ms,
        )
        .await
    }
}

fn setup(device_id: &str, cert_pem: Option<&str>) -> Setup {
    let now = OffsetDateTime::now_utc();
    let ca = TestCa::p256("Fleet Device CA");
    let control_plane = MemoryControlPlane::default();
    control_plane.add_ca(CA_ID, &ca.pem, "ACTIVE");
    let pem = cert_pem.map_or_else(|| ca.issue(&DeviceSpec::new(device_id, now)), str::to_owned);
    control_plane.add_certificate(CERT_ID, &pem, Some(CA_ID));
    control_plane.add_group("fleet");
    Setup {
        control_plane,
        manifest: FileManifest::from_entries([sold("dev-001")]),
        config: JitrConfig {
            thing_groups: vec!["fleet".into()],
            ..JitrConfig::default()
        },
        now,
    }
}

#[tokio::test]
async fn sample_event_activates_and_logs_one_emf_line() {
    let s = setup("dev-001", None);
    let handled = s.handle(&sample_event(s.now), 42).await;
    assert!(handled.retryable_error.is_none());
    assert_eq!(s.control_plane.status(CERT_ID), CertificateStatus::Active);
    let line = &handled.log_line;
    assert_eq!(line["event"], "jitr_decision");
    assert_eq!(line["outcome"], "activate");
    assert_eq!(line["thing"], "dev-001");
    assert_eq!(line["groups"][0], "fleet");
    assert_eq!(line["certificate_id"], CERT_ID);
    assert_eq!(line["_aws"]["Timestamp"], 42);
    assert_eq!(
        line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
        "Activations"
    );
    assert!(!line.to_string().contains('\n'));
    let writes = s.control_plane.writes();
    assert_eq!(writes, 6);
    let again = s.handle(&sample_event(s.now), 43).await;
    assert_eq!(again.log_line["changed"], false);
    assert_eq!(
        s.control_plane.writes(),
        writes,
        "a duplicate event wrote something"
    );
}

#[tokio::test]
async fn malformed_events_are_rejected_without_retry_or_writes() {
    let s = setup("dev-001", None);
    let events = [
        serde_json::json!({"caCertificateId": CA_ID, "certificateStatus": "PENDING_ACTIVATION", "awsAccountId": "1"}),
        serde_json::json!({"certificateId": 7, "caCertificateId": CA_ID, "certificateStatus": "X", "awsAccountId": "1"}),
        serde_json::json!("not an object"),
        serde_json::json!(null),
        // Well-formed but without any time: nothing to judge validity against.
        serde_json::json!({"certificateId": CERT_ID, "caCertificateId": CA_ID, "certificateStatus": "PENDING_ACTIVATION", "awsAccountId": "1"}),
    ];
    for (i, event) in events.iter().enumerate() {
        let handled = s.handle(event, 1).await;
        assert!(handled.retryable_error.is_none(), "event {i}");
        assert_eq!(
            handled.log_line["reason"], "MALFORMED_EVENT",
            "event {i}: {}",
            handled.log_line
        );
        assert_eq!(handled.log_line["Rejections"], 1);
    }
    // The time-less event names a real certificate: it is deactivated, the others touch nothing.
    assert_eq!(s.control_plane.writes(), 1);
    assert_eq!(s.control_plane.status(CERT_ID), CertificateStatus::Inactive);
}

#[tokio::test]
async fn bad_certificates_and_cas_are_rejected_with_a_reason() {
    let cases: [(&str, Option<&str>, &str); 3] = [
        (
            "malformed PEM",
            Some("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"),
            "MALFORMED_CERTIFICATE",
        ),
        ("empty PEM", Some(""), "MALFORMED_CERTIFICATE"),
        ("unknown device", None, "UNKNOWN_DEVICE"),
    ];
    for (name, pem, reason) in cases {
        let s = setup("dev-999", pem);
        let handled = s.handle(&sample_event(s.now), 1).await;
        assert!(handled.retryable_error.is_none(), "{name}");
        assert_eq!(
            handled.log_line["reason"], reason,
            "{name}: {}",
            handled.log_line
        );
        assert_eq!(
            s.control_plane.status(CERT_ID),
            CertificateStatus::Inactive,
            "{name}"
        );
    }

    let s = setup("dev-001", None);
    s.control_plane.state.lock().unwrap().cas.clear();
    let handled = s.handle(&sample_event(s.now), 1).await;
    assert_eq!(
        handled.log_line["reason"], "UNKNOWN_CA",
        "{}",
        handled.log_line
    );
    assert_eq!(s.control_plane.status(CERT_ID), CertificateStatus::Inactive);

    let s = setup("dev-001", None);
    let pem = s.control_plane.state.lock().unwrap().cas[CA_ID].pem.clone();
    s.control_plane.add_ca(CA_ID, &pem, "INACTIVE");
    let handled = s.handle(&sample_event(s.now), 1).await;
    assert_eq!(
        handled.log_line["reason"], "UNKNOWN_CA",
        "{}",
        handled.log_line
    );

    // The event names another registered, active CA than the one the certificate is
    // registered under. (A CA that is not registered at all is UNKNOWN_CA: that rule comes
    // first.)
    let s = setup("dev-001", None);
    let other_ca = "f".repeat(64);
    s.control_plane
        .add_ca(&other_ca, &TestCa::p256("Other CA").pem, "ACTIVE");
    let mut event = sample_event(s.now);
    event["caCertificateId"] = other_ca.into();
    let handled = s.handle(&event, 1).await;
    assert_eq!(
        handled.log_line["reason"], "ISSUER_MISMATCH",
        "{}",
        handled.log_line
    );
}

struct UnreachableManifest;

impl ManifestSource for UnreachableManifest {
    async fn lookup(&self, device_id: &str) -> Result<Option<ManifestEntry>, ManifestError> {
        Err(ManifestError::Unavailable {
            device_id: device_id.to_owned(),
            message: "throttled".into(),
        })
    }
}

#[tokio::test]
async fn only_retryable_failures_return_an_error() {
    let s = setup("dev-001", None);
    s.control_plane.state.lock().unwrap().describe_fails = Some(ControlPlaneErrorKind::Retryable);
    let handled = s.handle(&sample_event(s.now), 1).await;
    assert_eq!(handled.log_line["event"], "jitr_error");
    assert!(
        handled.into_result().is_err(),
        "a throttled describe must be retried"
    );

    for kind in [
        ControlPlaneErrorKind::Permanent,
        ControlPlaneErrorKind::NotFound,
    ] {
        s.control_plane.state.lock().unwrap().describe_fails = Some(kind);
        let handled = s.handle(&sample_event(s.now), 1).await;
        assert_eq!(handled.log_line["retryable"], false);
        assert!(
            handled.into_result().is_ok(),
            "{kind:?} must not be retried"
        );
    }
    s.control_plane.state.lock().unwrap().describe_fails = None;

    let handled = handle_registration(
        &sample_event(s.now),
        &s.control_plane,
        &UnreachableManifest,
        &s.config,
        1,
    )
    .await;
    assert!(handled.retryable_error.is_some());
    assert_eq!(
        s.control_plane.status(CERT_ID),
        CertificateStatus::PendingActivation
    );

    // A thing group that does not exist: a permanent failure, logged, not retried.
    let config = JitrConfig {
        thing_groups: vec!["missing".into()],
        ..s.config.clone()
    };
    let handled = handle_registration(
        &sample_event(s.now),
        &s.control_plane,
        &s.manifest,
        &config,
        1,
    )
    .await;
    assert!(handled.retryable_error.is_none());
    assert!(
        handled.log_line["apply_error"]
            .as_str()
            .unwrap()
            .contains("missing"),
        "{}",
        handled.log_line
    );
    assert_eq!(
        s.control_plane.status(CERT_ID),
        CertificateStatus::PendingActivation
    );
}
