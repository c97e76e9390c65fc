//! Shared test helpers.
#![allow(dead_code, clippy::unwrap_used)]

pub mod der_edit;
pub mod faulty;
pub mod memory;
#[cfg(feature = "aws")]
pub mod moto;
pub mod pki;
#[cfg(feature = "lambda")]
pub mod runtime_api;

use fleetid_jitr::{ManifestEntry, RegisteredEvent, SaleStatus};
use time::OffsetDateTime;

/// A registration event at `at` for certificate `certificate_id` under CA `ca_id`.
pub fn event_at(certificate_id: &str, ca_id: &str, at: OffsetDateTime) -> RegisteredEvent {
    let millis = u64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap();
    RegisteredEvent {
        certificate_id: certificate_id.to_owned(),
        ca_certificate_id: ca_id.to_owned(),
        certificate_status: "PENDING_ACTIVATION".into(),
        aws_account_id: "123456789012".into(),
        timestamp: Some(millis),
        certificate_registration_timestamp: Some(millis.to_string()),
    }
}

/// A sold, not recalled device of model `sensor-a` with firmware 2.1.0.
pub fn sold(device_id: &str) -> ManifestEntry {
    ManifestEntry {
        device_id: device_id.to_owned(),
        model: "sensor-a".into(),
        status: SaleStatus::Sold,
        recalled: false,
        firmware: "2.1.0".parse().unwrap(),
        batch: Some("B7".into()),
        groups: vec![],
    }
}

/// A random lowercase hex suffix, so tests sharing one moto server never collide.
pub fn unique(prefix: &str) -> String {
    let mut bytes = [0u8; 6];
    aws_lc_rs::rand::fill(&mut bytes).unwrap();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}-{hex}")
}
