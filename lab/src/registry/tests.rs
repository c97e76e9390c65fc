//! Unit tests of the registry's rules.

use std::collections::BTreeMap;

use super::*;
use crate::pki::CertificateAuthority;

fn registry_with_ca() -> (Registry, CertificateAuthority, CaRecord) {
    let root = CertificateAuthority::new_root("root").unwrap();
    let issuing = root.new_intermediate("issuing").unwrap();
    let registry = Registry::new();
    let ca = registry
        .register_ca(&issuing.certificate_pem, true, true, None)
        .unwrap();
    (registry, issuing, ca)
}

#[test]
fn certificates_know_their_ca_and_revoked_is_final() {
    let (registry, issuing, ca) = registry_with_ca();
    let leaf = issuing.issue_device("dev-1", 10).unwrap();
    let cert = registry
        .insert_certificate(&leaf.certificate_pem, CertStatus::PendingActivation)
        .unwrap();
    assert_eq!(cert.ca_id.as_deref(), Some(ca.id()));
    assert!(matches!(
        registry.insert_certificate(&leaf.certificate_pem, CertStatus::Active),
        Err(RegistryError::AlreadyExists { .. })
    ));
    let mut events = registry.subscribe();
    registry
        .update_certificate(cert.id(), CertStatus::Active)
        .unwrap();
    registry
        .update_certificate(cert.id(), CertStatus::Revoked)
        .unwrap();
    assert!(matches!(
        registry.update_certificate(cert.id(), CertStatus::Active),
        Err(RegistryError::CertificateState(_))
    ));
    assert!(matches!(
        registry.update_certificate(cert.id(), CertStatus::PendingActivation),
        Err(RegistryError::InvalidRequest(_))
    ));
    assert_eq!(
        events.try_recv().unwrap(),
        RegistryEvent::CertificateStatus {
            certificate_id: cert.id().to_owned(),
            status: CertStatus::Active
        }
    );
}

#[test]
fn certificate_pages_cover_everything_once() {
    let (registry, issuing, _) = registry_with_ca();
    for i in 0..7 {
        let leaf = issuing.issue_device(&format!("dev-{i}"), 10).unwrap();
        registry
            .insert_certificate(&leaf.certificate_pem, CertStatus::Active)
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..10 {
        let (items, next) = registry
            .list_certificates(None, marker.as_deref(), Some(3), true)
            .unwrap();
        seen.extend(items.into_iter().map(|c| c.facts.common_name.unwrap()));
        marker = next;
        if marker.is_none() {
            break;
        }
    }
    let expected: Vec<String> = (0..7).map(|i| format!("dev-{i}")).collect();
    assert_eq!(seen, expected);
}

#[test]
fn group_policies_apply_to_the_certificates_of_member_things() {
    let (registry, issuing, _) = registry_with_ca();
    let leaf = issuing.issue_device("dev-1", 10).unwrap();
    let cert = registry
        .insert_certificate(&leaf.certificate_pem, CertStatus::Active)
        .unwrap();
    registry
        .create_thing("dev-1", None, BTreeMap::new())
        .unwrap();
    registry.attach_thing_principal("dev-1", &cert.arn).unwrap();
    registry
        .create_policy("fleetid-deny-all", crate::policy::DENY_ALL)
        .unwrap();
    let parent = registry.create_group("quarantine", None).unwrap();
    registry
        .create_group("quarantine-2026", Some("quarantine"))
        .unwrap();
    registry
        .attach_policy("fleetid-deny-all", &parent.arn)
        .unwrap();
    assert!(registry.effective_policies(cert.id()).is_empty());
    registry
        .set_group_membership("quarantine-2026", "dev-1", true)
        .unwrap();
    let names: Vec<String> = registry
        .effective_policies(cert.id())
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["fleetid-deny-all"]);
}

#[test]
fn a_job_aborts_when_failures_pass_the_threshold() {
    let registry = Registry::new();
    registry.create_group("stage-1", None).unwrap();
    for i in 0..4 {
        registry
            .create_thing(&format!("dev-{i}"), None, BTreeMap::new())
            .unwrap();
        registry
            .set_group_membership("stage-1", &format!("dev-{i}"), true)
            .unwrap();
    }
    let job = registry
        .create_job(NewJob {
            job_id: "rotate-1".into(),
            targets: vec![arn("thinggroup/stage-1")],
            abort_config: Some(serde_json::json!({"criteriaList":[{"failureType":"FAILED","action":"CANCEL","thresholdPercentage":50.0,"minNumberOfExecutedThings":2}]})),
            ..NewJob::default()
        })
        .unwrap();
    assert_eq!(job.executions.len(), 4);
    registry
        .update_execution(
            "rotate-1",
            "dev-0",
            ExecutionStatus::Failed,
            BTreeMap::new(),
            Some(1),
        )
        .unwrap();
    assert_eq!(
        registry.job("rotate-1").unwrap().status,
        JobStatus::InProgress
    );
    assert!(matches!(
        registry.update_execution("rotate-1", "dev-1", ExecutionStatus::Succeeded, BTreeMap::new(), Some(7)),
        Err(RegistryError::InvalidRequest(m)) if m == "VersionMismatch"
    ));
    registry
        .update_execution(
            "rotate-1",
            "dev-1",
            ExecutionStatus::Failed,
            BTreeMap::new(),
            None,
        )
        .unwrap();
    let job = registry.job("rotate-1").unwrap();
    assert_eq!(job.status, JobStatus::Canceled);
    assert_eq!(job.count(ExecutionStatus::Canceled), 2);
}
