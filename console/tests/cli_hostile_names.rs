//! The real binary, offline, in every output format against a store whose fleet holds hostile
//! names: a thing name, group and firmware with escape sequences, C1, bidi controls,
//! separators and invisible characters; an anomaly and an audit entry made of them; an
//! unavailable source whose reason carries them. Table and CSV must show each name
//! neutralized (`�`), JSON must carry the exact value with every such code point escaped, and
//! stderr must quote hostile input neutralized.

use std::process::{Command, Output};

use fleetid::model::{
    AnomalyRecord, FleetState, FleetUpdate, Severity, Source, SourceState, ThingRecord, UnixTime,
    synthetic,
};
use fleetid::safe_text::is_neutralized;
use fleetid::store::Store;
use fleetid::store::audit::{Decision, NewAuditEntry};

/// A thing name with one code point of each class: OSC (ESC ... BEL), C1 CSI, a right-to-left
/// override, a zero-width space, a line separator and a tag character.
const THING: &str = "dev\u{1b}]0;t\u{7}\u{9b}2J\u{202E}gnp\u{200B}\u{2028}\u{E0041}x";
/// How tables and CSV show it.
const THING_SHOWN: &str = "dev\u{FFFD}]0;t\u{FFFD}\u{FFFD}2J\u{FFFD}gnp\u{FFFD}\u{FFFD}\u{FFFD}x";
const GROUP: &str = "grp\u{1b}[2J\u{2067}eu\u{2069}";
const GROUP_SHOWN: &str = "grp\u{FFFD}[2J\u{FFFD}eu\u{FFFD}";
const FIRMWARE: &str = "1.5.0\r\n\u{FEFF}\u{00AD}rm";
const FIRMWARE_SHOWN: &str = "1.5.0\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}rm";
const SUMMARY: &str = "publishes\u{1b}[31m to \u{061C}\u{200E}debug\u{200D}/#";
const SUMMARY_SHOWN: &str = "publishes\u{FFFD}[31m to \u{FFFD}\u{FFFD}debug\u{FFFD}/#";
const REASON: &str = "AccessDenied\u{1b}]52;c;cGF5bG9hZA==\u{7}";
const REASON_SHOWN: &str = "AccessDenied\u{FFFD}]52;c;cGF5bG9hZA==\u{FFFD}";

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let now = UnixTime::now();
        let mut state = FleetState::new();
        state.apply_all(synthetic::fleet_updates(20, now, 5));
        let cert = synthetic::cert_id(3);
        state.apply(FleetUpdate::Things(vec![ThingRecord {
            name: THING.into(),
            groups: vec![GROUP.into()],
            firmware: Some(FIRMWARE.into()),
            connected: Some(true),
        }]));
        state.apply(FleetUpdate::Attachments(vec![(cert, vec![THING.into()])]));
        state.apply(FleetUpdate::Anomalies(vec![AnomalyRecord {
            id: "violation-1".into(),
            source: Source::DefenderDetect,
            kind: "debug-topic".into(),
            severity: Severity::High,
            thing: Some(THING.into()),
            certificate: Some(cert),
            summary: SUMMARY.into(),
            at: UnixTime(now.0 - 60),
            cleared: false,
        }]));
        state.apply(FleetUpdate::SourceStatus {
            source: Source::CloudWatch,
            state: SourceState::Unavailable {
                reason: REASON.into(),
            },
            at: UnixTime(now.0 - 30),
        });
        let mut store = Store::open(&dir.path().join("cache.sqlite3")).expect("the cache opens");
        store
            .save("default", &state, now)
            .expect("the snapshot saves");
        store
            .append_audit(NewAuditEntry {
                at: now,
                os_user: "oncall".into(),
                principal: None,
                account: Some("123456789012".into()),
                environment: "default".into(),
                action: "revoke".into(),
                targets: vec![THING.into()],
                plan: format!("revoke 1 certs of {GROUP}"),
                decision: Decision::Cancelled,
                outcome: "nothing was changed".into(),
            })
            .expect("the audit entry is written");
        Self { dir }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_fleetid"))
            .args(args)
            .env("FLEETID_CACHE", self.dir.path().join("cache.sqlite3"))
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("AWS_REGION", "us-east-1")
            .env_remove("NO_COLOR")
            .output()
            .expect("the binary runs")
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("output is UTF-8")
}

