//! What must hold for the JITR decision on any device and CA certificate, as DER or PEM text:
//! it never panics, and an activation names a thing within AWS's length limit, made of the
//! configured prefix and the device id the certificate carries. Shared by the fuzz target and
//! the corpus replay test (`tests/fuzz_corpus.rs`).
//!
//! Input layout: one flags byte (bit 0: the device certificate is DER to armour as PEM, bit 1:
//! the CA's is, bit 2: the device id is the serial number rather than the CN), eight bytes of
//! event time (milliseconds, big-endian), two bytes of device certificate length (big-endian),
//! the device certificate, then the CA certificate (none when empty).

use fleetid_jitr::{
    Decision, DeviceIdSource, JitrConfig, MAX_THING_NAME_LEN, ManifestEntry, RegisteredEvent,
    SaleStatus, decide, device_id_of,
};

/// Checks one input; panics on a violation.
pub fn check(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Some((time, rest)) = rest.split_at_checked(8) else {
        return;
    };
    let Some((length, rest)) = rest.split_at_checked(2) else {
        return;
    };
    let time = u64::from_be_bytes(time.try_into().unwrap_or_default());
    let length = usize::from(u16::from_be_bytes([length[0], length[1]])).min(rest.len());
    let (device, ca) = rest.split_at(length);

    let device_pem = pem_or_text(device, flags & 1 != 0);
    let ca_pem = (!ca.is_empty()).then(|| pem_or_text(ca, flags & 2 != 0));
    let config = JitrConfig {
        device_id_source: if flags & 4 == 0 {
            DeviceIdSource::CommonName
        } else {
            DeviceIdSource::SerialNumber
        },
        ..JitrConfig::default()
    };
    let event = RegisteredEvent {
        certificate_id: "a".repeat(64),
        ca_certificate_id: "c".repeat(64),
        certificate_status: "PENDING_ACTIVATION".to_owned(),
        aws_account_id: "123456789012".to_owned(),
        timestamp: Some(time),
        certificate_registration_timestamp: None,
    };
    // A sold device for whatever id the certificate carries, so the rules past the manifest run.
    let device_id = device_id_of(&device_pem, &config);
    let manifest = device_id.as_ref().ok().map(|id| ManifestEntry {
        device_id: id.clone(),
        model: "sensor-a".to_owned(),
        status: SaleStatus::Sold,
        recalled: false,
        firmware: "2.1.0".parse().expect("a valid version"),
        batch: None,
        groups: Vec::new(),
    });

    let decision = decide(
        &event,
        &device_pem,
        ca_pem.as_deref(),
        manifest.as_ref(),
        &config,
    );
    if let Decision::Activate { thing, .. } = &decision {
        let id = device_id.expect("an activated certificate has a device id");
        assert_eq!(*thing, format!("{}{id}", config.thing_name_prefix));
        assert!(
            thing.len() <= MAX_THING_NAME_LEN,
            "thing name {thing:?} too long"
        );
        assert!(ca_pem.is_some(), "activated without a CA");
    }
}

fn pem_or_text(bytes: &[u8], armour: bool) -> String {
    if armour {
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            base64(bytes)
        )
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// Standard base64 with padding, on one line (PEM readers accept long lines).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
