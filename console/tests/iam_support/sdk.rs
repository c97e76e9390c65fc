//! The operations each AWS SDK client of the workspace offers, read from the SDK crates'
//! own sources (`src/operation/<snake_name>.rs` names the operation as AWS spells it), at the
//! versions `Cargo.lock` pins.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// An SDK crate the workspace uses, and the IAM service prefix of its operations.
pub struct Service {
    /// The crate name as Rust code writes it (`aws_sdk_iot`).
    pub rust_name: String,
    /// The IAM action prefix (`iot`; the data plane's actions are `iot:` too).
    pub prefix: &'static str,
    /// Snake-case builder name (`update_ca_certificate`) to operation name
    /// (`UpdateCACertificate`).
    pub operations: BTreeMap<String, String>,
}

/// The SDK crates fleetid's code calls, with the IAM prefix of each.
const CRATES: [(&str, &str); 5] = [
    ("aws-sdk-iot", "iot"),
    ("aws-sdk-iotdataplane", "iot"),
    ("aws-sdk-cloudwatch", "cloudwatch"),
    ("aws-sdk-sts", "sts"),
    ("aws-sdk-dynamodb", "dynamodb"),
];

/// Reads every SDK crate's operations from the cargo registry.
pub fn services(workspace: &Path) -> Vec<Service> {
    let lock = std::fs::read_to_string(workspace.join("Cargo.lock")).unwrap();
    CRATES
        .iter()
        .map(|(name, prefix)| {
            let version = locked_version(&lock, name);
            let dir = crate_source(name, &version);
            Service {
                rust_name: name.replace('-', "_"),
                prefix,
                operations: operations(&dir.join("src/operation")),
            }
        })
        .collect()
}

fn locked_version(lock: &str, name: &str) -> String {
    let needle = format!("name = \"{name}\"\nversion = \"");
    let start = lock
        .find(&needle)
        .unwrap_or_else(|| panic!("{name} is not in Cargo.lock"))
        + needle.len();
    lock[start..].split('"').next().unwrap().to_owned()
}

/// `$CARGO_HOME/registry/src/<index>/<name>-<version>`: cargo unpacked it to build the tests.
fn crate_source(name: &str, version: &str) -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"),
        PathBuf::from,
    );
    let registry = cargo_home.join("registry/src");
    let wanted = format!("{name}-{version}");
    std::fs::read_dir(&registry)
        .unwrap_or_else(|e| panic!("{}: {e}", registry.display()))
        .map(|index| index.unwrap().path().join(&wanted))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| panic!("{wanted} is not unpacked under {}", registry.display()))
}

fn operations(dir: &Path) -> BTreeMap<String, String> {
    let mut operations = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let snake = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        // `orchestrator::Metadata::new("UpdateCACertificate", "IoT")`.
        let Some(at) = text.find("Metadata::new(") else {
            continue;
        };
        let name = text[at..].split('"').nth(1).unwrap().to_owned();
        operations.insert(snake, name);
    }
    assert!(!operations.is_empty(), "no operations in {}", dir.display());
    operations
}
