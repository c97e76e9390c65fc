//! What the Debian package installs: the systemd unit passes `systemd-analyze verify` and
//! keeps its hardening, and `[package.metadata.deb]` names files that exist and agree with the
//! unit. The package itself is built by `cargo deb -p fleetid-agent` (a release build), not
//! here.

use std::path::{Path, PathBuf};
use std::process::Command;

const UNIT: &str = include_str!("../packaging/fleetid-agent.service");
const INSTALLED_BINARY: &str = "/usr/bin/fleetid-agent";

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `(section, key, value)` of every setting of the unit, in order.
fn settings(unit: &str) -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut settings = Vec::new();
    for line in unit.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_owned();
        } else {
            let (key, value) = line.split_once('=').expect("key=value line");
            settings.push((
                section.clone(),
                key.trim().to_owned(),
                value.trim().to_owned(),
            ));
        }
    }
    settings
}

/// Every value of `key` in `[Service]`.
fn service(key: &str) -> Vec<String> {
    settings(UNIT)
        .into_iter()
        .filter(|(section, k, _)| section == "Service" && k == key)
        .map(|(_, _, value)| value)
        .collect()
}

#[test]
fn systemd_analyze_verifies_the_unit() {
    // verify needs ExecStart's binary to exist: the copy points at the binary under test.
    let dir = tempfile::tempdir().expect("temp dir");
    let exec = format!("ExecStart={INSTALLED_BINARY} ");
    assert_eq!(
        UNIT.matches(&exec).count(),
        1,
        "one ExecStart of {INSTALLED_BINARY}"
    );
    let unit = UNIT.replace(
        &exec,
        &format!("ExecStart={} ", env!("CARGO_BIN_EXE_fleetid-agent")),
    );
    let path = dir.path().join("fleetid-agent.service");
    std::fs::write(&path, unit).expect("write unit");
    let output = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .env("SYSTEMD_LOG_COLOR", "0")
        .output()
        .expect("systemd-analyze (package systemd; scripts/test installs it) must be installed");
    let stderr = String::from_utf8_lossy(&output.stderr);
    // verify exits 0 on unknown keys and unparsable values, so its messages are failures too.
    // Only these are tolerated: keys of systemd 254+ that older versions ignore, by design.
    let newer_keys = ["RestartSteps", "RestartMaxDelaySec"];
    let problems: Vec<&str> = stderr
        .lines()
        .filter(|line| {
            !newer_keys.iter().any(|key| {
                line.ends_with(&format!(
                    "Unknown key '{key}' in section [Service], ignoring."
                ))
            })
        })
        .collect();
    assert!(
        output.status.success() && problems.is_empty(),
        "systemd-analyze verify: {}\n{}",
        output.status,
        problems.join("\n")
    );
}

