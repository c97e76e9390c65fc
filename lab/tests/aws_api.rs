//! Wire compatibility of the lab's AWS IoT HTTP API: the real aws-sdk-iot client, signed
//! with the lab's static credentials, against the lab server on a loopback port.

#![allow(clippy::unwrap_used)] // a failed step should stop the test with its error

use std::sync::Arc;

use aws_config::BehaviorVersion;
use aws_sdk_iot::Client;
use aws_sdk_iot::config::{Credentials, Region};
use aws_sdk_iot::types::{CertificateStatus, JobExecutionStatus};
use fleetid_lab::api::{self, ACCESS_KEY_ID, ApiState, SECRET_ACCESS_KEY};
use fleetid_lab::detector::Detector;
use fleetid_lab::pki::CertificateAuthority;
use fleetid_lab::registry::Registry;
use tokio::net::TcpListener;

struct Lab {
    client: Client,
    state: ApiState,
    issuing: Arc<CertificateAuthority>,
    url: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn client_for(url: &str, key_id: &str) -> Client {
    Client::new(&config_for(url, key_id).await)
}

async fn config_for(url: &str, key_id: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            key_id,
            SECRET_ACCESS_KEY,
            None,
            None,
            "test",
        ))
        .endpoint_url(url)
        .load()
        .await
}

