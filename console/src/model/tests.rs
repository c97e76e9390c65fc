//! Aggregates and indexes checked against counts computed independently from the generated
//! records, and incremental updates checked against a model rebuilt from scratch.

use std::collections::BTreeMap;

use super::synthetic::{self, FIRMWARE, GROUPS};
use super::*;

const NOW: UnixTime = UnixTime(1_795_000_000);
const DEVICES: usize = 600;

fn fleet() -> FleetState {
    let mut state = FleetState::new();
    state.apply_all(synthetic::fleet_updates(DEVICES, NOW, 250));
    state
}

fn active_and_readable(i: usize) -> bool {
    synthetic::status_of(i) == CertStatus::Active && !synthetic::unreadable(i)
}

#[test]
fn status_counts_equal_the_generated_statuses() {
    let state = fleet();
    for status in CertStatus::ALL {
        let expected = (0..DEVICES)
            .filter(|&i| synthetic::status_of(i) == status)
            .count();
        assert_eq!(
            state.status_counts().get(status),
            expected as u64,
            "{status:?}"
        );
    }
    assert_eq!(state.status_counts().total(), DEVICES as u64);
    let unreadable = (0..DEVICES).filter(|&i| synthetic::unreadable(i)).count();
    assert_eq!(state.unreadable_pems(), unreadable as u64);
    assert!(unreadable > 0, "the fixture must contain corrupt PEMs");
}

#[test]
fn histogram_buckets_equal_the_generated_expiries_per_cohort() {
    let state = fleet();
    let mut expected: BTreeMap<(Cohort, Day), u64> = BTreeMap::new();
    for i in (0..DEVICES).filter(|&i| active_and_readable(i)) {
        let day = synthetic::not_after_of(i, NOW).day();
        let group = state.name_id(GROUPS[i % GROUPS.len()]).unwrap();
        let firmware = state.name_id(FIRMWARE[i % FIRMWARE.len()]).unwrap();
        for cohort in [
            Cohort::All,
            Cohort::Ca(synthetic::ca_id(synthetic::issuer_of(i))),
            Cohort::Group(group),
            Cohort::Firmware(firmware),
        ] {
            *expected.entry((cohort, day)).or_default() += 1;
        }
    }
    let histogram = state.expiry_histogram();
    assert_eq!(histogram.bucket_count(), expected.len());
    for (&(cohort, day), &n) in &expected {
        assert_eq!(histogram.count(cohort, day), n, "{cohort:?} {day:?}");
    }
}

#[test]
fn ca_tree_nests_intermediates_under_the_root_with_active_counts() {
    let state = fleet();
    let tree = state.ca_tree();
    assert_eq!(tree.len(), 1, "one root: {tree:#?}");
    let root = &tree[0];
    assert_eq!(root.id, synthetic::ca_id(0));
    let count = |ca: u8| {
        (0..DEVICES)
            .filter(|&i| {
                synthetic::issuer_of(i) == ca && synthetic::status_of(i) == CertStatus::Active
            })
            .count() as u64
    };
    let kids: Vec<(CertId, u64)> = root
        .children
        .iter()
        .map(|c| (c.id, c.active_direct))
        .collect();
    assert_eq!(
        kids,
        vec![
            (synthetic::ca_id(1), count(1)),
            (synthetic::ca_id(2), count(2))
        ]
    );
    assert_eq!(root.active_direct, 0);
    assert_eq!(root.active_total, count(1) + count(2));
    assert_eq!(root.flatten().len(), 3);
}

#[test]
fn health_flags_the_inactive_ca_and_the_critical_window() {
    let state = fleet();
    let policy = HealthPolicy::default();
    let health = state.health(NOW, policy);
    let mut expired = 0;
    let mut critical = 0;
    for i in (0..DEVICES).filter(|&i| active_and_readable(i)) {
        let t = synthetic::not_after_of(i, NOW);
        if t <= NOW {
            expired += 1;
        } else if t.0 <= NOW.0 + policy.critical_days * SECONDS_PER_DAY {
            critical += 1;
        }
    }
    assert_eq!(health.expired_active, expired);
    assert_eq!(health.expiring_critical, critical);
    assert_eq!(health.cas_at_risk.len(), 1);
    assert_eq!(health.cas_at_risk[0].id, synthetic::ca_id(2));
    assert!(!health.healthy());
}

