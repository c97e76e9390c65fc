//! `agent.toml` checks: each error names the file, the line and the key.

use super::*;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const BASE: &str = "thing = \"dev-1\"\nstate_file = \"state.json\"\n";

/// The error of loading `text` from a file `name` in `dir`, as printed.
fn load_error(dir: &Path, name: &str, text: &str) -> String {
    let path = write(dir, name, text);
    ConfigFile::load(&path).unwrap_err().to_string()
}

#[test]
fn errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let message = load_error(
        dir,
        "b.toml",
        &format!(
            "{BASE}[server]\nhost = \"h\"\nanchor = \"ca.pem\"\nkeepalive_seconds = 5\n\
             [identity]\ncertificate = \"d.pem\"\n"
        ),
    );
    assert!(
        message.ends_with("b.toml:6:21: key `server.keepalive_seconds`: must be 30-1200"),
        "{message}"
    );
    let message = load_error(
        dir,
        "c.toml",
        &format!(
            "{BASE}[server]\nhost = \"h\"\nanchor = \"ca.pem\"\n[identity]\ncertificate = \"d.pem\"\n"
        ),
    );
    assert!(
        message.contains("c.toml:5:10: key `server.anchor`: reading ")
            && message.contains("ca.pem"),
        "{message}"
    );
    let message = load_error(
        dir,
        "d.toml",
        &format!("{BASE}[server]\nhost = \"h\"\nanchor = \"c.toml\"\n[identity]\n"),
    );
    assert!(message.contains("key `identity.certificate`"), "{message}");
    let message = load_error(
        dir,
        "e.toml",
        "thing = \"dev/+\"\nstate_file = \"s\"\n[server]\nhost = \"h\"\nanchor = \"c.toml\"\n[identity]\n",
    );
    assert!(message.contains("e.toml:1:9: key `thing`"), "{message}");
    let message = load_error(
        dir,
        "f.toml",
        &format!(
            "{BASE}[server]\nhost = \"h\"\nanchor = \"ca.pem\"\n[identity]\n\
             [timing]\nslow_retry_seconds = 18446744073709551615\n"
        ),
    );
    assert!(
        message.contains("f.toml:8:22: key `timing.slow_retry_seconds`"),
        "{message}"
    );
}

#[test]
fn an_unknown_key_is_an_error_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let message = load_error(
        dir.path(),
        "a.toml",
        &format!("{BASE}[server]\nhost = \"h\"\nanchor = \"ca.pem\"\nprot = 1\n[identity]\n"),
    );
    assert!(
        message.contains("a.toml:6:1: key `server.prot`: unknown field `prot`"),
        "{message}"
    );
    let message = load_error(
        dir.path(),
        "b.toml",
        &format!("{BASE}[leds]\nsysfs = \"x\"\n"),
    );
    assert!(
        message.contains("b.toml:3:2: key `leds`: unknown field `leds`"),
        "{message}"
    );
}

#[test]
fn a_value_of_the_wrong_type_is_an_error_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let message = load_error(
        dir.path(),
        "a.toml",
        &format!(
            "{BASE}[server]\nhost = \"h\"\nport = \"8883\"\nanchor = \"ca.pem\"\n[identity]\n"
        ),
    );
    assert!(
        message.contains("a.toml:5:8: key `server.port`: invalid type"),
        "{message}"
    );
    let message = load_error(
        dir.path(),
        "b.toml",
        &format!("{BASE}[server]\nhost = \"h\"\nport = 0\nanchor = \"ca.pem\"\n[identity]\n"),
    );
    assert!(
        message.contains("b.toml:5:8: key `server.port`: must be 1-65535"),
        "{message}"
    );
    let message = load_error(dir.path(), "c.toml", "thing = \n");
    assert!(message.contains("c.toml:1:"), "{message}");
}

#[test]
fn a_missing_file_or_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.toml");
    let error = ConfigFile::load(&missing).unwrap_err();
    assert!(matches!(error, ConfigError::Read { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with(&format!("reading {}: ", missing.display()))
    );
    let message = load_error(dir.path(), "a.toml", &format!("{BASE}[identity]\n"));
    assert!(
        message.contains("a.toml") && message.contains("missing field `server`"),
        "{message}"
    );
    let message = load_error(
        dir.path(),
        "b.toml",
        &format!(
            "{BASE}[server]\nhost = \"h\"\nanchor = \"ca.pem\"\n\
             [identity]\nclaim_certificate = \"claim.pem\"\ntemplate = \"t\"\n"
        ),
    );
    assert!(
        message.ends_with("b.toml: key `identity.claim_slot`: required with claim_certificate"),
        "{message}"
    );
}

#[test]
fn paths_are_relative_to_the_file_and_both_secure_elements_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.toml");
    let text = format!(
        "{BASE}[server]\nhost = \"h\"\nanchor = \"/abs/ca.pem\"\n[identity]\ncertificate = \"d.pem\"\n"
    );
    let file = ConfigFile::parse(&path, &text).unwrap();
    assert_eq!(file.state_file, dir.path().join("state.json"));
    assert_eq!(file.server.anchor, Path::new("/abs/ca.pem"));
    assert_eq!(file.identity.certificate, Some(dir.path().join("d.pem")));
    let both = format!(
        "{text}[secure_element]\ni2c_device = \"/dev/i2c-1\"\nsimulator_file = \"se.json\"\n"
    );
    let message = ConfigFile::parse(&path, &both).unwrap_err().to_string();
    assert!(message.contains(":10:18: key `secure_element.simulator_file`: set i2c_device or simulator_file, not both"), "{message}");
}

/// The example shipped as `/etc/fleetid-agent/agent.toml`.
const EXAMPLE: &str = include_str!("../../../packaging/agent.toml");

#[test]
fn the_packaged_example_is_valid() {
    let file = ConfigFile::parse(Path::new(DEFAULT_PATH), EXAMPLE).unwrap();
    assert_eq!(
        file.state_file,
        Path::new("/var/lib/fleetid-agent/state.json")
    );
    assert_eq!(
        file.secure_element.i2c_device.as_deref(),
        Some(Path::new("/dev/i2c-1"))
    );
}

#[test]
fn every_key_commented_out_in_the_example_is_a_key_of_the_file() {
    // Uncommenting every `# key = value` line must still deserialize: the documentation names
    // only real keys, with values of the right type (the combination checks are left out, as
    // the alternatives exclude each other).
    let mut uncommented = 0;
    let text: String = EXAMPLE
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest)
                if rest.split_once(" = ").is_some_and(|(key, _)| {
                    !key.is_empty() && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                }) =>
            {
                uncommented += 1;
                format!("{rest}\n")
            }
            _ => format!("{line}\n"),
        })
        .collect();
    assert!(uncommented >= 5, "only {uncommented} commented keys found");
    let parsed: Result<ConfigFile, _> = toml::from_str(&text);
    let file = parsed.unwrap();
    assert!(file.identity.claim_certificate.is_some() && file.led.sysfs.is_some());
}
