//! The files a started lab writes (operator key, AWS credentials, CA certificates) are
//! readable by their owner only, in a directory only the owner can enter.

#![allow(clippy::unwrap_used)] // a failed step should stop the test with its error

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use fleetid_lab::{Lab, LabOptions};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn cloud_only(state_dir: Option<std::path::PathBuf>) -> LabOptions {
    LabOptions {
        devices: 0,
        state_dir,
        ..LabOptions::default()
    }
}

fn assert_owner_only(dir: &Path) {
    assert_eq!(mode(dir), 0o700, "{}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(
        ["credentials", "operator.key", "operator.pem", "root-ca.pem"]
            .iter()
            .all(|n| names.iter().any(|m| m == n)),
        "{names:?}"
    );
    for name in names {
        assert_eq!(mode(&dir.join(&name)), 0o600, "{name}");
    }
}

#[tokio::test]
async fn a_fresh_state_directory_and_its_files_are_owner_only() {
    let lab = Lab::start(cloud_only(None)).await.unwrap();
    assert_owner_only(&lab.state_dir);
    assert!(lab.operator.key_pem.starts_with(&lab.state_dir));
    let dir = lab.state_dir.clone();
    lab.shutdown().await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_given_directory_left_open_and_old_files_are_narrowed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let key = dir.join("operator.key");
    std::fs::write(&key, "a key from an earlier run").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();

    let lab = Lab::start(cloud_only(Some(dir.clone()))).await.unwrap();
    assert_owner_only(&dir);
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .contains("PRIVATE KEY")
    );
    lab.shutdown().await;
}
