//! The live-status pool's shared operator certificate, against the lab: two connections with
//! the operator certificate under the pool's client ids make the lab's gateway raise
//! DEVICE_CERTIFICATE_SHARED_CHECK, as Device Defender Audit would; ListAuditFindings names
//! both client ids as related resources, and the console shows the finding as its own
//! connections' (low). A third client with the same certificate joins the finding, and the
//! console shows it as rated (critical): a stolen operator certificate still alarms.
#![allow(clippy::unwrap_used)]

mod lab_support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use fleetid::backend::Source as BackendSource;
use fleetid::backend::aws::AwsBackend;
use fleetid::backend::live::pool_identity::member_client_id;
use fleetid::model::{AnomalyRecord, FleetState, Severity};
use fleetid_lab::{LabHandle, OPERATOR_CLIENT_ID};
use lab_support::{lab_backend, quiet_lab, watch_presence};

const CHECK: &str = "DEVICE_CERTIFICATE_SHARED_CHECK";
const FILTER: &str = "fleetid/v1/+/status";

/// The client ids the lab's audit API lists for the operator certificate's shared finding,
/// once it lists `expected` of them (bounded wait: the finding is raised at admission).
async fn listed_client_ids(
    backend: &AwsBackend,
    operator_cert: &str,
    expected: usize,
) -> BTreeSet<String> {
    let started = Instant::now();
    loop {
        let out = backend
            .iot()
            .list_audit_findings()
            .check_name(CHECK)
            .send()
            .await
            .unwrap();
        let clients: BTreeSet<String> = out
            .findings()
            .iter()
            .filter(|f| {
                f.non_compliant_resource()
                    .and_then(|r| r.resource_identifier())
                    .and_then(|r| r.device_certificate_id())
                    == Some(operator_cert)
            })
            .flat_map(aws_sdk_iot::types::AuditFinding::related_resources)
            .filter_map(|r| r.resource_identifier()?.client_id())
            .map(str::to_owned)
            .collect();
        if clients.len() >= expected {
            return clients;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the audit lists {clients:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The console's anomaly for the shared-certificate finding, after loading the audit.
async fn shared_anomaly(backend: &AwsBackend) -> AnomalyRecord {
    let mut state = FleetState::new();
    fleetid::refresh::refresh(
        backend,
        &mut state,
        vec![BackendSource::DefenderAudit],
        Vec::new(),
    )
    .await;
    let shared: Vec<&AnomalyRecord> = state
        .anomalies()
        .values()
        .filter(|a| &*a.kind == CHECK)
        .collect();
    assert_eq!(shared.len(), 1, "{:?}", state.anomalies());
    shared[0].clone()
}

fn operator_certificate_id(lab: &LabHandle) -> String {
    let pem = std::fs::read_to_string(&lab.operator.cert_pem).unwrap();
    fleetid_lab::cert_facts::CertFacts::from_pem(&pem)
        .unwrap()
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_sharing_the_operator_certificate_is_low_and_another_client_critical() {
    let dir = tempfile::tempdir().unwrap();
    let lab = quiet_lab(0, 5, dir.path()).await;
    let backend = lab_backend(&lab, false);
    let operator_cert = operator_certificate_id(&lab);

    // Two connections of the pool: its first client id and its first additional one.
    let pool_member = member_client_id(OPERATOR_CLIENT_ID, 1);
    let _first = watch_presence(&lab, OPERATOR_CLIENT_ID, FILTER).await;
    let _second = watch_presence(&lab, &pool_member, FILTER).await;
    let clients = listed_client_ids(&backend, &operator_cert, 2).await;
    assert_eq!(
        clients,
        BTreeSet::from([OPERATOR_CLIENT_ID.to_owned(), pool_member.clone()])
    );
    let own = shared_anomaly(&backend).await;
    assert_eq!(own.severity, Severity::Low, "{own:?}");
    assert_eq!(
        &*own.summary,
        "shared by fleetid's own live-status connections (2 client ids)"
    );
    assert_eq!(
        own.certificate.map(|c| c.to_string()),
        Some(operator_cert.clone())
    );

    // Someone else connects with the operator certificate.
    let _intruder = watch_presence(&lab, "not-fleetid", FILTER).await;
    let clients = listed_client_ids(&backend, &operator_cert, 3).await;
    assert!(clients.contains("not-fleetid"), "{clients:?}");
    let stolen = shared_anomaly(&backend).await;
    assert_eq!(stolen.severity, Severity::Critical, "{stolen:?}");
    assert!(stolen.summary.contains("not-fleetid"), "{stolen:?}");
    assert_eq!(
        stolen.id, own.id,
        "the same finding, now with another client"
    );

    lab.shutdown().await;
}