#[test]
fn the_unit_confines_the_agent() {
    let expected = [
        (
            "ExecStart",
            "/usr/bin/fleetid-agent run --config /etc/fleetid-agent/agent.toml",
        ),
        ("DynamicUser", "yes"),
        ("SupplementaryGroups", "i2c"),
        ("StateDirectory", "fleetid-agent"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("DevicePolicy", "closed"),
        ("DeviceAllow", "/dev/i2c-1 rw"),
        ("CapabilityBoundingSet", ""),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("Restart", "on-failure"),
        // The binary's exit status for an unusable agent.toml (tests/config_cli.rs).
        ("RestartPreventExitStatus", "78"),
    ];
    for (key, value) in expected {
        assert_eq!(service(key), [value], "[Service] {key}");
    }
    assert_eq!(
        service("SystemCallFilter"),
        ["@system-service", "~@privileged @resources"]
    );
    // Nothing may widen the file system or devices again.
    for key in [
        "ReadWritePaths",
        "BindPaths",
        "PrivateDevices",
        "User",
        "AmbientCapabilities",
    ] {
        assert!(
            service(key).iter().all(String::is_empty),
            "[Service] {key} = {:?}",
            service(key)
        );
    }
}

/// `[package.metadata.deb]` of this crate.
fn deb_metadata() -> toml::Table {
    let manifest = std::fs::read_to_string(crate_dir().join("Cargo.toml")).expect("Cargo.toml");
    let mut manifest: toml::Table = toml::from_str(&manifest).expect("Cargo.toml parses");
    let deb = manifest
        .remove("package")
        .and_then(|p| p.as_table()?.get("metadata")?.get("deb").cloned())
        .expect("[package.metadata.deb]");
    deb.as_table().expect("a table").clone()
}

fn assets(deb: &toml::Table) -> Vec<(String, String)> {
    deb["assets"]
        .as_array()
        .expect("assets")
        .iter()
        .map(|asset| {
            let asset = asset.as_array().expect("[source, dest, mode]");
            let text = |i: usize| asset[i].as_str().expect("string").to_owned();
            (text(0), text(1))
        })
        .collect()
}

/// Where an asset lands: `dest`, or `dest` + the source's file name when `dest` is a directory.
fn install_path(source: &str, dest: &str) -> String {
    match dest.strip_suffix('/') {
        Some(dir) => {
            let name = Path::new(source).file_name().expect("file name");
            format!("/{dir}/{}", name.to_string_lossy())
        }
        None => format!("/{dest}"),
    }
}

#[test]
fn the_deb_metadata_names_existing_files_that_agree_with_the_unit() {
    let deb = deb_metadata();
    let assets = assets(&deb);
    for (source, _) in &assets {
        if source.starts_with("target/release/") {
            continue; // built by cargo deb
        }
        assert!(
            crate_dir().join(source).is_file(),
            "asset {source} is missing"
        );
    }
    let installed: Vec<String> = assets.iter().map(|(s, d)| install_path(s, d)).collect();
    // The unit runs this binary with this configuration, which the package ships in /etc (a
    // conffile there) as the documented example.
    assert!(
        installed.contains(&INSTALLED_BINARY.to_owned()),
        "{installed:?}"
    );
    assert!(
        installed.contains(&"/etc/fleetid-agent/agent.toml".to_owned()),
        "{installed:?}"
    );
    assert!(assets.iter().any(
        |(s, d)| s == "target/release/fleetid-agent" && install_path(s, d) == INSTALLED_BINARY
    ));
    // Built with the Linux I2C driver: the unit's configuration names /dev/i2c-1.
    let features = deb["features"].as_array().expect("features");
    assert!(
        features.iter().any(|f| f.as_str() == Some("linux")),
        "{features:?}"
    );
    // cargo deb finds the unit as <unit-scripts>/<package>.service.
    let units = deb["systemd-units"].as_table().expect("systemd-units");
    let unit_dir = units["unit-scripts"].as_str().expect("unit-scripts");
    let unit = std::fs::read_to_string(crate_dir().join(unit_dir).join("fleetid-agent.service"))
        .expect("the unit in unit-scripts");
    assert_eq!(unit, UNIT);
    // The postinst creates the group the unit's SupplementaryGroups= needs, and keeps the
    // place where cargo deb adds the systemd snippets.
    let scripts = crate_dir().join(
        deb["maintainer-scripts"]
            .as_str()
            .expect("maintainer-scripts"),
    );
    let postinst = std::fs::read_to_string(scripts.join("postinst")).expect("postinst");
    assert!(postinst.starts_with("#!/bin/sh\n") && postinst.contains("#DEBHELPER#"));
    assert!(postinst.contains("addgroup --quiet --system i2c"));
    let depends = deb["depends"].as_str().expect("depends");
    assert!(
        depends.contains("adduser"),
        "addgroup comes from adduser: {depends}"
    );
}

#[test]
fn the_postinst_is_valid_sh() {
    let scripts = crate_dir().join("packaging/debian");
    for entry in std::fs::read_dir(&scripts).expect("maintainer scripts") {
        let path = entry.expect("entry").path();
        let output = Command::new("sh")
            .arg("-n")
            .arg(&path)
            .output()
            .expect("sh");
        assert!(
            output.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