async fn start() -> Lab {
    let root = CertificateAuthority::new_root("test root").unwrap();
    let issuing = Arc::new(root.new_intermediate("test issuing").unwrap());
    let state = ApiState {
        registry: Registry::new(),
        detector: Detector::default(),
        issuing_ca: issuing.clone(),
        certificate_provider: fleetid_lab::certificate_provider::CertificateProvider::new(
            issuing.clone(),
            Arc::new(root.new_intermediate("test next").unwrap()),
        ),
        mqtt_endpoint: "127.0.0.1:8883".into(),
        connections: fleetid_lab::gateway::Connections::default(),
        metrics: fleetid_lab::metrics::Metrics::default(),
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(api::serve(listener, state.clone(), async {
        let _ = stopped.await;
    }));
    Lab {
        client: client_for(&url, ACCESS_KEY_ID).await,
        state,
        issuing,
        url,
        _stop: stop,
    }
}

#[tokio::test]
async fn certificates_and_cas_round_trip_through_the_sdk() {
    let lab = start().await;
    let c = &lab.client;
    let ca = c
        .register_ca_certificate()
        .ca_certificate(&lab.issuing.certificate_pem)
        .set_as_active(true)
        .allow_auto_registration(true)
        .send()
        .await
        .unwrap();
    let ca_id = ca.certificate_id().unwrap().to_owned();
    let mut ids = Vec::new();
    for i in 0..5 {
        let leaf = lab
            .issuing
            .issue_device(&format!("dev-{i}"), 3 + i)
            .unwrap();
        let out = c
            .register_certificate()
            .certificate_pem(&leaf.certificate_pem)
            .status(CertificateStatus::Active)
            .send()
            .await
            .unwrap();
        ids.push(out.certificate_id().unwrap().to_owned());
    }

    // Paging with pageSize/marker through the SDK's own paginator.
    let all: Vec<_> = c
        .list_certificates()
        .page_size(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(all.len(), 5);
    let mut listed: Vec<String> = all
        .iter()
        .map(|c| c.certificate_id().unwrap().to_owned())
        .collect();
    listed.reverse(); // newest first by default
    assert_eq!(listed, ids);
    assert!(
        all.iter()
            .all(|c| c.status() == Some(&CertificateStatus::Active) && c.creation_date().is_some())
    );

    let by_ca = c
        .list_certificates_by_ca()
        .ca_certificate_id(&ca_id)
        .send()
        .await
        .unwrap();
    assert_eq!(by_ca.certificates().len(), 5);

    let d = c
        .describe_certificate()
        .certificate_id(&ids[0])
        .send()
        .await
        .unwrap();
    let d = d.certificate_description().unwrap();
    assert_eq!(d.ca_certificate_id(), Some(ca_id.as_str()));
    let validity = d.validity().unwrap();
    let days =
        (validity.not_after().unwrap().secs() - validity.not_before().unwrap().secs()) / 86_400;
    assert_eq!(
        days, 3,
        "validity as issued (3 days plus the hour before now)"
    );
    assert!(
        d.certificate_pem()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );

    let cas = c.list_ca_certificates().send().await.unwrap();
    assert_eq!(cas.certificates()[0].certificate_id(), Some(ca_id.as_str()));
    let dca = c
        .describe_ca_certificate()
        .certificate_id(&ca_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        dca.certificate_description()
            .unwrap()
            .auto_registration_status()
            .map(aws_sdk_iot::types::AutoRegistrationStatus::as_str),
        Some("ENABLE")
    );

    // Revocation is final, with the modeled error.
    c.update_certificate()
        .certificate_id(&ids[1])
        .new_status(CertificateStatus::Revoked)
        .send()
        .await
        .unwrap();
    let err = c
        .update_certificate()
        .certificate_id(&ids[1])
        .new_status(CertificateStatus::Active)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_certificate_state_exception(), "{err:?}");
    let err = c
        .describe_certificate()
        .certificate_id("0".repeat(64))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");

    // Audit findings: the 3- and 4-day certificates are expiring; the revoked one is not counted.
    let findings = c
        .list_audit_findings()
        .check_name("DEVICE_CERTIFICATE_EXPIRING_CHECK")
        .send()
        .await
        .unwrap();
    let flagged: Vec<&str> = findings
        .findings()
        .iter()
        .filter_map(|f| {
            f.non_compliant_resource()?
                .resource_identifier()?
                .device_certificate_id()
        })
        .collect();
    assert_eq!(flagged.len(), 4, "{flagged:?}");
    assert!(!flagged.contains(&ids[1].as_str()));
}

#[tokio::test]
async fn things_groups_policies_and_principals() {
    let lab = start().await;
    let c = &lab.client;
    let leaf = lab.issuing.issue_device("dev-7", 30).unwrap();
    let cert = c
        .register_certificate()
        .certificate_pem(&leaf.certificate_pem)
        .status(CertificateStatus::Active)
        .send()
        .await
        .unwrap();
    let cert_arn = cert.certificate_arn().unwrap();
    c.create_thing()
        .thing_name("dev-7")
        .attribute_payload(
            aws_sdk_iot::types::AttributePayload::builder()
                .attributes("firmware", "1.2.0")
                .build(),
        )
        .send()
        .await
        .unwrap();
    c.attach_thing_principal()
        .thing_name("dev-7")
        .principal(cert_arn)
        .send()
        .await
        .unwrap();
    let principals = c
        .list_thing_principals()
        .thing_name("dev-7")
        .send()
        .await
        .unwrap();
    assert_eq!(principals.principals(), [cert_arn.to_owned()]);
    let things = c
        .list_principal_things()
        .principal(cert_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(things.things(), ["dev-7".to_owned()]);
    let thing = c.describe_thing().thing_name("dev-7").send().await.unwrap();
    assert_eq!(
        thing
            .attributes()
            .unwrap()
            .get("firmware")
            .map(String::as_str),
        Some("1.2.0")
    );
    let listed = c
        .list_things()
        .attribute_name("firmware")
        .attribute_value("1.2.0")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.things().len(), 1);

    c.create_thing_group()
        .thing_group_name("fleetid-quarantine")
        .send()
        .await
        .unwrap();
    c.add_thing_to_thing_group()
        .thing_group_name("fleetid-quarantine")
        .thing_name("dev-7")
        .send()
        .await
        .unwrap();
    let groups = c
        .list_thing_groups_for_thing()
        .thing_name("dev-7")
        .send()
        .await
        .unwrap();
    assert_eq!(
        groups.thing_groups()[0].group_name(),
        Some("fleetid-quarantine")
    );
    assert_eq!(
        c.list_thing_groups()
            .send()
            .await
            .unwrap()
            .thing_groups()
            .len(),
        1
    );
    c.remove_thing_from_thing_group()
        .thing_group_name("fleetid-quarantine")
        .thing_name("dev-7")
        .send()
        .await
        .unwrap();
    assert!(
        c.list_thing_groups_for_thing()
            .thing_name("dev-7")
            .send()
            .await
            .unwrap()
            .thing_groups()
            .is_empty()
    );

    c.create_policy()
        .policy_name("fleetid-deny-all")
        .policy_document(fleetid_lab::policy::DENY_ALL)
        .send()
        .await
        .unwrap();
    let err = c
        .create_policy()
        .policy_name("fleetid-deny-all")
        .policy_document(fleetid_lab::policy::DENY_ALL)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_already_exists_exception(), "{err:?}");
    let err = c
        .create_policy()
        .policy_name("broken")
        .policy_document("{")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_malformed_policy_exception(), "{err:?}");
    c.attach_policy()
        .policy_name("fleetid-deny-all")
        .target(cert_arn)
        .send()
        .await
        .unwrap();
    let attached = c
        .list_attached_policies()
        .target(cert_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        attached.policies()[0].policy_name(),
        Some("fleetid-deny-all")
    );
    let got = c
        .get_policy()
        .policy_name("fleetid-deny-all")
        .send()
        .await
        .unwrap();
    assert_eq!(got.policy_document(), Some(fleetid_lab::policy::DENY_ALL));
    assert_eq!(c.list_policies().send().await.unwrap().policies().len(), 1);
    c.detach_policy()
        .policy_name("fleetid-deny-all")
        .target(cert_arn)
        .send()
        .await
        .unwrap();
    assert!(
        c.list_attached_policies()
            .target(cert_arn)
            .send()
            .await
            .unwrap()
            .policies()
            .is_empty()
    );
}

