//! Config parsing: valid files, and typos that must be named by file, line and key.

use std::path::Path;

use super::*;

const GOOD: &str = r##"
default_environment = "prod"
theme = "default"

[environments.prod]
profile = "prod-ro"
region = "eu-west-1"
account_id = "123456789012"
colour = "red"
read_only = true

[environments.lab]
endpoint_url = "http://127.0.0.1:5000"
colour = "#00ff88"

[keymap]
"ctrl-d" = "page-down"
"##;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(Path::new("/home/op/.config/fleetid/config.toml"), text)
}

#[test]
fn a_valid_file_parses() {
    let config = parse(GOOD).unwrap();
    assert_eq!(config.default_environment.as_deref(), Some("prod"));
    let prod = &config.environments["prod"];
    assert_eq!(prod.region.as_deref(), Some("eu-west-1"));
    assert!(prod.read_only);
    assert_eq!(config.keymap[0].command, "page-down");
    assert_eq!(config.keymap[0].line, 17);
}

#[test]
fn a_bad_keymap_entry_is_named_by_file_line_and_column_when_the_tui_starts() {
    let text = format!("{GOOD}  \"ctrl-q\" = \"launch-missiles\"\n\"hyper-x\" = \"quit\"\n");
    let config = parse(&text).unwrap();
    let entry = config
        .keymap
        .iter()
        .find(|e| e.key == "ctrl-q")
        .expect("the entry is kept");
    assert_eq!((entry.line, entry.column), (18, 3));
    let env = resolve_environment(&config, &GlobalArgs::default()).unwrap();
    let options = crate::interactive::options(&config, &env, &GlobalArgs::default());
    let err = crate::tui::settings(&options).unwrap_err().to_string();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with("/home/op/.config/fleetid/config.toml:18:3: keymap: \"ctrl-q\""),
        "{err}"
    );
    assert!(lines[0].contains("unknown command"), "{err}");
    assert!(
        lines[1].starts_with("/home/op/.config/fleetid/config.toml:19:1: keymap: \"hyper-x\""),
        "{err}"
    );
}

#[test]
fn mouse_and_ascii_come_from_the_file_unless_a_flag_says_otherwise() {
    let config = parse(&format!("mouse = true\nascii = true\n{GOOD}")).unwrap();
    assert!(config.mouse && config.ascii);
    let env = resolve_environment(&config, &GlobalArgs::default()).unwrap();
    let options = crate::interactive::options(&config, &env, &GlobalArgs::default());
    assert!(options.mouse && options.ascii);
    let flags = GlobalArgs {
        no_mouse: true,
        no_ascii: true,
        ..GlobalArgs::default()
    };
    let options = crate::interactive::options(&config, &env, &flags);
    assert!(!options.mouse && !options.ascii);
    let defaults = parse(GOOD).unwrap();
    assert!(!defaults.mouse && !defaults.ascii);
    let flags = GlobalArgs {
        mouse: true,
        ascii: true,
        ..GlobalArgs::default()
    };
    let options = crate::interactive::options(&defaults, &env, &flags);
    assert!(options.mouse && options.ascii);
    let err = parse("mouse = \"yes\"\n").unwrap_err().to_string();
    assert!(err.contains(":1:"), "{err}");
}

#[test]
fn a_typo_in_a_key_names_file_line_and_key() {
    let text = GOOD.replace("region = \"eu-west-1\"", "regoin = \"eu-west-1\"");
    let err = parse(&text).unwrap_err().to_string();
    assert!(
        err.starts_with("/home/op/.config/fleetid/config.toml:7:1: "),
        "{err}"
    );
    assert!(err.contains("key `environments.prod.regoin`"), "{err}");
    assert!(err.contains("unknown field `regoin`"), "{err}");
}

#[test]
fn bad_values_name_their_key() {
    let cases = [
        (
            "account_id = \"123456789012\"",
            "account_id = \"12345\"",
            "environments.prod.account_id",
            "12-digit",
        ),
        (
            "colour = \"red\"",
            "colour = \"purpel\"",
            "environments.prod.colour",
            "unknown colour \"purpel\"",
        ),
        (
            "read_only = true",
            "read_only = \"yes\"",
            "environments.prod.read_only",
            "bool",
        ),
        (
            "region = \"eu-west-1\"",
            "region = \"Europe\"",
            "environments.prod.region",
            "not an AWS region",
        ),
    ];
    for (from, to, key, message) in cases {
        let err = parse(&GOOD.replace(from, to)).unwrap_err().to_string();
        assert!(err.contains(&format!("key `{key}`")), "{to}: {err}");
        assert!(err.contains(message), "{to}: {err}");
        assert!(err.contains("config.toml:"), "{to}: {err}");
    }
}

#[test]
fn an_undefined_default_environment_is_an_error() {
    let err = parse(&GOOD.replace(
        "default_environment = \"prod\"",
        "default_environment = \"prd\"",
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains(":2:"), "{err}");
    assert!(err.contains("\"prd\" is not defined"), "{err}");
}

#[test]
fn flags_override_the_environment_and_unknown_names_are_refused() {
    let config = parse(GOOD).unwrap();
    let args = GlobalArgs {
        region: Some("us-east-1".into()),
        ..GlobalArgs::default()
    };
    let env = resolve_environment(&config, &args).unwrap();
    assert_eq!(env.name, "prod");
    assert_eq!(env.settings.region.as_deref(), Some("us-east-1"));
    assert!(env.settings.read_only);

    let lab = GlobalArgs {
        environment: Some("lab".into()),
        read_only: true,
        ..GlobalArgs::default()
    };
    let env = resolve_environment(&config, &lab).unwrap();
    assert!(env.settings.read_only, "--read-only wins over the file");

    let missing = GlobalArgs {
        environment: Some("staging".into()),
        ..GlobalArgs::default()
    };
    let err = resolve_environment(&config, &missing)
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"staging\" is not defined"), "{err}");
    assert!(err.contains("lab, prod"), "{err}");
}

#[test]
fn an_explicit_missing_file_is_an_error() {
    let err = Config::load(Some(Path::new("/nonexistent/fleetid.toml"))).unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/fleetid.toml"),
        "{err}"
    );
}

#[test]
fn mqtt_settings_parse_and_a_certificate_without_its_key_is_named() {
    let config = parse(
        r#"
[environments.lab]
endpoint_url = "http://127.0.0.1:5000"
mqtt_endpoint = "127.0.0.1:8883"
mqtt_ca = "/lab/root-ca.pem"
mqtt_cert = "/lab/operator.pem"
mqtt_key = "/lab/operator.key"
mqtt_client_id = "fleetid-operator"
"#,
    )
    .unwrap();
    let mqtt = &config.environments["lab"].mqtt;
    assert_eq!(mqtt.endpoint.as_deref(), Some("127.0.0.1:8883"));
    assert_eq!(mqtt.cert.as_deref(), Some(Path::new("/lab/operator.pem")));
    assert_eq!(mqtt.key.as_deref(), Some(Path::new("/lab/operator.key")));
    assert_eq!(mqtt.client_id.as_deref(), Some("fleetid-operator"));

    let err = parse("[environments.lab]\nmqtt_cert = \"/lab/operator.pem\"\n").unwrap_err();
    let text = err.to_string();
    assert!(text.contains(":2:"), "{text}");
    assert!(text.contains("mqtt_cert needs mqtt_key"), "{text}");
}
