//! A synthetic fleet with the field sizes AWS returns, for benchmarks and the measuring cache
//! (`examples/synthetic_cache.rs`): 16–20-byte serials, subjects and issuers as x509-parser
//! prints them, 20–40-character thing names, generation ids as UUIDs, twelve thing groups
//! (each thing in one or two) and nine firmware versions, one policy attached to every
//! certificate. Deterministic: device `i` is the same in every run.

use super::super::bulk::{FleetParts, ThingParts};
use super::super::ids::{CertId, SECONDS_PER_DAY, UnixTime};
use super::super::records::{
    CaRecord, CaStatus, CertFields, CertificateRecord, GroupRecord, KeyKind, PemProblem,
    PolicyRecord, ThingRecord,
};
use super::super::state::SourceInfo;
use super::super::status::CertStatus;
use super::super::update::{FleetUpdate, Source, SourceState};

/// Thing groups: regions, and product lines nested under them by name only.
pub const GROUPS: [&str; 12] = [
    "fleet-eu-west-1",
    "fleet-eu-central-1",
    "fleet-us-east-1",
    "fleet-us-west-2",
    "fleet-ap-southeast-1",
    "fleet-ap-northeast-1",
    "line-thermostat-gen3",
    "line-smart-meter-v2",
    "line-gateway-pro",
    "line-air-sensor",
    "pilot-canary-ring",
    "retrofit-2024-batch",
];

/// Firmware versions, oldest first.
pub const FIRMWARE: [&str; 9] = [
    "3.8.14",
    "3.9.2",
    "4.0.0",
    "4.0.7",
    "4.1.0-rc.2",
    "4.1.3",
    "4.2.0",
    "4.2.1+build.8812",
    "5.0.0-beta.1",
];

/// The policy attached to every device certificate.
pub const FLEET_POLICY: &str = "acme-device-telemetry-v4";

const PRODUCTS: [&str; 4] = ["thermostat", "smart-meter", "gateway", "air-sensor"];
const SITES: [&str; 6] = ["euw1", "euc1", "use1", "usw2", "apse1", "apne1"];
const ORGANISATION: &str = "C=US, ST=Washington, L=Seattle, O=Acme Connected Devices Inc.";