/// Every control-plane call of the console's revoke and restore, through the SDK, with the
/// answers AWS IoT gives.
#[tokio::test]
async fn revoke_and_restore_calls_answer_as_aws_iot_does() {
    let lab = start().await;
    let c = &lab.client;
    let leaf = lab.issuing.issue_device("dev-8", 30).unwrap();
    let cert = c
        .register_certificate()
        .certificate_pem(&leaf.certificate_pem)
        .status(CertificateStatus::Active)
        .send()
        .await
        .unwrap();
    let (cert_id, cert_arn) = (
        cert.certificate_id().unwrap(),
        cert.certificate_arn().unwrap(),
    );
    c.create_thing().thing_name("dev-8").send().await.unwrap();
    c.attach_thing_principal()
        .thing_name("dev-8")
        .principal(cert_arn)
        .send()
        .await
        .unwrap();

    // (1) The deny-all policy, created when GetPolicy says it is missing.
    let err = c
        .get_policy()
        .policy_name("fleetid-deny-all")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let created = c
        .create_policy()
        .policy_name("fleetid-deny-all")
        .policy_document(fleetid_lab::policy::DENY_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.policy_arn(),
        Some("arn:aws:iot:us-east-1:123456789012:policy/fleetid-deny-all")
    );
    let got = c
        .get_policy()
        .policy_name("fleetid-deny-all")
        .send()
        .await
        .unwrap();
    assert_eq!(got.policy_document(), Some(fleetid_lab::policy::DENY_ALL));
    assert_eq!(got.default_version_id(), Some("1"));

    // (2) AttachPolicy to the certificate ARN (twice: idempotent); an unknown certificate is
    // not found.
    for _ in 0..2 {
        c.attach_policy()
            .policy_name("fleetid-deny-all")
            .target(cert_arn)
            .send()
            .await
            .unwrap();
    }
    let unknown = format!("arn:aws:iot:us-east-1:123456789012:cert/{}", "0".repeat(64));
    let err = c
        .attach_policy()
        .policy_name("fleetid-deny-all")
        .target(&unknown)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let attached = c
        .list_attached_policies()
        .target(cert_arn)
        .send()
        .await
        .unwrap();
    let names: Vec<_> = attached
        .policies()
        .iter()
        .filter_map(|p| p.policy_name())
        .collect();
    assert_eq!(names, ["fleetid-deny-all"]);

    // (3) UpdateCertificate INACTIVE, and back.
    let status = |id: String| async move {
        c.describe_certificate()
            .certificate_id(id)
            .send()
            .await
            .unwrap()
            .certificate_description()
            .unwrap()
            .status()
            .cloned()
    };
    for wanted in [CertificateStatus::Inactive, CertificateStatus::Active] {
        c.update_certificate()
            .certificate_id(cert_id)
            .new_status(wanted.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(status(cert_id.to_owned()).await, Some(wanted));
    }
    // Statuses AWS IoT keeps for itself are refused.
    let err = c
        .update_certificate()
        .certificate_id(cert_id)
        .new_status(CertificateStatus::PendingTransfer)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_request_exception(), "{err:?}");

    // (4) The quarantine group: created twice with the same properties (the same group),
    // refused with other properties, then the thing joins it.
    let properties = aws_sdk_iot::types::ThingGroupProperties::builder()
        .thing_group_description("devices cut off by fleetid revoke")
        .attribute_payload(
            aws_sdk_iot::types::AttributePayload::builder()
                .attributes("owner", "fleetid")
                .build(),
        )
        .build();
    let err = c
        .describe_thing_group()
        .thing_group_name("fleetid-quarantine")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let first = c
        .create_thing_group()
        .thing_group_name("fleetid-quarantine")
        .thing_group_properties(properties.clone())
        .send()
        .await
        .unwrap();
    let again = c
        .create_thing_group()
        .thing_group_name("fleetid-quarantine")
        .thing_group_properties(properties)
        .send()
        .await
        .unwrap();
    assert_eq!(again.thing_group_id(), first.thing_group_id());
    assert_eq!(again.thing_group_arn(), first.thing_group_arn());
    let err = c
        .create_thing_group()
        .thing_group_name("fleetid-quarantine")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_already_exists_exception(), "{err:?}");
    let err = c
        .create_thing_group()
        .thing_group_name("no spaces")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_request_exception(), "{err:?}");
    let described = c
        .describe_thing_group()
        .thing_group_name("fleetid-quarantine")
        .send()
        .await
        .unwrap();
    let props = described.thing_group_properties().unwrap();
    assert_eq!(
        props.thing_group_description(),
        Some("devices cut off by fleetid revoke")
    );
    assert_eq!(
        props
            .attribute_payload()
            .and_then(|a| a.attributes())
            .and_then(|a| a.get("owner"))
            .map(String::as_str),
        Some("fleetid")
    );
    c.add_thing_to_thing_group()
        .thing_group_name("fleetid-quarantine")
        .thing_name("dev-8")
        .send()
        .await
        .unwrap();
    let groups = c
        .list_thing_groups_for_thing()
        .thing_name("dev-8")
        .send()
        .await
        .unwrap();
    let names: Vec<_> = groups
        .thing_groups()
        .iter()
        .filter_map(|g| g.group_name())
        .collect();
    assert_eq!(names, ["fleetid-quarantine"]);
    // A policy on the group is in force for the certificate (recursive listing).
    c.create_policy()
        .policy_name("quarantine-extra")
        .policy_document(fleetid_lab::policy::DENY_ALL)
        .send()
        .await
        .unwrap();
    c.attach_policy()
        .policy_name("quarantine-extra")
        .target(first.thing_group_arn().unwrap())
        .send()
        .await
        .unwrap();
    let effective = c
        .list_attached_policies()
        .target(cert_arn)
        .recursive(true)
        .send()
        .await
        .unwrap();
    let mut names: Vec<_> = effective
        .policies()
        .iter()
        .filter_map(|p| p.policy_name())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["fleetid-deny-all", "quarantine-extra"]);

    // Restore: DetachPolicy, RemoveThingFromThingGroup.
    c.detach_policy()
        .policy_name("fleetid-deny-all")
        .target(cert_arn)
        .send()
        .await
        .unwrap();
    c.remove_thing_from_thing_group()
        .thing_group_name("fleetid-quarantine")
        .thing_name("dev-8")
        .send()
        .await
        .unwrap();
    assert!(
        c.list_attached_policies()
            .target(cert_arn)
            .recursive(true)
            .send()
            .await
            .unwrap()
            .policies()
            .is_empty()
    );
    assert!(
        c.list_thing_groups_for_thing()
            .thing_name("dev-8")
            .send()
            .await
            .unwrap()
            .thing_groups()
            .is_empty()
    );

    // REVOKED is final: any later change is CertificateStateException (406), the error AWS
    // IoT models for "the certificate operation is not allowed".
    c.update_certificate()
        .certificate_id(cert_id)
        .new_status(CertificateStatus::Revoked)
        .send()
        .await
        .unwrap();
    for later in [CertificateStatus::Inactive, CertificateStatus::Active] {
        let err = c
            .update_certificate()
            .certificate_id(cert_id)
            .new_status(later)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_certificate_state_exception(), "{err:?}");
    }
    assert_eq!(
        status(cert_id.to_owned()).await,
        Some(CertificateStatus::Revoked)
    );

    // DeleteConnection on the same endpoint: no gateway here, so nobody is connected.
    let data = aws_sdk_iotdataplane::Client::new(&config_for(&lab.url, ACCESS_KEY_ID).await);
    let err = data
        .delete_connection()
        .client_id("dev-8")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let err = data
        .delete_connection()
        .client_id("$aws-reserved")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_request_exception(), "{err:?}");
}

