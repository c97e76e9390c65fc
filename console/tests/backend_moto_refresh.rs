//! The AWS backend against moto: incremental refresh (only new or changed certificates are
//! described again, removed ones reported), bad input that must not stop the rest (a corrupt
//! PEM in the registry, credentials that cannot be loaded), and the mutations. Each test has
//! its own prefix and CA; moto's state is shared by all tests on the server.
#![allow(clippy::unwrap_used)]

mod backend_support;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, future};
use aws_sdk_iot::types::CertificateStatus as AwsStatus;
use backend_support::{
    device_cert, load_all, moto_url, permit, register_ca, register_device, root_ca, sdk_config,
    settings, unique_prefix,
};
use fleetid::backend::aws::{
    AwsBackend, AwsTarget, DEFAULT_MAX_ATTEMPTS, OUTAGE_LASTS, load_sdk_config,
};
use fleetid::backend::records::{CertificateRecord, PemContents};
use fleetid::backend::{
    BackendUpdate, JobRequest, KnownCertificate, SnapshotRequest, Source, SourceState,
};
use fleetid::model::{CertStatus, NewCertificateStatus};

fn certificates(updates: &[BackendUpdate]) -> Vec<CertificateRecord> {
    updates
        .iter()
        .filter_map(|u| match u {
            BackendUpdate::Certificates(page) => Some(page.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_describes_only_new_and_changed_certificates() {
    let config = sdk_config(&moto_url()).await;
    let iot = aws_sdk_iot::Client::new(&config);
    let prefix = unique_prefix("refresh");
    let ca = root_ca(&format!("{prefix} ca"));
    let ca_id = register_ca(&iot, &ca).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let (pem, _) = device_cert(&format!("{prefix}-{i}"), &ca, 100 + i);
        ids.push(
            register_device(&iot, &pem, &ca.pem, AwsStatus::Active)
                .await
                .0,
        );
    }
    let backend = AwsBackend::new(&config, settings());
    let request = SnapshotRequest {
        known_ca_ids: vec![ca_id.clone()],
        ..SnapshotRequest::default()
    };
    let (first, _) = load_all(&backend, request.clone()).await;
    let mut known: HashMap<String, KnownCertificate> = certificates(&first)
        .into_iter()
        .map(|c| {
            (
                c.id,
                KnownCertificate {
                    status: c.status,
                    last_modified: c.last_modified,
                },
            )
        })
        .collect();
    assert!(ids.iter().all(|id| known.contains_key(id)));

    // One status change (through the backend's own mutation), three new certificates.
    let permit = permit();
    backend
        .update_certificate_status(&permit, &ids[5], NewCertificateStatus::Inactive)
        .await
        .unwrap();
    // A certificate the store knows but the registry no longer lists. (moto 5.2.5 cannot
    // delete a certificate once any thing group exists on the server: it fails with HTTP 500.)
    let gone = hex::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        prefix.as_bytes(),
    ));
    known.insert(
        gone.clone(),
        KnownCertificate {
            status: CertStatus::Active,
            last_modified: None,
        },
    );
    // A policy attached to a known certificate: seen from the policy side, without a call
    // per certificate.
    let policy = format!("{prefix}-device");
    iot.create_policy()
        .policy_name(&policy)
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let arn_of_7 = iot
        .describe_certificate()
        .certificate_id(&ids[7])
        .send()
        .await
        .unwrap()
        .certificate_description()
        .and_then(|d| d.certificate_arn().map(str::to_owned))
        .unwrap();
    backend
        .attach_policy(&permit, &policy, &arn_of_7)
        .await
        .unwrap();
    let mut new_ids = HashSet::new();
    for i in 20..23 {
        let (pem, _) = device_cert(&format!("{prefix}-{i}"), &ca, 100 + i);
        new_ids.insert(
            register_device(&iot, &pem, &ca.pem, AwsStatus::Active)
                .await
                .0,
        );
    }

    let (second, summary) = load_all(
        &backend,
        SnapshotRequest {
            known_certificates: known.clone(),
            ..request
        },
    )
    .await;
    // Only the new certificates are described: a PEM never changes, so the one whose status
    // changed arrives as a status change, and only its things are read again.
    let described: HashMap<String, CertificateRecord> = certificates(&second)
        .into_iter()
        .filter(|c| c.ca_certificate_id.as_deref() == Some(ca_id.as_str()))
        .map(|c| (c.id.clone(), c))
        .collect();
    assert_eq!(described.keys().cloned().collect::<HashSet<_>>(), new_ids);
    let ours: HashSet<&String> = ids.iter().collect();
    let status_changes: Vec<(String, CertStatus)> = second
        .iter()
        .filter_map(|u| match u {
            BackendUpdate::StatusChanged(changes) => Some(changes.clone()),
            _ => None,
        })
        .flatten()
        .filter(|(id, _)| ours.contains(id))
        .collect();
    assert_eq!(status_changes, vec![(ids[5].clone(), CertStatus::Inactive)]);
    let things_read: Vec<String> = second
        .iter()
        .filter_map(|u| match u {
            BackendUpdate::CertificateThings(links) => Some(links.clone()),
            _ => None,
        })
        .flatten()
        .map(|(id, _)| id)
        .filter(|id| ours.contains(id))
        .collect();
    assert_eq!(things_read, vec![ids[5].clone()]);
    let policy_changes: Vec<(String, Vec<String>)> = second
        .iter()
        .filter_map(|u| match u {
            BackendUpdate::CertificatePolicies(links) => Some(links.clone()),
            _ => None,
        })
        .flatten()
        .filter(|(id, _)| ours.contains(id))
        .collect();
    assert_eq!(policy_changes, vec![(ids[7].clone(), vec![policy.clone()])]);
    let removed: Vec<String> = second
        .iter()
        .filter_map(|u| match u {
            BackendUpdate::CertificatesRemoved(ids) => Some(ids.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(removed.contains(&gone), "{removed:?}");
    assert!(ids.iter().all(|id| !removed.contains(id)), "{removed:?}");
    // Everything known and still listed with the same status was not described again.
    let progress = summary.progress;
    assert!(progress.unchanged >= 18, "{progress:?}");
    assert_eq!(progress.described, progress.to_describe);
    assert_eq!(progress.listed, progress.unchanged + progress.to_describe);
}

/// moto 5.2.5 does not implement ListCACertificates (HTTP 500): the source costs its small
/// retry budget once, is remembered as unavailable, and the next load does not ask at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_the_endpoint_does_not_answer_costs_its_budget_once_then_is_remembered() {
    // The production retry configuration (adaptive, five attempts): without the budget the
    // listing is retried for about ten seconds.
    let target = AwsTarget {
        endpoint_url: Some(moto_url()),
        region: Some("us-east-1".into()),
        profile: None,
    };
    let config = load_sdk_config(&target, DEFAULT_MAX_ATTEMPTS)
        .await
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "testing", "testing", None, None, "tests",
        )))
        .build();
    let backend = AwsBackend::new(&config, settings());
    let request = SnapshotRequest {
        sources: vec![Source::CaCertificates],
        ..SnapshotRequest::default()
    };

    let started = Instant::now();
    let (_, first) = load_all(&backend, request.clone()).await;
    let first_took = started.elapsed();
    assert!(
        first_took < Duration::from_secs(2),
        "the failing source took {first_took:?}"
    );
    let Some(SourceState::Unavailable { reason }) = first.state(Source::CaCertificates) else {
        panic!("ListCACertificates should be unavailable on moto: {first:?}");
    };
    assert!(reason.contains("iot:ListCACertificates"), "{reason}");
    let [outage] = first.outages.as_slice() else {
        panic!("one outage expected: {:?}", first.outages);
    };
    assert_eq!(outage.source, Source::CaCertificates);
    assert!(outage.until - outage.since == OUTAGE_LASTS, "{outage:?}");

    // A later second than the first load's, so the time of the report can be told apart.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let started = Instant::now();
    let (updates, second) = load_all(
        &backend,
        SnapshotRequest {
            outages: first.outages.clone(),
            ..request
        },
    )
    .await;
    let second_took = started.elapsed();
    let Some(SourceState::Unavailable { reason }) = second.state(Source::CaCertificates) else {
        panic!("the remembered source should be unavailable: {second:?}");
    };
    assert!(
        reason.contains("iot:ListCACertificates") && reason.contains("remembered"),
        "{reason}"
    );
    assert_eq!(
        second.outages, first.outages,
        "the memory is handed on unchanged"
    );
    // The remembered outage keeps the time it was found.
    assert!(updates.iter().any(|u| matches!(
        u,
        BackendUpdate::SourceFinished { source: Source::CaCertificates, at, .. } if *at == outage.since
    )));
    assert!(
        second_took < first_took,
        "not asking ({second_took:?}) should be faster than the budget ({first_took:?})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_pem_is_reported_and_the_rest_loads() {
    let config = sdk_config(&moto_url()).await;
    let iot = aws_sdk_iot::Client::new(&config);
    let prefix = unique_prefix("corrupt");
    let ca = root_ca(&format!("{prefix} ca"));
    let ca_id = register_ca(&iot, &ca).await;
    let mut good = Vec::new();
    for i in 0..5 {
        let (pem, _) = device_cert(&format!("{prefix}-{i}"), &ca, 50);
        good.push(
            register_device(&iot, &pem, &ca.pem, AwsStatus::Active)
                .await
                .0,
        );
    }
    // moto keeps whatever PEM text it is given (it hashes the text for the id).
    // Valid PEM armour and base64 (64 hex digits), but the DER inside is no certificate.
    let garbage = hex::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        prefix.as_bytes(),
    ));
    let corrupt_pem =
        format!("-----BEGIN CERTIFICATE-----\n{garbage}\n-----END CERTIFICATE-----\n");
    let corrupt_id = iot
        .register_certificate_without_ca()
        .certificate_pem(&corrupt_pem)
        .status(AwsStatus::Active)
        .send()
        .await
        .unwrap()
        .certificate_id()
        .unwrap()
        .to_owned();

    let backend = AwsBackend::new(&config, settings());
    let request = SnapshotRequest {
        known_ca_ids: vec![ca_id.clone()],
        ..SnapshotRequest::default()
    };
    let (updates, summary) = load_all(&backend, request).await;
    assert!(
        matches!(
            summary.state(Source::Certificates),
            Some(SourceState::Loaded { .. })
        ),
        "{summary:?}"
    );
    let certs: HashMap<String, CertificateRecord> = certificates(&updates)
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let PemContents::Unreadable(reason) = &certs[&corrupt_id].pem else {
        panic!(
            "the corrupt PEM should be unreadable: {:?}",
            certs[&corrupt_id]
        );
    };
    assert!(
        reason.to_string().contains("no valid X.509 certificate"),
        "{reason}"
    );
    assert_eq!(certs[&corrupt_id].status, CertStatus::Active);
    assert_eq!(certs[&corrupt_id].ca_certificate_id, None);
    for id in &good {
        assert_eq!(certs[id].ca_certificate_id.as_deref(), Some(ca_id.as_str()));
        assert!(certs[id].pem.parsed().is_some());
    }
}

