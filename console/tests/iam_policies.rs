//! The IAM policies of `docs/iam.md` against the code: for each role, the AWS actions its code
//! paths can call are derived from the sources (SDK builder calls on the clients, the `"iot:…"`
//! actions the ops and doctor code name, the MQTT actions of the console's live feed), and the
//! role's policy must grant exactly those: none missing, none that no code path calls.
//!
//! Which code belongs to which role:
//! - read-only operator: every SDK call in `console/src` outside the mutations, the reads the
//!   ops make to verify (List/Describe/Get in the mutations, called from `console/src/ops`),
//!   the doctor's named actions, and the MQTT actions of the live feed;
//! - responder: the writes in `console/src/backend/aws/mutations.rs` that `console/src/ops`
//!   calls (revoke, quarantine, restore, `ca revoke`, `claim disable`), and every action the
//!   ops code names in its plans;
//! - rotation operator: the calls of the mutations that `console/src/ops` does not call (the
//!   Jobs API the rotation campaigns use);
//! - JITR Lambda: the SDK calls in `jitr/src` inside functions the crate itself calls (so the
//!   manifest loader's `PutItem`, for operators and tests, is not the Lambda's).
#![allow(clippy::unwrap_used)]

mod iam_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use iam_support::scan::{self, Source};
use iam_support::sdk;
use serde_json::Value;

const MUTATIONS: &str = "console/src/backend/aws/mutations.rs";
/// The Jobs calls of rotation campaigns: its reads are the read-only operator's (`rotate
/// status` works in a read-only session), its writes the rotation operator's.
const JOBS: &str = "console/src/backend/aws/jobs.rs";

/// The roles, by the heading of their section in `docs/iam.md`.
const ROLES: [&str; 4] = [
    "Read-only operator",
    "Responder",
    "Rotation operator",
    "JITR Lambda",
];
const READ_ONLY: &str = ROLES[0];
const RESPONDER: &str = ROLES[1];
const ROTATION: &str = ROLES[2];
const JITR_LAMBDA: &str = ROLES[3];

/// Role to action to the code locations that need it.
type Needs = BTreeMap<&'static str, BTreeMap<String, BTreeSet<String>>>;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn need(needs: &mut Needs, role: &'static str, action: &str, origin: String) {
    needs
        .entry(role)
        .or_default()
        .entry(action.to_owned())
        .or_default()
        .insert(origin);
}

fn is_read(action: &str) -> bool {
    let name = action.split(':').nth(1).unwrap_or_default();
    ["List", "Describe", "Get", "Search"]
        .iter()
        .any(|verb| name.starts_with(verb))
}

fn joined(sources: &[Source], under: &str) -> String {
    sources
        .iter()
        .filter(|s| s.path.starts_with(under))
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// What each role's code can call, derived from the sources.
fn derived_needs() -> Needs {
    let root = workspace();
    let services = sdk::services(&root);
    let mut needs = Needs::new();

    let console = scan::sources(&root, "console/src");
    let ops_text = joined(&console, "console/src/ops");
    for source in &console {
        let file = source.path.display().to_string();
        for call in scan::sdk_calls(source, &services) {
            let origin = format!("{file}: {}() calls {}()", call.function, call.method);
            let role = if source.path == Path::new(JOBS) {
                if is_read(&call.action) {
                    READ_ONLY
                } else {
                    ROTATION
                }
            } else if source.path != Path::new(MUTATIONS) {
                READ_ONLY
            } else if !scan::calls_with_arguments(&ops_text, &call.function) {
                ROTATION
            } else if is_read(&call.action) {
                READ_ONLY
            } else {
                RESPONDER
            };
            need(&mut needs, role, &call.action, origin);
        }
        for action in scan::mqtt_actions(&source.text) {
            need(
                &mut needs,
                READ_ONLY,
                &action,
                format!("{file}: MQTT client"),
            );
        }
        let named = if source.path.starts_with("console/src/ops") {
            Some(RESPONDER)
        } else if source.path.starts_with("console/src/doctor") {
            Some(READ_ONLY)
        } else {
            None
        };
        if let Some(role) = named {
            for action in scan::action_strings(&source.text) {
                need(
                    &mut needs,
                    role,
                    &action,
                    format!("{file}: names {action:?}"),
                );
            }
        }
    }

    let jitr = scan::sources(&root, "jitr/src");
    let jitr_text = joined(&jitr, "jitr/src");
    for source in &jitr {
        for call in scan::sdk_calls(source, &services) {
            if scan::calls_with_arguments(&jitr_text, &call.function) {
                let origin = format!(
                    "{}: {}() calls {}()",
                    source.path.display(),
                    call.function,
                    call.method
                );
                need(&mut needs, JITR_LAMBDA, &call.action, origin);
            }
        }
    }
    needs
}

/// The actions each role's policy in `docs/iam.md` allows: the first JSON block after the
/// role's `## ` heading.
fn documented_policies() -> BTreeMap<&'static str, BTreeSet<String>> {
    let doc = std::fs::read_to_string(workspace().join("docs/iam.md")).unwrap();
    ROLES
        .iter()
        .map(|role| {
            let heading = format!("\n## {role}");
            let section = &doc[doc
                .find(&heading)
                .unwrap_or_else(|| panic!("docs/iam.md has no `## {role}` section"))..];
            let start = section.find("```json\n").unwrap() + "```json\n".len();
            let json = &section[start..start + section[start..].find("```").unwrap()];
            let policy: Value =
                serde_json::from_str(json).unwrap_or_else(|e| panic!("docs/iam.md, {role}: {e}"));
            (*role, allowed_actions(role, &policy))
        })
        .collect()
}

