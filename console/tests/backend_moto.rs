//! The AWS backend against moto: a root and an intermediate CA, 300 device certificates with
//! a spread of expiries and statuses, things, groups and policies — everything loaded must
//! equal what was generated. moto's state is shared by all tests on the server, so each test
//! uses its own name prefix and looks only at records under its own CAs.
#![allow(clippy::unwrap_used)]

mod backend_support;

use std::collections::{BTreeMap, HashMap};

use aws_sdk_iot::types::{AttributePayload, CertificateStatus as AwsStatus};
use backend_support::{
    device_cert, intermediate_ca, load_all, moto_url, register_ca, register_device, root_ca,
    sdk_config, settings, unique_prefix,
};
use fleetid::backend::aws::AwsBackend;
use fleetid::backend::records::CertificateRecord;
use fleetid::backend::{BackendUpdate, SnapshotRequest, Source, SourceState};
use fleetid::model::{CaStatus, CertStatus};

const DEVICES: usize = 300;
const THINGS: usize = 60;
const WITH_POLICY: usize = 40;

/// What the generator decided for device `i`.
struct Generated {
    id: String,
    status: CertStatus,
    ca_id: String,
    not_after: i64,
}

fn status_for(i: usize) -> (AwsStatus, CertStatus) {
    if i.is_multiple_of(10) {
        (AwsStatus::Inactive, CertStatus::Inactive)
    } else if i % 25 == 1 {
        (AwsStatus::Revoked, CertStatus::Revoked)
    } else {
        (AwsStatus::Active, CertStatus::Active)
    }
}

/// Days until expiry: -30 ..= 369, spread over the whole range.
fn expiry_days(i: usize) -> i64 {
    i64::try_from(i * 37 % 400).unwrap() - 30
}

