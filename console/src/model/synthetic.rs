//! A deterministic synthetic fleet: the same input for the model's tests, the renderer's golden
//! files and the memory benchmark. Three CAs (a root and two intermediates, one of them
//! inactive), devices spread over statuses, expiries, groups and firmware versions, and a few
//! certificates whose PEM cannot be read.
//!
//! Test code: built for the crate's own tests, and with the `test-support` feature (which its
//! tests, benches and examples turn on), never into the shipped binary.

pub mod realistic;

use super::ids::{CertId, SECONDS_PER_DAY, UnixTime};
use super::records::{
    CaRecord, CaStatus, CertFields, CertificateRecord, GroupRecord, KeyKind, PemProblem,
    ThingRecord,
};
use super::status::CertStatus;
use super::update::FleetUpdate;

/// Thing groups devices are spread over.
pub const GROUPS: [&str; 3] = ["eu-west", "us-east", "ap-south"];
/// Firmware versions devices are spread over.
pub const FIRMWARE: [&str; 4] = ["1.4.2", "1.5.0", "2.0.0-rc1", "2.0.1"];

/// Id of synthetic CA number `n` (0 = root, 1 and 2 = intermediates).
#[must_use]
pub fn ca_id(n: u8) -> CertId {
    let mut bytes = [0xca; 32];
    bytes[0] = 0xc0 | n;
    bytes[31] = n;
    CertId(bytes)
}

/// Id of synthetic device certificate number `i`.
#[must_use]
pub fn cert_id(i: usize) -> CertId {
    let mut bytes = [0_u8; 32];
    let mut x = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5851_f42d_4c95_7f2d;
    for chunk in bytes.chunks_exact_mut(8) {
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        chunk.copy_from_slice(&x.to_be_bytes());
    }
    bytes[0] = 0x10 | (bytes[0] & 0x0f); // never collides with a CA id
    CertId(bytes)
}

/// The status of device `i`.
#[must_use]
pub fn status_of(i: usize) -> CertStatus {
    match i % 20 {
        0 => CertStatus::Revoked,
        1 => CertStatus::Inactive,
        2 if i % 40 == 2 => CertStatus::PendingActivation,
        _ => CertStatus::Active,
    }
}

/// Whether device `i`'s PEM is unreadable.
#[must_use]
pub fn unreadable(i: usize) -> bool {
    i % 97 == 13
}

/// The CA (1 or 2) that issued device `i`.
#[must_use]
pub fn issuer_of(i: usize) -> u8 {
    if i.is_multiple_of(3) { 2 } else { 1 }
}

/// Expiry of device `i`: from 10 days ago to 400 days ahead, spread by a hash of `i`.
#[must_use]
pub fn not_after_of(i: usize, now: UnixTime) -> UnixTime {
    let spread = i64::try_from((i * 7919) % 410).unwrap_or(0) - 10;
    now.plus_seconds(spread * SECONDS_PER_DAY + 3600)
}

fn fields(subject: String, issuer: String, not_after: UnixTime) -> CertFields {
    CertFields {
        not_before: UnixTime(not_after.0 - 400 * SECONDS_PER_DAY),
        not_after,
        subject: subject.into(),
        issuer: issuer.into(),
        serial: "01".into(),
        key: KeyKind::Ec { bits: 256 },
    }
}

/// The three CAs: root (active), intermediate 1 (active), intermediate 2 (inactive).
#[must_use]
pub fn cas(now: UnixTime) -> Vec<CaRecord> {
    let expiry = now.plus_seconds(3650 * SECONDS_PER_DAY);
    let root = "CN=Acme Root CA, O=Acme".to_owned();
    vec![
        CaRecord {
            id: ca_id(0),
            status: CaStatus::Active,
            auto_registration: false,
            parent: None,
            parsed: Ok(fields(root.clone(), root.clone(), expiry)),
        },
        CaRecord {
            id: ca_id(1),
            status: CaStatus::Active,
            auto_registration: true,
            parent: None,
            parsed: Ok(fields(
                "CN=Acme Devices 2025, O=Acme".into(),
                root.clone(),
                expiry,
            )),
        },
        CaRecord {
            id: ca_id(2),
            status: CaStatus::Inactive,
            auto_registration: false,
            parent: None,
            parsed: Ok(fields("CN=Acme Devices 2023, O=Acme".into(), root, expiry)),
        },
    ]
}

/// Device certificate `i`.
#[must_use]
pub fn certificate(i: usize, now: UnixTime) -> CertificateRecord {
    let issuer = issuer_of(i);
    let parsed = if unreadable(i) {
        Err(PemProblem {
            reason: "PEM: base64 decoding failed".into(),
        })
    } else {
        Ok(fields(
            format!("CN=dev-{i:07}, O=Acme"),
            format!(
                "CN=Acme Devices {}, O=Acme",
                if issuer == 1 { 2025 } else { 2023 }
            ),
            not_after_of(i, now),
        ))
    };
    CertificateRecord {
        id: cert_id(i),
        status: status_of(i),
        ca: Some(ca_id(issuer)),
        created: UnixTime(now.0 - 30 * SECONDS_PER_DAY),
        last_modified: UnixTime(now.0 - 30 * SECONDS_PER_DAY),
        generation: format!("gen-{i}").into(),
        parsed,
    }
}

/// The thing of device `i`: group `GROUPS[i % 3]`, firmware `FIRMWARE[i % 4]`.
#[must_use]
pub fn thing(i: usize) -> ThingRecord {
    ThingRecord {
        name: format!("dev-{i:07}").into(),
        groups: vec![GROUPS[i % GROUPS.len()].into()],
        firmware: Some(FIRMWARE[i % FIRMWARE.len()].into()),
        connected: Some(!i.is_multiple_of(5)),
    }
}

/// A whole fleet of `devices` devices at `now`, as the updates a backend would send, in pages
/// of `page` records.
#[must_use]
pub fn fleet_updates(devices: usize, now: UnixTime, page: usize) -> Vec<FleetUpdate> {
    let page = page.max(1);
    let mut out = vec![
        FleetUpdate::Cas(cas(now)),
        FleetUpdate::Groups(
            GROUPS
                .iter()
                .map(|g| GroupRecord {
                    name: (*g).into(),
                    parent: None,
                    dynamic: false,
                })
                .collect(),
        ),
    ];
    for start in (0..devices).step_by(page) {
        let range = start..(start + page).min(devices);
        out.push(FleetUpdate::Certificates(
            range.clone().map(|i| certificate(i, now)).collect(),
        ));
        out.push(FleetUpdate::Things(range.clone().map(thing).collect()));
        out.push(FleetUpdate::Attachments(
            range
                .map(|i| (cert_id(i), vec![format!("dev-{i:07}").into()]))
                .collect(),
        ));
    }
    out
}
