//! `fleetid doctor` and the expected-account guard against moto through the real binary.
//! moto answers sts:GetCallerIdentity with account 123456789012. Needs `FLEETID_MOTO_URL`
//! (scripts/test starts moto); fails without it.

mod backend_support;

use std::path::Path;
use std::process::{Command, Output};

use backend_support::moto_url;

/// moto's account for sts:GetCallerIdentity.
const MOTO_ACCOUNT: &str = "123456789012";

/// Writes a config with one environment `moto` expecting `account`, and runs fleetid with it.
fn fleetid(dir: &Path, account: &str, args: &[&str]) -> Output {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "default_environment = \"moto\"\n\n[environments.moto]\nendpoint_url = \"{}\"\n\
             region = \"ap-south-1\"\naccount_id = \"{account}\"\n",
            moto_url()
        ),
    )
    .expect("config written");
    Command::new(env!("CARGO_BIN_EXE_fleetid"))
        .arg("--config")
        .arg(&config)
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

fn checks(out: &Output) -> Vec<(String, String, String)> {
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    json["data"]
        .as_array()
        .expect("a list of checks")
        .iter()
        .map(|c| {
            let field = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            (field("check"), field("result"), field("detail"))
        })
        .collect()
}

fn find<'a>(checks: &'a [(String, String, String)], name: &str) -> &'a (String, String, String) {
    checks
        .iter()
        .find(|c| c.0 == name)
        .unwrap_or_else(|| panic!("no check {name} in {checks:?}"))
}

#[test]
fn doctor_against_moto_shows_the_account_and_each_probe() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = fleetid(dir.path(), MOTO_ACCOUNT, &["--output", "json", "doctor"]);
    let checks = checks(&out);
    assert_eq!(find(&checks, "credentials").1, "pass", "{checks:?}");
    let account = find(&checks, "account");
    assert_eq!(
        (account.1.as_str(), account.2.as_str()),
        ("pass", MOTO_ACCOUNT)
    );
    assert_eq!(
        find(&checks, "iot:DescribeEndpoint").1,
        "pass",
        "{checks:?}"
    );
    for required in ["iot:ListCertificates", "iot:ListThings", "iot:ListPolicies"] {
        assert_eq!(find(&checks, required).2, "ok", "{checks:?}");
    }
    // moto answers ListCACertificates with HTTP 500: a required source fleetid cannot read
    // there, so doctor fails (exit 1) and says why.
    let cas = find(&checks, "iot:ListCACertificates");
    if cas.2 == "ok" {
        assert_eq!(out.status.code(), Some(0), "{checks:?}");
    } else {
        assert!(
            cas.2.starts_with("not answered by this endpoint"),
            "{cas:?}"
        );
        assert_eq!((cas.1.as_str(), out.status.code()), ("fail", Some(1)));
    }
    // moto has no Device Defender audit: reported as such, a warning, not a failure.
    let audit = find(&checks, "iot:ListAuditFindings");
    assert_eq!(audit.1, "warn", "{checks:?}");
    assert!(
        audit.2.starts_with("not answered by this endpoint"),
        "{audit:?}"
    );
}

#[test]
fn a_command_refuses_another_account_and_runs_in_the_expected_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = fleetid(dir.path(), "999999999999", &["certs", "list"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "stderr: {stderr}");
    assert!(
        stderr.contains("999999999999")
            && stderr.contains(MOTO_ACCOUNT)
            && stderr.contains("\"moto\""),
        "stderr: {stderr}"
    );
    let out = fleetid(
        dir.path(),
        MOTO_ACCOUNT,
        &["--output", "json", "certs", "list"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// moto lacks ListCACertificates: `ca list` spends the source's small retry budget once (the
/// full retries took about ten seconds), the next command does not ask, and doctor shows the
/// source as remembered unavailable with the reason.
#[test]
fn a_source_moto_does_not_answer_is_remembered_and_shown_in_doctor() {
    let dir = tempfile::tempdir().expect("temp dir");
    let timed = |args: &[&str]| {
        let started = std::time::Instant::now();
        let out = fleetid(dir.path(), MOTO_ACCOUNT, args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        started.elapsed()
    };
    let first = timed(&["--output", "json", "ca", "list"]);
    assert!(
        first < std::time::Duration::from_secs(5),
        "the first `ca list` took {first:?}"
    );
    let second = timed(&["--output", "json", "ca", "list"]);
    assert!(
        second < std::time::Duration::from_secs(4),
        "the second `ca list` took {second:?}"
    );

    let out = fleetid(
        dir.path(),
        MOTO_ACCOUNT,
        &["--offline", "--output", "json", "doctor"],
    );
    let checks = checks(&out);
    let remembered = find(&checks, "ca-certificates (remembered unavailable)");
    assert_eq!(remembered.1, "warn", "{checks:?}");
    assert!(
        remembered.2.contains("iot:ListCACertificates")
            && remembered.2.contains("not answered by this endpoint")
            && remembered.2.contains("not asked again for 1"),
        "{remembered:?}"
    );
}
