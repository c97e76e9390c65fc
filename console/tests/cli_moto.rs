//! The real binary against moto through the real backend: a first run loads the registry and
//! fills the cache; `--offline` answers from that cache (a restart shows the data at once);
//! a change in the registry shows after the next online run. Needs `FLEETID_MOTO_URL`
//! (scripts/test starts moto); fails without it.

mod backend_support;

use std::path::Path;
use std::process::{Command, Output};

use aws_sdk_iot::types::CertificateStatus;
use backend_support::moto_url;

/// A region no other test uses, so the listing holds exactly this test's certificates.
const REGION: &str = "eu-north-1";

fn fleetid(url: &str, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fleetid"))
        .args(["--endpoint-url", url, "--region", REGION])
        .args(args)
        .env("FLEETID_CACHE", dir.join("cache.sqlite3"))
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("the binary runs")
}

fn listed(out: &Output) -> Vec<(String, String)> {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let mut rows: Vec<(String, String)> = json["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or_default().to_owned(),
                c["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn first_run_fills_the_cache_offline_reads_it_and_a_refresh_sees_changes() {
    let url = moto_url();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = runtime.block_on(async {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .credentials_provider(aws_sdk_iot::config::Credentials::new(
                "testing", "testing", None, None, "tests",
            ))
            .endpoint_url(&url)
            .load()
            .await;
        aws_sdk_iot::Client::new(&config)
    });
    let mut ids = Vec::new();
    for n in 0..3 {
        let key = rcgen::generate_simple_self_signed(vec![format!("cli-moto-{n}")]).unwrap();
        let out = runtime
            .block_on(
                client
                    .register_certificate_without_ca()
                    .certificate_pem(key.cert.pem())
                    .status(CertificateStatus::Active)
                    .send(),
            )
            .unwrap();
        ids.push(out.certificate_id().unwrap().to_owned());
    }
    let dir = tempfile::tempdir().unwrap();
    let first = listed(&fleetid(
        &url,
        dir.path(),
        &["certs", "list", "--output", "json"],
    ));
    let mine: Vec<(String, String)> = first
        .iter()
        .filter(|(id, _)| ids.contains(id))
        .cloned()
        .collect();
    assert_eq!(mine.len(), 3, "{first:?}");
    assert!(mine.iter().all(|(_, s)| s == "ACTIVE"));

    runtime
        .block_on(
            client
                .update_certificate()
                .certificate_id(&ids[0])
                .new_status(CertificateStatus::Revoked)
                .send(),
        )
        .unwrap();

    // A restart with --offline shows the cached picture at once (without the change).
    let cached = listed(&fleetid(
        &url,
        dir.path(),
        &["--offline", "certs", "list", "--output", "json"],
    ));
    assert_eq!(cached, first);

    // The next online run sees the change.
    let refreshed = listed(&fleetid(
        &url,
        dir.path(),
        &["certs", "list", "--output", "json"],
    ));
    let revoked = refreshed.iter().find(|(id, _)| id == &ids[0]).unwrap();
    assert_eq!(revoked.1, "REVOKED", "{refreshed:?}");
}