/// splitmix64: a well-spread hash of `i` (and a salt) for every varying field.
fn mix(i: usize, salt: u64) -> u64 {
    let mut x = (i as u64) ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn pick(i: usize, salt: u64, n: usize) -> usize {
    usize::try_from(mix(i, salt) % n as u64).unwrap_or(0)
}

fn hex_of(i: usize, salt: u64, bytes: usize) -> String {
    let mut out = String::with_capacity(bytes * 2);
    let mut word = 0;
    for b in 0..bytes {
        if b % 8 == 0 {
            word = mix(i, salt + b as u64);
        }
        let byte = (word >> ((b % 8) * 8)) & 0xff;
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// A realistic synthetic fleet of `devices` devices at `now`.
#[derive(Debug, Clone, Copy)]
pub struct RealisticFleet {
    /// Number of devices (one certificate and one thing each).
    pub devices: usize,
    /// The time the fleet is generated for (expiries spread around it).
    pub now: UnixTime,
}

impl RealisticFleet {
    /// Id of CA `n` (0 = root, 1 and 2 = issuing CAs, 2 inactive).
    #[must_use]
    pub fn ca_id(n: u8) -> CertId {
        let mut bytes = [0; 32];
        for (k, chunk) in bytes.chunks_exact_mut(8).enumerate() {
            chunk.copy_from_slice(&mix(usize::from(n), 0xca00 + k as u64).to_be_bytes());
        }
        bytes[0] = 0xc0 | n;
        CertId(bytes)
    }

    /// Id of device certificate `i` (a SHA-256-sized id, as AWS makes from the DER).
    #[must_use]
    pub fn cert_id(i: usize) -> CertId {
        let mut bytes = [0; 32];
        for (k, chunk) in bytes.chunks_exact_mut(8).enumerate() {
            chunk.copy_from_slice(&mix(i, 0x1000 + k as u64).to_be_bytes());
        }
        bytes[0] = 0x10 | (bytes[0] & 0x0f); // never collides with a CA id
        CertId(bytes)
    }

    /// The thing name of device `i`: 20–40 characters, e.g. `thermostat-euw1-00042-9f3a1c`.
    #[must_use]
    pub fn thing_name(i: usize) -> String {
        let product = PRODUCTS[pick(i, 1, PRODUCTS.len())];
        let site = SITES[pick(i, 2, SITES.len())];
        // A tail of 4–16 hex digits spreads names over 20–40 characters.
        let tail = 4 + pick(i, 3, 13);
        let mut name = format!("{product}-{site}-{i:07}-{}", &hex_of(i, 4, 8)[..tail]);
        name.truncate(40);
        name
    }

    /// Status of device `i`: mostly active, a few inactive, revoked or pending activation.
    #[must_use]
    pub fn status_of(i: usize) -> CertStatus {
        match pick(i, 5, 1000) {
            0..=24 => CertStatus::Inactive,
            25..=34 => CertStatus::Revoked,
            35..=39 => CertStatus::PendingActivation,
            _ => CertStatus::Active,
        }
    }

    fn issuing_ca(i: usize) -> u8 {
        if pick(i, 6, 10) < 3 { 2 } else { 1 }
    }

    fn ca_subject(n: u8) -> String {
        match n {
            0 => format!("{ORGANISATION}, OU=Device Identity, CN=Acme Connected Root CA G1"),
            1 => format!("{ORGANISATION}, OU=Device Identity, CN=Acme Device Issuing CA 2025 G2"),
            _ => format!("{ORGANISATION}, OU=Device Identity, CN=Acme Device Issuing CA 2023 G1"),
        }
    }

    /// The three CAs: root (active), issuing CA 1 (active), issuing CA 2 (inactive).
    #[must_use]
    pub fn cas(&self) -> Vec<CaRecord> {
        let expiry = self.now.plus_seconds(3650 * SECONDS_PER_DAY);
        (0..3)
            .map(|n| CaRecord {
                id: Self::ca_id(n),
                status: if n == 2 {
                    CaStatus::Inactive
                } else {
                    CaStatus::Active
                },
                auto_registration: n == 1,
                parent: (n > 0).then(|| Self::ca_id(0)),
                parsed: Ok(CertFields {
                    not_before: UnixTime(expiry.0 - 7300 * SECONDS_PER_DAY),
                    not_after: expiry,
                    subject: Self::ca_subject(n).into(),
                    issuer: Self::ca_subject(0).into(),
                    serial: hex_of(usize::from(n), 7, 20).into(),
                    key: KeyKind::Ec { bits: 384 },
                }),
            })
            .collect()
    }

    /// Device certificate `i`; about one in 5,000 has a PEM that cannot be read.
    #[must_use]
    pub fn certificate(&self, i: usize) -> CertificateRecord {
        let ca = Self::issuing_ca(i);
        let lifetime = 365 + i64::try_from(pick(i, 8, 3)).unwrap_or(0) * 365;
        let expires_in = i64::try_from(pick(i, 9, 800)).unwrap_or(0) - 30;
        let not_after = self.now.plus_seconds(expires_in * SECONDS_PER_DAY + 3600);
        let parsed = if pick(i, 10, 5000) == 0 {
            Err(PemProblem {
                reason: "PEM: base64 decoding failed".into(),
            })
        } else {
            Ok(CertFields {
                not_before: UnixTime(not_after.0 - lifetime * SECONDS_PER_DAY),
                not_after,
                subject: format!("{ORGANISATION}, OU=Field Units, CN={}", Self::thing_name(i))
                    .into(),
                issuer: Self::ca_subject(ca).into(),
                serial: hex_of(i, 11, 16 + pick(i, 12, 5)).into(),
                key: if pick(i, 13, 20) == 0 {
                    KeyKind::Rsa { bits: 2048 }
                } else {
                    KeyKind::Ec { bits: 256 }
                },
            })
        };
        let uuid = hex_of(i, 14, 16);
        let created =
            UnixTime(self.now.0 - i64::try_from(pick(i, 15, 700)).unwrap_or(0) * SECONDS_PER_DAY);
        CertificateRecord {
            id: Self::cert_id(i),
            status: Self::status_of(i),
            ca: Some(Self::ca_id(ca)),
            created,
            last_modified: created,
            generation: format!(
                "{}-{}-{}-{}-{}",
                &uuid[..8],
                &uuid[8..12],
                &uuid[12..16],
                &uuid[16..20],
                &uuid[20..32]
            )
            .into(),
            parsed,
        }
    }

    /// The thing of device `i`: a region group, for a third of them a second group, a
    /// firmware version, connectivity from fleet indexing.
    #[must_use]
    pub fn thing(&self, i: usize) -> ThingRecord {
        let mut groups = vec![GROUPS[pick(i, 16, 6)].into()];
        if pick(i, 17, 3) == 0 {
            groups.push(GROUPS[6 + pick(i, 18, 6)].into());
        }
        ThingRecord {
            name: Self::thing_name(i).into(),
            groups,
            firmware: Some(FIRMWARE[pick(i, 19, FIRMWARE.len())].into()),
            connected: Some(pick(i, 20, 10) < 8),
        }
    }

    /// The thing groups.
    #[must_use]
    pub fn groups(&self) -> Vec<GroupRecord> {
        GROUPS
            .iter()
            .map(|g| GroupRecord {
                name: (*g).into(),
                parent: None,
                dynamic: g.starts_with("pilot"),
            })
            .collect()
    }

    /// The policy attached to every certificate.
    #[must_use]
    pub fn fleet_policy(&self) -> PolicyRecord {
        PolicyRecord {
            name: FLEET_POLICY.into(),
            default_version: "3".into(),
            certificates: (0..self.devices).map(Self::cert_id).collect(),
            groups: std::collections::BTreeSet::new(),
            allows_everything: false,
        }
    }

    /// The whole fleet as record sets, the registry sources fresh at `now`.
    #[must_use]
    pub fn parts(&self) -> FleetParts {
        let fresh = SourceInfo {
            state: SourceState::Fresh,
            fresh_at: Some(self.now),
            reported_at: self.now,
        };
        FleetParts {
            certificates: vec![(0..self.devices).map(|i| self.certificate(i)).collect()],
            things: vec![
                (0..self.devices)
                    .map(|i| ThingParts {
                        record: self.thing(i),
                        certificates: vec![Self::cert_id(i)],
                    })
                    .collect(),
            ],
            cas: self.cas(),
            policies: vec![self.fleet_policy()],
            groups: self.groups(),
            anomalies: Vec::new(),
            sources: [
                Source::Certificates,
                Source::CaCertificates,
                Source::Things,
                Source::Policies,
            ]
            .into_iter()
            .map(|s| (s, fresh.clone()))
            .collect(),
        }
    }

    /// The fleet's updates, as a backend sends them, in pages of `page` devices; the fleet
    /// policy (attached to every certificate) comes last.
    pub fn updates(self, page: usize) -> impl Iterator<Item = FleetUpdate> {
        let page = page.max(1);
        let head = [
            FleetUpdate::Cas(self.cas()),
            FleetUpdate::Groups(self.groups()),
        ];
        let pages = (0..self.devices).step_by(page).flat_map(move |start| {
            let range = start..(start + page).min(self.devices);
            [
                FleetUpdate::Certificates(range.clone().map(|i| self.certificate(i)).collect()),
                FleetUpdate::Things(range.clone().map(|i| self.thing(i)).collect()),
                FleetUpdate::Attachments(
                    range
                        .map(|i| (Self::cert_id(i), vec![Self::thing_name(i).into()]))
                        .collect(),
                ),
            ]
        });
        let policy = std::iter::once_with(move || FleetUpdate::Policies(vec![self.fleet_policy()]));
        head.into_iter().chain(pages).chain(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_have_the_sizes_aws_returns() {
        let fleet = RealisticFleet {
            devices: 2000,
            now: UnixTime(1_795_593_600),
        };
        for i in 0..2000 {
            let name = RealisticFleet::thing_name(i);
            assert!((20..=40).contains(&name.len()), "{name}");
            let cert = fleet.certificate(i);
            if let Ok(f) = &cert.parsed {
                assert!((32..=40).contains(&f.serial.text().len()), "{}", f.serial);
                assert!(f.subject.ends_with(&format!("CN={name}")));
                assert!(f.issuer.len() > 60);
            }
            assert_eq!(cert.generation.text().len(), 36);
        }
        let ids: std::collections::HashSet<_> = (0..2000).map(RealisticFleet::cert_id).collect();
        assert_eq!(ids.len(), 2000);
        let names: std::collections::HashSet<_> =
            (0..2000).map(RealisticFleet::thing_name).collect();
        assert_eq!(names.len(), 2000);
    }
}