#[tokio::test]
async fn jobs_csr_defender_endpoint_and_credentials() {
    let lab = start().await;
    let c = &lab.client;
    c.create_thing_group()
        .thing_group_name("stage-1")
        .send()
        .await
        .unwrap();
    for i in 0..3 {
        c.create_thing()
            .thing_name(format!("dev-{i}"))
            .send()
            .await
            .unwrap();
        c.add_thing_to_thing_group()
            .thing_group_name("stage-1")
            .thing_name(format!("dev-{i}"))
            .send()
            .await
            .unwrap();
    }
    let group_arn = "arn:aws:iot:us-east-1:123456789012:thinggroup/stage-1";
    c.create_job()
        .job_id("rotate-1")
        .targets(group_arn)
        .document(r#"{"operation":"rotate"}"#)
        .send()
        .await
        .unwrap();
    let job = c.describe_job().job_id("rotate-1").send().await.unwrap();
    let job = job.job().unwrap();
    assert_eq!(
        job.job_process_details().unwrap().number_of_queued_things(),
        Some(3)
    );
    let executions = c
        .list_job_executions_for_job()
        .job_id("rotate-1")
        .send()
        .await
        .unwrap();
    assert_eq!(executions.execution_summaries().len(), 3);
    assert!(executions.execution_summaries().iter().all(|e| {
        e.job_execution_summary().and_then(|s| s.status()) == Some(&JobExecutionStatus::Queued)
    }));
    c.cancel_job()
        .job_id("rotate-1")
        .reason_code("HALT")
        .send()
        .await
        .unwrap();
    let job = c.describe_job().job_id("rotate-1").send().await.unwrap();
    assert_eq!(
        job.job()
            .unwrap()
            .status()
            .map(aws_sdk_iot::types::JobStatus::as_str),
        Some("CANCELED")
    );
    assert_eq!(
        job.job()
            .unwrap()
            .job_process_details()
            .unwrap()
            .number_of_canceled_things(),
        Some(3)
    );

    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "dev-0");
    let csr = params.serialize_request(&key).unwrap().pem().unwrap();
    let made = c
        .create_certificate_from_csr()
        .certificate_signing_request(csr)
        .set_as_active(true)
        .send()
        .await
        .unwrap();
    let described = c
        .describe_certificate()
        .certificate_id(made.certificate_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.certificate_description().unwrap().status(),
        Some(&CertificateStatus::Active)
    );

    lab.state
        .detector
        .violation("dev-2", "DebugTopicPublish", "aws:num-messages-sent", 3);
    let violations = c
        .list_active_violations()
        .thing_name("dev-2")
        .send()
        .await
        .unwrap();
    let v = &violations.active_violations()[0];
    assert_eq!(v.behavior().unwrap().name(), "DebugTopicPublish");
    assert_eq!(v.last_violation_value().unwrap().count(), Some(3));

    let now = aws_sdk_iot::primitives::DateTime::from_secs(time_now());
    let events = c
        .list_violation_events()
        .start_time(aws_sdk_iot::primitives::DateTime::from_secs(
            time_now() - 86_400,
        ))
        .end_time(now)
        .send()
        .await
        .unwrap();
    assert_eq!(events.violation_events()[0].thing_name(), Some("dev-2"));

    let config = c.get_indexing_configuration().send().await.unwrap();
    assert_eq!(
        config
            .thing_indexing_configuration()
            .unwrap()
            .thing_connectivity_indexing_mode()
            .map(aws_sdk_iot::types::ThingConnectivityIndexingMode::as_str),
        Some("STATUS")
    );
    lab.state.registry.set_connectivity(
        "dev-1",
        fleetid_lab::registry::Connectivity {
            connected: true,
            timestamp_ms: 1_700_000_000_000,
            disconnect_reason: None,
            client_id: "dev-1".into(),
        },
    );
    let all = c
        .search_index()
        .index_name("AWS_Things")
        .query_string("thingName:*")
        .send()
        .await
        .unwrap();
    assert_eq!(all.things().len(), 3);
    let online = c
        .search_index()
        .query_string("thingName:dev-* AND connectivity.connected:true")
        .send()
        .await
        .unwrap();
    let online: Vec<_> = online
        .things()
        .iter()
        .map(|t| {
            (
                t.thing_name().unwrap(),
                t.connectivity().unwrap().timestamp(),
            )
        })
        .collect();
    assert_eq!(online, [("dev-1", Some(1_700_000_000_000))]);

    let endpoint = c
        .describe_endpoint()
        .endpoint_type("iot:Data-ATS")
        .send()
        .await
        .unwrap();
    assert_eq!(endpoint.endpoint_address(), Some("127.0.0.1:8883"));

    let stranger = client_for(&lab.url, "AKIAOTHER").await;
    let err = stranger
        .list_certificates()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_unauthorized_exception(), "{err:?}");
}

fn time_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}