#[test]
fn incremental_updates_equal_a_rebuild_from_the_final_records() {
    let mut state = fleet();
    // Revoke some, move things between groups, change firmware live, drop a few.
    let changed: Vec<(CertId, CertStatus)> = (0..DEVICES)
        .step_by(7)
        .map(|i| (synthetic::cert_id(i), CertStatus::Revoked))
        .collect();
    state.apply(FleetUpdate::StatusChanged(changed.clone()));
    let moved: Vec<ThingRecord> = (0..DEVICES)
        .step_by(5)
        .map(|i| ThingRecord {
            groups: vec!["quarantine".into()],
            ..synthetic::thing(i)
        })
        .collect();
    state.apply(FleetUpdate::Things(moved.clone()));
    let removed: Vec<CertId> = (0..DEVICES).step_by(11).map(synthetic::cert_id).collect();
    state.apply(FleetUpdate::CertificatesRemoved(removed.clone()));

    let mut rebuilt = FleetState::new();
    rebuilt.apply(FleetUpdate::Cas(synthetic::cas(NOW)));
    let certs: Vec<CertificateRecord> = (0..DEVICES)
        .filter(|i| i % 11 != 0)
        .map(|i| {
            let mut record = synthetic::certificate(i, NOW);
            if i % 7 == 0 {
                record.status = CertStatus::Revoked;
            }
            record
        })
        .collect();
    // Things first this time: the order of arrival must not matter.
    let things: Vec<ThingRecord> = (0..DEVICES)
        .map(|i| {
            if i % 5 == 0 {
                moved[i / 5].clone()
            } else {
                synthetic::thing(i)
            }
        })
        .collect();
    rebuilt.apply(FleetUpdate::Things(things));
    rebuilt.apply(FleetUpdate::Attachments(
        (0..DEVICES)
            .map(|i| (synthetic::cert_id(i), vec![format!("dev-{i:07}").into()]))
            .collect(),
    ));
    rebuilt.apply(FleetUpdate::Certificates(certs));

    assert_eq!(state.status_counts(), rebuilt.status_counts());
    assert_eq!(state.unreadable_pems(), rebuilt.unreadable_pems());
    // Interned ids may differ between the two; compare by name.
    let by_name = |s: &FleetState| -> BTreeMap<String, Vec<(Day, u64)>> {
        let mut out = BTreeMap::new();
        for cohort in s.expiry_histogram().cohorts() {
            let name = match cohort {
                Cohort::All => "all".to_owned(),
                Cohort::Ca(id) => format!("ca:{id}"),
                Cohort::Group(g) => format!("group:{}", s.name_text(g)),
                Cohort::Firmware(f) => format!("fw:{}", s.name_text(f)),
            };
            let days = s
                .expiry_histogram()
                .days(cohort, Day(i32::MIN), Day(i32::MAX))
                .collect();
            out.insert(name, days);
        }
        out
    };
    assert_eq!(by_name(&state), by_name(&rebuilt));
    assert!(by_name(&state).contains_key("group:quarantine"));
    for ca in 0..3 {
        let id = synthetic::ca_id(ca);
        assert_eq!(
            state.active_certificates_under(&id),
            rebuilt.active_certificates_under(&id)
        );
    }
    assert_eq!(
        state.certificates_with_status(CertStatus::Revoked).count(),
        rebuilt
            .certificates_with_status(CertStatus::Revoked)
            .count()
    );
    assert!(state.certificate(&removed[0]).is_none());
}

#[test]
fn a_corrupt_pem_keeps_its_record_and_does_not_stop_the_rest() {
    let state = fleet();
    let bad = state.certificate(&synthetic::cert_id(13)).unwrap();
    assert!(bad.record.parsed.is_err());
    assert_eq!(bad.not_after(), None);
    assert_eq!(bad.things().collect::<Vec<_>>(), vec!["dev-0000013"]);
    let good = state.certificate(&synthetic::cert_id(14)).unwrap();
    assert!(good.not_after().is_some());
}

