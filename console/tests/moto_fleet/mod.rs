//! A small fleet in moto for the tests that drive the real binary against it: things with
//! ACTIVE self-signed certificates attached, an SDK client to read the registry back, and
//! the binary's command line with a private home and moto's credentials.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

use aws_sdk_iot::types::CertificateStatus;

use crate::backend_support::moto_url;

pub fn fleetid_command(url: &str, region: &str, dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fleetid"));
    command
        .args(["--endpoint-url", url, "--region", region])
        .args(args)
        .env("FLEETID_CACHE", dir.join("cache.sqlite3"))
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null());
    command
}

pub fn fleetid(url: &str, region: &str, dir: &Path, args: &[&str]) -> Output {
    fleetid_command(url, region, dir, args)
        .output()
        .expect("the binary runs")
}

pub fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub struct Fleet {
    pub runtime: tokio::runtime::Runtime,
    pub iot: aws_sdk_iot::Client,
    /// (certificate id, certificate ARN, thing)
    pub devices: Vec<(String, String, String)>,
}

impl Fleet {
    pub fn new(region: &str, prefix: &str, n: usize) -> Self {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let url = moto_url();
        let iot = runtime.block_on(async {
            let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new(region.to_owned()))
                .credentials_provider(aws_sdk_iot::config::Credentials::new(
                    "testing", "testing", None, None, "tests",
                ))
                .endpoint_url(&url)
                .load()
                .await;
            aws_sdk_iot::Client::new(&config)
        });
        let mut devices = Vec::new();
        for i in 0..n {
            let thing = format!("{prefix}-{i}");
            let key = rcgen::generate_simple_self_signed(vec![thing.clone()]).unwrap();
            runtime.block_on(async {
                let cert = iot
                    .register_certificate_without_ca()
                    .certificate_pem(key.cert.pem())
                    .status(CertificateStatus::Active)
                    .send()
                    .await
                    .unwrap();
                iot.create_thing().thing_name(&thing).send().await.unwrap();
                iot.attach_thing_principal()
                    .thing_name(&thing)
                    .principal(cert.certificate_arn().unwrap())
                    .send()
                    .await
                    .unwrap();
                devices.push((
                    cert.certificate_id().unwrap().to_owned(),
                    cert.certificate_arn().unwrap().to_owned(),
                    thing,
                ));
            });
        }
        Self {
            runtime,
            iot,
            devices,
        }
    }

    pub fn status(&self, device: usize) -> String {
        self.certificate_status(&self.devices[device].0)
    }

    /// The status of any certificate, read with the SDK.
    pub fn certificate_status(&self, certificate_id: &str) -> String {
        self.runtime.block_on(async {
            self.iot
                .describe_certificate()
                .certificate_id(certificate_id)
                .send()
                .await
                .unwrap()
                .certificate_description()
                .unwrap()
                .status()
                .unwrap()
                .as_str()
                .to_owned()
        })
    }

    pub fn policies(&self, device: usize) -> Vec<String> {
        self.runtime.block_on(async {
            self.iot
                .list_attached_policies()
                .target(&self.devices[device].1)
                .send()
                .await
                .unwrap()
                .policies()
                .iter()
                .filter_map(|p| p.policy_name().map(str::to_owned))
                .collect()
        })
    }

    pub fn groups(&self, device: usize) -> Vec<String> {
        self.runtime.block_on(async {
            self.iot
                .list_thing_groups_for_thing()
                .thing_name(&self.devices[device].2)
                .send()
                .await
                .unwrap()
                .thing_groups()
                .iter()
                .filter_map(|g| g.group_name().map(str::to_owned))
                .collect()
        })
    }

    /// Status, policies and groups of a device, to compare before and after.
    pub fn state(&self, device: usize) -> (String, Vec<String>, Vec<String>) {
        (
            self.status(device),
            self.policies(device),
            self.groups(device),
        )
    }
}

/// The journal's calls of the newest operation in the cache at `cache`: (step, state).
pub fn journal(cache: &Path) -> Vec<(i64, String)> {
    let Ok(db) = rusqlite::Connection::open(cache) else {
        return Vec::new();
    };
    let Ok(mut statement) = db.prepare(
        "SELECT step, state FROM op_calls WHERE op = (SELECT id FROM ops ORDER BY created DESC, \
         id DESC LIMIT 1) ORDER BY step",
    ) else {
        return Vec::new();
    };
    statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map(|rows| rows.filter_map(Result::ok).collect())
        .unwrap_or_default()
}

/// Starts a revoke of the three certificates `query` selects at one call every 5 s to each
/// API, kills it once three calls are done (a call may be in flight then), and returns the
/// journal as the killed apply left it.
pub fn revoke_killed_after_three_calls(
    url: &str,
    region: &str,
    dir: &Path,
    query: &str,
) -> Vec<(i64, String)> {
    let cache = dir.join("cache.sqlite3");
    let mut child = fleetid_command(
        url,
        region,
        dir,
        &[
            "revoke",
            "--query",
            query,
            "--yes",
            "--expect-count",
            "3",
            "--rate",
            "0.2",
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let rows = journal(&cache);
        if rows.iter().filter(|(_, s)| s == "done").count() >= 3 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the apply did not get going: {rows:?}"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the apply ended before it was killed"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    journal(&cache)
}