fn allowed_actions(role: &str, policy: &Value) -> BTreeSet<String> {
    let mut actions = BTreeSet::new();
    for statement in policy["Statement"].as_array().unwrap() {
        assert_eq!(
            statement["Effect"], "Allow",
            "{role}: only Allow statements"
        );
        let listed = match &statement["Action"] {
            Value::String(one) => vec![one.clone()],
            Value::Array(many) => many
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect(),
            other => panic!("{role}: Action {other}"),
        };
        for action in listed {
            assert!(!action.contains('*'), "{role}: wildcard action {action}");
            actions.insert(action);
        }
    }
    actions
}

#[test]
fn each_policy_grants_exactly_what_its_code_calls() {
    let needs = derived_needs();
    let policies = documented_policies();
    let mut problems = Vec::new();
    for role in ROLES {
        let needed = needs.get(role).cloned().unwrap_or_default();
        let granted = &policies[role];
        for (action, origins) in &needed {
            if !granted.contains(action) {
                let origins: Vec<_> = origins.iter().cloned().collect();
                problems.push(format!(
                    "{role}: lacks {action}, needed by {}",
                    origins.join("; ")
                ));
            }
        }
        for action in granted {
            if !needed.contains_key(action) {
                problems.push(format!("{role}: grants {action}, which no code path calls"));
            }
        }
    }
    assert!(problems.is_empty(), "docs/iam.md:\n{}", problems.join("\n"));
}

#[test]
fn the_scan_finds_each_roles_code() {
    // A scan that silently found nothing would make the policies trivially "exact".
    let needs = derived_needs();
    for role in ROLES {
        assert!(
            needs.get(role).is_some_and(|n| n.len() >= 3),
            "{role}: the scan found {:?}",
            needs.get(role)
        );
    }
    assert!(needs[RESPONDER].contains_key("iot:UpdateCACertificate"));
    assert!(needs[RESPONDER].contains_key("iot:DeleteConnection"));
    assert!(!needs[JITR_LAMBDA].contains_key("dynamodb:PutItem"));
}

#[test]
fn the_scan_skips_test_code_and_names_the_calling_function() {
    let service = sdk::Service {
        rust_name: "aws_sdk_iot".to_owned(),
        prefix: "iot",
        operations: [("update_ca_certificate", "UpdateCACertificate")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    };
    let text = "use aws_sdk_iot::Client;\n\
        fn contain(c: &Client) { c.update_ca_certificate().send(); }\n\
        #[cfg(test)]\nmod tests { fn t(c: &Client) { c.update_ca_certificate(); } }\n\
        fn after(c: &Client) { let _ = c.clone(); }\n";
    let source = Source {
        path: PathBuf::from("x.rs"),
        text: scan::without_test_items(text),
    };
    let calls = scan::sdk_calls(&source, std::slice::from_ref(&service));
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].action, "iot:UpdateCACertificate");
    assert_eq!(calls[0].function, "contain");
    assert!(source.text.contains("fn after"));

    assert!(scan::calls_with_arguments("x.contain(&c);", "contain"));
    assert!(!scan::calls_with_arguments(
        "fn contain(c: &C) {}",
        "contain"
    ));
    assert!(!scan::calls_with_arguments(
        "x.recontain(&c); c.contain()",
        "contain"
    ));
}