#[test]
fn queries_filter_by_expiry_ca_status_group_and_fuzzy_text() {
    let state = fleet();
    let query = CertQuery {
        expiring_within: Some(30 * SECONDS_PER_DAY),
        status: Some(CertStatus::Active),
        group: Some("eu-west".into()),
        ca: Some("Devices 2025".into()),
        fuzzy: None,
    };
    let rows = state.query_certificates(&query, NOW).unwrap();
    let expected = (0..DEVICES)
        .filter(|&i| {
            active_and_readable(i)
                && i % 3 == 0
                && synthetic::issuer_of(i) == 1
                && synthetic::not_after_of(i, NOW).0 <= NOW.0 + 30 * SECONDS_PER_DAY
        })
        .count();
    assert_eq!(rows.len(), expected);
    assert!(
        rows.windows(2)
            .all(|w| w[0].not_after() <= w[1].not_after())
    );

    let fuzzy = CertQuery {
        fuzzy: Some("dev0000042".into()),
        ..CertQuery::default()
    };
    let rows = state.query_certificates(&fuzzy, NOW).unwrap();
    assert_eq!(rows[0].record.id, synthetic::cert_id(42));

    let unknown = CertQuery {
        ca: Some("nonexistent".into()),
        ..CertQuery::default()
    };
    assert!(matches!(
        state.query_certificates(&unknown, NOW),
        Err(QueryError::UnknownCa(_))
    ));
}

#[test]
fn source_freshness_keeps_the_last_success_through_failures() {
    let mut state = FleetState::new();
    state.apply(FleetUpdate::SourceStatus {
        source: Source::Certificates,
        state: SourceState::Fresh,
        at: UnixTime(100),
    });
    state.apply(FleetUpdate::SourceStatus {
        source: Source::Certificates,
        state: SourceState::Unavailable {
            reason: "throttled".into(),
        },
        at: UnixTime(200),
    });
    let info = &state.sources()[&Source::Certificates];
    assert_eq!(info.fresh_at, Some(UnixTime(100)));
    assert_eq!(info.age(UnixTime(160)), Some(60));
    assert!(matches!(info.state, SourceState::Unavailable { .. }));
}

#[test]
fn live_status_sets_firmware_and_moves_the_cohort() {
    let mut state = fleet();
    let fw = |s: &FleetState, v: &str| {
        s.name_id(v).map_or(0, |id| {
            s.expiry_histogram()
                .sum(Cohort::Firmware(id), Day(i32::MIN), Day(i32::MAX))
        })
    };
    let before = fw(&state, "3.0.0");
    assert_eq!(before, 0);
    state.apply(FleetUpdate::LiveStatus(LiveStatusRecord {
        thing: "dev-0000004".into(),
        firmware: "3.0.0".into(),
        sequence: 9,
        state: Some("active".into()),
        last_error: None,
        at: NOW,
    }));
    assert_eq!(fw(&state, "3.0.0"), 1);
    assert_eq!(state.thing("dev-0000004").unwrap().last_seen, Some(NOW));
}

#[test]
fn policy_attachments_survive_list_policies_and_are_replaced_per_target() {
    let mut state = FleetState::new();
    let a = synthetic::certificate(1, UnixTime(1_795_000_000)).id;
    let b = synthetic::certificate(2, UnixTime(1_795_000_000)).id;
    let names = |list: &[&str]| {
        list.iter()
            .map(|n| Box::<str>::from(*n))
            .collect::<Vec<_>>()
    };
    // Attachments arrive with the certificates, before ListPolicies.
    state.apply(FleetUpdate::CertificatePolicies(vec![
        (a, names(&["device", "debug"])),
        (b, names(&["device"])),
    ]));
    state.apply(FleetUpdate::GroupPolicies(vec![(
        "line-7".into(),
        names(&["device"]),
    )]));
    // ListPolicies carries no attachments: what is known stays.
    state.apply(FleetUpdate::Policies(vec![PolicyRecord {
        name: "device".into(),
        default_version: "3".into(),
        certificates: std::collections::BTreeSet::new(),
        groups: std::collections::BTreeSet::new(),
        allows_everything: false,
    }]));
    let device = &state.policies()["device"];
    assert_eq!(&*device.default_version, "3");
    assert_eq!(device.certificates.iter().copied().collect::<Vec<_>>(), {
        let mut both = vec![a, b];
        both.sort();
        both
    });
    assert!(device.groups.contains("line-7"));
    assert!(state.policies()["debug"].certificates.contains(&a));

    // A certificate described again brings its whole list: `debug` was detached.
    state.apply(FleetUpdate::CertificatePolicies(vec![(
        a,
        names(&["device"]),
    )]));
    assert!(state.policies()["debug"].certificates.is_empty());
    assert!(state.policies()["device"].certificates.contains(&a));
    // A group listed again with no policies; a certificate that is gone.
    state.apply(FleetUpdate::GroupPolicies(vec![(
        "line-7".into(),
        Vec::new(),
    )]));
    assert!(state.policies()["device"].groups.is_empty());
    state.apply(FleetUpdate::CertificatesRemoved(vec![b]));
    assert_eq!(
        state.policies()["device"]
            .certificates
            .iter()
            .collect::<Vec<_>>(),
        [&a]
    );
}