/// Expiry bucket of a `notAfter` relative to `now`: expired, <=30 d, <=90 d, later.
fn bucket(not_after: i64, now: i64) -> &'static str {
    match (not_after - now).div_euclid(86_400) {
        d if d < 0 => "expired",
        0..=30 => "30d",
        31..=90 => "90d",
        _ => "later",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_equals_the_generated_fleet() {
    let url = moto_url();
    let config = sdk_config(&url).await;
    let iot = aws_sdk_iot::Client::new(&config);
    let prefix = unique_prefix("snap");

    let root = root_ca(&format!("{prefix} root"));
    let intermediate = intermediate_ca(&format!("{prefix} intermediate"), &root);
    let root_id = register_ca(&iot, &root).await;
    let intermediate_id = register_ca(&iot, &intermediate).await;

    let mut generated = Vec::with_capacity(DEVICES);
    let mut arns = Vec::with_capacity(DEVICES);
    for i in 0..DEVICES {
        let (ca, ca_id) = if i.is_multiple_of(3) {
            (&root, &root_id)
        } else {
            (&intermediate, &intermediate_id)
        };
        let (pem, not_after) = device_cert(&format!("{prefix}-dev-{i}"), ca, expiry_days(i));
        let (aws_status, status) = status_for(i);
        let (id, arn) = register_device(&iot, &pem, &ca.pem, aws_status).await;
        generated.push(Generated {
            id,
            status,
            ca_id: ca_id.clone(),
            not_after,
        });
        arns.push(arn);
    }

    let policy = format!("{prefix}-device");
    let group_policy = format!("{prefix}-group");
    for name in [&policy, &group_policy] {
        iot.create_policy()
            .policy_name(name)
            .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}"#)
            .send()
            .await
            .unwrap();
    }
    for arn in &arns[..WITH_POLICY] {
        iot.attach_policy()
            .policy_name(&policy)
            .target(arn)
            .send()
            .await
            .unwrap();
    }
    let even_group = format!("{prefix}-even");
    let odd_group = format!("{prefix}-odd");
    let mut group_arns = HashMap::new();
    for group in [&even_group, &odd_group] {
        let out = iot
            .create_thing_group()
            .thing_group_name(group)
            .send()
            .await
            .unwrap();
        group_arns.insert(group.clone(), out.thing_group_arn().unwrap().to_owned());
    }
    iot.attach_policy()
        .policy_name(&group_policy)
        .target(&group_arns[&even_group])
        .send()
        .await
        .unwrap();
    for (i, arn) in arns.iter().enumerate().take(THINGS) {
        let thing = format!("{prefix}-thing-{i}");
        let firmware = if i.is_multiple_of(2) {
            "2.0.0"
        } else {
            "1.4.2"
        };
        iot.create_thing()
            .thing_name(&thing)
            .attribute_payload(
                AttributePayload::builder()
                    .attributes("firmware", firmware)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        iot.attach_thing_principal()
            .thing_name(&thing)
            .principal(arn)
            .send()
            .await
            .unwrap();
        let group = if i.is_multiple_of(2) {
            &even_group
        } else {
            &odd_group
        };
        iot.add_thing_to_thing_group()
            .thing_name(&thing)
            .thing_group_name(group)
            .send()
            .await
            .unwrap();
    }

    let backend = AwsBackend::new(&config, settings());
    // moto 5.2.5 does not implement ListCACertificates: our CA ids come in as the store would
    // hand them over from an earlier snapshot.
    let request = SnapshotRequest {
        known_ca_ids: vec![root_id.clone(), intermediate_id.clone()],
        ..SnapshotRequest::default()
    };
    let (updates, summary) = load_all(&backend, request).await;
    let now = fleetid_now();

    // Every source reports how it ended; the ones moto lacks are unavailable with a reason.
    assert!(
        matches!(
            summary.state(Source::CaCertificates),
            Some(SourceState::Loaded { .. } | SourceState::Partial { failed: 0, .. })
        ),
        "{summary:?}"
    );
    assert_eq!(
        summary.state(Source::Certificates).map(is_loaded),
        Some(true),
        "{summary:?}"
    );
    assert_eq!(
        summary.state(Source::Things).map(is_loaded),
        Some(true),
        "{summary:?}"
    );
    assert_eq!(
        summary.state(Source::ThingGroups).map(is_loaded),
        Some(true),
        "{summary:?}"
    );
    assert_eq!(
        summary.state(Source::Policies).map(is_loaded),
        Some(true),
        "{summary:?}"
    );
    for source in [
        Source::DefenderDetect,
        Source::DefenderAudit,
        Source::Metrics,
    ] {
        let Some(SourceState::Unavailable { reason }) = summary.state(source) else {
            panic!("{source:?} should be unavailable on moto: {summary:?}");
        };
        assert!(
            reason.contains("not answered by this endpoint"),
            "{source:?}: {reason}"
        );
    }
    let finished: Vec<Source> = updates
        .iter()
        .filter_map(|u| match u {
            BackendUpdate::SourceFinished { source, .. } => Some(*source),
            _ => None,
        })
        .collect();
    assert_eq!(finished.len(), summary.sources.len());

    // The CA tree: the intermediate hangs under the root.
    let cas: Vec<_> = updates
        .iter()
        .filter_map(|u| match u {
            BackendUpdate::CaCertificates(cas) => Some(cas.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    let ca = |id: &str| cas.iter().find(|c| c.id == id).unwrap();
    assert_eq!(ca(&root_id).parent_ca_id, None);
    assert_eq!(
        ca(&intermediate_id).parent_ca_id.as_deref(),
        Some(root_id.as_str())
    );
    assert!(ca(&root_id).pem.parsed().unwrap().is_ca);
    assert_eq!(ca(&root_id).status, CaStatus::Active);

    // Certificates: exactly the generated ones under our CAs, field by field.
    let certs: HashMap<String, CertificateRecord> = updates
        .iter()
        .filter_map(|u| match u {
            BackendUpdate::Certificates(page) => Some(page.clone()),
            _ => None,
        })
        .flatten()
        .filter(|c| {
            c.ca_certificate_id.as_deref() == Some(root_id.as_str())
                || c.ca_certificate_id.as_deref() == Some(intermediate_id.as_str())
        })
        .map(|c| (c.id.clone(), c))
        .collect();
    assert_eq!(certs.len(), DEVICES);
    for (i, want) in generated.iter().enumerate() {
        let got = &certs[&want.id];
        assert_eq!(got.status, want.status, "device {i}");
        assert_eq!(
            got.ca_certificate_id.as_deref(),
            Some(want.ca_id.as_str()),
            "device {i}"
        );
        let parsed = got.pem.parsed().unwrap();
        assert_eq!(parsed.not_after, want.not_after, "device {i}");
        assert_eq!(
            parsed.common_name.as_deref(),
            Some(format!("{prefix}-dev-{i}").as_str())
        );
        assert_eq!(parsed.key_algorithm.as_str(), "p256");
        assert_eq!(parsed.key_bits, 256);
        assert_eq!(parsed.sha256_fingerprint.len(), 64);
        let expected_things = if i < THINGS {
            vec![format!("{prefix}-thing-{i}")]
        } else {
            vec![]
        };
        assert_eq!(got.things, expected_things, "device {i}");
        let expected_policies = if i < WITH_POLICY {
            vec![policy.clone()]
        } else {
            vec![]
        };
        assert_eq!(got.policies, expected_policies, "device {i}");
    }

    // Counts by status, expiry bucket and CA equal the generator's.
    let count = |keys: Vec<String>| {
        keys.into_iter()
            .fold(BTreeMap::<String, usize>::new(), |mut m, k| {
                *m.entry(k).or_default() += 1;
                m
            })
    };
    assert_eq!(
        count(
            certs
                .values()
                .map(|c| c.status.as_aws_str().to_owned())
                .collect()
        ),
        count(
            generated
                .iter()
                .map(|g| g.status.as_aws_str().to_owned())
                .collect()
        )
    );
    let loaded_buckets = count(
        certs
            .values()
            .map(|c| bucket(c.pem.parsed().unwrap().not_after, now).to_owned())
            .collect(),
    );
    let generated_buckets = count(
        generated
            .iter()
            .map(|g| bucket(g.not_after, now).to_owned())
            .collect(),
    );
    assert_eq!(loaded_buckets, generated_buckets);
    assert_eq!(
        loaded_buckets.len(),
        4,
        "the spread covers every bucket: {loaded_buckets:?}"
    );
    let active_under = |ca_id: &str| {
        certs
            .values()
            .filter(|c| {
                c.status == CertStatus::Active && c.ca_certificate_id.as_deref() == Some(ca_id)
            })
            .count()
    };
    let generated_active_under = |ca_id: &str| {
        generated
            .iter()
            .filter(|g| g.status == CertStatus::Active && g.ca_id == ca_id)
            .count()
    };
    assert_eq!(active_under(&root_id), generated_active_under(&root_id));
    assert_eq!(
        active_under(&intermediate_id),
        generated_active_under(&intermediate_id)
    );

    // Things carry firmware and groups; groups carry their policies and sizes.
    let things: HashMap<String, _> = updates
        .iter()
        .filter_map(|u| match u {
            BackendUpdate::Things(page) => Some(page.clone()),
            _ => None,
        })
        .flatten()
        .filter(|t| t.name.starts_with(&prefix))
        .map(|t| (t.name.clone(), t))
        .collect();
    assert_eq!(things.len(), THINGS);
    for i in 0..THINGS {
        let thing = &things[&format!("{prefix}-thing-{i}")];
        let (firmware, group) = if i.is_multiple_of(2) {
            ("2.0.0", &even_group)
        } else {
            ("1.4.2", &odd_group)
        };
        assert_eq!(thing.firmware.as_deref(), Some(firmware));
        assert_eq!(&thing.groups, &vec![group.clone()]);
    }
    let groups: HashMap<String, _> = updates
        .iter()
        .filter_map(|u| match u {
            BackendUpdate::ThingGroups(groups) => Some(groups.clone()),
            _ => None,
        })
        .flatten()
        .filter(|g| g.name.starts_with(&prefix))
        .map(|g| (g.name.clone(), g))
        .collect();
    assert_eq!(groups[&even_group].thing_count, THINGS / 2);
    assert_eq!(groups[&even_group].policies, vec![group_policy.clone()]);
    assert!(groups[&odd_group].policies.is_empty());
    let policies: Vec<String> = updates
        .iter()
        .filter_map(|u| match u {
            BackendUpdate::Policies(p) => Some(p.clone()),
            _ => None,
        })
        .flatten()
        .map(|p| p.name)
        .filter(|n| n.starts_with(&prefix))
        .collect();
    assert_eq!(policies.len(), 2);

    // Progress was reported while loading and ends with every listed certificate described.
    let progress: Vec<_> = updates
        .iter()
        .filter_map(|u| match u {
            BackendUpdate::Progress(p) => Some(*p),
            _ => None,
        })
        .collect();
    assert!(progress.len() >= 2, "{progress:?}");
    let last = summary.progress;
    assert!(last.listing_done);
    assert_eq!(last.to_describe, last.listed);
    assert_eq!(last.described, last.to_describe);
    assert!(last.listed >= DEVICES);
}

fn is_loaded(state: &SourceState) -> bool {
    matches!(state, SourceState::Loaded { .. })
}

fn fleetid_now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}