/// A credentials provider in the state of an expired SSO session.
#[derive(Debug)]
struct ExpiredSession;

impl ProvideCredentials for ExpiredSession {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(Err(CredentialsError::provider_error(
            "the SSO session associated with profile `ops` has expired",
        )))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_credentials_give_a_clear_reason_per_source() {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(ExpiredSession)
        .endpoint_url(moto_url())
        .load()
        .await;
    let backend = AwsBackend::new(&config, settings());
    let (updates, summary) = load_all(&backend, SnapshotRequest::default()).await;
    assert!(certificates(&updates).is_empty());
    for source in [
        Source::CaCertificates,
        Source::Certificates,
        Source::Things,
        Source::ThingGroups,
        Source::Policies,
        Source::FleetIndexing,
        Source::DefenderDetect,
        Source::DefenderAudit,
        Source::Metrics,
    ] {
        let Some(SourceState::Unavailable { reason }) = summary.state(source) else {
            panic!("{source:?} should be unavailable: {summary:?}");
        };
        assert!(
            reason.contains("credentials are missing, invalid or expired"),
            "{source:?}: {reason}"
        );
        assert!(reason.contains("aws sso login"), "{source:?}: {reason}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_reach_the_registry() {
    let config = sdk_config(&moto_url()).await;
    let iot = aws_sdk_iot::Client::new(&config);
    let prefix = unique_prefix("mutate");
    let ca = root_ca(&format!("{prefix} ca"));
    let (pem, _) = device_cert(&format!("{prefix}-0"), &ca, 30);
    let (cert_id, cert_arn) = register_device(&iot, &pem, &ca.pem, AwsStatus::Active).await;
    let backend = AwsBackend::new(&config, settings());
    let permit = permit();

    let policy = format!("{prefix}-deny-all");
    let created = backend
        .create_policy(
            &permit,
            &policy,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iot:*","Resource":"*"}]}"#,
        )
        .await
        .unwrap();
    assert!(created.arn.ends_with(&policy), "{created:?}");
    let again = backend
        .create_policy(&permit, &policy, "{}")
        .await
        .unwrap_err();
    assert!(again.to_string().contains("iot:CreatePolicy"), "{again}");

    backend
        .attach_policy(&permit, &policy, &cert_arn)
        .await
        .unwrap();
    let attached = |iot: aws_sdk_iot::Client, arn: String| async move {
        iot.list_attached_policies()
            .target(arn)
            .send()
            .await
            .unwrap()
            .policies()
            .iter()
            .filter_map(|p| p.policy_name().map(str::to_owned))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        attached(iot.clone(), cert_arn.clone()).await,
        vec![policy.clone()]
    );
    backend
        .detach_policy(&permit, &policy, &cert_arn)
        .await
        .unwrap();
    assert!(attached(iot.clone(), cert_arn.clone()).await.is_empty());

    backend
        .update_certificate_status(&permit, &cert_id, NewCertificateStatus::Revoked)
        .await
        .unwrap();
    let status = iot
        .describe_certificate()
        .certificate_id(&cert_id)
        .send()
        .await
        .unwrap()
        .certificate_description()
        .and_then(|d| d.status().cloned());
    assert_eq!(status, Some(AwsStatus::Revoked));

    let thing = format!("{prefix}-thing");
    let group = format!("{prefix}-quarantine");
    let thing_arn = iot
        .create_thing()
        .thing_name(&thing)
        .send()
        .await
        .unwrap()
        .thing_arn()
        .unwrap()
        .to_owned();
    iot.create_thing_group()
        .thing_group_name(&group)
        .send()
        .await
        .unwrap();
    backend
        .add_thing_to_group(&permit, &thing, &group)
        .await
        .unwrap();
    let members = iot
        .list_things_in_thing_group()
        .thing_group_name(&group)
        .send()
        .await
        .unwrap();
    assert_eq!(members.things(), std::slice::from_ref(&thing));

    let job_id = format!("{prefix}-rotate");
    let job_arn = backend
        .create_job(
            &permit,
            &JobRequest {
                job_id: job_id.clone(),
                targets: vec![thing_arn],
                document: r#"{"operation":"rotate"}"#.into(),
                max_per_minute: Some(10),
                abort_failure_percent: Some(20.0),
                abort_min_executed: 5,
                in_progress_timeout_minutes: Some(30),
            },
        )
        .await
        .unwrap();
    assert!(job_arn.ends_with(&job_id), "{job_arn}");
    let progress = backend.describe_job(&job_id).await.unwrap();
    assert_ne!(progress.status, "CANCELED");
    backend
        .cancel_job(&permit, &job_id, "halted by the test", true)
        .await
        .unwrap();
    assert_eq!(
        backend.describe_job(&job_id).await.unwrap().status,
        "CANCELED"
    );
    let missing = backend
        .describe_job(&format!("{prefix}-none"))
        .await
        .unwrap_err();
    assert!(missing.to_string().contains("iot:DescribeJob"), "{missing}");
}
