//! Property tests of the parsers of outside input: the CSV manifest, firmware versions, and
//! `decide` on arbitrary certificate bytes.
#![allow(clippy::unwrap_used)]

mod support;

use fleetid_jitr::{FileManifest, FirmwareVersion, JitrConfig, ManifestEntry, SaleStatus, decide};
use proptest::prelude::*;
use support::pki::{DeviceSpec, TestCa, to_pem};
use support::{event_at, sold};
use time::OffsetDateTime;

fn csv_field(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

fn entry() -> impl Strategy<Value = ManifestEntry> {
    (
        "[a-zA-Z0-9:_-]{1,20}",
        "[ -~]{0,12}",
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(0u32..1000, 1..4),
        prop::option::of("[a-zA-Z0-9 ,\"\n]{1,8}"),
        prop::collection::vec("[a-z0-9-]{1,6}", 0..3),
    )
        .prop_map(
            |(device_id, model, sold, recalled, firmware, batch, groups)| ManifestEntry {
                device_id,
                model: model.trim().to_owned(),
                status: if sold {
                    SaleStatus::Sold
                } else {
                    SaleStatus::InStock
                },
                recalled,
                firmware: firmware
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(".")
                    .parse()
                    .unwrap(),
                batch: batch.map(|b| b.trim().to_owned()).filter(|b| !b.is_empty()),
                groups,
            },
        )
}

proptest! {
    #[test]
    fn csv_round_trips_quoted_fields(entries in prop::collection::vec(entry(), 0..8)) {
        let mut text = String::from("groups,firmware,recalled,status,model,batch,device_id\r\n");
        for e in &entries {
            let fields = [
                e.groups.join(";"),
                e.firmware.to_string(),
                e.recalled.to_string(),
                e.status.as_str().to_owned(),
                e.model.clone(),
                e.batch.clone().unwrap_or_default(),
                e.device_id.clone(),
            ];
            text.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
            text.push_str("\r\n");
        }
        let manifest = FileManifest::from_csv("p.csv", &text).unwrap();
        let unique: std::collections::HashMap<_, _> = entries.iter().map(|e| (e.device_id.clone(), e)).collect();
        prop_assert_eq!(manifest.len(), unique.len());
        for (id, e) in unique {
            prop_assert_eq!(manifest.get(&id).unwrap(), e);
        }
    }

    #[test]
    fn csv_parser_never_panics(text in "[a-z_,\"\r\n0-9.;]{0,200}") {
        let header = "device_id,model,status,firmware\n";
        let _ = FileManifest::from_csv("p.csv", &text);
        let _ = FileManifest::from_csv("p.csv", &format!("{header}{text}"));
    }

    #[test]
    fn firmware_display_parses_back_and_orders_like_its_numbers(
        a in prop::collection::vec(0u32..50, 1..5),
        b in prop::collection::vec(0u32..50, 1..5),
    ) {
        let join = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
        let va: FirmwareVersion = join(&a).parse().unwrap();
        let vb: FirmwareVersion = join(&b).parse().unwrap();
        prop_assert_eq!(va.to_string().parse::<FirmwareVersion>().unwrap(), va.clone());
        let pad = |v: &[u32]| { let mut v = v.to_vec(); v.resize(5, 0); v };
        prop_assert_eq!(va.cmp(&vb), pad(&a).cmp(&pad(&b)));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn decide_rejects_arbitrary_bytes_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let now = OffsetDateTime::now_utc();
        let ca = TestCa::p256("Fleet Device CA");
        let event = event_at("c", "ca", now);
        let config = JitrConfig::default();
        let decision = decide(&event, &to_pem(&bytes), Some(&ca.pem), Some(&sold("dev-001")), &config);
        prop_assert!(decision.reject_reason().is_some());
        let good = ca.issue(&DeviceSpec::new("dev-001", now));
        let decision = decide(&event, &good, Some(&to_pem(&bytes)), Some(&sold("dev-001")), &config);
        prop_assert!(decision.reject_reason().is_some());
    }
}