#[test]
fn connectivity_that_arrives_before_the_thing_is_kept() {
    let mut state = FleetState::new();
    state.apply(FleetUpdate::Connectivity(vec![(
        "dev-1".into(),
        true,
        Some(UnixTime(1_795_000_000)),
    )]));
    assert!(state.thing("dev-1").is_none(), "not listed yet");
    assert_eq!(state.thing_count(), 0);
    state.apply(FleetUpdate::Things(vec![ThingRecord {
        name: "dev-1".into(),
        groups: Vec::new(),
        firmware: None,
        connected: None,
    }]));
    let thing = state.thing("dev-1").unwrap();
    assert_eq!(thing.connected, Some(true));
    assert_eq!(thing.last_seen, Some(UnixTime(1_795_000_000)));
}

#[test]
fn the_summary_names_the_thing_of_an_anomaly_that_named_only_its_certificate() {
    let mut state = fleet();
    let id = synthetic::cert_id(7);
    let owner = state
        .certificate(&id)
        .and_then(|c| c.things().next().map(str::to_owned))
        .expect("the fixture attaches certificate 7 to a thing");
    let finding = |name: &str, thing: Option<&str>, certificate: Option<CertId>| AnomalyRecord {
        id: name.into(),
        source: Source::DefenderAudit,
        kind: "DEVICE_CERTIFICATE_EXPIRING_CHECK".into(),
        severity: Severity::Medium,
        thing: thing.map(Into::into),
        certificate,
        summary: "expires soon".into(),
        at: NOW,
        cleared: false,
    };
    state.apply(FleetUpdate::Anomalies(vec![
        finding("certificate only", None, Some(id)),
        finding("named thing", Some("elsewhere"), Some(id)),
        finding("neither", None, None),
    ]));
    let summary = state.summary();
    let thing_of = |name: &str| {
        summary.anomalies()[name]
            .thing
            .as_deref()
            .map(str::to_owned)
    };
    assert_eq!(thing_of("certificate only"), Some(owner));
    assert_eq!(thing_of("named thing"), Some("elsewhere".to_owned()));
    assert_eq!(thing_of("neither"), None);
}

/// The summary kept by changes (per-CA counts, the sorted active expiries) equals one made
/// afresh from the same updates, after every kind of change.
#[test]
fn a_summary_kept_by_changes_equals_one_made_afresh() {
    let mut updates = synthetic::fleet_updates(DEVICES, NOW, 100);
    let mut kept = FleetState::new();
    kept.apply_all(updates.clone());
    // Asked once: from here the expiries are kept by changes.
    let _ = kept.summary();
    let later = vec![
        FleetUpdate::StatusChanged(vec![
            (synthetic::cert_id(3), CertStatus::Revoked),
            (synthetic::cert_id(4), CertStatus::Active),
        ]),
        FleetUpdate::CertificatesRemoved(vec![synthetic::cert_id(5), synthetic::cert_id(6)]),
        FleetUpdate::Certificates(vec![
            synthetic::certificate(DEVICES, NOW),
            synthetic::certificate(DEVICES + 1, NOW),
        ]),
        FleetUpdate::Things(vec![synthetic::thing(7)]),
        FleetUpdate::LiveStatus(LiveStatusRecord {
            thing: "dev-0000008".into(),
            firmware: FIRMWARE[0].into(),
            sequence: 1,
            state: None,
            last_error: None,
            at: NOW,
        }),
    ];
    for update in later {
        kept.apply(update.clone());
        updates.push(update);
        let mut afresh = FleetState::new();
        afresh.apply_all(updates.clone());
        assert_eq!(kept.summary(), afresh.summary());
    }
}