/// Every hostile code point above, listed here so the check does not rest on the code under
/// test alone.
const PLANTED: [char; 17] = [
    '\u{1b}',
    '\u{7}',
    '\u{9b}',
    '\u{202E}',
    '\u{200B}',
    '\u{2028}',
    '\u{E0041}',
    '\u{2067}',
    '\u{2069}',
    '\u{FEFF}',
    '\u{00AD}',
    '\u{061C}',
    '\u{200E}',
    '\u{200D}',
    '\u{2029}',
    '\u{202A}',
    '\u{2066}',
];

/// No neutralized or planted code point but the line breaks the format itself writes.
fn assert_terminal_safe(what: &str, output: &str) {
    let bad: Vec<char> = output
        .chars()
        .filter(|&c| (is_neutralized(c) || PLANTED.contains(&c)) && c != '\n' && c != '\r')
        .collect();
    assert!(bad.is_empty(), "{what}: {bad:?} in\n{output}");
}

/// A hostile value and how tables show it.
type Hostile = (&'static str, &'static str);

/// The reports that show the hostile names, and which of them each must show.
fn reports() -> Vec<(Vec<String>, Vec<Hostile>)> {
    let cert = synthetic::cert_id(3).to_string();
    vec![
        (
            vec!["certs".into(), "list".into()],
            vec![
                (THING, THING_SHOWN),
                (GROUP, GROUP_SHOWN),
                (FIRMWARE, FIRMWARE_SHOWN),
            ],
        ),
        (
            vec!["certs".into(), "show".into(), cert],
            vec![
                (THING, THING_SHOWN),
                (GROUP, GROUP_SHOWN),
                (FIRMWARE, FIRMWARE_SHOWN),
            ],
        ),
        (
            vec!["anomalies".into(), "--all".into()],
            vec![(THING, THING_SHOWN), (SUMMARY, SUMMARY_SHOWN)],
        ),
        (
            vec!["heatmap".into(), "--group".into(), GROUP.into()],
            vec![(GROUP, GROUP_SHOWN)],
        ),
        (
            vec!["audit".into()],
            vec![(THING, THING_SHOWN), (GROUP, GROUP_SHOWN)],
        ),
    ]
}

#[test]
fn table_and_csv_show_every_hostile_name_neutralized() {
    let sandbox = Sandbox::new();
    for (args, names) in reports() {
        for format in ["table", "csv"] {
            let mut full = vec!["--offline", "--output", format];
            full.extend(args.iter().map(String::as_str));
            let out = sandbox.run(&full);
            let stdout = text(&out.stdout);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{full:?}: {}",
                text(&out.stderr)
            );
            assert_terminal_safe(&format!("{full:?}"), &stdout);
            assert_terminal_safe(&format!("{full:?} stderr"), &text(&out.stderr));
            // The heatmap's CSV is dates and counts; its cohort shows in the table.
            let names = if args[0] == "heatmap" && format == "csv" {
                &[][..]
            } else {
                &names[..]
            };
            for (_, shown) in names {
                assert!(
                    stdout.contains(shown),
                    "{full:?}: {shown:?} not in\n{stdout}"
                );
            }
        }
    }
}

#[test]
fn a_hostile_source_reason_is_neutralized_under_tables() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(&["--offline", "certs", "list"]);
    let stdout = text(&out.stdout);
    assert_terminal_safe("certs list", &stdout);
    assert!(stdout.contains(REASON_SHOWN), "{stdout}");
}

/// Every string in `value`, depth first.
fn strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

#[test]
fn json_keeps_the_exact_values_and_escapes_them() {
    let sandbox = Sandbox::new();
    for (args, names) in reports() {
        let mut full = vec!["--offline", "--output", "json"];
        full.extend(args.iter().map(String::as_str));
        let out = sandbox.run(&full);
        let stdout = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{full:?}: {}",
            text(&out.stderr)
        );
        assert_terminal_safe(&format!("{full:?}"), &stdout);
        let json: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
        let mut values = Vec::new();
        strings(&json, &mut values);
        for (raw, _) in names {
            assert!(
                values.iter().any(|v| v.contains(raw)),
                "{full:?}: the exact {raw:?} is not in\n{stdout}"
            );
        }
        if args[0] != "audit" {
            assert!(
                values.iter().any(|v| v == REASON),
                "{full:?}: the exact reason"
            );
        }
    }
}

#[test]
fn stderr_quotes_hostile_input_neutralized() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(&["--offline", "heatmap", "--group", "no\u{1b}[2Jsuch\u{202E}"]);
    assert_eq!(out.status.code(), Some(5));
    let stderr = text(&out.stderr);
    assert_terminal_safe("stderr", &stderr);
    assert!(stderr.contains("no thing group"), "{stderr}");
}
