//! A started lab looks like a production AWS IoT account: a twenty-year root, issuing and
//! next intermediates with validity of their own (path length 0, chained to the root), and a
//! demo fleet in site groups under region groups on several firmware versions.

#![allow(clippy::unwrap_used)] // a failed step should stop the test with its error

use std::collections::BTreeSet;

use fleetid_lab::fleet::scenario::{CANARY_FIRMWARE, CANARY_GROUP, Role, SITES};
use fleetid_lab::{DeviceHost, Lab, LabOptions};
use x509_parser::extensions::ParsedExtension;
use x509_parser::pem::parse_x509_pem;

const DAY: i64 = 86_400;

/// `(not_before, not_after)` in epoch seconds and the path length of a CA certificate.
fn facts(pem: &str) -> (i64, i64, Option<u32>) {
    let (_, pem) = parse_x509_pem(pem.as_bytes()).unwrap();
    let cert = pem.parse_x509().unwrap();
    assert!(cert.is_ca());
    let path_len = cert
        .extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::BasicConstraints(bc) => Some(bc.path_len_constraint),
            _ => None,
        });
    (
        cert.validity().not_before.timestamp(),
        cert.validity().not_after.timestamp(),
        path_len.flatten(),
    )
}

fn verifies_under(child_pem: &str, parent_pem: &str) -> bool {
    let (_, child) = parse_x509_pem(child_pem.as_bytes()).unwrap();
    let (_, parent) = parse_x509_pem(parent_pem.as_bytes()).unwrap();
    let parent = parent.parse_x509().unwrap();
    child
        .parse_x509()
        .unwrap()
        .verify_signature(Some(parent.public_key()))
        .is_ok()
}

#[tokio::test]
async fn the_cas_have_realistic_validity_and_chain_to_the_root() {
    let lab = Lab::start(LabOptions {
        devices: 0,
        ..LabOptions::default()
    })
    .await
    .unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let root = &lab.root_ca.certificate_pem;
    let issuing = &lab.issuing_ca.certificate_pem;
    let next = &lab.next_ca.certificate_pem;
    let (root_from, root_to, root_path) = facts(root);
    let (issuing_from, issuing_to, issuing_path) = facts(issuing);
    let (next_from, next_to, next_path) = facts(next);

    let years = |seconds: i64| seconds / (365 * DAY);
    assert_eq!(
        years(root_to - root_from),
        20,
        "the root is valid for 20 years"
    );
    assert!(root_from < now - 365 * DAY, "the root predates the fleet");
    for (from, to) in [(issuing_from, issuing_to), (next_from, next_to)] {
        assert_eq!(years(to - from), 5, "an intermediate is valid for 5 years");
        assert!(
            root_from <= from && to <= root_to,
            "inside the root's validity"
        );
        assert!(from < now && now < to);
    }
    assert!(
        next_from > issuing_from && next_to > issuing_to,
        "the next CA is newer and outlives the issuing CA"
    );
    assert_eq!(
        (root_path, issuing_path, next_path),
        (Some(1), Some(0), Some(0))
    );
    assert!(verifies_under(issuing, root) && verifies_under(next, root));
    assert!(!verifies_under(next, issuing));

    // What the console reads through DescribeCACertificate is the same certificate.
    let registered: Vec<_> = lab.registry.cas().into_iter().map(|ca| ca.pem).collect();
    assert!(registered.contains(issuing) && registered.contains(next));
    lab.shutdown().await;
}

#[tokio::test]
async fn the_demo_fleet_is_in_site_and_region_groups_on_several_firmware_versions() {
    // The devices run elsewhere (here: nowhere): the lab registers their things only.
    let lab = Lab::start(LabOptions {
        devices: 120,
        seed: 3,
        device_host: DeviceHost::Elsewhere,
        ..LabOptions::default()
    })
    .await
    .unwrap();
    let registry = &lab.registry;
    let registered: Vec<_> = lab
        .plan
        .iter()
        .filter(|d| d.role != Role::Recalled)
        .collect();

    let firmware: BTreeSet<String> = registered
        .iter()
        .map(|d| registry.thing(&d.name).unwrap().attributes["firmware"].clone())
        .collect();
    assert!(firmware.len() >= 4, "{firmware:?}");

    let regions: BTreeSet<&str> = SITES.iter().map(|(_, region)| *region).collect();
    for region in &regions {
        let group = registry.group(region).unwrap();
        assert_eq!(group.parent, None);
        assert!(!registry.things_in_group(region, true).unwrap().is_empty());
        assert!(registry.things_in_group(region, false).unwrap().is_empty());
    }
    let mut in_a_site = 0;
    for (site, region) in SITES {
        assert_eq!(
            registry.group(site).unwrap().parent.as_deref(),
            Some(region)
        );
        let members = registry.things_in_group(site, false).unwrap();
        for name in &members {
            let spec = lab.plan.iter().find(|d| &d.name == name).unwrap();
            assert_eq!(spec.site, site);
        }
        in_a_site += members.len();
    }
    assert_eq!(
        in_a_site,
        registered.len(),
        "every registered device is in one site"
    );

    let canaries: BTreeSet<String> = registry
        .things_in_group(CANARY_GROUP, false)
        .unwrap()
        .into_iter()
        .collect();
    let planned: BTreeSet<String> = registered
        .iter()
        .filter(|d| d.firmware == CANARY_FIRMWARE)
        .map(|d| d.name.clone())
        .collect();
    assert!(!canaries.is_empty());
    assert_eq!(canaries, planned);
    lab.shutdown().await;
}
